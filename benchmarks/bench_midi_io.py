"""Times MIDI import/export and project save/load on a generated song; prints the numbers.

    .venv/bin/python benchmarks/bench_midi_io.py [notes_per_track]   (default 25000, 8 tracks)
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core import smf  # noqa: E402
from core.midi_io import export_midi, import_midi  # noqa: E402
from core.project import load_project, save_project  # noqa: E402


def build(path, per_track):
    chunks = []
    for t in range(8):
        events = [(0, bytes((0xC0 | t, t * 8)))]
        for i in range(per_track):
            events.append((i * 120, bytes((0x90 | t, 40 + i % 40, 90))))
            events.append((i * 120 + 60, bytes((0x80 | t, 40 + i % 40, 0))))
        chunks.append(smf.track_chunk(events, per_track * 120))
    with open(path, "wb") as f:
        f.write(smf.file_bytes(chunks, 480))


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
