"""Models > Continue Clip…: the dialog, the job, the clips landing in the library (one undo step)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

from core.seq import model as sm
from core.song import Clip, Note
from gui import continue_dialog, dialogs
from gui.main_window import MainWindow

TINY = {"arch": "transformer", "d_model": 16, "layers": 1, "heads": 2, "d_ff": 32, "max_len": 96}


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    folder = str(tmp_path / "tiny_seq")
    sm.save(sm.build(TINY, seed=1), folder, "tiny_seq")
    entry = SimpleNamespace(name="tiny_seq", path=folder, sizes="transformer 1x16 (2 heads), window 96")
    monkeypatch.setattr(continue_dialog, "sequence_models", lambda: [entry])
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    yield w
    w.runner.shutdown(3000)
    w.undo_stack.setClean()


def test_continue_adds_clips_that_start_with_the_current_one(window, qtbot, monkeypatch):
    w = window
    mel = w.song.ensure_track("melody")
    clip = Clip("Hook", 8.0, {mel.id: [Note(60 + i % 4, i * 0.5, i * 0.5 + 0.5, 90) for i in range(16)]})
    w.song.add_clip(clip)
    w.session.current_clip = clip.id
    assert w.continue_action.act_continue in w.models_menu.actions()
    seen = {}

    def fake_exec(dialog):
        dialog.bars.setValue(2)
        dialog.count.setValue(3)
        dialog.show()
        seen["shot"] = dialog.grab().save("/tmp/seqmodels_continue_dialog.png")
        return QDialog.Accepted

    monkeypatch.setattr(continue_dialog.ContinueDialog, "exec", fake_exec)
    before = set(w.song.clips)
    w.continue_action.act_continue.trigger()
    qtbot.waitUntil(lambda: len(w.song.clips) == len(before) + 3, timeout=60000)
    new = [w.song.clips[c] for c in w.song.clips if c not in before]
    for c in new:
        assert c.length == 16.0 and c.notes[mel.id][:16] == clip.notes[mel.id]
    assert sorted(w.session.selected_clips) == sorted(c.id for c in new)
    assert w.continue_action.act_continue.isEnabled()
    w.undo_stack.undo()
    assert set(w.song.clips) == before
    assert seen["shot"]
