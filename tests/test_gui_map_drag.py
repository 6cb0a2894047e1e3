"""Dragging a clip's point off the latent map: onto the timeline and the piano roll, like a library row.

The clips get hand-made codes under a made-up model name, so no model is loaded.
"""
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDrag, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

import gui.latent_map as latent_map_module
from core import arrangement as arr
from core.song import Clip, Note
from gui import dialogs
from gui.drag_formats import CLIP_MIME
from gui.main_window import MainWindow

MODEL = "hand-made codes"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: "discard")
    w = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.runner.shutdown(5000)


class Drags:
    """Stands in for QDrag in the map module: records what each drag carries instead of running one."""

    def __init__(self, monkeypatch):
        self.carried = []
        drags = self

        class RecordingDrag(QDrag):
            def exec(self, *actions):  # noqa: A003 - QDrag's name
                drags.carried.append(self.mimeData())
                return Qt.DropAction.CopyAction

        monkeypatch.setattr(latent_map_module, "QDrag", RecordingDrag)


def clips_on_the_map(w):
    w.song.set_sections([])
    for cid in list(w.song.clips):
        w.song.remove_clip(cid)
    mel = w.song.track_for_role("melody")
    clips = [w.song.add_clip(Clip(f"idea {i}", 8.0, {mel.id: [Note(60 + i, 0, 1)]}, latent=code, model=MODEL,
                                  origin="sampled"))
             for i, code in enumerate([[0.0, 0.0, 0.0], [3.0, 0.5, -1.0], [-2.0, 2.5, 1.0], [1.0, -3.0, 2.0]])]
    w.latent_map.set_model(MODEL)
    w.latent_map.flush()
    w.latent_map.plot.getViewBox().autoRange()
    QApplication.processEvents()
    return clips


def pixel_of(w, clip_id) -> QPoint:
    m = w.latent_map
    x, y = m.point_of(clip_id)
    scene = m.plot.getViewBox().mapViewToScene(QPointF(x, y))
    return m.plot.mapFromScene(scene)


def mouse(w, kind, at: QPoint, buttons=Qt.MouseButton.LeftButton, button=Qt.MouseButton.LeftButton):
    view = w.latent_map.plot.viewport()
    event = QMouseEvent(kind, QPointF(at), QPointF(view.mapToGlobal(at)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, event)


def drag(w, start: QPoint, step: QPoint):
    mouse(w, QEvent.Type.MouseButtonPress, start)
    for i in range(1, 4):
        mouse(w, QEvent.Type.MouseMove, start + step * i, button=Qt.MouseButton.NoButton)
    mouse(w, QEvent.Type.MouseButtonRelease, start + step * 3, buttons=Qt.MouseButton.NoButton)


def test_dragging_a_point_carries_its_clip_to_the_timeline_and_the_piano_roll(window, monkeypatch):
    w = window
    drags = Drags(monkeypatch)
    clips = clips_on_the_map(w)
    target = clips[2]
    clicked = []
    w.latent_map.clips_clicked.connect(lambda ids, additive: clicked.append(ids))

    # a move shorter than the drag distance is still a click: it selects, no drag
    at = pixel_of(w, target.id)
    mouse(w, QEvent.Type.MouseButtonPress, at)
    mouse(w, QEvent.Type.MouseMove, at + QPoint(1, 0), button=Qt.MouseButton.NoButton)
    mouse(w, QEvent.Type.MouseButtonRelease, at + QPoint(1, 0), buttons=Qt.MouseButton.NoButton)
    assert clicked == [[target.id]] and drags.carried == []

    # further than the drag distance: one drag, naming that clip exactly as a library row would
    step = QPoint(QApplication.startDragDistance(), 0)
    drag(w, at, step)
    assert len(drags.carried) == 1 and clicked == [[target.id]]
    mime = drags.carried[0]
    assert bytes(mime.data(CLIP_MIME)).decode() == target.id
    item = next(w.clip_library.tree.topLevelItem(i) for i in range(w.clip_library.tree.topLevelItemCount())
                if w.clip_library.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == target.id)
    library = w.clip_library.tree.mimeData([item])
    assert bytes(mime.data(CLIP_MIME)) == bytes(library.data(CLIP_MIME)) and mime.text() == library.text()

    # dropped on an empty slot of the timeline, the clip fills that section
    w.song.set_sections(arr.template_sections("verse chorus", w.song.beats_per_bar, 2))
    QApplication.processEvents()
    tl = w.timeline
    rect = tl.canvas.block_rect(w.song.sections[1])
    event = QDropEvent(QPointF(rect.center()), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    tl.canvas.dropEvent(event)
    assert event.isAccepted()
    assert w.song.sections[1].clip_id == target.id and w.song.sections[0].clip_id != target.id

    # dropped on the piano roll, the clip is shown there
    w.session.show_clip(clips[0].id)
    at_editor = w.editor.rect().center()
    w.editor.dropEvent(QDropEvent(QPointF(at_editor), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier))
    assert w.session.current_clip == target.id


def test_dragging_empty_space_still_pans_and_starts_no_drag(window, monkeypatch):
    w = window
    drags = Drags(monkeypatch)
    clips = clips_on_the_map(w)
    points = [pixel_of(w, c.id) for c in clips]
    view = w.latent_map.plot.viewport().rect()
    empty = max(((x, y) for x in range(20, view.width() - 20, 10) for y in range(20, view.height() - 20, 10)),
                key=lambda p: min((p[0] - q.x()) ** 2 + (p[1] - q.y()) ** 2 for q in points))
    before = w.latent_map.plot.getViewBox().viewRange()
    drag(w, QPoint(*empty), QPoint(15, 10))
    assert drags.carried == []
    assert w.latent_map.plot.getViewBox().viewRange() != before  # the view moved with the mouse
