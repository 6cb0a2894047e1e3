"""core.note_edits: the piano roll's note edits as pure functions, tested without Qt."""
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import note_edits as ne
from core.song import Note

C, E, G = Note(60, 0.0, 1.0, 100), Note(64, 1.0, 2.0, 90), Note(67, 2.0, 2.5, 80)
TRACK = [C, E, G]


def same(a, b) -> bool:
    return Counter(a) == Counter(b)


def test_edits_leave_their_input_alone():
    notes, selected = list(TRACK), [C, E]
    for new, sel in (ne.move_notes(notes, selected, 1.0, 2), ne.resize_notes(notes, selected, 0.5),
                     ne.quantise_notes(notes, selected, 1.0), ne.duplicate_notes(notes, selected, 1.0),
                     ne.delete_notes(notes, selected), ne.transpose_notes(notes, selected, 12),
                     ne.set_velocities(notes, [(C, 1)]), ne.paste_notes(notes, selected, 4.0),
                     ne.add_notes(notes, [Note(70, 0, 1)])):
        assert new is not notes
    assert notes == TRACK and selected == [C, E]


def test_add_keeps_only_playable_notes_and_selects_them():
    bad = [Note(128, 0, 1), Note(60, -1, 1), Note(60, 2, 2), Note(60, 3, 2)]
    new, sel = ne.add_notes(TRACK, [Note(72, 4, 5)] + bad)
    assert sel == [Note(72, 4, 5)] and same(new, TRACK + sel)
    assert ne.add_notes(TRACK, bad) == (TRACK, [])


def test_delete_removes_one_copy_of_each_selected_note_and_ignores_gone_ones():
    notes = [C, C, E]
    new, sel = ne.delete_notes(notes, [C, G])  # G is not there any more
    assert same(new, [C, E]) and sel == []


def test_move_keeps_the_group_on_the_piano_and_after_beat_zero():
    new, moved = ne.move_notes(TRACK, [C, E], -5.0, 100)
    # the group moves as far as the highest note allows, and no further left than beat 0
    assert moved == [Note(123, 0.0, 1.0, 100), Note(127, 1.0, 2.0, 90)]
    assert same(new, [G] + moved)
    assert ne.move_notes(TRACK, [], 1, 1) == (TRACK, [])
    low, _ = ne.move_notes([Note(2, 1, 2)], [Note(2, 1, 2)], 0, -12)
    assert low == [Note(0, 1, 2)]


def test_transpose_moves_pitch_only():
    new, sel = ne.transpose_notes(TRACK, [G], -12)
    assert sel == [Note(55, 2.0, 2.5, 80)] and same(new, [C, E] + sel)


def test_resize_never_leaves_a_note_shorter_than_the_minimum():
    _, (a, b) = ne.resize_notes(TRACK, [C, G], -10.0)
    assert a.end - a.start == pytest.approx(ne.MIN_LENGTH) and b.start == 2.0
    _, (c,) = ne.resize_notes(TRACK, [C], -10.0, min_length=0.25)
    assert c.end == 0.25
    _, (d,) = ne.resize_notes(TRACK, [C], 0.5)
    assert d == Note(60, 0.0, 1.5, 100)


def test_velocities_are_clamped():
    new, sel = ne.set_velocities(TRACK, [(C, 300), (E, 0)])
    assert [n.velocity for n in sel] == [127, 1] and same(new, [G] + sel)


def test_quantise_snaps_starts_and_keeps_lengths_on_triplet_grids():
    off = Note(60, 0.37, 0.87, 100)
    _, (q,) = ne.quantise_notes([off], [off], 1 / 3)
    assert (q.start, q.end) == (pytest.approx(1 / 3), pytest.approx(1 / 3 + 0.5))
    assert q.start == ne.snap_beat(q.start, 1 / 3)  # snapping again changes nothing
    _, (early,) = ne.quantise_notes([Note(60, 0.1, 0.2)], [Note(60, 0.1, 0.2)], 1.0)
    assert early.start == 0.0


def test_duplicate_places_the_copy_after_the_selection_rounded_to_the_grid():
    new, copies = ne.duplicate_notes(TRACK, [C, G], 1.0)  # span 2.5 beats -> 3 on a 1-beat grid
    assert copies == [Note(60, 3.0, 4.0, 100), Note(67, 5.0, 5.5, 80)]
    assert same(new, TRACK + copies)
    _, free = ne.duplicate_notes(TRACK, [C, G], 0)
    assert free[0].start == 2.5


def test_copy_and_paste_keep_the_shape_from_the_paste_beat():
    clip = ne.clipboard_from([E, G])
    assert clip == [Note(64, 0.0, 1.0, 90), Note(67, 1.0, 1.5, 80)]
    new, pasted = ne.paste_notes(TRACK, clip, 8.0)
    assert pasted == [Note(64, 8.0, 9.0, 90), Note(67, 9.0, 9.5, 80)] and same(new, TRACK + pasted)
    _, at_zero = ne.paste_notes([], clip, -3.0)
    assert at_zero[0].start == 0.0
    assert ne.clipboard_from([]) == []


def test_grid_helpers():
    assert ne.snap_beat(1.2, 0.5) == 1.0 and ne.snap_beat(1.3, 0.5) == 1.5 and ne.snap_beat(1.3, 0) == 1.3
    assert ne.floor_beat(1.49, 0.5) == 1.0 and ne.floor_beat(1.5, 0.5) == 1.5
    assert ne.present([C, E], [C, C, G]) == [C]
    assert ne.without([C, C, E], [C]) == [C, E]


notes_st = st.lists(st.builds(Note, st.integers(20, 100), st.floats(0, 16, allow_nan=False).map(ne.clean),
                              st.just(0.0), st.integers(1, 127)).map(
    lambda n: n._replace(end=ne.clean(n.start + 0.5))), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(notes_st, st.integers(-10, 10), st.sampled_from([0.0, 0.25, 1.0, 3.5]))
def test_a_move_undone_by_the_opposite_move_gives_the_notes_back(notes, d_pitch, d_beats):
    selected = notes[::2]
    moved_notes, moved = ne.move_notes(notes, selected, d_beats, d_pitch)
    assert len(moved_notes) == len(notes)  # a move never adds or loses a note
    back, _ = ne.move_notes(moved_notes, moved, -d_beats, -d_pitch)
    assert same(back, notes)


def test_drawn_note_starts_on_the_grid_and_ends_nearest_the_pointer():
    assert ne.drawn_note(60, 2.1, 2.1, 0.25) == Note(60, 2.0, 2.25, 100)  # a click: one step
    assert ne.drawn_note(60, 2.1, 3.4, 0.25, 90) == Note(60, 2.0, 3.5, 90)
    assert ne.drawn_note(60, 2.1, 3.3, 0.25) == Note(60, 2.0, 3.25, 100)
    assert ne.drawn_note(60, 2.1, 0.5, 0.5) == Note(60, 2.0, 2.5, 100)  # dragged left: shortest
    third = ne.drawn_note(60, 1.0, 1.9, 1 / 3)
    assert third.start == 1.0 and third.end == pytest.approx(2.0)
    # no grid: a click is DEFAULT_LENGTH long, a drag ends at the pointer
    assert ne.drawn_note(60, 2.1, 2.1, 0.0) == Note(60, 2.0, 2.0 + ne.DEFAULT_LENGTH, 100)
    assert ne.drawn_note(60, 2.1, 2.7, 0.0).end == pytest.approx(2.7)
    assert ne.drawn_note(60, 2.1, 1.0, 0.0).duration == pytest.approx(ne.MIN_LENGTH)
    # kept on the piano, never before the start, velocity in range
    assert ne.drawn_note(200, -3.0, -3.0, 0.25, 300) == Note(127, 0.0, 0.25, 127)
