"""Speed of the data path: converters, the drum generator and dataset builds (prints numbers).

    .venv/bin/python benchmarks/bench_data.py [--corpus-files N]

Uses a throw-away cache folder, so the first corpus build parses with music21 and the second
comes from the cache.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(label, fn, repeat=1):
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    dt = (time.perf_counter() - t0) / repeat
    print(f"{label:<58} {dt * 1000:9.1f} ms")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus-files", type=int, default=6)
    args = ap.parse_args()
    os.environ["LATENT_STUDIO_CACHE"] = tempfile.mkdtemp(prefix="ls-bench-")

    import numpy as np

    from core.data import dataset, drum_patterns
    from core.musicvae import converters as cv
    from core.song import Clip, Note, Song

    song = Song()
    ids = {r: song.ensure_track(r).id for r in ("melody", "bass", "drums")}
    rng = np.random.default_rng(0)
    mel = [Note(int(p), i * 0.5, i * 0.5 + 0.5) for i, p in enumerate(rng.integers(55, 80, 128))]
    bass = [Note(int(p), i * 2.0, i * 2.0 + 2.0) for i, p in enumerate(rng.integers(33, 50, 32))]
    drums = drum_patterns.generate("funk", 16, seed=1)
    clip = Clip("bench", 64.0, {ids["melody"]: mel, ids["bass"]: bass, ids["drums"]: drums})
    clips2 = [Clip(str(i), 8.0, {ids["melody"]: mel[:16]}) for i in range(64)]

    timed("melody: 64 two-bar clips -> batch [64, 32, 90]",
          lambda: cv.clips_to_batch(clips2, song, "melody", 32), repeat=5)
    x = timed("trio: one 16-bar clip -> tensors [256, 692]",
              lambda: cv.clip_to_tensors(clip, song, "trio", 256), repeat=5)
    batch = np.repeat(x[1][None], 64, axis=0)
    timed("trio: 64 decoded sequences -> clips", lambda: cv.batch_to_clips(batch, "trio", ids), repeat=3)
    timed("drums: generate 10 genres x 16 bars",
          lambda: [drum_patterns.generate(g, 16, seed=2) for g in drum_patterns.GENRE_NAMES], repeat=3)
    ds = timed("dataset: generated drums (10 genres x 40 x 16 bars), first build",
               lambda: dataset.build_dataset("corpus", "drums"))
    print(f"   {ds.summary()}")
    timed("dataset: same, from the cache", lambda: dataset.build_dataset("corpus", "drums"))
    for kind in ("melody", "trio"):
        ds = timed(f"dataset: corpus {kind}, {args.corpus_files} files, first build (parses)",
                   lambda: dataset.build_dataset("corpus:ryans,oneills,chorales", kind,
                                                 limit_files=args.corpus_files))
        print(f"   {ds.summary()}")
        timed(f"dataset: corpus {kind}, from the cache",
              lambda: dataset.build_dataset("corpus:ryans,oneills,chorales", kind, limit_files=args.corpus_files))
    ds = dataset.build_dataset("corpus", "drums")
    timed("batches: one pass of one-hot batches of 64 (drums)", lambda: sum(1 for _ in ds.batches(64)))


if __name__ == "__main__":
    main()
