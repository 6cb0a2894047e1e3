#!/usr/bin/env python3
"""How long the musician waits for Continue and Rewrite in the window (issue 19).

    .venv/bin/python benchmarks/bench_continue_window.py                 # Continue pressed 10 s after start
    .venv/bin/python benchmarks/bench_continue_window.py --wait 0 --file song.mid

The window starts the way the app starts it (the model process first, the Generate panel's
model preloaded behind the window; offscreen, a throwaway settings file and data folder), opens
a MIDI file (default docs/demo_trio.mid, a 16-bar trio) and, --wait seconds after the window
showed, runs through the real actions with the dialog answered in code (the default model,
the Transformer):

- first Continue: 8 bars x 4 variations, from the action's trigger until the clips are in
  the library (it includes loading the sequence model in the model process);
- second Continue: the same again, the model loaded;
- Rewrite bars 5-8 x 3 candidates; every candidate's notes outside bars 5-8 are checked to be
  the clip's own.

Also printed: the longest gap of a 10 ms timer while the jobs ran (the window's responsiveness).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", default=os.path.join(ROOT, "docs", "demo_trio.mid"))
    ap.add_argument("--wait", type=float, default=10.0, help="seconds between the window and Continue")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = tempfile.mkdtemp(prefix="bench-continue-")
    os.environ["LATENT_STUDIO_DATA"] = os.path.join(tmp, "data")
    os.environ["LATENT_STUDIO_CACHE"] = os.path.join(tmp, "cache")
    os.environ.setdefault("LATENT_STUDIO_AUDIO", "null")

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QDialog

    app = QApplication.instance() or QApplication([])
    from gui import dialogs
    from gui import sequence_actions as sa
    from gui.app import preload_default_model
    from gui.main_window import MainWindow
    from gui.model_service import use_model_process

    dialogs.ask_save_changes = lambda parent, name: "discard"
    use_model_process(True, start=True)
    w = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat))
    w.resize(1280, 720)
    w.show()

    gaps = [0.0]
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(10)

    def tick():
        gaps.append(clock.restart() - 10)

    probe.timeout.connect(tick)

    def pump(cond, limit=300.0):
        t0 = time.monotonic()
        while not cond() and time.monotonic() - t0 < limit:
            app.processEvents()
            time.sleep(0.002)
        return cond()

    pump(lambda: False, 0.1)
    preload_default_model(w)
    w.files.open_path(args.file, ask=False, background=False)
    pump(lambda: False, args.wait)
    clip = next(iter(w.song.clips.values()))
    w.session.current_clip = clip.id

    def timed(action, n, setup) -> float:
        def answer(dialog):
            setup(dialog)
            return QDialog.Accepted

        sa.ContinueDialog.exec = answer
        before = set(w.song.clips)
        clock.start()
        probe.start()
        t0 = time.perf_counter()
        action.trigger()
        if not pump(lambda: len(w.song.clips) >= len(before) + n):
            raise SystemExit("the job did not finish within 300 s")
        probe.stop()
        return time.perf_counter() - t0

    def continue_setup(dialog):
        dialog.bars.setValue(8)
        dialog.count.setValue(4)

    bars = f"{clip.length / 4:g}-bar"
    first = timed(w.continue_action.act_continue, 4, continue_setup)
    print(f"first Continue (8 bars x 4 of the {bars} {os.path.basename(args.file)}, pressed {args.wait:g} s "
          f"after the window): {first:.2f} s")
    second = timed(w.continue_action.act_continue, 4, continue_setup)
    print(f"second Continue (model loaded): {second:.2f} s")

    w.session.current_clip = clip.id  # a Continue selects (and shows) its new clips
    inside = [n for ns in clip.notes.values() for n in ns if 16.0 <= n.start < 32.0]
    w.continue_action.selected_notes = lambda: inside  # as if bars 5-8 were selected in the piano roll
    before = set(w.song.clips)

    def rewrite_setup(dialog):
        assert dialog.bar_range() == (5, 8), dialog.bar_range()
        dialog.count.setValue(3)

    rewrite = timed(w.continue_action.act_rewrite, 3, rewrite_setup)
    kept = all(
        sorted((n.pitch, n.start, n.end) for n in w.song.clips[cid].notes.get(k, []) if not 16.0 <= n.start < 32.0)
        == sorted((n.pitch, n.start, n.end) for n in clip.notes[k] if not 16.0 <= n.start < 32.0)
        for cid in set(w.song.clips) - before for k in clip.notes)
    print(f"Rewrite bars 5-8 x 3: {rewrite:.2f} s; the other bars of every candidate are the clip's own: {kept}")
    print(f"longest window stall while the jobs ran: {max(gaps):.0f} ms")
    w.models.close()
    w.runner.shutdown(3000)
    w.undo_stack.setClean()
    return 0 if kept else 1


if __name__ == "__main__":
    sys.exit(main())
