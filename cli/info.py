"""`python main.py info FILE`: what a MIDI file or project holds.

Prints the tracks (name, role, program, drum, note count), tempo and tempo changes, time
signature(s), sections and the length in bars.
"""
from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="show the tracks, tempo and length of a MIDI file or project",
                              description="Show what FILE (.mid, .midi or .lstudio) holds.")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=run)


def describe(song) -> list[str]:
    """The lines `info` prints for a song."""
    from core.quantize import bars_at

    rendered = song.rendered_notes()
    lines = [f"title: {song.title}"]
    first, *changes = song.tempos
    lines.append(f"tempo: {first.bpm:.2f} BPM" + (f" ({len(changes)} changes)" if changes else ""))
    for tc in changes:
        lines.append(f"  beat {tc.beat:g} (bar {bars_at(song.time_signatures, tc.beat) + 1:g}): {tc.bpm:.2f} BPM")
    sigs = ", ".join(f"{ts.numerator}/{ts.denominator}" + (f" from beat {ts.beat:g}" if ts.beat else "")
                     for ts in song.time_signatures)
    lines.append(f"time signature: {sigs}")
    length = song.length_beats()
    lines.append(f"length: {bars_at(song.time_signatures, length):g} bars ({length:g} beats, "
                 f"{song.beat_to_seconds(length):.1f} s)")
    lines.append(f"tracks: {len(song.tracks)}")
    for i, t in enumerate(song.tracks, 1):
        count = len(rendered.get(t.id, []))
        drum = "drums" if t.is_drum else f"program {t.program}"
        lines.append(f"  {i}. {t.name!r}: role {t.role}, {drum}, {count} notes")
    lines.append(f"notes: {sum(len(v) for v in rendered.values())}")
    lines.append(f"clips: {len(song.clips)}, sections: {len(song.sections)}")
    for s in song.sections:
        lines.append(f"  {s.label} at beat {s.start:g}, {s.length:g} beats")
    return lines


def run(args) -> int:
    from core.song_files import load_song

    loaded = load_song(args.file)
    print("\n".join(describe(loaded.song)))
    for warning in loaded.warnings:
        print(f"repaired while reading: {warning}", file=sys.stderr)
    return 0
