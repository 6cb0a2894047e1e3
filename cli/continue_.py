"""`python main.py continue`: more bars after a MIDI clip, from a sequence model.

    python main.py continue --from clip.mid --bars 8 -n 4 --out DIR [--model seq_lstm] [--temperature 1.0]

Each output file starts with the whole input unchanged and goes on for --bars bars from the
first bar line after it (core.generation.continue_clip, the job the window runs). Without
--model the embedded sequence model (seq_transformer) is used; --model takes a model name
(`python main.py models` lists them) or a sequence model folder.
"""
from __future__ import annotations

import os
import time

from core.errors import UserError
from core.seq.model import DEFAULT_MODEL as DEFAULT_SEQ_MODEL


def add_seq_model_argument(p) -> None:
    p.add_argument("--model", default=None, metavar="NAME_OR_FOLDER",
                   help=f"a sequence model: a name or a folder (default: the embedded {DEFAULT_SEQ_MODEL})")


def open_seq_model(name: str | None):
    from core import generation
    from core.jobs import run_job
    from core.models.catalogue import find_model
    from core.seq import model as seq_model

    name = name or DEFAULT_SEQ_MODEL
    path = os.path.expanduser(name)
    if not os.path.isdir(path):
        path = find_model(name).path
    if not seq_model.is_seq_model(path):
        raise UserError(f"{name} is not a sequence model (continue and infill need one, e.g. "
                        f"seq_transformer or seq_lstm, or a folder made by train-seq)")
    return run_job(generation.load_seq, path, None if os.path.isdir(os.path.expanduser(name)) else name)


def read_song_clip(path: str):
    """(song, one clip with every note of the file)."""
    from core.midi_io import import_midi

    if not os.path.isfile(path):
        raise UserError(f"{path} does not exist")
    song = import_midi(path)
    if not song.clips:
        raise UserError(f"{path} contains no notes")
    if len(song.clips) == 1:
        return song, next(iter(song.clips.values()))
    from core.song import Clip

    merged: dict = {}
    for c in song.clips.values():
        for tid, ns in c.notes.items():
            merged.setdefault(tid, []).extend(ns)
    length = max(c.length for c in song.clips.values())
    return song, Clip(os.path.splitext(os.path.basename(path))[0], length,
                      {k: sorted(v, key=lambda n: (n.start, n.pitch)) for k, v in merged.items()})


def write(song, clips, out: str, stem: str) -> list[str]:
    from cli.sample import write_clips

    return write_clips(song, clips, out, stem)


def register(subparsers) -> None:
    p = subparsers.add_parser("continue", help="continue a MIDI clip by some bars with a sequence model",
                              description="Write n continuations of a MIDI clip; each starts with the clip unchanged.")
    add_seq_model_argument(p)
    p.add_argument("--from", dest="source", required=True, metavar="CLIP.mid")
    p.add_argument("--bars", type=int, default=8, help="bars to add (1 to 16, default 8)")
    p.add_argument("-n", "--num", type=int, default=4, help="continuations (default 4)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.set_defaults(func=run)


def run(args) -> int:
    from core import generation
    from core.jobs import run_job

    song, clip = read_song_clip(args.source)
    model = open_seq_model(args.model)
    t0 = time.perf_counter()
    clips = run_job(generation.continue_clip, model, clip, args.bars, args.num, args.temperature,
                    tracks=song, seed=args.seed)
    print(f"{model.name}: {len(clips)} continuation(s) of {args.bars} bar(s) in {time.perf_counter() - t0:.1f} s")
    stem = os.path.splitext(os.path.basename(args.source))[0] + "_continued"
    for path, c in zip(write(song, clips, args.out, stem), clips):
        print(f"wrote {path} ({c.note_count()} notes, {c.length / 4:g} bars)")
    return 0
