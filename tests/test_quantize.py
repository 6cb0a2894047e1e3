"""Step grid, note quantisation, snapping and bar arithmetic."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.quantize import (GRIDS, bars_at, beats_to_steps, notes_to_steps, quantize_note, quantize_notes,
                           round_up_to_bar, snap, snap_down, steps_to_beats, steps_to_notes)
from core.song import Note, TimeSignature


def test_beats_and_steps():
    assert beats_to_steps(1.0) == 4 and beats_to_steps(2.5) == 10
    assert steps_to_beats(6) == 1.5
    assert beats_to_steps(1.0, 3) == 3 and steps_to_beats(3, 3) == 1.0


def test_quantize_full_strength():
    notes = [Note(60, 0.1, 0.9), Note(62, 1.13, 1.2, 99), Note(64, 2.374, 3.126)]
    out = quantize_notes(notes)
    assert out == [Note(60, 0.0, 1.0, 80), Note(62, 1.25, 1.5, 99), Note(64, 2.25, 3.25, 80)]
    # 1.13 -> 1.25 start; end 1.2 rounds to 1.25, so the note is stretched to one step


def test_quantize_half_strength_and_keep_duration():
    n = Note(60, 0.2, 0.7)
    half = quantize_note(n, strength=0.5)
    assert half.start == pytest.approx(0.225) and half.end == pytest.approx(0.725)
    kept = quantize_note(Note(60, 0.3, 0.41), quantize_ends=False)
    assert kept.start == 0.25 and kept.end == pytest.approx(0.36)
    assert quantize_note(n, strength=0.0) == n


def test_quantize_triplet_grid():
    assert quantize_note(Note(60, 0.35, 0.6), steps_per_quarter=3) == Note(60, 1 / 3, 2 / 3)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 500), st.floats(0.001, 20), st.integers(0, 127))
def test_quantized_notes_lie_on_grid_and_last_a_step(start, length, pitch):
    q = quantize_note(Note(pitch, start, start + length))
    assert q.start * 4 == pytest.approx(round(q.start * 4), abs=1e-9)
    assert q.end * 4 == pytest.approx(round(q.end * 4), abs=1e-9)
    assert q.end - q.start >= 0.25 - 1e-9
    assert abs(q.start - start) <= 0.125 + 1e-9


def test_steps_round_trip():
    notes = [Note(60, 0.0, 0.25), Note(64, 1.5, 3.0, 100), Note(67, 0.26, 0.27)]
    steps = notes_to_steps(notes)
    assert steps == [(60, 0, 1, 80), (67, 1, 2, 80), (64, 6, 12, 100)]
    assert steps_to_notes(steps) == [Note(60, 0.0, 0.25), Note(67, 0.25, 0.5), Note(64, 1.5, 3.0, 100)]


def test_snap():
    assert snap(1.13, 0.25) == 1.25 and snap(1.12, 0.25) == 1.0
    assert snap(0.125, 0.25) == 0.25  # halves go up
    assert snap(0.9, GRIDS["1/8 triplet"]) == pytest.approx(1.0)
    assert snap(0.4, GRIDS["1/8 triplet"]) == pytest.approx(1 / 3)
    assert snap(0.7, 0) == 0.7
    assert snap_down(0.99, 0.25) == 0.75 and snap_down(1.0, 0.25) == 1.0
    assert snap_down(2 / 3, 1 / 3) == pytest.approx(2 / 3)  # floating dust does not drop a line


def test_bars():
    four = [TimeSignature(0.0, 4, 4)]
    assert round_up_to_bar(four, 0.0) == 0 and round_up_to_bar(four, 0.1) == 4
    assert round_up_to_bar(four, 8.0) == 8 and bars_at(four, 10.0) == 2.5
    mixed = [TimeSignature(0.0, 3, 4), TimeSignature(6.0, 6, 8)]
    assert round_up_to_bar(mixed, 5.0) == 6.0
    assert round_up_to_bar(mixed, 6.5) == 9.0
    assert bars_at(mixed, 12.0) == 4.0
