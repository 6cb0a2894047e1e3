"""Import time of hostile MIDI files, and how it grows with their size (issue #20).

    nice python benchmarks/bench_hostile_midi.py [--quick] [--gui]

Files, built here with mido (the 65,535-track one byte by byte, as mido cannot write it):
  - 1k, 10k and 100k tempo and time-signature changes: one `FF 51` and one `FF 58` event every
    tick (delta 1) in a conductor track, and a few notes;
  - 1M notes (8 tracks of 125,000, the most a file may hold);
  - 128 tracks of 500 notes each (the most tracks a file may have);
  - a header declaring 65,535 tracks, followed by 65,535 empty track chunks (refused);
  - 256 instruments (16 programs on each of 16 channels, the most a file may have) and
    8,192 (every program on every channel of 4 tracks, refused);
  - a track whose first delta time is 1 MB of 0xFF bytes (refused).
For each: its size, the time `import_midi` takes (the best of three under 1 MB), the time
`info` takes to describe the song, and what came out. Then the ratio of import times between
the change files, beside the ratio of their sizes: growing as n log n, 10 times the size
costs about 13 times the time.
`--quick` leaves out the 1M-note file (it takes the longest to build and to read); `--gui`
also times the first paint of each imported song in the timeline and the piano roll,
offscreen. The target: no file under 1 MB takes over 2 s.
"""
from __future__ import annotations

import argparse
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import mido  # noqa: E402

TPB = 480


def changes_file(path: str, n: int) -> None:
    """n tempo (all different) and n time-signature changes, each a tick after the one before."""
    conductor = mido.MidiTrack()
    for i in range(n):
        # every tempo different, so that no decoded event can be reused (the worst case)
        conductor.append(mido.MetaMessage("set_tempo", tempo=400_000 + i, time=1))
        conductor.append(mido.MetaMessage("time_signature", numerator=2 + i % 6,
                                          denominator=(4, 8)[i % 2], time=1))
    notes = mido.MidiTrack([mido.Message("program_change", program=0)])
    for i in range(8):
        notes.append(mido.Message("note_on", note=60 + i, velocity=80, time=0))
        notes.append(mido.Message("note_off", note=60 + i, time=240))
    mido.MidiFile(type=1, ticks_per_beat=TPB, tracks=[conductor, notes]).save(path)


def notes_file(path: str, tracks: int, per_track: int) -> None:
    """`tracks` tracks of `per_track` eighth notes each, a note-on of velocity 0 ending each."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    for t in range(tracks):
        ch = t % 16
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=f"Part {t + 1}"),
                                mido.Message("program_change", channel=ch, program=t % 128)])
        on = [mido.Message("note_on", channel=ch, note=36 + i % 60, velocity=90, time=0 if i == 0 else 120)
              for i in range(per_track)]
        off = [mido.Message("note_on", channel=ch, note=36 + i % 60, velocity=0, time=120)
               for i in range(per_track)]
        for a, b in zip(on, off):
            track.append(a)
            track.append(b)
        mid.tracks.append(track)
    mid.save(path)


def many_headers_file(path: str, count: int = 65535) -> None:
    empty = b"MTrk" + struct.pack(">L", 4) + b"\x00\xff\x2f\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">LHHH", 6, 1, count, TPB) + empty * count)


def instruments_file(path: str, tracks: int, programs: int) -> None:
    """Each channel of each track plays one note on each of `programs` programs in turn."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    for _ in range(tracks):
        track = mido.MidiTrack()
        for ch in range(16):
            for prog in range(programs):
                track += [mido.Message("program_change", channel=ch, program=prog),
                          mido.Message("note_on", channel=ch, note=60, velocity=90),
                          mido.Message("note_off", channel=ch, note=60, time=10)]
        mid.tracks.append(track)
    mid.save(path)


def endless_number_file(path: str, size: int = 1_000_000) -> None:
    """One track whose first delta time is `size` bytes of 0xFF: a number that never ends."""
    body = b"\xff" * size + b"\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">LHHH", 6, 1, 1, TPB) + b"MTrk" + struct.pack(">L", len(body)) + body)


def first_paint(song):
    """Seconds to build, show and paint the timeline and the piano roll with the song."""
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from gui.piano_roll import PianoRollEditor
    from gui.timeline import Timeline

    app = QApplication.instance() or QApplication([])
    t = time.perf_counter()
    tl = Timeline(song, QUndoStack())
    tl.resize(1200, 300)
    tl.show()
    app.processEvents()
    tl.canvas.zoom_to_fit()
    tl.grab()
    timeline = time.perf_counter() - t
    t = time.perf_counter()
    editor = PianoRollEditor(song, QUndoStack())
    editor.resize(1400, 800)
    editor.show()
    app.processEvents()
    if song.clips:
        editor.set_clip(next(iter(song.clips)))
        editor.state.zoom_to_fit()
    editor.grab()
    roll = time.perf_counter() - t
    tl.close()
    editor.close()
    return timeline, roll


def measure(label: str, path: str, gui: bool) -> float:
    from cli.info import describe
    from core.errors import MidiFileError
    from core.midi_io import import_midi

    size = os.path.getsize(path)
    took = float("inf")
    for _ in range(3 if size < 1_000_000 else 1):  # the best of three for the quick ones
        t = time.perf_counter()
        try:
            song = import_midi(path)
        except MidiFileError as exc:
            took = min(took, time.perf_counter() - t)
            refused = exc.message
            continue
        took = min(took, time.perf_counter() - t)
        refused = None
    if refused:
        print(f"{label:<26} {size / 1e3:9.0f} KB  import {took:7.3f} s  refused: {refused}")
        return took
    t = time.perf_counter()
    lines = describe(song)
    info = time.perf_counter() - t
    length = next(line for line in lines if line.startswith("length:"))
    notes = next(line for line in lines if line.startswith("notes:"))
    extra = ""
    if gui:
        timeline, roll = first_paint(song)
        extra = f"  first paint: timeline {timeline:6.3f} s, piano roll {roll:6.3f} s"
    print(f"{label:<26} {size / 1e3:9.0f} KB  import {took:7.3f} s  info {info:6.3f} s  "
          f"{len(song.tempos)} tempos, {len(song.time_signatures)} meters, {notes}, {length}{extra}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="leave out the 1M-note file")
    ap.add_argument("--gui", action="store_true", help="also time the first paint, offscreen")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        # warm up: the first import loads pretty_midi (instrument names) and mido's tables
        changes_file(os.path.join(d, "warm.mid"), 10)
        measure_quietly = __import__("core.midi_io", fromlist=["import_midi"]).import_midi
        measure_quietly(os.path.join(d, "warm.mid"))
        times = {}
        for n in (1_000, 10_000, 100_000):
            path = os.path.join(d, f"changes{n}.mid")
            changes_file(path, n)
            times[n] = measure(f"{n // 1000}k tempo+meter changes", path, args.gui), os.path.getsize(path)
        if not args.quick:
            path = os.path.join(d, "million.mid")
            notes_file(path, 8, 125_000)
            measure("1M notes (8 tracks)", path, args.gui)
        path = os.path.join(d, "wide.mid")
        notes_file(path, 128, 500)
        measure("128 tracks of 500 notes", path, args.gui)
        path = os.path.join(d, "headers.mid")
        many_headers_file(path)
        measure("65,535 track headers", path, args.gui)
        path = os.path.join(d, "instruments.mid")
        instruments_file(path, 1, 16)
        measure("256 instruments", path, args.gui)
        instruments_file(path, 4, 128)
        measure("8,192 instruments", path, args.gui)
        path = os.path.join(d, "endless.mid")
        endless_number_file(path)
        measure("a 1 MB delta time", path, args.gui)
        for small, big in ((1_000, 10_000), (10_000, 100_000)):
            (ta, sa), (tb, sb) = times[small], times[big]
            print(f"ratio {big // 1000}k/{small // 1000}k changes: import time x{tb / ta:5.1f} "
                  f"for size x{sb / sa:4.1f}")


if __name__ == "__main__":
    main()
