"""Render the section-space pictures of docs/section-spaces.md offscreen, through the window.

    QT_QPA_PLATFORM=offscreen python tools/section_space_shots.py OUT_DIR [--steps 1500]

With the embedded mel_2bar: 30 high, dense melodies labelled chorus and 12 low, sparse ones
labelled verse go into the library; a space is trained for each through the Section Spaces menu's
dialog (OUT_DIR/section-space-dialog.png: the loss plot, the map and before/after of the chorus
space); each space is sampled into the library, 10 prior samples are added, the timeline form
"verse chorus verse chorus" is filled (both labels from their spaces) and the window and its
latent map, coloured by label, are saved (section-space-window.png, section-space-map.png).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    os.environ.setdefault("LATENT_STUDIO_DATA", tempfile.mkdtemp())

    import numpy as np
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from core import generation
    from core.musicvae import load_model
    from core.song import Clip, Note
    from gui.main_window import MainWindow

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = QApplication.instance() or QApplication([])
    qss = os.path.join(root, "resources", "style.qss")
    if os.path.exists(qss):
        app.setStyleSheet(open(qss, encoding="utf-8").read())

    def wait(cond, timeout=600.0):
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("gave up waiting")
            app.processEvents()
            time.sleep(0.01)

    model = load_model(None, os.path.join(root, "resources", "models", "mel_2bar"), device="cpu", name="mel_2bar")
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    w.models.register("mel_2bar", None, os.path.join(root, "resources", "models", "mel_2bar"), model=model)
    w.session.model = "mel_2bar"
    w.song.set_sections([])
    for cid in list(w.song.clips):
        w.song.remove_clip(cid)
    w.resize(1500, 950)
    w.show()
    trk = w.song.ensure_track("melody")
    rng = np.random.default_rng(0)

    def tune(name, low, high, dense):
        notes, t, p = [], 0.0, int(rng.integers(low + 2, high - 2))
        while t < 8.0 - 1e-9:
            d = (0.5 if rng.random() < 0.7 else 0.25) if dense else (1.0 if rng.random() < 0.6 else 2.0)
            notes.append(Note(p, t, min(t + d, 8.0), 90))
            t += d
            p = int(np.clip(p + rng.choice([-3, -2, -1, 1, 2, 3]), low, high))
        return Clip(name, 8.0, {trk.id: notes})

    for i in range(30):
        w.song.add_clip(tune(f"high {i + 1}", 77, 91, True)).label = "chorus"
    for i in range(12):
        w.song.add_clip(tune(f"low {i + 1}", 55, 67, False)).label = "verse"
    w.undo_stack.clear()

    spaces = w.section_spaces
    for label in ("verse", "chorus"):
        opened = []
        spaces.space_dialog_opened.connect(opened.append)
        spaces.new_space(label)
        dialog = opened[-1]
        dialog.resize(820, 760)
        dialog.steps_spin.setValue(args.steps)
        t0 = time.monotonic()
        dialog.start()
        wait(lambda: dialog.space is not None)
        print(f"{label}: trained in {time.monotonic() - t0:.1f} s (window, offscreen)")
        wait(lambda: dialog.map_plot.isVisible() and dialog.recon_box.isVisible())
        for _ in range(20):
            app.processEvents()
        if label == "chorus":
            path = os.path.join(args.out, "section-space-dialog.png")
            dialog.grab().save(path)
            print("wrote", path)
        dialog.close()
        spaces.sample(label, 12, 0.5)
        wait(lambda: not w.runner.is_busy())
    w.models.run("mel_2bar", generation.sample, 10, 0.5, 3,
                 on_done=lambda clips: w.generate_panel.add_clips(clips, "prior"), description="prior")
    wait(lambda: not w.runner.is_busy())
    w.timeline.apply_form("verse chorus verse chorus", "shots")
    w.timeline.fill(seed=4)
    wait(lambda: not w.runner.is_busy())
    w.session.select_clips([])
    w.latent_map.color_combo.setCurrentIndex(1)
    w.latent_map.refit()
    for _ in range(30):
        app.processEvents()
    w.map_dock.resize(520, 520)
    for name, widget in (("section-space-window.png", w), ("section-space-map.png", w.latent_map)):
        path = os.path.join(args.out, name)
        widget.grab().save(path)
        print("wrote", path)
    w.runner.shutdown(10000)


if __name__ == "__main__":
    main()
