"""Fine-tuning mel_2bar or trio_16bar on a small folder of one style: before/after numbers and wall time.

    nice -n 19 .venv/bin/python benchmarks/bench_finetune.py [--files 30] [--steps 300]
    nice -n 19 .venv/bin/python benchmarks/bench_finetune.py --model trio_16bar [--files 30] [--steps 60] [--temperatures 0.5,1.0]

The style is Palestrina: mass movements from music21's corpus (a package, nothing is
downloaded), each written here as a .mid file with its soprano, alto and tenor as three tracks
in 4/4, so the folder scan finds a melody in every voice. The embedded mel_2bar learned from folk
tunes and chorale sopranos, whose lines move in eighths and sixteenths; Palestrina's move in
halves and quarters, by step, in the church modes. That is what the samples should pick up.

`--model trio_16bar` writes band arrangements of the same movements: the soprano as the lead
(piano), the lowest voice as the bass (acoustic bass, program 32) and a drum track of one genre
from the project's own pattern generator (`--genre`, default "reggae": the one drop, kick and
cross-stick on beat 3 only, sparser than most of the genres the embedded trio saw). The embedded
trio learned folk tunes and chorales with a root or chorale bass and drums of every genre. The
melody and the bass are each compared with the style as the melody is above; the drums by where
in the bar each drum class is hit and by hits per bar (core/data/stats.py drum_resemblance).

Why this is one style: every file is a Palestrina movement (one composer, one idiom: modal
lines in halves and quarters moving by step, a vocal bass line) over the same one-drop groove,
with the same instruments and tempo. The embedded trio's data (corpus:trio, docs/data.md) is
mostly folk tunes (eighths and sixteenths, major or minor, a generated root-and-fifth bass)
plus chorales, over ten drum genres; most of those put the kick on beat 1 and a backbeat on 2
and 4, which the one drop leaves out (reggae is one of the four genres chorales get, so the
groove is known to the model, but as one among many).

The run is the dialog's (core/musicvae/finetune.py: new_run, train_run, which installs the
model), in a throw-away data folder. Printed: the scan; held-out loss on the style before and
after (reconstruction + KL, the negative ELBO, in nats per window, and its two parts) and the
accuracies, measured by the training job on the same held-out files; for samples at temperature
0.5 from the model before and after: the share that resemble the style (its pitch-class
histogram and notes per bar, core/data/stats.py style_resemblance), the mean
pitch-class distance and notes per bar; for a trio, so per part, and for the drums the share
whose onset profile and hits per bar resemble the style's (drum_resemblance); with
`--temperatures 0.5,1.0`, the same at each temperature (a fine-tuned trio's lines thin out at
0.5, where a held note outweighs scattered onsets). Then the wall time of the whole fine-tune.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VOICES = 3  # soprano, alto, tenor
MADE: list[str] = []  # folders this run made, removed at the end


def palestrina_files(n: int) -> list[str]:
    from music21 import corpus

    paths = sorted(str(p) for p in corpus.getComposer("palestrina") if str(p).endswith(".krn"))
    return paths[:n]


def write_style_folder(folder: str, n_files: int, voices: int = VOICES, first: int = 0,
                       band_genre: str | None = None) -> list[str]:
    """Write n_files Palestrina movements as type 1 MIDI files (mido), 4/4 at 80 BPM, one track
    per voice; returns the paths written. Movements music21 cannot read are passed over.
    With `band_genre`, a band arrangement instead: soprano (piano), lowest voice (acoustic
    bass) and that genre's generated drums on channel 10."""
    import mido
    from music21 import corpus

    os.makedirs(folder, exist_ok=True)
    tpb = 480
    written = []
    for path in palestrina_files(first + n_files * 2)[first:]:
        if len(written) >= n_files:
            break
        try:
            score = corpus.parse(path)
        except Exception:  # noqa: BLE001 - a movement the parser rejects is skipped
            continue
        mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
        head = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
                               mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(80), time=0)])
        mid.tracks.append(head)
        parts = list(score.parts)
        chosen = [(v, part, 0) for v, part in enumerate(parts[:voices])]
        if band_genre:
            chosen = [(0, parts[0], 0), (1, parts[-1], 32)]
        def timed_track(name: str, channel: int, events: list, program: int | None = None):
            """A track from (tick, on, pitch, velocity) events, in mido's delta times."""
            track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
            if program is not None:
                track.append(mido.Message("program_change", program=program, channel=channel, time=0))
            now = 0
            for tick, on, pitch, velocity in sorted(events):
                track.append(mido.Message("note_on" if on else "note_off", note=pitch, velocity=velocity,
                                          channel=channel, time=tick - now))
                now = tick
            mid.tracks.append(track)
            return now

        last_tick = 0
        for v, part, program in chosen:
            events = []
            for note in part.recurse().notes:
                if note.isChord or note.duration.quarterLength <= 0:
                    continue
                start = int(round(float(note.getOffsetInHierarchy(score)) * tpb))
                end = start + int(round(float(note.duration.quarterLength) * tpb))
                events.append((start, 1, note.pitch.midi, 80))
                events.append((end, 0, note.pitch.midi, 0))
            last_tick = max(last_tick, timed_track(part.partName or f"voice {v + 1}", v, events, program))
        if band_genre:
            from core.data import drum_patterns

            hits = []
            for n in drum_patterns.generate(band_genre, last_tick // (4 * tpb), seed=len(written)):
                start = int(round(n.start * tpb))
                hits += [(start, 1, n.pitch, n.velocity), (start + tpb // 8, 0, n.pitch, 0)]
            timed_track("Drums", 9, hits)
        out = os.path.join(folder, os.path.splitext(os.path.basename(path))[0] + ".mid")
        mid.save(out)
        written.append(out)
    return written


def samples_of(model_dir: str, n: int, seed: int = 0, temperature: float = 0.5):
    from core.musicvae import load_model
    from core.musicvae.evaluate import sample_tokens

    model = load_model(None, model_dir, device="cpu")
    return sample_tokens(model, n, temperature, seed)


def compare_samples(old_dir: str, new_dir: str, style, n: int, temperature: float, trio: bool,
                    which: str) -> None:
    """Print how n samples at `temperature` from the model before and after resemble the style,
    per part (melody and bass: style_resemblance; a trio's drums: drum_resemblance)."""
    from core.data.stats import drum_resemblance, style_resemblance

    old_samples = samples_of(old_dir, n, temperature=temperature)
    new_samples = samples_of(new_dir, n, temperature=temperature)
    print(f"samples at temperature {temperature:g} ({n} each), against the style's windows ({which}, {len(style)}):")
    for part, col in ({"melody": 0, "bass": 1} if trio else {"melody": None}).items():
        pick = (lambda t: t) if col is None else (lambda t, c=col: t[..., c])
        before, after = (style_resemblance(pick(t), pick(style)) for t in (old_samples, new_samples))
        if trio:
            print(f" {part}:")
        for key in ("share", "share_pc_close", "share_density_in_range", "pc_distance", "notes_per_bar"):
            print(f"  {key:<28} before {before[key]:8.3f}   after {after[key]:8.3f}")
        print(f"  style's own: pitch-class distance {before['style_pc_distance']:.3f}, "
              f"notes per bar {before['style_notes_per_bar']:.2f}")
    if trio:
        before, after = (drum_resemblance(t[..., 2], style[..., 2]) for t in (old_samples, new_samples))
        print(" drums:")
        for key in ("share", "share_onsets_close", "share_density_in_range", "onset_distance", "hits_per_bar"):
            print(f"  {key:<28} before {before[key]:8.3f}   after {after[key]:8.3f}")
        print(f"  style's own: onset-profile distance {before['style_onset_distance']:.3f}, "
              f"hits per bar {before['style_hits_per_bar']:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["mel_2bar", "trio_16bar"], default="mel_2bar")
    ap.add_argument("--genre", default="reggae", help="the drums' genre of the trio style (default reggae)")
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--steps", type=int, default=None, help="default: the dialog's (300 melody, 60 trio)")
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--temperatures", default="0.5",
                    help="comma-separated sampling temperatures to compare at (default 0.5, the app's)")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ls-finetune-")
    MADE.append(tmp)
    os.environ["LATENT_STUDIO_DATA"] = os.path.join(tmp, "data")
    os.environ["LATENT_STUDIO_CACHE"] = os.path.join(tmp, "cache")

    from core.data.dataset import build_dataset
    from core.data.scan import scan_folder
    from core.jobs import run_job
    from core.models.catalogue import find_model
    from core.musicvae import finetune

    trio = args.model == "trio_16bar"
    kind = "trio" if trio else "melody"
    steps = args.steps or finetune.DEFAULT_STEPS[kind]
    folder = os.path.join(tmp, "palestrina")
    t0 = time.perf_counter()
    written = write_style_folder(folder, args.files, band_genre=args.genre if trio else None)
    print(f"wrote {len(written)} Palestrina movements as .mid" + (f" (band: lead, bass, {args.genre} drums)" if trio else "")
          + f" in {time.perf_counter() - t0:.1f} s")
    scan = run_job(scan_folder, folder)
    print("scan (%.1f s): " % scan.seconds + " | ".join(scan.lines()))

    wall = time.perf_counter()
    req = finetune.RunRequest(folder=folder, kind=kind, name=f"palestrina-{kind}", base=args.model,
                              steps=steps, batch_size=args.batch, learning_rate=args.lr, device="cpu")
    run_dir = finetune.new_run(req)
    last = [0.0]

    def report(fraction, message):
        now = time.perf_counter()
        if now - last[0] > 20 or fraction >= 1.0:
            last[0] = now
            print(f"  {fraction:5.1%} {message}", flush=True)

    outcome = run_job(finetune.train_run, run_dir, on_progress=report)
    wall = time.perf_counter() - wall
    card = outcome.card

    ds = build_dataset(folder, kind, None, bars=16 if trio else 2)
    style = ds.held_out if len(ds.held_out) >= 20 else ds.train
    ft = card.get("fine_tune", {})
    print(f"\nheld-out windows of the style: {card['trained_on']['held_out_windows']} "
          f"(train {card['trained_on']['train_windows']})")
    for key in ("loss", "r_loss", "kl_bits", "teacher_forced_accuracy", "free_running_accuracy"):
        if key in ft:
            print(f"  held-out {key:<26} before {ft[key]['before']:8.3f}   after {ft[key]['after']:8.3f}")
    for temperature in (float(x) for x in args.temperatures.split(",")):
        compare_samples(find_model(args.model).path, outcome.installed_path, style, args.samples, temperature,
                        trio, "held-out" if style is ds.held_out else "training")
    print(f"\nwall time of the fine-tune (dataset, {steps} steps, evaluations, model card, install): "
          f"{wall:.0f} s ({wall / 60:.1f} min); installed as {outcome.installed_name}")
    return 0


if __name__ == "__main__":
    import shutil

    try:
        code = main()
    finally:  # this run's throw-away data folder (the written files, the run, the installed model)
        for path in MADE:
            shutil.rmtree(path, ignore_errors=True)
    sys.exit(code)
