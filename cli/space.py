"""`python main.py space`: section spaces from the command line (see core/section_space.py).

    python main.py space train --model MODEL --clips DIR_OR_FILES... --label L --out FILE.space
                               [--latent 8] [--steps N] [--seed S]
    python main.py space sample FILE.space -n 8 --temperature 0.5 --out DIR [--seed S] [--model MODEL]
    python main.py space show FILE.space [--json]

`train` reads every MIDI file given (a folder: the .mid/.midi files in it and below), one clip
per file, and from a project (.lstudio) the clips that carry the label or that a section with
that label plays; it encodes them with the model and trains the small VAE; files and clips the
model cannot read are named with the reason and left out. `sample` loads the space's own model
by the name the space records (or --model, which must be that model) and writes one MIDI file
per sample. `show` prints what a space file holds.
`arrange --space LABEL=FILE.space` fills a song form's LABEL sections from a space.
"""
from __future__ import annotations

import os
import sys
import time

from core import song_files
from core.errors import MidiFileError, UserError



def register(subparsers) -> None:
    from cli.sample import add_model_arguments

    p = subparsers.add_parser("space", help="train and sample section spaces (a small VAE per label)",
                              description="Section spaces: a small VAE trained on a model's codes of "
                                          "the clips of one label, sampled in its own small space.")
    sub = p.add_subparsers(dest="space_command", metavar="ACTION")
    sub.required = True

    t = sub.add_parser("train", help="train a section space on MIDI clips",
                       description="Encode MIDI clips (one per file) with a model and train a section "
                                   "space on their codes.")
    add_model_arguments(t)
    t.add_argument("--clips", required=True, nargs="+", metavar="DIR_OR_FILE",
                   help="MIDI files, or folders searched for .mid/.midi files (one clip per file), "
                        "or projects (.lstudio: their clips of --label)")
    t.add_argument("--label", required=True, help="the section label (verse, chorus, or any word)")
    t.add_argument("--out", required=True, help="the .space file to write")
    t.add_argument("--latent", type=int, default=8, help="size of the small space, 4..16 (default 8)")
    t.add_argument("--steps", type=int, default=None,
                   help="training steps (default: 1500 for up to 256 clips, more for more clips)")
    t.add_argument("--seed", type=int, default=0, help="seed of the initial weights and noise (default 0)")
    t.set_defaults(func=run_train)

    s = sub.add_parser("sample", help="sample clips from a section space into MIDI files",
                       description="Draw codes in a section space, decode them to the big model's "
                                   "codes and then to notes; one MIDI file per clip.")
    s.add_argument("space", metavar="FILE.space", help="the section space")
    s.add_argument("-n", "--num", type=int, default=8, help="how many clips (default 8)")
    s.add_argument("--temperature", type=float, default=0.5,
                   help="sampling temperature of the notes decoder (default 0.5)")
    s.add_argument("--spread", type=float, default=1.0,
                   help="scale of the draws in the small space (default 1; lower stays nearer the "
                        "clips' centre)")
    s.add_argument("--seed", type=int, default=None, help="seed for reproducible samples")
    s.add_argument("--out", required=True, help="output folder (created if missing)")
    s.add_argument("--tempo", type=float, default=120.0, help="tempo of the MIDI files (BPM)")
    s.add_argument("--model", default=None,
                   help="the model (default: the one the space was trained on, found by its name)")
    s.add_argument("--config", default=None, help="model config, when --model is a bare checkpoint")
    s.add_argument("--device", default=None, help="cpu or gpu (default: the GPU when there is one)")
    s.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                   help="weights read each step in float32 (exact) or bfloat16")
    s.set_defaults(func=run_sample)

    w = sub.add_parser("show", help="describe a section space file",
                       description="Print what a .space file holds: label, model, sizes, training.")
    w.add_argument("space", metavar="FILE.space", help="the section space")
    w.add_argument("--json", action="store_true", help="print its header as JSON")
    w.set_defaults(func=run_show)


# ------------------------------------------------------------------ helpers
def midi_paths(items) -> list[str]:
    """The MIDI files named or found (sorted) under the folders named; a UserError when none."""
    found: list[str] = []
    for item in items:
        path = os.path.expanduser(item)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found.extend(os.path.join(root, f) for f in sorted(files)
                             if song_files.MIDI.matches(f) or song_files.PROJECT.matches(f))
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise UserError(f"--clips {item}: no such file or folder")
    if not found:
        raise UserError(f"no MIDI files ({', '.join(song_files.MIDI.extensions)}) or projects "
                        f"({song_files.PROJECT.suffix}) in {', '.join(items)}")
    return found


def read_clips(paths, label: str = "") -> tuple[list, list, list[tuple[str, str]]]:
    """(clips, their songs, unreadable files [(name, reason)]): one clip per MIDI file, named
    after it; from a project, its clips of `label` (section_space.clips_for_label)."""
    from core.errors import ProjectFileError
    from core.midi_io import import_midi
    from core.section_space import clips_for_label
    from core.song import Clip

    clips, songs, bad = [], [], []
    for path in paths:
        name = os.path.basename(path)
        if song_files.PROJECT.matches(path):
            from core.project import load_project

            try:
                song = load_project(path)
            except ProjectFileError as exc:
                bad.append((name, exc.message))
                continue
            found = clips_for_label(song, label)
            if not found:
                bad.append((name, f"it has no clip labelled {label} and no {label} section with a clip"))
            clips.extend(found)
            songs.extend([song] * len(found))
            continue
        try:
            song = import_midi(path)
        except MidiFileError as exc:
            bad.append((name, exc.message))
            continue
        notes: dict = {}
        for clip in song.clips.values():
            for tid, ns in clip.notes.items():
                notes.setdefault(tid, []).extend(ns)
        length = max((c.length for c in song.clips.values()), default=0.0)
        clips.append(Clip(name=name, length=length, notes=notes, origin="imported"))
        songs.append(song)
    return clips, songs, bad


def _check_out(path: str, suffix: str, what: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not path.lower().endswith(suffix):
        raise UserError(f"--out {path}: give a {what} file name ending in {suffix}")
    if not os.path.isdir(folder):
        raise UserError(f"--out {path}: the folder {folder} does not exist")


def open_space_model(space, args):
    """The model a space belongs to: --model when given (checked), else found by its recorded name."""
    import argparse

    from cli.sample import open_model

    margs = argparse.Namespace(model=args.model or space.model_name, config=args.config,
                               device=args.device, precision=args.precision)
    model = open_model(margs)
    space.check_model(model)
    return model


# ------------------------------------------------------------------ commands
def run_train(args) -> int:
    from cli.progress import TextProgress
    from cli.sample import open_model
    from core import section_space as ss
    from core.jobs import JobToken

    _check_out(args.out, ss.SUFFIX, "section space")
    settings = ss.SpaceSettings(latent=args.latent, steps=args.steps, seed=args.seed)
    clips, songs, bad = read_clips(midi_paths(args.clips), args.label)
    for name, reason in bad:
        print(f"  left out {name}: {reason}", file=sys.stderr)
    if len(clips) < ss.MIN_CLIPS:
        raise ss.SectionSpaceError(f"a section space needs at least {ss.MIN_CLIPS} clips; "
                                   f"{len(clips)} could be read from {', '.join(args.clips)}")
    model = open_model(args)
    progress = TextProgress()

    def left_out(refused) -> None:
        progress.finish()
        for name, reason in refused:
            print(f"  left out {name}: {reason}", file=sys.stderr)

    t0 = time.perf_counter()
    try:
        space = ss.train(JobToken(progress), model, clips, args.label, settings, tracks=songs,
                         on_refused=left_out)
    finally:
        progress.finish()
    seconds = time.perf_counter() - t0
    n = space.info["clip_count"]
    print(f"trained the {space.label} space on {n} clip(s) of {model.name}: latent {space.latent}, "
          f"layers {'-'.join(map(str, space.hidden))}, {space.steps} steps in {seconds:.1f} s "
          f"({space.steps / max(space.info['seconds'], 1e-9):.0f} steps/s); over the last 50 steps "
          "reconstruction {:.2f}, KL {:.2f}".format(*space.final_losses()))
    ss.save_space(space, args.out)
    print(f"wrote {args.out}")
    return 0


def run_sample(args) -> int:
    from cli.sample import file_stem, song_for, write_clips
    from core import section_space as ss
    from core.arrangement import assign_tracks
    from core.jobs import run_job

    if args.num < 1:
        raise UserError("-n must be at least 1")
    if args.temperature < 0:
        raise UserError("--temperature must be 0 or more")
    space = ss.load_space(args.space)
    model = open_space_model(space, args)
    song, ids = song_for(model, args.tempo)
    t0 = time.perf_counter()
    clips = assign_tracks(run_job(ss.sample, model, space, args.num, args.temperature, args.seed,
                                  reproducible=True, spread=args.spread), ids)
    print(f"sampled {len(clips)} clip(s) from the {space.label} space at temperature {args.temperature:g} "
          f"in {time.perf_counter() - t0:.1f} s" + (f" (seed {args.seed})" if args.seed is not None else ""))
    stem = file_stem(model, "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in space.label))
    for path, clip in zip(write_clips(song, clips, args.out, stem), clips):
        print(f"wrote {path} ({clip.note_count()} notes)")
    return 0


def run_show(args) -> int:
    import json

    from core import section_space as ss

    space = ss.load_space(args.space)
    info = space.info
    if args.json:
        print(json.dumps({"label": space.label, "model": space.model, "latent": space.latent,
                          "hidden": list(space.hidden), "steps": space.steps,
                          "final": dict(zip(("reconstruction", "kl"), space.final_losses())),
                          "info": info}, indent=1))
        return 0
    recon, kl = space.final_losses()
    m = space.model
    print(f"{args.space}: the {space.label} section space")
    print(f"  model      {m['name']} ({m['kind']}, config {m.get('config') or '?'}, "
          f"codes of {m['z_size']} numbers)")
    print(f"  network    latent {space.latent}, layers {'-'.join(map(str, space.hidden))}")
    print(f"  training   {space.steps} steps" + (" (stopped early)" if info.get("stopped_early") else "")
          + f" on {info.get('clip_count', '?')} clips in {info.get('seconds', '?')} s, {info.get('created', '?')}")
    print(f"  final      reconstruction {recon:.2f}, KL {kl:.2f} (mean of the last 50 steps)")
    for name in info.get("clips", []):
        print(f"  clip       {name}")
    for name, reason in info.get("refused", []):
        print(f"  left out   {name}: {reason}")
    return 0
