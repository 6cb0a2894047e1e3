"""Render the piano-roll editor offscreen with the demo 16-bar trio and save a PNG.

    QT_QPA_PLATFORM=offscreen python tools/piano_roll_shot.py /tmp/roll.png [--edit drums]
        [--fit] [--select N] [--size 1400x800]

For looking at what the roll draws while working on it (the main window has its own
`main.py screenshot` command).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--edit", default="melody", help="role of the edited track")
    parser.add_argument("--fit", action="store_true", help="zoom to fit")
    parser.add_argument("--select", type=int, default=0, help="select the first N notes")
    parser.add_argument("--size", default="1400x800")
    args = parser.parse_args()

    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from core.midi_io import import_midi
    from gui.piano_roll import PianoRollEditor
    from tools.demo_trio import write_trio

    app = QApplication.instance() or QApplication([])
    qss = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources",
                       "style.qss")
    if os.path.exists(qss):
        app.setStyleSheet(open(qss, encoding="utf-8").read())
    with tempfile.TemporaryDirectory() as tmp:
        song = import_midi(write_trio(os.path.join(tmp, "trio.mid")))
    clip = next(iter(song.clips.values()))
    stack = QUndoStack()
    editor = PianoRollEditor(song, stack)
    w, h = (int(v) for v in args.size.split("x"))
    editor.resize(w, h)
    editor.show()
    app.processEvents()
    editor.set_clip(clip.id)
    track = song.track_for_role(args.edit) or song.tracks[0]
    editor.set_edit_track(track.id)
    editor.state.centre_on_notes()
    if args.fit:
        editor.state.zoom_to_fit()
    if args.select:
        editor.state.set_selection(editor.state.edit_notes()[:args.select])
    editor.set_playhead(6.0)
    app.processEvents()
    editor.grab().save(args.out)
    print(args.out, song, f"{clip.note_count()} notes")


if __name__ == "__main__":
    main()
