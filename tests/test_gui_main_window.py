"""The main window: import, open/save, errors, undo, the modified mark, recovery, drops."""
import os
import sys

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

from core.song import Clip, Note, Song, Track
from gui import dialogs, drag_formats
from gui.commands import SetNotesCommand
from gui.main_window import MainWindow, is_openable
from gui.track_list import COL_NAME, COL_SHOW

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from demo_trio import write_trio  # noqa: E402


class Asked:
    """Stands in for the modal dialogs and records what the window asked."""

    def __init__(self):
        self.errors = []  # (title, message, detail)
        self.open_path = ""
        self.save_path = ""
        self.save_changes = "discard"
        self.save_questions = 0
        self.restore = True
        self.restore_offers = []

    def install(self, monkeypatch):
        monkeypatch.setattr(dialogs, "show_error",
                            lambda parent, title, message, detail="": self.errors.append(
                                (title, message, detail)))
        monkeypatch.setattr(dialogs, "ask_open_file", lambda *a, **k: self.open_path)
        monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: self.save_path)
        monkeypatch.setattr(dialogs, "ask_save_changes", self._ask_save)
        monkeypatch.setattr(dialogs, "ask_restore_recovery", self._ask_restore)

    def _ask_save(self, parent, name):
        self.save_questions += 1
        return self.save_changes

    def _ask_restore(self, parent, description):
        self.restore_offers.append(description)
        return self.restore


@pytest.fixture
def asked(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    a = Asked()
    a.install(monkeypatch)
    return a


@pytest.fixture
def make_window(qtbot, tmp_path, asked):
    windows = []

    def make():
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings=settings)
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.runner.shutdown(5000)


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture(scope="module")
def trio_path(tmp_path_factory):
    return write_trio(str(tmp_path_factory.mktemp("midi") / "trio.mid"), bars=16)


def track_rows(w):
    tl = w.track_list
    return [tl.topLevelItem(i).text(COL_NAME) for i in range(tl.topLevelItemCount())]


def import_through_menu(qtbot, w, asked, path):
    asked.open_path = path
    with qtbot.waitSignal(w.runner.busy_changed, timeout=10000,
                          check_params_cb=lambda busy: busy is False):
        w.act_import.trigger()


def test_window_opens_with_menus_and_an_empty_song(window):
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Models", "Arrange", "Section Spaces", "Help"]
    file_items = [a.text().replace("&", "") for a in window.file_menu.actions() if a.text()]
    for item in ("New", "Open...", "Open Recent", "Save", "Save As...", "Import MIDI...",
                 "Export MIDI...", "Quit"):
        assert item in file_items
    assert window.job_status.device_label.text() == "Device: not loaded"  # read when a model loads
    assert window.windowTitle() == "Untitled — Latent Studio"
    assert sum(c.note_count() for c in window.song.clips.values()) == 0
    assert track_rows(window) == [t.name for t in window.song.tracks]


def test_imported_song_is_listed_in_the_track_list(qtbot, window, asked, trio_path):
    import_through_menu(qtbot, window, asked, trio_path)
    assert asked.errors == []
    song = window.song
    assert [t.role for t in song.tracks] == ["melody", "bass", "drums"]
    assert track_rows(window) == ["Flute melody", "Finger bass", "Drums"]
    drum_row = window.track_list.topLevelItem(2)
    assert drum_row.text(5) == "yes" and "Drum" in drum_row.text(4)
    assert "Flute" in window.track_list.topLevelItem(0).text(4)
    assert window.track_list.edit_track_id() == song.tracks[0].id
    assert window.track_list.visible_track_ids() == [t.id for t in song.tracks]
    assert window.clip_combo.count() == 1
    assert window.clip_combo.currentData() == next(iter(song.clips))
    assert "104 BPM" in window.song_info.text()
    assert window.windowTitle().startswith("trio")
    assert "*" not in window.windowTitle()
    assert os.path.abspath(trio_path) in window.files.recent_files()


def test_hiding_a_track_and_choosing_the_edited_one(qtbot, window, asked, trio_path):
    import_through_menu(qtbot, window, asked, trio_path)
    tl = window.track_list
    bass, drums = window.song.tracks[1].id, window.song.tracks[2].id
    with qtbot.waitSignal(tl.visible_tracks_changed) as sig:
        tl.topLevelItem(2).setCheckState(COL_SHOW, Qt.CheckState.Unchecked)
    assert drums not in sig.args[0]
    with qtbot.waitSignal(tl.edit_track_changed) as sig:
        tl.setCurrentItem(tl.topLevelItem(1))
    assert sig.args == [bass]
    assert tl.edit_track_id() == bass
    if hasattr(window.editor, "state"):  # the piano roll follows the list
        assert window.editor.state.edit_track == bass
        assert drums not in window.editor.state.visible_tracks


def test_corrupt_midi_shows_an_error_and_leaves_the_song_untouched(qtbot, window, asked, tmp_path,
                                                                   trio_path):
    import_through_menu(qtbot, window, asked, trio_path)
    before = window.song.snapshot()
    title = window.windowTitle()
    bad = tmp_path / "broken.mid"
    with open(trio_path, "rb") as fh:
        bad.write_bytes(fh.read()[:40] + b"\x00garbage" * 3)  # a truncated, damaged file
    import_through_menu(qtbot, window, asked, str(bad))
    assert len(asked.errors) == 1
    _title, message, _detail = asked.errors[0]
    assert "broken.mid" in message
    assert window.song.snapshot() == before
    assert window.windowTitle() == title
    assert track_rows(window) == ["Flute melody", "Finger bass", "Drums"]
    assert str(bad) not in window.files.recent_files()


def test_not_a_midi_file_is_refused_too(qtbot, window, asked, tmp_path):
    before = window.song.snapshot()
    text = tmp_path / "notes.mid"
    text.write_text("these are my notes, not a MIDI file\n")
    import_through_menu(qtbot, window, asked, str(text))
    assert len(asked.errors) == 1 and "notes.mid" in asked.errors[0][1]
    assert window.song.snapshot() == before


def test_save_and_open_round_trip_through_the_menu(qtbot, window, asked, tmp_path, trio_path):
    import_through_menu(qtbot, window, asked, trio_path)
    clip_id = next(iter(window.song.clips))
    melody = window.song.tracks[0].id
    window.undo_stack.push(SetNotesCommand(window.song, clip_id, melody,
                                           [Note(60, 0.0, 1.0, 90)], "Replace melody"))
    assert window.windowTitle().startswith("trio*")
    saved = window.song.snapshot()

    asked.save_path = str(tmp_path / "my song.lstudio")
    window.act_save_as.trigger()
    assert asked.errors == []
    assert os.path.exists(asked.save_path)
    assert window.windowTitle() == "my song.lstudio — Latent Studio"

    window.act_new.trigger()
    assert asked.save_questions == 0  # it was saved: no question
    assert sum(c.note_count() for c in window.song.clips.values()) == 0
    assert window.files.project_path is None

    asked.open_path = asked.save_path
    with qtbot.waitSignal(window.file_loaded, timeout=10000):
        window.act_open.trigger()
    assert asked.errors == []
    assert window.song.snapshot() == saved
    assert window.files.project_path == asked.save_path
    assert window.windowTitle() == "my song.lstudio — Latent Studio"
    assert track_rows(window) == ["Flute melody", "Finger bass", "Drums"]

    # Save (not Save As) writes to the same file without asking for a name
    asked.save_path = ""
    window.track_list.rename_track(melody, "Lead")
    window.act_save.trigger()
    from core.project import load_project
    assert load_project(window.files.project_path).track(melody).name == "Lead"


def test_a_new_song_saved_as_takes_the_files_name(qtbot, window, asked, tmp_path):
    from core.project import load_project

    assert window.windowTitle() == "Untitled — Latent Studio"
    clip_id = window.session.current_clip
    melody = window.song.tracks[0].id
    window.undo_stack.push(SetNotesCommand(window.song, clip_id, melody, [Note(60, 0.0, 1.0, 90)], "Draw"))
    asked.save_path = str(tmp_path / "Night drive.lstudio")
    window.act_save.trigger()  # never saved: Save asks for a name
    assert asked.errors == []
    assert window.windowTitle() == "Night drive.lstudio — Latent Studio"
    assert window.song.title == "Night drive"
    assert load_project(asked.save_path).title == "Night drive"
    # saved again under another name, the title follows the file it came from
    asked.save_path = str(tmp_path / "Night drive v2.lstudio")
    window.act_save_as.trigger()
    assert window.song.title == "Night drive v2" and "Untitled" not in window.windowTitle()
    # a title of its own is kept
    window.song.title = "Song for Ana"
    asked.save_path = str(tmp_path / "draft.lstudio")
    window.act_save_as.trigger()
    assert load_project(asked.save_path).title == "Song for Ana"
    assert window.windowTitle() == "draft.lstudio — Latent Studio"


def test_export_midi_through_the_menu(qtbot, window, asked, tmp_path, trio_path):
    import_through_menu(qtbot, window, asked, trio_path)
    asked.save_path = str(tmp_path / "out.mid")
    window.act_export.trigger()
    assert asked.errors == []
    from core.midi_io import import_midi
    again = import_midi(asked.save_path)
    assert [t.name for t in again.tracks] == ["Flute melody", "Finger bass", "Drums"]
    assert sum(c.note_count() for c in again.clips.values()) == sum(
        c.note_count() for c in window.song.clips.values())


def test_undo_after_an_edit_and_the_modified_mark(qtbot, window, asked):
    song = window.song
    assert "*" not in window.windowTitle()
    clip_id = next(iter(song.clips))
    melody = song.tracks[0].id
    window.undo_stack.push(SetNotesCommand(song, clip_id, melody, [Note(64, 1.0, 2.0, 100)],
                                           "Add Note"))
    assert window.windowTitle() == "Untitled* — Latent Studio"
    assert window.act_undo.text().replace("&", "") == "Undo Add Note"  # the menu names the edit
    assert window.act_undo.isEnabled()
    # the toolbar's button keeps its width; its tooltip names the edit
    assert window.undo_button.text() == "Undo" and window.undo_button.isEnabled()
    assert window.undo_button.toolTip().startswith("Undo Add Note")
    assert not window.redo_button.isEnabled()

    # rename through the track list: double-click edit ends in an undoable command
    item = window.track_list.topLevelItem(1)
    item.setText(COL_NAME, "Upright")
    qtbot.waitUntil(lambda: song.tracks[1].name == "Upright", timeout=2000)
    assert window.act_undo.text().replace("&", "") == "Undo Rename Track to Upright"

    window.act_undo.trigger()
    assert song.tracks[1].name == "Bass"
    assert track_rows(window)[1] == "Bass"
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)  # the toolbar button undoes too
    assert song.clip(clip_id).track_notes(melody) == []
    assert "*" not in window.windowTitle()
    assert window.act_redo.text().replace("&", "") == "Redo Add Note"
    window.act_redo.trigger()
    assert song.clip(clip_id).track_notes(melody) == [Note(64, 1.0, 2.0, 100)]
    assert "*" in window.windowTitle()


def test_unsaved_changes_are_asked_about_before_new(qtbot, window, asked):
    song = window.song
    clip_id = next(iter(song.clips))
    window.undo_stack.push(SetNotesCommand(song, clip_id, song.tracks[0].id,
                                           [Note(60, 0.0, 1.0)], "Add Note"))
    before = song.snapshot()
    asked.save_changes = "cancel"
    window.act_new.trigger()
    assert asked.save_questions == 1
    assert song.snapshot() == before and "*" in window.windowTitle()
    asked.save_changes = "discard"
    window.act_new.trigger()
    assert asked.save_questions == 2
    assert sum(c.note_count() for c in song.clips.values()) == 0
    assert "*" not in window.windowTitle()
    assert window.undo_stack.count() == 0


def test_close_with_unsaved_changes_can_be_cancelled(qtbot, window, asked):
    song = window.song
    window.undo_stack.push(SetNotesCommand(song, next(iter(song.clips)), song.tracks[0].id,
                                           [Note(60, 0.0, 1.0)], "Add Note"))
    asked.save_changes = "cancel"
    assert not window.close()
    assert window.isVisible()
    asked.save_changes = "discard"
    assert window.close()


def _song_with_notes(title="Recovered tune") -> Song:
    song = Song(title, tempo=90)
    track = song.add_track(Track("Piano", "melody", program=0))
    song.add_clip(Clip("Idea", 8.0, {track.id: [Note(60, 0, 1, 80), Note(67, 1, 3, 90)]}))
    return song


def dead_pid() -> int:
    """The id of a process that has ended (so its recovery file counts as left behind)."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def leave_recovery(song, project_path=None):
    """Plant the recovery file a crashed Latent Studio process would have left."""
    from core import recovery

    os.replace(recovery.write_recovery(song, project_path), recovery.recovery_path(dead_pid()))


def own_recovery_exists():
    from core import recovery

    return os.path.exists(recovery.recovery_path())


def test_recovery_is_offered_at_start_and_restored(qtbot, make_window, asked):
    from core import recovery

    lost = _song_with_notes()
    leave_recovery(lost)
    window = make_window()
    assert window.files.offer_recovery()
    assert len(asked.restore_offers) == 1 and "Recovered tune" in asked.restore_offers[0]
    assert window.song.snapshot() == lost.snapshot()
    assert "*" in window.windowTitle()  # restored work is not saved yet
    assert track_rows(window) == ["Piano"]
    # the old file is gone (not offered twice); the work now sits in this process's own file
    # until the user saves or closes cleanly
    assert recovery.find_recovery() is None
    assert own_recovery_exists()
    asked.save_path = str(window.settings.fileName()) + ".lstudio"
    assert window.files.save()
    assert not own_recovery_exists()


def test_discarding_the_recovery_deletes_it(qtbot, make_window, asked):
    from core import recovery

    leave_recovery(_song_with_notes())
    asked.restore = False
    window = make_window()
    before = window.song.snapshot()
    assert not window.files.offer_recovery()
    assert window.song.snapshot() == before
    assert not recovery.find_recovery()
    assert not window.files.offer_recovery()  # nothing left to offer
    assert len(asked.restore_offers) == 1


def test_autosave_writes_recovery_only_when_modified_and_clean_close_clears_it(qtbot, window,
                                                                               asked):
    from core import recovery

    assert window.files.autosave_timer.isActive()
    assert window.files.autosave_timer.interval() == 2 * 60 * 1000
    assert not window.files.autosave()  # nothing changed: nothing written
    assert not own_recovery_exists()
    song = window.song
    window.undo_stack.push(SetNotesCommand(song, next(iter(song.clips)), song.tracks[0].id,
                                           [Note(72, 0.0, 0.5)], "Add Note"))
    assert window.files.autosave()
    assert own_recovery_exists()
    assert recovery.load_recovery(recovery.list_recoveries(include_running=True)[0]).snapshot() \
        == song.snapshot()
    asked.save_changes = "discard"
    assert window.close()
    assert not own_recovery_exists()


def _drop(window, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    return event


def test_dropping_a_midi_file_imports_it(qtbot, window, asked, trio_path, tmp_path):
    other = tmp_path / "picture.png"
    other.write_bytes(b"\x89PNG")
    assert not drag_formats.file_from_mime(_mime(str(other)), is_openable)
    with qtbot.waitSignal(window.file_loaded, timeout=10000):
        _drop(window, trio_path)
    assert track_rows(window) == ["Flute melody", "Finger bass", "Drums"]


def _mime(path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    return mime


def run_cli(*args):
    """`python main.py ARGS` in a fresh interpreter (the app style stays out of this process)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, os.path.join(root, "main.py"), *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)


def test_screenshot_command_writes_a_png(tmp_path, trio_path, qapp):
    from PySide6.QtGui import QImage

    out = str(tmp_path / "shot.png")
    result = run_cli("screenshot", "--open", trio_path, "--out", out, "--size", "1200x760")
    assert result.returncode == 0, result.stderr
    assert "1200x760" in result.stdout
    image = QImage(out)
    assert (image.width(), image.height()) == (1200, 760)
    # a dark theme: the left edge of the window is dark, not Qt's default light grey
    assert image.pixelColor(5, image.height() // 2).lightness() < 80


def test_screenshot_of_a_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00")
    result = run_cli("screenshot", "--open", str(bad), "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert "bad.mid" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()


START_UP_SCRIPT = r"""
import json, sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from gui import dialogs
from gui.app import run_app
from gui.main_window import MainWindow

offers, seen = [], {}
dialogs.ask_restore_recovery = lambda parent, text: offers.append(text) or True
dialogs.ask_save_changes = lambda parent, name: "discard"

def inspect():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if len(windows) != 1 or not offers:
        QTimer.singleShot(20, inspect)
        return
    w = windows[0]
    seen.update(title=w.windowTitle(), song=w.song.snapshot(), app=QApplication.applicationName(),
                offers=offers)
    w.close()

QTimer.singleShot(0, inspect)
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat)
seen["rc"] = run_app(["--open", sys.argv[1]], settings=settings)
print("RESULT" + json.dumps(seen))
"""


def test_run_app_offers_recovery_at_start_then_opens_the_window(tmp_path, trio_path, asked):
    """The real start-up path, in a fresh interpreter: run_app finds the recovery file and
    asks before anything else; closing the window ends the program."""
    import json
    import subprocess

    from core import recovery

    lost = _song_with_notes("Before the crash")
    leave_recovery(lost)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", START_UP_SCRIPT, trio_path,
                          str(tmp_path / "app.ini")], cwd=root, env=env, capture_output=True,
                         text=True, timeout=120)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    assert out.returncode == 0 and lines, out.stdout + out.stderr
    seen = json.loads(lines[0][len("RESULT"):])
    assert seen["rc"] == 0
    assert len(seen["offers"]) == 1 and "Before the crash" in seen["offers"][0]
    # restored, and the --open file did not replace it
    assert seen["song"] == json.loads(json.dumps(lost.snapshot()))
    assert seen["title"].startswith("Before the crash*")
    assert seen["app"] == "Latent Studio"
    assert recovery.find_recovery() is None  # offered once, not again
    assert not recovery.list_recoveries(include_running=True)  # the clean close cleared its copy


def test_error_dialog_hides_the_detail_behind_a_button(qtbot):
    from gui.dialogs import ErrorDialog

    d = ErrorDialog(None, "Could not open x.mid", "x.mid is not a MIDI file", "Traceback: ...")
    qtbot.addWidget(d)
    d.show()
    assert d.message_label.text() == "x.mid is not a MIDI file"
    assert not d.detail_view.isVisible()
    d.details_button.click()
    assert d.detail_view.isVisible() and "Traceback" in d.detail_view.toPlainText()
    assert d.details_button.text() == "Hide details"
    plain = ErrorDialog(None, "t", "message only")
    qtbot.addWidget(plain)
    assert not plain.details_button.isEnabled()


def test_shortcut_list_covers_the_menus_and_the_piano_roll(window):
    listed = {a.text().replace("&", ""): a.shortcut().toString() for _menu, a in window.all_actions()}
    assert listed["Open..."] == "Ctrl+O" and listed["Save"] == "Ctrl+S"
    assert listed["Import MIDI..."] == "Ctrl+I"
    for a in window.editor.edit_actions():  # the piano roll's edits are in the Edit menu
        assert a.text() in listed


def test_clip_chooser_follows_a_burst_of_new_clips_and_their_removal(qtbot, window):
    song = window.song
    tid = song.tracks[0].id if song.tracks else song.ensure_track("melody").id
    first = Clip("first", 8.0, {tid: [Note(60, 0.0, 1.0)]})
    song.add_clip(first)
    added = [Clip(f"idea {i}", 8.0, {tid: [Note(60 + i % 12, j, j + 0.5) for j in range(i % 5 + 1)]})
             for i in range(64)]
    for clip in added:
        song.add_clip(clip)
    combo = window.clip_combo
    rows = lambda: [combo.itemData(i) for i in range(combo.count())]  # noqa: E731
    assert rows() == list(song.clips) and rows()[-65:] == [first.id] + [c.id for c in added]
    assert combo.itemText(combo.count() - 60).startswith("idea 4")
    assert combo.itemText(combo.count() - 60).endswith("5 notes")
    shown = combo.currentData()
    assert shown == window.session.current_clip and shown in song.clips  # the shown clip stays
    total = sum(c.note_count() for c in song.clips.values())
    qtbot.waitUntil(lambda: f"holds {total} notes" in window.song_info.toolTip())
    for clip in added[::2]:
        song.remove_clip(clip.id)
    assert rows() == list(song.clips) and rows()[-33:] == [first.id] + [c.id for c in added[1::2]]
    for clip_id in list(song.clips)[:-32]:  # the shown clip goes too: another one is shown
        song.remove_clip(clip_id)
    assert rows() == [c.id for c in added[1::2]]
    assert combo.currentData() == window.session.current_clip == added[1].id


# ------------------------------------------------------------------ file kinds and cancelled reads
def test_every_file_dialog_filter_comes_from_song_files():
    import ast
    import re

    from core import song_files

    made_by_song_files = {kind.filter() for kind in song_files.FILE_KINDS}
    made_by_song_files.add(song_files.file_filter("Projects and MIDI files", *song_files.OPENABLE))
    filters = {name: value for name, value in vars(dialogs).items()
               if name.endswith("_FILTER") and name != "ALL_FILTER"}
    assert {"MIDI_FILTER", "PROJECT_FILTER", "OPENABLE_FILTER", "WAV_FILTER"} <= set(filters)
    for name, value in filters.items():
        assert value in made_by_song_files, name
        for pattern in re.findall(r"\*(\.[\w.]+)", value):  # every extension is a known kind
            assert song_files.kind_by_extension("x" + pattern) is not None, (name, pattern)
    # and no widget writes a filter of its own: no "(*.ext" string anywhere in gui/
    gui = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gui")
    for name in sorted(os.listdir(gui)):
        if name.endswith(".py"):
            tree = ast.parse(open(os.path.join(gui, name), encoding="utf-8").read())
            literals = [n.value for n in ast.walk(tree)
                        if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            assert not [s for s in literals if "(*." in s], name


@pytest.mark.parametrize("kind", ["project", "midi"])
def test_cancelling_an_open_keeps_the_song(qtbot, window, asked, tmp_path, trio_path, monkeypatch, kind):
    """The read runs as a job with progress and Cancel; a cancelled read changes nothing."""
    import threading

    from core import midi_io, project

    if kind == "project":
        other = Song("Other")
        other.ensure_track("bass")
        path = project.save_project(other, tmp_path / "other.lstudio")
        slow, real = "load_project", project.load_project
        target = project
    else:
        path, slow, real, target = trio_path, "import_midi", midi_io.import_midi, midi_io
    started, release = threading.Event(), threading.Event()

    def held_read(*args, **kwargs):  # the read is in progress until the test lets it go
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, slow, held_read)
    window.undo_stack.push(SetNotesCommand(window.song, next(iter(window.song.clips)),
                                           window.song.tracks[0].id, [Note(62, 0.0, 2.0, 80)], "Draw"))
    before, title = window.song.snapshot(), window.windowTitle()
    loaded = []
    window.file_loaded.connect(loaded.append)
    assert window.files.open_path(path, ask=False)
    qtbot.waitUntil(started.is_set, timeout=10000)
    reading = f"Reading {os.path.basename(path)}"  # the job's progress, in the status bar
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == reading, timeout=10000)
    assert window.job_status.progress.isVisible() and window.job_status.cancel_button.isVisible()
    with qtbot.waitSignal(window.runner.cancelled, timeout=10000):
        window.job_status.cancel_button.click()
        release.set()
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=10000)
    assert loaded == [] and asked.errors == []
    assert window.song.snapshot() == before
    assert window.windowTitle() == title and window.undo_stack.count() == 1
    assert window.files.project_path is None
    assert os.path.abspath(path) not in window.files.recent_files()
    assert not window.job_status.cancel_button.isVisible()


# ------------------------------------------------------------------ what the counts say
def test_status_bar_counts_the_songs_notes_and_the_clip_box_follows_edits(qtbot, window):
    from core.song import Section

    song = window.song
    shown = window.session.current_clip
    mid = song.ensure_track("melody").id
    other = song.add_clip(Clip("unused idea", 8.0, {mid: [Note(70, b, b + 0.5) for b in range(7)]}))
    qtbot.waitUntil(lambda: "holds 7 notes in 2 clips" in window.song_info.toolTip())
    assert "0 notes in song" in window.song_info.text()  # nothing is arranged yet
    # a note drawn in the piano roll: one undo step, and the toolbar's clip box says so
    assert window.clip_combo.currentText().endswith("0 notes")
    st = window.editor.state
    window.editor.set_edit_track(mid)
    window.editor.set_snap("1/4")
    point = QPointF(st.x_of(1.1), st.y_of(64) + st.row_h / 2).toPoint()
    qtbot.mouseClick(window.editor.view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert song.clip(shown).track_notes(mid) == [Note(64, 1.0, 2.0, 100)]
    assert window.clip_combo.currentText().endswith("1 note")
    window.undo_stack.undo()
    assert window.clip_combo.currentText().endswith("0 notes")
    window.undo_stack.redo()
    # the arrangement plays the shown clip twice and not the unused one: 2 notes in the song
    length = song.clip(shown).length
    song.set_sections([Section("verse", shown, 0.0, 2 * length)])
    assert "2 notes in song" in window.song_info.text()
    assert "plays 2 notes (1 section)" in window.song_info.toolTip()
    song.set_sections([Section("verse", shown, 0.0, 2 * length), Section("outro", other.id, 2 * length, 2.0)])
    assert "4 notes in song" in window.song_info.text()  # the outro plays the first two beats
    assert song.arranged_note_count() == sum(len(ns) for ns in song.rendered_notes().values())
