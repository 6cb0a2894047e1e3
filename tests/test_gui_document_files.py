"""gui.document_files.DocumentFiles on its own: everything it needs comes through its constructor."""
import os

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget

from core import song_files
from core.song import Clip, Note, Song
from gui import dialogs
from gui.document_files import DocumentFiles, new_song
from gui.job_runner import JobRunner


@pytest.fixture
def files(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message, detail="":
                        errors.append(message))
    parent = QWidget()
    qtbot.addWidget(parent)
    runner = JobRunner(parent)
    status = []
    f = DocumentFiles(new_song(), QUndoStack(parent), QSettings(str(tmp_path / "s.ini"),
                      QSettings.Format.IniFormat), runner, parent,
                      lambda text, ms: status.append(text), lambda: None)
    f.errors, f.status_seen = errors, status
    yield f
    f.close()
    runner.shutdown(5000)


def test_save_then_open_and_import_report_through_signals(qtbot, files, tmp_path):
    song = files.song
    clip = next(iter(song.clips.values()))
    song.set_notes(clip.id, song.tracks[0].id, [Note(60, 0.0, 1.0, 90)])
    events = []
    files.changed.connect(lambda: events.append(("changed", files.project_path)))
    files.replacing.connect(lambda: events.append(("replacing", len(song.clips))))
    files.loaded.connect(lambda path: events.append(("loaded", os.path.basename(path))))

    project = str(tmp_path / "mine.lstudio")
    assert files.save_to(project)
    assert files.project_path == project and files.document_name() == "mine.lstudio"
    assert events == [("changed", project)]
    assert files.recent_files() == [os.path.abspath(project)]

    other = Song("Other")
    other.ensure_track("bass")
    other.add_clip(Clip("B", 4.0))
    other.add_clip(Clip("C", 4.0))
    midi = song_files.save_song(other, tmp_path / "other.mid", song_files.MIDI)
    events.clear()
    assert files.open_path(midi, ask=False, background=False)
    # told before the content changes, then the new name (a MIDI import has no project path)
    assert events[0] == ("replacing", 1)
    assert ("changed", None) in events and events[-1] == ("loaded", "other.mid")
    assert files.project_path is None and files.song is song  # same Song object, new content
    assert [t.role for t in song.tracks] == ["bass"]
    assert files.recent_files()[0] == os.path.abspath(midi)

    with qtbot.waitSignal(files.loaded, timeout=10000):
        assert files.open_path(project, ask=False)  # as a job this time
    assert files.project_path == project and song.clips[clip.id].note_count() == 1
    assert files.errors == []


def test_a_damaged_file_changes_nothing(files, tmp_path):
    before = files.song.snapshot()
    bad = tmp_path / "bad.lstudio"
    bad.write_text("{ not json")
    assert not files.open_path(str(bad), ask=False, background=False)
    assert len(files.errors) == 1 and "bad.lstudio" in files.errors[0]
    assert files.song.snapshot() == before and files.project_path is None
    assert files.recent_files() == []
