"""`python main.py infill`: rewrite chosen bars of a MIDI file with a sequence model.

    python main.py infill --from song.mid --bars 5-8 -n 4 --out DIR [--model seq_lstm]

Bars are counted from 1, both ends included. Every note that starts outside those bars is
written back unchanged; the notes starting inside them are the model's, made to fit the bars
before and after (core.generation.infill_clip, the job the window runs). Without --model the
embedded sequence model (seq_transformer) is used.
"""
from __future__ import annotations

import os
import time

from core.errors import UserError
from cli.continue_ import add_seq_model_argument, open_seq_model, read_song_clip, write


def parse_bars(text: str) -> tuple[int, int]:
    try:
        if "-" in text:
            a, b = text.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = last = int(text)
    except ValueError:
        raise UserError(f"--bars takes FIRST-LAST counted from 1, e.g. 5-8 (got {text!r})") from None
    if first < 1 or last < first:
        raise UserError(f"--bars {text}: the first bar is 1 or later and the last is not before it")
    return first, last


def register(subparsers) -> None:
    p = subparsers.add_parser("infill", help="rewrite bars of a MIDI file with a sequence model",
                              description="Write n versions of a MIDI file whose chosen bars are rewritten "
                                          "to fit the bars around them; the other bars stay as they are.")
    add_seq_model_argument(p)
    p.add_argument("--from", dest="source", required=True, metavar="SONG.mid")
    p.add_argument("--bars", required=True, metavar="FIRST-LAST", help="bars to rewrite, e.g. 5-8 (from 1)")
    p.add_argument("-n", "--num", type=int, default=4, help="candidates (default 4)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.set_defaults(func=run)


def run(args) -> int:
    from core import generation
    from core.jobs import run_job

    bars = parse_bars(args.bars)
    song, clip = read_song_clip(args.source)
    model = open_seq_model(args.model)
    t0 = time.perf_counter()
    clips = run_job(generation.infill_clip, model, clip, bars, args.num, args.temperature,
                    tracks=song, seed=args.seed)
    print(f"{model.name}: {len(clips)} candidate(s) for bars {bars[0]}-{bars[1]} in {time.perf_counter() - t0:.1f} s")
    stem = os.path.splitext(os.path.basename(args.source))[0] + f"_bars{bars[0]}-{bars[1]}"
    for path, c in zip(write(song, clips, args.out, stem), clips):
        print(f"wrote {path} ({c.note_count()} notes)")
    return 0
