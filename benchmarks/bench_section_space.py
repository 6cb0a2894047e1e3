#!/usr/bin/env python3
"""How long a section space takes to train and to sample, for each embedded model, on this machine.

    nice -n 19 .venv/bin/python benchmarks/bench_section_space.py
    nice -n 19 .venv/bin/python benchmarks/bench_section_space.py --models mel_2bar --sizes 8 30

For each model it makes clips the way a musician's would arrive (decoded from the model, then
stripped of their codes, so the space has to encode them: 30 distinct clips, and for more, those
30 again transposed by a few semitones), then for 8, 30 and 200 clips trains a space with the
default settings (latent 8, default steps) and prints: encoding time, the time to the first
step (TensorFlow traces the step), steps per second after it, and the whole training job's
time (encoding included: what a musician waits for, the model already loaded). Then it samples 8 clips from the
30-clip space (decode twice, reproducible chunks) and prints that time. Last, the small VAE
alone on random 256- and 512-number codes (the sizes of Magenta's models, which are not
shipped), for the speed of their layer sizes. It prints the CPU, its
flags that matter to TensorFlow, and the thread counts first. The machine may be shared: run it
at nice 19 and read the numbers as what a busy machine gives.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def machine() -> str:
    model_name, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model_name == "unknown CPU":
                    model_name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    have = " ".join(f for f in FLAGS if f in flags) or "(no /proc/cpuinfo)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU: {model_name}; {cores} core(s) usable; flags: {have}"


def make_clips(model, n: int, base):
    """n clips without codes: the base clips, then the base clips moved by -3..+3 semitones."""
    from core.song import Clip

    out = []
    shifts = [0, 1, -1, 2, -2, 3, -3, 4, -4, 5]
    for i in range(n):
        clip = base[i % len(base)]
        shift = shifts[(i // len(base)) % len(shifts)]
        notes = {part: ([n._replace(pitch=min(max(n.pitch + shift, 21), 108)) for n in ns]
                        if part != "drums" else list(ns)) for part, ns in clip.notes.items()}
        out.append(Clip(f"clip {i + 1}", clip.length, notes=notes))
    return out


def bench_model(path: str, sizes, samples: int) -> None:
    from core import generation as g
    from core import section_space as ss
    from core.jobs import JobToken, run_job
    from core.musicvae import load_model

    t0 = time.perf_counter()
    model = load_model(None, path, device="cpu", name=os.path.basename(path.rstrip(os.sep)))
    print(f"\n{model.name}: {model.kind}, z {model.z_size}, layers "
          f"{'-'.join(map(str, ss.hidden_sizes(model.z_size)))}, loaded in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    base = run_job(g.sample, model, 30, 0.5, seed=0, reproducible=True)
    print(f"  (made 30 base clips in {time.perf_counter() - t0:.1f} s)")
    space30 = None
    for n in sizes:
        clips = make_clips(model, n, base)
        marks: dict[str, float] = {}

        def on_progress(fraction, message, marks=marks):
            if "step 1/" in message and "first" not in marks:
                marks["first"] = time.perf_counter()

        t0 = time.perf_counter()
        ss.clip_codes(None, model, clips)
        t_enc = time.perf_counter() - t0
        t0 = time.perf_counter()
        space = ss.train(JobToken(on_progress), model, clips, "bench")
        total = time.perf_counter() - t0
        first = marks.get("first", t0) - t0
        after = time.perf_counter() - marks.get("first", t0)
        rate = (space.steps - 1) / max(after, 1e-9)
        print(f"  {n:>4} clips: encode {t_enc:5.2f} s; train job {total:6.2f} s for {space.steps} steps "
              f"(first step after {first:5.2f} s, then {rate:6.0f} steps/s); "
              "reconstruction {:.2f}, KL {:.2f} (last 50 steps)".format(*space.final_losses()))
        if n == 30 or space30 is None:
            space30 = space
    token = JobToken()
    run_job(ss.sample, model, space30, 1, 0.5, seed=0, reproducible=True)  # traces the decode
    t0 = time.perf_counter()
    ss.sample(token, model, space30, samples, 0.5, seed=1, reproducible=True)
    print(f"  sampling {samples} clips from the 30-clip space: {time.perf_counter() - t0:.2f} s")


def bench_code_sizes(z_sizes, n: int = 30, hidden=None) -> None:
    """Training speed for the layer sizes of bigger codes (Magenta's 256- and 512-number
    models are not shipped): random codes, no model, so this is the small VAE alone."""
    import numpy as np

    from core import section_space as ss
    from core.jobs import JobToken

    print(f"\nsynthetic codes, {n} clips, no model (the small VAE alone):")
    for z in z_sizes:
        codes = np.random.default_rng(z).standard_normal((n, z)).astype(np.float32)
        marks: dict[str, float] = {}

        def on_progress(fraction, message, marks=marks):
            if "step 1/" in message and "first" not in marks:
                marks["first"] = time.perf_counter()

        t0 = time.perf_counter()
        space = ss.train_on_codes(JobToken(on_progress), codes, {"name": "synthetic", "z_size": z,
                                                                  "kind": "melody", "config": "none"}, "bench",
                                  ss.SpaceSettings(hidden=hidden))
        total = time.perf_counter() - t0
        rate = (space.steps - 1) / max(time.perf_counter() - marks.get("first", t0), 1e-9)
        first = marks.get("first", t0) - t0
        print(f"  z {z:>4} (layers {'-'.join(map(str, space.hidden))}): {space.steps} steps in {total:5.2f} s "
              f"(first step after {first:5.2f} s, then {rate:5.0f} steps/s); "
              "reconstruction {:.2f}, KL {:.2f} (last 50 steps)".format(*space.final_losses()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", default=["mel_2bar", "drums_2bar", "trio_16bar"],
                   help="embedded model folders under resources/models, or paths")
    p.add_argument("--sizes", nargs="+", type=int, default=[8, 30, 200])
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--code-sizes", nargs="*", type=int, default=[256, 512],
                   help="also time the small VAE alone on random codes of these sizes")
    p.add_argument("--layers", nargs=3, type=int, default=None, metavar=("A", "B", "C"),
                   help="with --code-sizes: these layer sizes instead of the rule's (to compare)")
    args = p.parse_args(argv)

    import numpy
    import tensorflow as tf

    print(machine())
    print(f"TensorFlow {tf.__version__} (intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()}"
          f" = default when 0), numpy {numpy.__version__}, nice {os.nice(0)}")
    for name in args.models:
        path = name if os.path.isdir(name) else os.path.join(ROOT, "resources", "models", name)
        bench_model(path, args.sizes, args.samples)
    if args.code_sizes:
        bench_code_sizes(args.code_sizes, hidden=args.layers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
