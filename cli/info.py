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


MAX_LISTED = 50  # tempo and time-signature changes listed one by one; the rest are counted


def describe(song) -> list[str]:
    """The lines `info` prints for a song."""
    from core.timemap import MeterMap, TempoMap

    meter, tempo = MeterMap(song.time_signatures), TempoMap(song.tempos)  # built once: O(log n) a question
    rendered = song.rendered_notes()
    lines = [f"title: {song.title}"]
    first, *changes = song.tempos
    lines.append(f"tempo: {first.bpm:.2f} BPM" + (f" ({len(changes)} changes)" if changes else ""))
    for tc in changes[:MAX_LISTED]:
        lines.append(f"  beat {tc.beat:g} (bar {meter.bars_at(tc.beat) + 1:g}): {tc.bpm:.2f} BPM")
    if len(changes) > MAX_LISTED:
        lines.append(f"  ... and {len(changes) - MAX_LISTED} more tempo changes")
    sigs = ", ".join(f"{ts.numerator}/{ts.denominator}" + (f" from beat {ts.beat:g}" if ts.beat else "")
                     for ts in song.time_signatures[:MAX_LISTED + 1])
    more = len(song.time_signatures) - (MAX_LISTED + 1)
    lines.append(f"time signature: {sigs}" + (f" and {more} more changes" if more > 0 else ""))
    length = song.length_beats()
    lines.append(f"length: {meter.bars_at(length):g} bars ({length:g} beats, "
                 f"{tempo.seconds_at(length):.1f} s)")
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
