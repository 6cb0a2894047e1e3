#!/usr/bin/env python3
"""What a burst of new clips costs the main window (the clip chooser and the song summary).

    .venv/bin/python benchmarks/bench_clip_burst.py

Adds 64 clips of 16 notes, one song.add_clip at a time as a generation lands, to songs that
already hold 0, 200 and 1,000 clips, and prints the time of the 64 calls and of the event-loop
turn after them (where the coalesced note count runs), then of removing 64 clips again.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from core.song import Clip, Note
    from gui.main_window import MainWindow

    w = MainWindow()
    w.show()
    app.processEvents()
    tid = w.song.tracks[0].id if w.song.tracks else w.song.ensure_track("melody").id

    def clip(i):
        return Clip(f"c{i}", 8.0, {tid: [Note(60 + j % 12, j * 0.5, j * 0.5 + 0.5, 90) for j in range(16)]})

    for existing in (0, 200, 1000):
        while len(w.song.clips) < existing:
            w.song.add_clip(clip(len(w.song.clips)))
        app.processEvents()
        t0 = time.perf_counter()
        added = [clip(i) for i in range(64)]
        for c in added:
            w.song.add_clip(c)
        t1 = time.perf_counter()
        app.processEvents()
        t2 = time.perf_counter()
        for c in added:
            w.song.remove_clip(c.id)
        t3 = time.perf_counter()
        app.processEvents()
        print(f"{existing:5d} clips already: 64 add_clip {1000 * (t1 - t0):6.1f} ms, next event-loop turn "
              f"{1000 * (t2 - t1):5.1f} ms, 64 remove_clip {1000 * (t3 - t2):6.1f} ms", flush=True)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
