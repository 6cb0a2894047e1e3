"""Models > Continue Clip… and Rewrite Bars…: the dialog, the job, the clips landing in the library."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

from core.seq import model as sm
from core.song import Clip, Note
from gui import dialogs
from gui import sequence_actions as continue_dialog
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


def test_rewrite_bars_starts_from_the_selected_notes_and_keeps_the_rest(window, qtbot, monkeypatch):
    w = window
    mel = w.song.ensure_track("melody")
    clip = Clip("Verse", 16.0, {mel.id: [Note(60 + i % 5, i * 1.0, i * 1.0 + 1.0, 90) for i in range(16)]})
    w.song.add_clip(clip)
    w.session.current_clip = clip.id
    selected = [n for n in clip.notes[mel.id] if 4.0 <= n.start < 12.0]  # bars 2 and 3
    monkeypatch.setattr(w.continue_action, "selected_notes", lambda: selected)
    seen = {}

    def fake_exec(dialog):
        seen["range"] = dialog.bar_range()
        dialog.count.setValue(2)
        dialog.show()
        dialog.grab().save("/tmp/seqmodels_rewrite_dialog.png")
        return QDialog.Accepted

    monkeypatch.setattr(continue_dialog.ContinueDialog, "exec", fake_exec)
    before = set(w.song.clips)
    w.continue_action.act_rewrite.trigger()
    qtbot.waitUntil(lambda: len(w.song.clips) == len(before) + 2, timeout=60000)
    assert seen["range"] == (2, 3)
    for cid in set(w.song.clips) - before:
        c = w.song.clips[cid]
        assert c.length == 16.0
        assert [n for n in c.notes[mel.id] if not 4.0 <= n.start < 12.0] == \
            [n for n in clip.notes[mel.id] if not 4.0 <= n.start < 12.0]


def test_a_timeline_section_is_continued_and_rewritten_in_place(window, qtbot, monkeypatch):
    """Continue Section… and Rewrite Bars of Section… from the section's right-click menu: the
    continuations start with the section's music; the rewrite puts its first candidate into that
    section only (a repeat keeps the old clip), and one undo takes it all back."""
    from core.song import Section

    w = window
    mel = w.song.ensure_track("melody")
    clip = Clip("Chorus riff", 16.0, {mel.id: [Note(62 + i % 3, i * 1.0, i * 1.0 + 1.0, 90) for i in range(16)]})
    w.song.add_clip(clip)
    w.song.add_section(Section("chorus", clip.id, 0.0, 16.0))
    w.song.add_section(Section("chorus", clip.id, 16.0, 16.0))
    first, repeat = [s.id for s in w.song.sections]
    w.timeline.select([first])
    menu = [a.text() for a in w.timeline.context_menu(first).actions()]
    assert "Continue Section..." in menu and "Rewrite Bars of Section..." in menu
    assert w.timeline.act_continue_section.isEnabled()

    def continue_exec(dialog):
        dialog.bars.setValue(2)
        dialog.count.setValue(2)
        assert dialog.into_section is None  # a continuation is longer: it goes to the library only
        return QDialog.Accepted

    monkeypatch.setattr(continue_dialog.ContinueDialog, "exec", continue_exec)
    before = set(w.song.clips)
    w.timeline.act_continue_section.trigger()
    qtbot.waitUntil(lambda: len(w.song.clips) == len(before) + 2, timeout=60000)
    for cid in set(w.song.clips) - before:
        c = w.song.clips[cid]
        assert c.length == 24.0 and c.notes[mel.id][:16] == clip.notes[mel.id]
    assert [s.clip_id for s in w.song.sections] == [clip.id, clip.id]

    def rewrite_exec(dialog):
        dialog.first.setValue(2)
        dialog.last.setValue(2)
        dialog.count.setValue(2)
        assert dialog.into_section is not None and dialog.into_section.isChecked()
        return QDialog.Accepted

    monkeypatch.setattr(continue_dialog.ContinueDialog, "exec", rewrite_exec)
    before = set(w.song.clips)
    w.timeline.act_rewrite_section.trigger()
    qtbot.waitUntil(lambda: len(w.song.clips) == len(before) + 2, timeout=60000)
    secs = {s.id: s for s in w.song.sections}
    assert secs[first].clip_id in set(w.song.clips) - before and secs[repeat].clip_id == clip.id
    placed = w.song.clips[secs[first].clip_id]
    assert [n for n in placed.notes[mel.id] if not 4.0 <= n.start < 8.0] == \
        [n for n in clip.notes[mel.id] if not 4.0 <= n.start < 8.0]
    w.undo_stack.undo()
    assert set(w.song.clips) == before and [s.clip_id for s in w.song.sections] == [clip.id, clip.id]


def test_the_dialog_offers_the_transformer_first_then_the_model_used_last(window, qtbot, monkeypatch, tmp_path):
    """Listed by name the LSTM comes first; the dialog still starts on the default Transformer,
    and once the musician has run another model, on that one."""
    w = window
    entries = []
    for name, cfg in (("seq_lstm", {"arch": "lstm", "d_embed": 8, "units": 16, "layers": 1, "max_len": 96}),
                      ("seq_transformer", TINY)):
        folder = str(tmp_path / name)
        sm.save(sm.build(cfg, seed=1), folder, name)
        entries.append(SimpleNamespace(name=name, path=folder, sizes="tiny"))
    monkeypatch.setattr(continue_dialog, "sequence_models", lambda: entries)
    mel = w.song.ensure_track("melody")
    clip = Clip("Hook", 8.0, {mel.id: [Note(60 + i % 4, i * 0.5, i * 0.5 + 0.5, 90) for i in range(16)]})
    w.song.add_clip(clip)
    w.session.current_clip = clip.id
    offered = []

    def fake_exec(dialog):
        offered.append(dialog.model_box.currentData())
        if len(offered) == 1:
            dialog.model_box.setCurrentIndex(0)  # the musician picks the LSTM
            dialog.bars.setValue(1)
            dialog.count.setValue(1)
            return QDialog.Accepted
        return QDialog.Rejected

    monkeypatch.setattr(continue_dialog.ContinueDialog, "exec", fake_exec)
    before = len(w.song.clips)
    w.continue_action.act_continue.trigger()
    qtbot.waitUntil(lambda: len(w.song.clips) == before + 1, timeout=60000)
    w.continue_action.act_continue.trigger()
    assert offered == [entries[1].path, entries[0].path]


def test_right_click_on_the_piano_roll_offers_rewrite_of_those_bars(window, qtbot, monkeypatch):
    """Right-click on empty grid: "Rewrite Bar N…" for the bar clicked, or the bars of the
    selected notes; it opens the rewrite dialog on those bars. A right-click on a note still
    deletes it."""
    from PySide6.QtCore import QPoint, Qt

    w = window
    mel = w.song.ensure_track("melody")
    clip = Clip("Verse", 32.0, {mel.id: [Note(72, i * 4.0, i * 4.0 + 1.0, 90) for i in range(8)]})
    w.song.add_clip(clip)
    w.editor.set_clip(clip.id)
    st, view = w.editor.state, w.editor.view
    st.set_view(scroll_x=0.0)
    asked = []
    w.editor.context_menu_requested.connect(lambda pos, beat: asked.append(beat))
    y = int(st.y_of(40) + st.row_h / 2)  # far below the notes: empty space
    qtbot.mouseClick(view, Qt.RightButton, pos=QPoint(int(st.x_of(9.5)), y))
    assert len(asked) == 1 and asked[0] == pytest.approx(9.5, abs=0.2)  # bar 3
    ranges = []

    def fake_exec(dialog):
        ranges.append(dialog.bar_range())
        return QDialog.Rejected

    monkeypatch.setattr(continue_dialog.ContinueDialog, "exec", fake_exec)
    menu = w.continue_action.roll_menu(asked[0], w)
    labels = [a.text() for a in menu.actions()]
    assert labels == ["Rewrite Bar 3…", "Continue Clip…"]
    menu.actions()[0].trigger()
    st.set_selection([n for n in clip.notes[mel.id] if 4.0 <= n.start < 16.0])  # bars 2 to 4
    menu = w.continue_action.roll_menu(30.0, w)
    assert menu.actions()[0].text() == "Rewrite Bars 2-4…"
    menu.actions()[0].trigger()
    assert ranges == [(3, 3), (2, 4)]
    before = len(clip.notes[mel.id])
    first = clip.notes[mel.id][0]
    qtbot.mouseClick(view, Qt.RightButton, pos=QPoint(int(st.x_of(first.start + 0.5)), int(st.y_of(72) + st.row_h / 2)))
    assert len(w.song.clip(clip.id).notes[mel.id]) == before - 1 and len(asked) == 1
