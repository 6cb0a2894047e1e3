"""The piano-roll editor driven by real mouse and key events; the Song is checked afterwards."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QUndoStack, QWheelEvent
from PySide6.QtWidgets import QApplication

from core.song import Clip, Note, Song, Track
from gui import piano_roll_style as style
from gui.piano_roll import PianoRollEditor
from gui.piano_roll_arrays import NoteArrays

MELODY = [Note(60, 0.0, 1.0, 90), Note(62, 1.0, 2.0, 80), Note(64, 2.0, 3.0, 70),
          Note(67, 4.0, 8.0, 100)]
BASS = [Note(48, 0.0, 2.0, 100), Note(43, 2.0, 4.0, 90)]
DRUMS = [Note(36, 0.0, 0.25, 110), Note(38, 1.0, 1.25, 100), Note(42, 0.5, 0.75, 70)]


@pytest.fixture
def roll(qtbot):
    song = Song("test")
    melody = song.add_track(Track("Melody", "melody"))
    bass = song.add_track(Track("Bass", "bass", program=33))
    drums = song.add_track(Track("Drums", "drums", is_drum=True))
    clip = song.add_clip(Clip("idea", 16.0, {melody.id: list(MELODY), bass.id: list(BASS),
                                             drums.id: list(DRUMS)}))
    stack = QUndoStack()
    editor = PianoRollEditor(song, stack)
    qtbot.addWidget(editor)
    editor.resize(1000, 600)
    editor.show()
    qtbot.waitExposed(editor)
    editor.activateWindow()
    editor.set_clip(clip.id)
    editor.set_edit_track(melody.id)
    st = editor.state
    st.set_view(px_per_beat=40.0, row_h=12.0, scroll_x=0.0)
    st.set_view(scroll_y=st.y_of(76) + st.scroll_y)  # pitch 76 at the top row
    editor.view.setFocus()
    QApplication.processEvents()
    editor.ids = {"clip": clip.id, "melody": melody.id, "bass": bass.id, "drums": drums.id}
    return editor


def at(editor, beat, pitch, dx=0.0) -> QPoint:
    st = editor.state
    return QPoint(round(st.x_of(beat) + dx), round(st.y_of(pitch) + st.row_h / 2))


def notes(editor, role="melody"):
    return list(editor.song.clip(editor.ids["clip"]).track_notes(editor.ids[role]))


def drag(qtbot, widget, start: QPoint, end: QPoint, modifier=Qt.NoModifier):
    qtbot.mousePress(widget, Qt.LeftButton, modifier, start)
    mid = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    qtbot.mouseMove(widget, mid)
    qtbot.mouseMove(widget, end)
    qtbot.mouseRelease(widget, Qt.LeftButton, modifier, end)


def test_click_on_empty_space_draws_a_grid_long_note(qtbot, roll):
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 9.1, 65))
    assert Note(65, 9.0, 9.25, 100) in notes(roll)
    assert len(notes(roll)) == len(MELODY) + 1
    assert roll.undo_stack.undoText() == "Add note"
    assert roll.selected_notes() == [Note(65, 9.0, 9.25, 100)]
    roll.set_snap("1/8T")
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 10.4, 66))
    drawn = [n for n in notes(roll) if n.pitch == 66]
    assert len(drawn) == 1 and drawn[0].start == pytest.approx(10 + 1 / 3)
    assert drawn[0].duration == pytest.approx(1 / 3)


def test_drag_on_empty_space_draws_one_note_as_long_as_the_drag(qtbot, roll):
    messages = []
    roll.status_message.connect(messages.append)
    qtbot.mousePress(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 9.1, 65))
    for beat in (9.6, 10.4, 11.2, 11.4):  # several moves, still one note and one step
        qtbot.mouseMove(roll.view, at(roll, beat, 68))  # the pitch stays where the press was
    assert roll.state.preview_notes is not None and Note(65, 9.0, 11.5, 100) in roll.state.preview_notes
    assert notes(roll) == MELODY  # nothing is written until the release
    qtbot.mouseRelease(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 11.4, 68))
    assert notes(roll) == MELODY + [Note(65, 9.0, 11.5, 100)]
    assert roll.undo_stack.count() == 1 and roll.undo_stack.undoText() == "Add note"
    assert roll.selected_notes() == [Note(65, 9.0, 11.5, 100)]
    assert roll.state.preview_notes is None
    assert any(m.startswith("Draw F4 at bar 3, beat 2") for m in messages)
    roll.undo_stack.undo()
    assert notes(roll) == MELODY


def test_a_drawn_note_is_at_least_one_grid_step_and_follows_the_snap(qtbot, roll):
    roll.set_snap("1/4")
    drag(qtbot, roll.view, at(roll, 9.6, 65), at(roll, 7.0, 65))  # dragged to the left
    assert Note(65, 9.0, 10.0, 100) in notes(roll)
    roll.set_snap("1/8")
    drag(qtbot, roll.view, at(roll, 12.1, 66), at(roll, 13.2, 66))
    assert Note(66, 12.0, 13.0, 100) in notes(roll)
    roll.set_snap("Off")
    drag(qtbot, roll.view, at(roll, 14.1, 67), at(roll, 14.9, 67))
    drawn = [n for n in notes(roll) if n.pitch == 67 and n.start >= 14]
    assert len(drawn) == 1 and drawn[0].start == 14.0 and drawn[0].end == pytest.approx(14.9, abs=0.03)
    assert roll.undo_stack.count() == 3


def test_escape_during_a_draw_adds_nothing(qtbot, roll):
    qtbot.mousePress(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 9.1, 65))
    qtbot.mouseMove(roll.view, at(roll, 10.0, 65))
    qtbot.mouseMove(roll.view, at(roll, 12.0, 65))
    qtbot.keyClick(roll.view, Qt.Key_Escape)
    qtbot.mouseRelease(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 12.0, 65))
    assert notes(roll) == MELODY and roll.undo_stack.count() == 0
    assert roll.state.preview_notes is None


def test_drag_moves_the_note_as_one_undo_step(qtbot, roll):
    drag(qtbot, roll.view, at(roll, 0.3, 60), at(roll, 2.3, 63))
    assert Note(63, 2.0, 3.0, 90) in notes(roll)
    assert Note(60, 0.0, 1.0, 90) not in notes(roll)
    assert roll.undo_stack.count() == 1
    assert roll.undo_stack.undoText() == "Move 1 note"
    roll.undo_stack.undo()
    assert notes(roll) == MELODY
    assert roll.selected_notes() == [MELODY[0]]  # undo selects what it brought back
    roll.undo_stack.redo()
    assert roll.selected_notes() == [Note(63, 2.0, 3.0, 90)]


def test_dragging_a_selection_moves_every_selected_note(qtbot, roll):
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.5, 60))
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.ShiftModifier, at(roll, 1.5, 62))
    assert sorted(roll.selected_notes()) == [MELODY[0], MELODY[1]]
    drag(qtbot, roll.view, at(roll, 1.5, 62), at(roll, 5.5, 62))
    got = notes(roll)
    assert Note(60, 4.0, 5.0, 90) in got and Note(62, 5.0, 6.0, 80) in got
    assert roll.undo_stack.undoText() == "Move 2 notes"


def test_drag_from_the_right_edge_resizes(qtbot, roll):
    drag(qtbot, roll.view, at(roll, 3.0, 64, dx=-2), at(roll, 4.5, 64, dx=-2))
    assert Note(64, 2.0, 4.5, 70) in notes(roll)
    assert roll.undo_stack.undoText() == "Resize 1 note"
    # never shorter than one grid step
    drag(qtbot, roll.view, at(roll, 4.5, 64, dx=-2), at(roll, 0.0, 64))
    assert Note(64, 2.0, 2.25, 70) in notes(roll)


def test_delete_key_and_right_click_delete(qtbot, roll):
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.5, 60))
    qtbot.keyClick(roll.view, Qt.Key_Delete)
    assert MELODY[0] not in notes(roll)
    assert roll.undo_stack.undoText() == "Delete 1 note"
    qtbot.mouseClick(roll.view, Qt.RightButton, Qt.NoModifier, at(roll, 1.5, 62))
    assert notes(roll) == MELODY[2:]


def test_shift_drag_on_empty_space_selects_and_select_all(qtbot, roll):
    drag(qtbot, roll.view, at(roll, 0.5, 65), at(roll, 2.5, 61), Qt.ShiftModifier)
    assert sorted(roll.selected_notes()) == [MELODY[1], MELODY[2]]
    assert roll.undo_stack.count() == 0  # selecting is not an edit
    assert notes(roll) == MELODY
    # Ctrl+Shift adds a second box to the selection; a plain Shift box replaces it
    drag(qtbot, roll.view, at(roll, 4.5, 68), at(roll, 5.5, 66), Qt.ShiftModifier | Qt.ControlModifier)
    assert sorted(roll.selected_notes()) == sorted([MELODY[1], MELODY[2], MELODY[3]])
    drag(qtbot, roll.view, at(roll, 4.5, 68), at(roll, 5.5, 66), Qt.ShiftModifier)
    assert roll.selected_notes() == [MELODY[3]]
    assert "Shift-drag" in roll.view.toolTip()
    qtbot.keyClick(roll.view, Qt.Key_A, Qt.ControlModifier)
    assert sorted(roll.selected_notes()) == sorted(MELODY)


def test_arrow_keys_transpose_and_nudge(qtbot, roll):
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.5, 60))
    qtbot.keyClick(roll.view, Qt.Key_Up)
    assert Note(61, 0.0, 1.0, 90) in notes(roll)
    qtbot.keyClick(roll.view, Qt.Key_Up, Qt.ShiftModifier)
    assert Note(73, 0.0, 1.0, 90) in notes(roll)
    assert roll.undo_stack.undoText() == "Transpose 1 note up an octave"
    qtbot.keyClick(roll.view, Qt.Key_Right)
    assert Note(73, 0.25, 1.25, 90) in notes(roll)
    qtbot.keyClick(roll.view, Qt.Key_Right, Qt.ShiftModifier)
    assert Note(73, 4.25, 5.25, 90) in notes(roll)
    qtbot.keyClick(roll.view, Qt.Key_Q)
    assert Note(73, 4.25, 5.25, 90) in notes(roll)  # already on the 1/16 grid
    roll.set_snap("1/4")
    qtbot.keyClick(roll.view, Qt.Key_Q)
    assert Note(73, 4.0, 5.0, 90) in notes(roll)
    assert roll.undo_stack.undoText() == "Quantise 1 note to 1/4"
    assert roll.undo_stack.count() == 5


def test_velocity_lane_drag_changes_velocity(qtbot, roll):
    lane = roll.velocity_lane
    x = round(roll.state.x_of(1.0)) + 2
    start = QPoint(x, round(lane.y_of(80)))
    drag(qtbot, lane, start, QPoint(x, round(lane.y_of(120))))
    changed = [n for n in notes(roll) if n.pitch == 62]
    assert len(changed) == 1 and 116 <= changed[0].velocity <= 124
    assert roll.undo_stack.count() == 1
    assert roll.undo_stack.undoText() == "Change velocity of 1 note"
    roll.undo_stack.undo()
    assert notes(roll) == MELODY


def test_copy_paste_at_the_playhead_and_cut(qtbot, roll):
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 1.5, 62))
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.ShiftModifier, at(roll, 2.5, 64))
    qtbot.keyClick(roll.view, Qt.Key_C, Qt.ControlModifier)
    ruler_x = round(roll.state.x_of(8.0))
    qtbot.mouseClick(roll.ruler, Qt.LeftButton, Qt.NoModifier, QPoint(ruler_x, 10))
    assert roll.state.playhead == 8.0
    roll.view.setFocus()
    qtbot.keyClick(roll.view, Qt.Key_V, Qt.ControlModifier)
    got = notes(roll)
    assert Note(62, 8.0, 9.0, 80) in got and Note(64, 9.0, 10.0, 70) in got
    assert roll.undo_stack.undoText() == "Paste 2 notes"
    assert sorted(roll.selected_notes()) == [Note(62, 8.0, 9.0, 80), Note(64, 9.0, 10.0, 70)]
    qtbot.keyClick(roll.view, Qt.Key_X, Qt.ControlModifier)
    assert notes(roll) == MELODY
    assert roll.undo_stack.undoText() == "Cut 2 notes"
    qtbot.keyClick(roll.view, Qt.Key_D, Qt.ControlModifier)  # nothing selected after cut
    assert roll.undo_stack.count() == 2


def test_duplicate_places_copies_after_the_selection(qtbot, roll):
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.5, 60))
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.ShiftModifier, at(roll, 1.5, 62))
    qtbot.keyClick(roll.view, Qt.Key_D, Qt.ControlModifier)
    got = notes(roll)
    assert Note(60, 2.0, 3.0, 90) in got and Note(62, 3.0, 4.0, 80) in got
    assert len(got) == len(MELODY) + 2


def test_undo_and_redo_walk_every_edit(qtbot, roll):
    start = notes(roll)
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 12.1, 70))
    drag(qtbot, roll.view, at(roll, 0.3, 60), at(roll, 2.3, 63))
    qtbot.keyClick(roll.view, Qt.Key_Delete)
    end = notes(roll)
    assert roll.undo_stack.count() == 3
    texts = [roll.undo_stack.text(i) for i in range(3)]
    assert texts == ["Add note", "Move 1 note", "Delete 1 note"]
    while roll.undo_stack.canUndo():
        roll.undo_stack.undo()
    assert notes(roll) == start
    while roll.undo_stack.canRedo():
        roll.undo_stack.redo()
    assert notes(roll) == end


def test_other_tracks_are_shown_but_not_editable(qtbot, roll):
    # the bass note 48 at beat 0.5 is visible (dimmed) but a click there draws a melody note
    roll.state.set_view(scroll_y=roll.state.y_of(60) + roll.state.scroll_y)
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.5, 48))
    assert notes(roll, "bass") == BASS
    assert Note(48, 0.5, 0.75, 100) in notes(roll)
    roll.set_visible_tracks([roll.ids["melody"]])
    assert roll.state.visible_tracks == [roll.ids["melody"]]


def test_edit_track_switch_and_drum_rows(qtbot, roll):
    st = roll.state
    st.set_view(scroll_y=st.y_of(100) + st.scroll_y)  # rows 100 .. 64: no drum note in view
    roll.set_edit_track(roll.ids["drums"])
    assert roll.state.is_drum_view()
    assert 0 <= st.y_of(42) and st.y_of(36) <= st.view_h - st.row_h  # it scrolled to the drums
    assert roll.keyboard.width() > 100  # room for drum names
    assert [style.drum_name(p) for p in (36, 38, 42, 46, 49, 51)] == [
        "Kick", "Snare", "Closed Hat", "Open Hat", "Crash", "Ride"]
    roll.state.set_view(scroll_y=roll.state.y_of(50) + roll.state.scroll_y)
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.1, 36))
    assert roll.selected_notes() == [DRUMS[0]]
    qtbot.keyClick(roll.view, Qt.Key_Delete)
    assert DRUMS[0] not in notes(roll, "drums")
    assert notes(roll) == MELODY


def test_view_follows_song_changes_made_elsewhere(qtbot, roll):
    song, cid, mid = roll.song, roll.ids["clip"], roll.ids["melody"]
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.5, 60))
    song.set_notes(cid, mid, MELODY[1:] + [Note(70, 3.0, 3.5, 64)])
    arr = roll.state.arrays(mid)
    assert Note(70, 3.0, 3.5, 64) in arr.notes and MELODY[0] not in arr.notes
    assert roll.selected_notes() == []  # the selected note no longer exists
    song.remove_clip(cid)
    assert roll.state.clip() is None
    roll.view.repaint()  # draws an empty roll without error


def test_zoom_scroll_fit_and_follow(qtbot, roll):
    st = roll.state
    before = st.px_per_beat
    roll.act_zoom_in_x.trigger()
    assert st.px_per_beat > before
    rows = st.row_h
    roll.act_zoom_out_y.trigger()
    assert st.row_h < rows
    pos = QPointF(300, 200)
    beat_under = st.beat_at(300)
    wheel = QWheelEvent(pos, roll.view.mapToGlobal(pos), QPoint(), QPoint(0, 240), Qt.NoButton,
                        Qt.ControlModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(roll.view, wheel)
    assert st.beat_at(300) == pytest.approx(beat_under)  # zoomed around the cursor
    roll.act_zoom_fit.trigger()
    assert st.x_of(16.0) <= st.view_w and st.x_of(0.0) >= 0
    # the pitched tracks' notes (bass 43 .. melody 67); the drum hits are not drawn on piano rows
    assert st.y_of(43) + st.row_h <= st.view_h + 1 and st.y_of(67) >= -1
    assert st.row_h > st.view_h / (69 - 34 + 1)  # taller rows than a fit down to the kick (36)
    st.set_view(px_per_beat=40.0, scroll_x=0.0)
    roll.follow_playhead = True
    roll.set_playhead(60.0)
    assert 0 <= st.x_of(60.0) <= st.view_w
    roll.follow_playhead = False
    roll.set_playhead(0.0)
    assert st.x_of(0.0) < 0


def test_actions_have_shortcuts_and_tooltips(roll):
    names = [a.text() for a in roll.edit_actions()]
    for wanted in ("Select All", "Delete", "Duplicate", "Cut", "Copy", "Paste", "Quantise",
                   "Transpose Up", "Transpose Down", "Octave Up", "Octave Down"):
        assert wanted in names
    for action in roll.edit_actions() + roll.view_actions()[:-1]:
        assert not action.shortcut().isEmpty(), action.text()
        assert action.toolTip(), action.text()
    snaps = [roll.snap_selector().itemText(i) for i in range(roll.snap_selector().count())]
    assert snaps == ["1/4", "1/8", "1/16", "1/32", "1/8T", "1/16T", "Off"]


def test_note_arrays_find_long_notes_that_start_before_the_window():
    notes_ = [Note(60, 0.0, 100.0), Note(61, 1.0, 2.0), Note(62, 50.0, 51.0), Note(63, 80.0, 81.0)]
    arr = NoteArrays(notes_)
    assert sorted(arr.notes[i] for i in arr.visible(49.0, 52.0)) == [notes_[0], notes_[2]]
    assert [arr.notes[i] for i in arr.visible(49.0, 52.0, 62, 70)] == [notes_[2]]
    assert len(arr.visible(100.0, 120.0)) == 0
    assert arr.at(75.0, 60) == 0 and arr.at(75.0, 61) is None


def test_ctrl_drag_copies_and_alt_drag_ignores_the_grid(qtbot, roll):
    messages = []
    roll.status_message.connect(messages.append)
    drag(qtbot, roll.view, at(roll, 0.3, 60), at(roll, 4.3, 60), Qt.ControlModifier)
    assert MELODY[0] in notes(roll) and Note(60, 4.0, 5.0, 90) in notes(roll)
    assert roll.undo_stack.undoText() == "Copy 1 note"
    assert any(m.startswith("Copy 1 note: C4 at bar 2, beat 1") for m in messages)
    drag(qtbot, roll.view, at(roll, 1.5, 62), at(roll, 1.6, 62, dx=2), Qt.AltModifier)
    moved = [n for n in notes(roll) if n.pitch == 62]
    assert len(moved) == 1 and moved[0].start == pytest.approx(1.0 + 0.1 + 2 / 40, abs=0.03)


def test_bars_follow_the_time_signature(roll):
    from gui import piano_roll_raster as raster

    roll.song.set_time_signature(3, 4)
    st = roll.state
    _, _, bars = raster.grid_lines(st, 1000)
    assert [round(st.beat_at(x)) for x in bars.tolist()[:4]] == [0, 3, 6, 9]
    roll.view.repaint()


NONE_REFS_SCRIPT = r"""
import sys
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
app = QGuiApplication([])
image = QImage(64, 64, QImage.Format_ARGB32_Premultiplied)
p = QPainter(image)
before = sys.getrefcount(None)
for _ in range(200):
    p.setPen(QColor("#123456"))  # any method returning void
after = sys.getrefcount(None)
print(before - after)
for _ in range(50000):  # a few minutes of painting in the roll
    p.setPen(QColor("#123456"))
p.end()
print("ok")
"""


def test_qt_binding_keeps_a_reference_to_none():
    """A session paints hundreds of thousands of times. PySide6 6.12.0 on Python 3.11 drops a
    reference to None on every call of a method that returns nothing, and the process aborts
    with 'deallocating None' after a few thousand such calls (6.11.3 does not)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", NONE_REFS_SCRIPT], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0 and out.stdout.split()[-1] == "ok", (
        f"the Qt binding loses references to None ({out.stdout.split()[:1]} lost in 200 calls); "
        f"use a PySide6 without this bug (6.11.3 is fine): {out.stderr[-300:]}")


def test_new_tracks_show_up_and_lane_clicks_keep_shortcuts(qtbot, roll):
    roll._explicit_tracks = False
    extra = roll.song.add_track(Track("Pad", "other"))
    assert extra.id in roll.state.visible_tracks
    assert roll.edit_combo.findData(extra.id) >= 0
    qtbot.mouseClick(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.5, 60))
    empty_x = round(roll.state.x_of(3.5))  # no note starts near here: the click changes nothing
    qtbot.mouseClick(roll.velocity_lane, Qt.LeftButton, Qt.NoModifier, QPoint(empty_x, 5))
    assert roll.velocity_lane.hasFocus()
    assert roll.undo_stack.count() == 0
    qtbot.keyClick(roll.velocity_lane, Qt.Key_Delete)
    assert notes(roll) == MELODY[1:]


def test_clicking_a_key_selects_that_pitch(qtbot, roll):
    roll.set_edit_track(roll.ids["drums"])
    roll.state.set_view(scroll_y=roll.state.y_of(50) + roll.state.scroll_y)
    y = round(roll.state.y_of(42) + roll.state.row_h / 2)
    qtbot.mouseClick(roll.keyboard, Qt.LeftButton, Qt.NoModifier, QPoint(20, y))
    assert roll.selected_notes() == [DRUMS[2]]
    y = round(roll.state.y_of(36) + roll.state.row_h / 2)
    qtbot.mouseClick(roll.keyboard, Qt.LeftButton, Qt.ShiftModifier, QPoint(20, y))
    assert sorted(roll.selected_notes()) == sorted([DRUMS[0], DRUMS[2]])


def test_dragging_past_the_edge_scrolls_the_roll(qtbot, roll):
    st = roll.state
    qtbot.mousePress(roll.view, Qt.LeftButton, Qt.NoModifier, at(roll, 0.3, 60))
    qtbot.mouseMove(roll.view, at(roll, 1.3, 60))
    outside = QPoint(roll.view.width() + 60, at(roll, 1.3, 60).y())
    qtbot.mouseMove(roll.view, outside)
    qtbot.waitUntil(lambda: st.scroll_x > 4.0, timeout=3000)
    qtbot.mouseRelease(roll.view, Qt.LeftButton, Qt.NoModifier, outside)
    moved = [n for n in notes(roll) if n.pitch == 60]
    assert len(moved) == 1 and moved[0].start > 20.0  # carried past the first view
    assert roll.undo_stack.count() == 1


def test_song_positions_map_to_the_clip(roll):
    from core.song import Section

    cid = roll.ids["clip"]
    roll.song.add_section(Section("intro", None, 0.0, 8.0))
    roll.song.add_section(Section("verse", cid, 8.0, 32.0))  # the 16-beat clip twice
    roll.set_song_position(30.0)
    assert roll.state.playhead == pytest.approx(6.0)
    roll.set_song_position(4.0)  # the intro does not use this clip: no line, the beat stays
    assert roll.state.playhead == pytest.approx(6.0) and not roll.state.playhead_shown
    roll.set_song_position(9.0)
    assert roll.state.playhead == pytest.approx(1.0) and roll.state.playhead_shown
    assert roll.song_position(2.0) == pytest.approx(10.0)


def _pixel(roll, beat, pitch):
    image = roll.view.grab().toImage()
    point = at(roll, beat, pitch)
    return image.pixelColor(point.x(), point.y()).rgb()


def _grid_pixel(roll, beat, pitch):
    point = at(roll, beat, pitch)
    grid = roll.view._grid(roll.view.width(), roll.view.height())
    return int(grid[point.y(), point.x()]) & 0xFFFFFF


def test_drum_rows_show_only_drum_notes_and_piano_rows_no_drum_hits(qtbot, roll):
    st = roll.state
    roll.set_visible_tracks([roll.ids["melody"], roll.ids["bass"], roll.ids["drums"]])
    roll.set_edit_track(roll.ids["drums"])
    st.set_view(px_per_beat=40.0, row_h=12.0, scroll_x=0.0)
    st.set_view(scroll_y=st.y_of(68) + st.scroll_y)  # rows 68 .. about 30: melody, bass, drums
    QApplication.processEvents()
    # the melody's C4 (60) would sit on the "60 Hi Bongo" row, the bass's 43 on "43 High Floor Tom"
    assert _pixel(roll, 0.5, 60) & 0xFFFFFF == _grid_pixel(roll, 0.5, 60)
    assert _pixel(roll, 2.5, 43) & 0xFFFFFF == _grid_pixel(roll, 2.5, 43)
    assert _pixel(roll, 0.1, 36) & 0xFFFFFF != _grid_pixel(roll, 0.1, 36)  # the kick is drawn
    assert st.drawn_tracks() == [roll.ids["drums"]]
    assert roll.state.visible_tracks == [roll.ids["melody"], roll.ids["bass"], roll.ids["drums"]]
    # back on the melody: bass shows dimmed, the drum hits do not pose as low notes
    roll.set_edit_track(roll.ids["melody"])
    QApplication.processEvents()
    assert sorted(st.drawn_tracks()) == sorted([roll.ids["melody"], roll.ids["bass"]])
    assert _pixel(roll, 0.1, 36) & 0xFFFFFF == _grid_pixel(roll, 0.1, 36)
    assert _pixel(roll, 1.0, 48) & 0xFFFFFF != _grid_pixel(roll, 1.0, 48)  # the bass, dimmed
    assert _pixel(roll, 0.5, 60) & 0xFFFFFF != _grid_pixel(roll, 0.5, 60)
