"""Does the window stall while "Train on my MIDI" trains? (prints numbers)

    nice -n 19 .venv/bin/python benchmarks/bench_train_dialog.py [--files 10] [--steps 60]

Opens the dialog offscreen, scans a folder of Palestrina movements (bench_finetune.py writes
them) and fine-tunes mel_2bar on it the dialog's way (its own job thread, the training process).
A 10 ms timer on the GUI thread records how late each of its ticks comes: the longest gap is
the longest the window could not answer. Printed for the scan and for the training: the
longest gap, the 99th percentile and the gaps over 100 ms, then the run's seconds per step.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
MADE: list[str] = []  # folders this run made, removed at the end


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = tempfile.mkdtemp(prefix="ls-dialog-")
    MADE.append(tmp)
    os.environ["LATENT_STUDIO_DATA"] = os.path.join(tmp, "data")
    os.environ["LATENT_STUDIO_CACHE"] = os.path.join(tmp, "cache")

    import numpy as np
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    import bench_finetune
    from gui.job_runner import JobRunner
    from gui.model_service import ModelService
    from gui.train_dialog import TrainDialog

    folder = os.path.join(tmp, "palestrina")
    bench_finetune.write_style_folder(folder, args.files)
    app = QApplication(sys.argv)
    service = ModelService(JobRunner(), QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat))
    dialog = TrainDialog(service)
    dialog.show()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)

    def run_until(cond, limit):
        gaps.clear()
        last[0] = time.perf_counter()
        timer.start()
        end = time.monotonic() + limit
        while not cond() and time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.001)
        timer.stop()
        return np.asarray(gaps[1:] or [0.0])

    def report(label, g):
        print(f"{label:<10} ticks {len(g):6d}  longest gap {g.max() * 1000:7.1f} ms  "
              f"99th percentile {np.percentile(g, 99) * 1000:6.1f} ms  gaps over 100 ms {(g > 0.1).sum()}")

    dialog.start_scan(folder)
    report("scan", run_until(lambda: not dialog.busy, 300))
    dialog.steps_spin.setValue(args.steps)
    dialog.name_edit.setText("bench-palestrina")
    t0 = time.perf_counter()
    dialog.train_button.click()
    g = run_until(lambda: not dialog.busy, 1800)
    report("training", g)
    print(f"training took {time.perf_counter() - t0:.0f} s; the dialog said: {dialog.device_label.text()}")
    print(dialog.status.text().replace("<b>", "").replace("</b>", "").replace("<br>", " "))
    dialog.close()
    return 0


if __name__ == "__main__":
    import shutil

    try:
        code = main()
    finally:  # this run's throw-away data folder (the written files, the run, the installed model)
        for path in MADE:
            shutil.rmtree(path, ignore_errors=True)
    sys.exit(code)
