"""`python main.py convert IN OUT`: read a MIDI file or project and write it again.

MIDI to MIDI is a round trip through the song model (what import and export keep); the
output format follows OUT's extension (.mid/.midi: MIDI, .lstudio: project).
"""
from __future__ import annotations

import os
import sys

from core.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "convert", help="import a MIDI file or project and write it as MIDI or project",
        description="Import IN (.mid, .midi or .lstudio) and write OUT; the output format "
                    "follows OUT's extension (.mid/.midi or .lstudio).")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.set_defaults(func=run)


def run(args) -> int:
    from core.song_files import load_song, save_song

    if os.path.abspath(args.input) == os.path.abspath(args.output):
        raise UserError(f'Refusing to convert "{args.input}" onto itself; choose another OUT.')
    loaded = load_song(args.input)
    song = loaded.song
    for warning in loaded.warnings:
        print(f"repaired while reading: {warning}", file=sys.stderr)
    written = save_song(song, args.output)
    notes = sum(len(v) for v in song.rendered_notes().values())
    print(f"wrote {written}: {len(song.tracks)} tracks, {notes} notes, "
          f"{song.length_bars():g} bars, {song.tempo:.2f} BPM")
    return 0
