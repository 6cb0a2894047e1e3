"""The session is the only link between the panels: the real window, driven offscreen."""
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPointF, QSettings, Qt
from PySide6.QtGui import QDropEvent, QUndoStack
from PySide6.QtWidgets import QApplication

from core import arrangement as arr
from core.session import Session
from core.song import Clip, Note, Song
from gui import dialogs, drag_formats
from gui.clip_library import ClipLibrary
from gui.latent_map import SELECTED_SIZE, LatentMap
from gui.main_window import MainWindow
from gui.piano_roll import PianoRollEditor
from gui.timeline_export import section_mime

MODEL = "mel_2bar"
OTHER = "trio_16bar"
RELAYS = ("current_clip_id", "show_clip", "_set_current_clip", "_call_editor", "_sync_editor", "_refresh_clips",
          "_clip_chosen", "_visible_tracks_changed", "_edit_track_changed",
          "_editor_edit_track_changed", "_update_transport_focus", "_transport_playhead",
          "_library_clicked", "_audition")


def coded_song(n=4) -> Song:
    """Clips with codes of MODEL, so they are points on the map."""
    song = Song("session")
    mel = song.ensure_track("melody")
    song.ensure_track("drums")
    rng = np.random.default_rng(0)
    for i in range(n):
        song.add_clip(Clip(f"idea {i}", 8.0, {mel.id: [Note(60 + i, 0.0, 1.0)]}, origin="sampled",
                           model=MODEL, latent=rng.normal(size=8)))
    return song


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: "discard")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(song=coded_song(), settings=settings)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.latent_map.flush()
    yield w
    w.transport.close()
    w.runner.shutdown(5000)


def row(library, clip_id):
    tree = library.tree
    return next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == clip_id)


def highlighted(latent_map) -> list[str]:
    """The clips the map draws large, read from the scatter plot itself."""
    return [spot.data() for spot in latent_map.scatter.points() if spot.size() == SELECTED_SIZE]


def test_the_window_has_no_relay_left():
    for name in RELAYS:
        assert not hasattr(MainWindow, name), f"MainWindow.{name} still relays"


def test_selecting_in_the_library_shows_the_clip_and_highlights_it_on_the_map(qtbot, window):
    w = window
    ids = list(w.song.clips)
    assert w.session.model == MODEL and w.latent_map.model_name == MODEL
    assert sorted(w.latent_map.shown_ids()) == sorted(ids)
    w.library_dock.raise_()  # the Clips tab, beside the map's
    tree = w.clip_library.tree
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualItemRect(row(w.clip_library, ids[2])).center())
    assert w.session.selected_clips == [ids[2]] and w.session.current_clip == ids[2]
    assert w.editor.state.clip_id == ids[2]
    assert w.clip_combo.currentData() == ids[2]
    assert highlighted(w.latent_map) == [ids[2]]
    # ctrl-click a second row: both picked, in order, the second one shown
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     pos=tree.visualItemRect(row(w.clip_library, ids[0])).center())
    assert w.session.selected_clips == [ids[2], ids[0]]
    assert w.editor.state.clip_id == ids[0]
    assert sorted(highlighted(w.latent_map)) == sorted([ids[0], ids[2]])
    assert w.generate_panel.interpolate_button.isEnabled()  # two clips: the panel reads the session


def test_setting_the_session_directly_updates_every_panel(window):
    w = window
    ids = list(w.song.clips)
    w.session.select_clips([ids[1], ids[3]])
    assert [it.data(0, Qt.ItemDataRole.UserRole) for it in w.clip_library.tree.selectedItems()] \
        == [ids[1], ids[3]]
    assert sorted(highlighted(w.latent_map)) == sorted([ids[1], ids[3]])
    assert w.editor.state.clip_id == ids[3] and w.clip_combo.currentData() == ids[3]
    assert w.timeline.canvas.current_clip == ids[3]
    assert "idea 1" in w.generate_panel.selection_label.text()
    w.session.show_clip(ids[0])  # shown, not selected
    assert w.editor.state.clip_id == ids[0] and w.timeline.canvas.current_clip == ids[0]
    assert w.session.selected_clips == [ids[1], ids[3]]
    drums = w.song.track_for_role("drums").id
    w.session.set_track_visible(drums, False)
    assert drums not in w.editor.state.visible_tracks
    assert drums not in w.track_list.visible_track_ids()
    w.session.edit_track = drums
    assert w.editor.state.edit_track == drums and w.track_list.edit_track_id() == drums
    assert w.editor.edit_combo.currentData() == drums
    w.session.model = OTHER
    assert w.generate_panel.model_combo.currentData() == OTHER
    assert w.timeline.model_combo.currentData() == OTHER
    assert w.latent_map.model_name == OTHER


def test_choosing_a_model_in_one_list_changes_the_other(window):
    w = window
    panel, timeline = w.generate_panel.model_combo, w.timeline.model_combo
    panel.setCurrentIndex(panel.findData(OTHER))  # the musician picks it in the Generate panel
    assert w.session.model == OTHER
    assert timeline.currentData() == OTHER and w.timeline.model_name() == OTHER
    index = timeline.findData(MODEL)  # ... and back in the timeline's list
    timeline.setCurrentIndex(index)
    timeline.activated.emit(index)
    assert w.session.model == MODEL
    assert panel.currentData() == MODEL and w.generate_panel.model_name() == MODEL
    assert w.latent_map.model_name == MODEL


def test_the_panels_need_no_window_between_them(qtbot):
    """Built without a main window, sharing only a session, the panels still follow each other."""
    song = coded_song()
    session = Session(song)
    stack = QUndoStack()
    library = ClipLibrary(song, session)
    latent_map = LatentMap(song, session)
    roll = PianoRollEditor(song, stack, session=session)
    for widget in (latent_map, roll):
        qtbot.addWidget(widget)
    session.model = MODEL
    latent_map.flush()
    ids = list(song.clips)
    library.tree.clearSelection()
    row(library, ids[1]).setSelected(True)
    assert session.selected_clips == [ids[1]]
    assert roll.state.clip_id == ids[1] and highlighted(latent_map) == [ids[1]]
    latent_map.clips_clicked.emit([ids[2]], True)  # ctrl-click on the map
    assert session.selected_clips == [ids[1], ids[2]]
    assert {it.data(0, Qt.ItemDataRole.UserRole) for it in library.tree.selectedItems()} == {ids[1], ids[2]}
    assert roll.state.clip_id == ids[2]
    # a panel Qt has deleted is forgotten by the session, not called
    before = session.listener_count()
    library.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    session.select_clips([ids[3]])
    assert session.listener_count() < before
    assert roll.state.clip_id == ids[3]


def test_removing_a_selected_clip_updates_the_panels(window):
    w = window
    ids = list(w.song.clips)
    w.session.select_clips([ids[0], ids[1]])
    assert w.remove_clips() is True  # removes the selection, one undo step
    assert w.session.selected_clips == [] and ids[1] not in w.song.clips
    assert w.editor.state.clip_id in w.song.clips
    assert w.clip_combo.currentData() == w.session.current_clip
    w.undo_stack.undo()
    assert ids[0] in w.song.clips and ids[1] in w.song.clips


def drop(widget, mime):
    event = QDropEvent(QPointF(widget.rect().center()), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event.isAccepted()


def test_drops_take_only_the_formats_something_writes(window, monkeypatch):
    w = window
    ids = list(w.song.clips)
    # what the library writes: the piano roll shows it
    assert drop(w.editor, drag_formats.clip_mime([ids[3]], ["idea 3"]))
    assert w.session.current_clip == ids[3]
    # a format no part of the program writes is refused, by the piano roll and by the timeline
    old = QMimeData()
    old.setData("application/x-latent-studio-clip-id", ids[1].encode())
    assert drag_formats.clip_id_from_mime(old, w.song) is None
    assert not drop(w.editor, old)
    w.song.set_sections(arr.template_sections("verse chorus", w.song.beats_per_bar, 2))
    QApplication.processEvents()
    assert not drop(w.timeline.canvas, old)
    assert w.session.current_clip == ids[3]
    # a section dragged off the timeline carries a .mid file, but the window does not open it
    opened = []
    monkeypatch.setattr(w.files, "open_path", lambda path, *a, **k: opened.append(path))
    mime = section_mime(w.song, w.song.sections[0].id)
    assert mime.hasUrls() and drag_formats.section_id_from_mime(mime) == w.song.sections[0].id
    drop(w, mime)
    QApplication.processEvents()
    assert opened == []
    # a file from outside is opened
    dropped = drag_formats.file_mime([mime.urls()[0].toLocalFile()])
    drop(w, dropped)
    QApplication.processEvents()
    assert opened == [mime.urls()[0].toLocalFile()]
