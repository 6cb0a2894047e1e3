#!/usr/bin/env python3
"""Opening a large project and importing a large MIDI file in the window; prints the numbers.

    .venv/bin/python benchmarks/bench_open_file.py [notes]      (default 40000, on 8 tracks)

For each file the window reads it the way File > Open does (a job on the job runner) and
prints: the whole time until the song is shown, the part spent on the GUI thread taking the
song over (Song.replace_with and every view repainting), the longest stall of the event loop
meanwhile (a 10 ms QTimer probe; a stall is a gap beyond 10 ms), and how long a Cancel pressed
as soon as the read starts takes to end the job (the song stays as it was).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TMP = tempfile.mkdtemp(prefix="bench-open-file-")
os.environ.setdefault("LATENT_STUDIO_DATA", os.path.join(TMP, "data"))

PROBE_MS = 10


def big_song(notes: int):
    from core.song import Clip, Note, Section, Song, Track

    song = Song("Big")
    tracks = [song.ensure_track(role) for role in ("melody", "bass", "drums")]
    tracks += [song.add_track(Track(f"Part {i}", "other")) for i in range(4, 9)]
    per_track = notes // len(tracks)
    clip = Clip("Everything", per_track * 0.5)
    for t, track in enumerate(tracks):
        clip.notes[track.id] = [Note(36 + (i + 5 * t) % 48, i * 0.5, i * 0.5 + 0.25, 90)
                                for i in range(per_track)]
    song.add_clip(clip)
    song.set_sections([Section("all", clip.id, 0.0, clip.length)])
    return song


def main() -> int:
    notes = int(sys.argv[1]) if len(sys.argv) > 1 else 40000
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from core import song_files
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    song = big_song(notes)
    project = song_files.save_song(song, os.path.join(TMP, "big.lstudio"), song_files.PROJECT)
    midi = song_files.save_song(song, os.path.join(TMP, "big.mid"), song_files.MIDI)
    print(f"{notes} notes: project {os.path.getsize(project) / 1e6:.1f} MB, "
          f"MIDI {os.path.getsize(midi) / 1e6:.1f} MB")

    settings = QSettings(os.path.join(TMP, "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    w.show()
    ticks: list[float] = []
    probe = QTimer(w)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    probe.start()

    adopt = [0.0]
    real_loaded = w.files._loaded

    def timed_loaded(path, loaded):
        t = time.perf_counter()
        real_loaded(path, loaded)
        app.processEvents()  # the repaints the new song causes
        adopt[0] = time.perf_counter() - t

    w.files._loaded = timed_loaded

    def pump_until(cond, timeout=600.0):
        end = time.perf_counter() + timeout
        while not cond() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    for label, path in (("project", project), ("MIDI", midi)):
        w.undo_stack.clear()
        done: list[str] = []
        w.file_loaded.connect(done.append)
        ticks.clear()
        t0 = time.perf_counter()
        w.files.open_path(path, ask=False)
        pump_until(lambda: done or not w.runner.is_busy())
        took = time.perf_counter() - t0
        w.file_loaded.disconnect(done.append)
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        stall = max(0.0, max(gaps, default=0.0) * 1000 - PROBE_MS)
        count = sum(c.note_count() for c in w.song.clips.values())
        print(f"open {label:<8} {took:6.2f} s to show {count} notes; taking it over on the GUI "
              f"thread {adopt[0] * 1000:6.0f} ms; longest event-loop stall {stall:6.0f} ms")

        before = w.song.snapshot()
        started, cancelled = [], []

        def on_started(_what, started=started):
            started.append(time.perf_counter())

        def on_cancelled(_what, cancelled=cancelled):
            cancelled.append(time.perf_counter())

        w.runner.started.connect(on_started)
        w.runner.cancelled.connect(on_cancelled)
        w.files.open_path(path, ask=False)
        pump_until(lambda: started)
        t_cancel = time.perf_counter()
        w.cancel_button.click()
        pump_until(lambda: cancelled)
        kept = w.song.snapshot() == before
        print(f"cancel {label:<6} ended the job {(cancelled[0] - t_cancel) * 1000:6.0f} ms after the "
              f"click; song kept: {kept}")
        w.runner.started.disconnect(on_started)
        w.runner.cancelled.disconnect(on_cancelled)
        pump_until(lambda: not w.runner.is_busy())
    w.files.autosave_timer.stop()
    w.runner.shutdown(5000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
