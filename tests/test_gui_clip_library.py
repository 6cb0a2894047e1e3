"""The clip library in the window: its order survives files and crashes, names are readable,
the right-click menu's edits are one undo step each, and clips drag out as real .mid files."""
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDropEvent, QFontMetrics, QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QToolTip

from core import recovery
from core.midi_io import import_midi
from core.song import Clip, Note
from gui import dialogs
from gui.drag_formats import CLIP_MIME, clip_ids_from_mime
from gui.main_window import MainWindow

# ids that sorting would scramble, in the order the musician made the clips
ORDER = [("clip-q7", "Verse groove"), ("clip-0b", "Chorus hook"), ("clip-zz", "Bridge"),
         ("clip-a1", "Sample 1 → Sample 2 (3/5)")]


class Asked:
    def __init__(self):
        self.save_path = ""
        self.errors = []

    def install(self, monkeypatch):
        monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: self.save_path)
        monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: "discard")
        monkeypatch.setattr(dialogs, "ask_restore_recovery", lambda *a, **k: True)
        monkeypatch.setattr(dialogs, "show_error",
                            lambda parent, title, message, detail="": self.errors.append((title, message)))


@pytest.fixture
def asked(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    a = Asked()
    a.install(monkeypatch)
    return a


@pytest.fixture
def make_window(qtbot, tmp_path, asked):
    made = []

    def make():
        settings = QSettings(str(tmp_path / f"settings{len(made)}.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings=settings)
        qtbot.addWidget(w)
        w.resize(1400, 900)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.transport.close()
        w.runner.shutdown(5000)


@pytest.fixture
def window(make_window):
    w = make_window()
    song = w.song
    mel, bass = song.track_for_role("melody"), song.track_for_role("bass")
    for cid in list(song.clips):
        song.remove_clip(cid)
    for k, (cid, name) in enumerate(ORDER):
        song.add_clip(Clip(name, 8.0, {mel.id: [Note(60 + k, 0.0, 1.0), Note(64 + k, 2.0, 3.5, 90)],
                                       bass.id: [Note(36 + k, 0.0, 4.0, 70)]},
                           origin=("sampled", "drawn", "similar", "interpolated")[k],
                           model="cat-mel_2bar_big" if k != 1 else None, id=cid))
    w.undo_stack.clear()
    w.clip_library.flush()
    return w


def ids_of(w):
    return [cid for cid, _name in ORDER]


def shown(w):
    return w.clip_library.clip_ids()


def menu_action(w, text_start: str):
    menu = w.clip_library.context_menu()
    return next(a for a in menu.actions() if a.text().startswith(text_start))


# ---------------------------------------------------------------- order
def test_the_library_order_survives_save_reopen_and_crash_recovery(window, make_window, asked, tmp_path):
    w = window
    library = w.clip_library
    # a duplicate goes right after its original, in the song and in the list
    copy_id = library.duplicate(["clip-0b"])[0]
    order = ["clip-q7", "clip-0b", copy_id, "clip-zz", "clip-a1"]
    assert list(w.song.clips) == order and shown(w) == order
    assert w.song.clips[copy_id].name == "Chorus hook copy"
    # saved and opened again: the same order, in the song and on screen
    asked.save_path = str(tmp_path / "order.lstudio")
    assert w.files.save()
    w.files.new()
    assert shown(w) != order
    assert w.files.open_path(asked.save_path, ask=False, background=False)
    assert list(w.song.clips) == order and shown(w) == order
    # a crash leaves the autosave behind; the next start restores the clips in their order
    w.files.clear_recovery()
    written = recovery.write_recovery(w.song, asked.save_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    os.replace(written, recovery.recovery_path(dead.pid))
    later = make_window()
    assert later.files.offer_recovery()
    assert list(later.song.clips) == order and shown(later) == order
    assert [later.song.clips[c].name for c in order] == [w.song.clips[c].name for c in order]


# ---------------------------------------------------------------- readable names
def test_names_are_readable_and_every_cell_tells_the_whole_clip(window):
    w = window
    library = w.clip_library
    tree = library.tree
    # the narrow panel the issue was about (the window's own column is wider now): float it
    w.library_dock.setFloating(True)
    w.library_dock.resize(280, 420)
    QApplication.processEvents()
    assert w.library_dock.width() < 300
    fm = QFontMetrics(tree.font())
    name_px = tree.header().sectionSize(0)
    for cid, name in ORDER:
        assert name_px >= fm.horizontalAdvance(name) + 12, name  # the whole name fits
        item = library.row(cid)
        assert item.text(0) == name
        rect = tree.visualItemRect(item)
        for col in range(tree.columnCount()):  # over any cell of the row: the whole clip
            x = tree.header().sectionViewportPosition(col) + 4
            if 0 <= x < tree.viewport().width():
                tip = library.tooltip_at(QPoint(x, rect.center().y()))
                assert tip.splitlines()[0] == name and "notes" in tip, (name, col)
    # the tree really shows it when the mouse rests over the Origin cell
    item = library.row("clip-a1")
    at = QPoint(tree.header().sectionViewportPosition(1) + 6, tree.visualItemRect(item).center().y())
    QApplication.sendEvent(tree.viewport(), QHelpEvent(QEvent.Type.ToolTip, at, tree.viewport().mapToGlobal(at)))
    assert QToolTip.isVisible() and QToolTip.text().startswith("Sample 1 → Sample 2 (3/5)")
    QToolTip.hideText()
    # the origin dot stays in sight beside the names
    assert tree.header().sectionPosition(1) + 14 < tree.viewport().width()
    # a name too long for any panel is cut on screen but whole in its tooltip
    long_name = "An extremely long clip name that a musician typed to remember everything about it"
    assert library.rename("clip-zz", long_name)
    item = library.row("clip-zz")
    assert item.toolTip(0).splitlines()[0] == long_name
    assert tree.header().sectionSize(0) <= 260


# ---------------------------------------------------------------- the right-click menu
def test_the_menu_offers_the_clip_edits_and_right_click_picks_the_row(window, monkeypatch):
    w = window
    library = w.clip_library
    library.select(["clip-q7"])
    texts = [a.text() for a in library.context_menu().actions() if a.text()]
    assert texts == ["Rename", "Duplicate", "Delete", "Set Label...", "Move Up", "Move Down",
                     "Send to Timeline", "Export as MIDI..."]
    shown_at = []
    real = type(library).context_menu

    class Opened:  # the menu, recorded instead of run (exec would wait for a click)
        def __init__(self, menu):
            self.menu = menu

        def exec(self, *_args):
            shown_at.append([x.text() for x in self.menu.actions() if x.text()])

        def deleteLater(self):  # noqa: N802
            self.menu.deleteLater()

    monkeypatch.setattr(type(library), "context_menu", lambda self: Opened(real(self)))
    item = library.row("clip-zz")
    library.tree.customContextMenuRequested.emit(library.tree.visualItemRect(item).center())
    assert w.session.selected_clips == ["clip-zz"] and shown_at  # the clicked row, not the old one
    monkeypatch.undo()
    library.select(["clip-q7", "clip-zz"])
    texts = [a.text() for a in library.context_menu().actions() if a.text()]
    assert "Delete 2 Clips" in texts and "Send 2 Clips to Timeline" in texts
    assert not library.act_rename.isEnabled() and not library.act_export.isEnabled()


def test_rename_in_place_is_one_undo_step_and_a_blank_name_is_refused(qtbot, window):
    w = window
    library = w.clip_library
    library.select(["clip-0b"])
    menu_action(w, "Rename").trigger()
    editor = library.tree.findChild(QLineEdit)
    assert editor is not None and editor.isVisible() and editor.text() == "Chorus hook"
    editor.selectAll()
    QTest.keyClick(editor, Qt.Key.Key_Backspace)  # Backspace edits the name, it deletes no clip
    assert "clip-0b" in w.song.clips
    QTest.keyClicks(editor, "Big chorus")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.song.clips["clip-0b"].name != "Chorus hook")  # Qt commits after the key
    assert w.song.clips["clip-0b"].name == "Big chorus"
    assert w.undo_stack.count() == 1
    assert library.row("clip-0b").text(0) == "Big chorus"
    w.undo_stack.undo()
    assert w.song.clips["clip-0b"].name == "Chorus hook"
    assert library.row("clip-0b").text(0) == "Chorus hook"
    # a blank name: nothing happens, the row shows the name again
    assert library.start_rename("clip-0b")
    editor = library.tree.findChild(QLineEdit)
    editor.setText("   ")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert w.song.clips["clip-0b"].name == "Chorus hook"
    assert library.row("clip-0b").text(0) == "Chorus hook"
    assert w.undo_stack.count() == 1 and w.undo_stack.index() == 0


def test_duplicate_and_delete_are_one_undo_step_each_and_undo_restores_the_order(window):
    w = window
    library = w.clip_library
    song = w.song
    start = song.snapshot()
    library.select(["clip-q7", "clip-zz"])
    menu_action(w, "Duplicate").trigger()
    assert w.undo_stack.count() == 1
    order = list(song.clips)
    assert len(order) == 6 and order[0] == "clip-q7" and order[3] == "clip-zz"
    copies = [order[1], order[4]]
    assert [song.clips[c].name for c in copies] == ["Verse groove copy", "Bridge copy"]
    assert song.clips[copies[0]].notes == song.clips["clip-q7"].notes
    assert w.session.selected_clips == copies and shown(w) == order
    w.undo_stack.undo()
    assert song.snapshot() == start and shown(w) == ids_of(w)
    # delete a clip a section plays: the section keeps an empty slot; undo puts both back
    w.timeline.append_clips(["clip-0b"])
    start = song.snapshot()
    steps = w.undo_stack.count()
    library.select(["clip-0b"])
    menu_action(w, "Delete").trigger()
    assert "clip-0b" not in song.clips and song.sections[-1].clip_id is None
    assert w.undo_stack.count() == steps + 1
    w.undo_stack.undo()
    assert song.snapshot() == start  # back in second place, its section filled again
    assert shown(w) == ids_of(w)
    # the keys in the list do the same (no other panel's shortcut takes them there)
    library.select(["clip-a1"])
    library.tree.setFocus()
    QTest.keyClick(library.tree, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert list(song.clips)[-1] != "clip-a1" and song.clips[list(song.clips)[-1]].name.endswith("copy")
    w.undo_stack.undo()
    library.select(["clip-a1"])
    QTest.keyClick(library.tree, Qt.Key.Key_Delete)
    assert "clip-a1" not in song.clips and w.undo_stack.count() == steps + 1
    w.undo_stack.undo()
    library.select(["clip-a1"])
    QTest.keyClick(library.tree, Qt.Key.Key_F2)
    editor = library.tree.findChild(QLineEdit)
    assert editor is not None and editor.isVisible() and editor.text() == ORDER[3][1]


def test_send_to_timeline_adds_sections_at_the_end_as_one_undo_step(window):
    w = window
    song = w.song
    w.timeline.append_clips(["clip-q7"])
    before = [(s.label, s.clip_id, s.start, s.length) for s in song.sections]
    steps = w.undo_stack.count()
    w.clip_library.select(["clip-zz", "clip-0b"])  # picked in this order
    menu_action(w, "Send 2 Clips").trigger()
    assert w.undo_stack.count() == steps + 1
    secs = song.sections
    assert [(s.label, s.clip_id, s.start, s.length) for s in secs[:1]] == before
    assert [s.clip_id for s in secs[1:]] == ["clip-zz", "clip-0b"]
    assert secs[1].start == secs[0].end and secs[2].start == secs[1].end
    assert secs[1].label == "bridge" and secs[2].label == "chorus"  # guessed from the names
    assert all(s.length == 8.0 for s in secs[1:])  # the 2-bar clips in whole bars
    w.undo_stack.undo()
    assert [(s.label, s.clip_id, s.start, s.length) for s in song.sections] == before


def test_export_writes_the_clip_and_is_no_edit(window, asked, tmp_path):
    w = window
    w.clip_library.select(["clip-zz"])
    asked.save_path = str(tmp_path / "bridge.mid")
    menu_action(w, "Export as MIDI").trigger()
    assert os.path.isfile(asked.save_path) and not asked.errors
    assert w.undo_stack.count() == 0
    assert notes_by_track_name(import_midi(asked.save_path)) == notes_by_track_name_of(w, "clip-zz")
    # a folder that cannot be written: a clear error, nothing lost
    asked.save_path = str(tmp_path / "missing" / "folder" / "x.mid")
    assert not w.clip_library.export_dialog("clip-zz")
    assert asked.errors and "clip-zz" in w.song.clips


# ---------------------------------------------------------------- drag out
def notes_by_track_name(song):
    out = {}
    for clip in song.clips.values():
        for tid, ns in clip.notes.items():
            out.setdefault(song.track(tid).name, []).extend(
                (n.pitch, round(n.start, 4), round(n.end, 4), n.velocity) for n in ns)
    return {k: sorted(v) for k, v in out.items()}


def notes_by_track_name_of(w, clip_id):
    clip = w.song.clips[clip_id]
    return {w.song.track(tid).name: sorted((n.pitch, round(n.start, 4), round(n.end, 4), n.velocity)
                                           for n in ns) for tid, ns in clip.notes.items()}


def test_dragging_clips_out_gives_real_midi_files_with_the_same_notes(window):
    w = window
    library = w.clip_library
    library.rename("clip-zz", "Verse groove")  # two clips with one name: two files
    items = [library.row("clip-q7"), library.row("clip-zz")]
    mime = library.tree.mimeData(items)
    assert clip_ids_from_mime(mime) == ["clip-q7", "clip-zz"]  # still a clip drag inside the program
    paths = [u.toLocalFile() for u in mime.urls()]
    assert len(paths) == 2 and len(set(paths)) == 2
    assert all(p.endswith(".mid") and os.path.isfile(p) for p in paths)
    assert os.path.basename(paths[0]) == "Verse groove.mid"
    for path, cid in zip(paths, ["clip-q7", "clip-zz"]):
        back = import_midi(path)
        assert notes_by_track_name(back) == notes_by_track_name_of(w, cid)
    # the window does not open its own clip drag as a song, although it carries files
    before = w.song.snapshot()
    event = QDropEvent(QPointF(40, 40), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    assert mime.hasFormat(CLIP_MIME)
    QApplication.sendEvent(w, event)
    assert not event.isAccepted() and w.song.snapshot() == before


def test_set_label_in_the_menu_labels_the_picked_clips(window, monkeypatch):
    library = window.clip_library
    library.select(["clip-q7", "clip-a1"])
    asked = []
    library.label_requested.connect(asked.append)
    # the label prompt is modal: answer it as a musician typing "Chorus" would
    prompts = []
    monkeypatch.setattr(window.section_spaces, "_ask_item",
                        lambda title, prompt, items, editable=False: prompts.append(prompt) or "Chorus")
    assert library.act_label.isEnabled()
    library.act_label.trigger()
    assert asked and sorted(asked[-1]) == ["clip-a1", "clip-q7"]
    assert prompts and "2 clips" in prompts[-1]
    assert window.song.clips["clip-q7"].label == window.song.clips["clip-a1"].label == "chorus"
    window.undo_stack.undo()  # one undo step takes both labels back
    assert not window.song.clips["clip-q7"].label and not window.song.clips["clip-a1"].label


# ---------------------------------------------------------------- reordering
def test_dragging_rows_up_or_down_the_list_reorders_the_library_as_one_undo_step(window):
    """A drop of the library's own rows (or the map's clips) puts them before the row under
    the pointer; undo puts the order back; a drop that carries only files is not taken here."""
    from PySide6.QtCore import QMimeData, QUrl

    from gui.drag_formats import clip_mime

    w = window
    library, tree = w.clip_library, w.clip_library.tree

    def drop(mime, clip_id, lower_half):
        rect = tree.visualItemRect(library.row(clip_id))
        at = QPointF(rect.center().x(), rect.bottom() - 2 if lower_half else rect.top() + 2)
        event = QDropEvent(at, Qt.DropAction.CopyAction | Qt.DropAction.MoveAction, mime,
                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        tree.dropEvent(event)
        library.flush()
        return event

    event = drop(clip_mime(["clip-q7"], ["Verse groove"]), "clip-zz", lower_half=True)
    assert event.isAccepted() and event.dropAction() == Qt.DropAction.CopyAction  # Qt deletes no row
    assert shown(w) == ["clip-0b", "clip-zz", "clip-q7", "clip-a1"] == list(w.song.clips)
    drop(clip_mime(["clip-a1", "clip-zz"], ["a", "b"]), "clip-0b", lower_half=False)
    assert shown(w) == ["clip-zz", "clip-a1", "clip-0b", "clip-q7"]  # kept in library order
    assert w.undo_stack.undoText() == "Move 2 Clips"
    w.undo_stack.undo()
    w.undo_stack.undo()
    library.flush()
    assert shown(w) == ids_of(w) == list(w.song.clips)
    files = QMimeData()
    files.setUrls([QUrl.fromLocalFile("/tmp/x.mid")])
    assert not drop(files, "clip-0b", lower_half=False).isAccepted()
    assert shown(w) == ids_of(w) and w.undo_stack.count() == 2
    with pytest.raises(ValueError):
        w.song.set_clip_order(["clip-q7", "clip-0b"])


def test_alt_up_and_down_move_the_selected_clips_a_row(window, qtbot):
    w = window
    library = w.clip_library
    library.select(["clip-0b"])
    library.tree.setFocus()
    QTest.keyClick(library.tree, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    library.flush()
    assert shown(w) == ["clip-q7", "clip-zz", "clip-0b", "clip-a1"]
    assert library.move_by(-1) and library.move_by(-1)
    library.flush()
    assert shown(w) == ["clip-0b", "clip-q7", "clip-zz", "clip-a1"]
    assert not library.move_by(-1)  # already first: nothing moves, no undo step
    assert w.undo_stack.count() == 3
    assert [w.clip_combo.itemData(i) for i in range(w.clip_combo.count())] == shown(w)  # the toolbar too


def test_a_midi_file_dropped_on_the_library_still_reaches_the_window(window, tmp_path):
    """The list takes drops of its own clips only; it leaves a file from a file manager
    unaccepted, which Qt hands on to the parent widgets, and the window takes it.

    (The handlers are called directly: an accepted drag event sent through QApplication
    makes Qt's drag manager remember this window as the drop target after the test has
    deleted it, and a later test's drop crashes on that.)"""
    import mido
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDragEnterEvent

    path = str(tmp_path / "tune.mid")
    song_file = mido.MidiFile()
    song_file.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, velocity=80, time=0),
                                            mido.Message("note_off", note=60, time=480)]))
    song_file.save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    tree = window.clip_library.tree

    def enter():
        return QDragEnterEvent(tree.viewport().rect().center(), Qt.DropAction.CopyAction, mime,
                               Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)

    to_list, to_window = enter(), enter()
    tree.dragEnterEvent(to_list)
    window.dragEnterEvent(to_window)
    assert not to_list.isAccepted() and to_window.isAccepted()
    from gui.drag_formats import clip_mime

    ours = clip_mime(["clip-zz"], ["Bridge"])  # kept referenced: the event holds a bare pointer
    own = QDragEnterEvent(tree.viewport().rect().center(), Qt.DropAction.CopyAction, ours,
                          Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    tree.dragEnterEvent(own)
    assert own.isAccepted()
