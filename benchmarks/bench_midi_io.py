"""Times MIDI import/export and project save/load on a generated song; prints the numbers.

    .venv/bin/python benchmarks/bench_midi_io.py [notes_per_track]   (default 25000, 8 tracks)
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mido  # noqa: E402

from core.midi_io import export_midi, import_midi  # noqa: E402
from core.project import load_project, save_project  # noqa: E402


def build(path, per_track):
    """8 tracks of per_track notes each, an eighth note every quarter, written by mido."""
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    for t in range(8):
        track = mido.MidiTrack([mido.Message("program_change", channel=t, program=t * 8)])
        for i in range(per_track):
            pitch = 40 + i % 40
            track.append(mido.Message("note_on", channel=t, note=pitch, velocity=90, time=0 if i == 0 else 60))
            track.append(mido.Message("note_off", channel=t, note=pitch, velocity=0, time=60))
        track.append(mido.MetaMessage("end_of_track", time=60))
        mid.tracks.append(track)
    mid.save(path)


def timed(label, fn):
    t = time.perf_counter()
    out = fn()
    print(f"{label:<28} {time.perf_counter() - t:7.3f} s")
    return out


def main():
    per_track = int(sys.argv[1]) if len(sys.argv) > 1 else 25000
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "big.mid")
        build(src, per_track)
        print(f"{8 * per_track} notes, {os.path.getsize(src) / 1e6:.1f} MB MIDI")
        song = timed("import_midi", lambda: import_midi(src))
        timed("export_midi", lambda: export_midi(song, os.path.join(d, "out.mid")))
        timed("save_project", lambda: save_project(song, os.path.join(d, "p.lstudio")))
        timed("load_project", lambda: load_project(os.path.join(d, "p.lstudio")))
        timed("snapshot", song.snapshot)


if __name__ == "__main__":
    main()
