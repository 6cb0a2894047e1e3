"""Grids: beats <-> 16th-note steps, note quantisation, and a general snap helper.

Beats are quarter notes. The model grid has `STEPS_PER_QUARTER` (4) steps per beat, so one
step is a 16th note. `snap` works on any grid given in beats, triplets included (a triplet
eighth is 1/3 beat), and is what the piano roll uses for mouse positions.
"""
from __future__ import annotations

import math
from typing import Iterable

from core.song import STEPS_PER_QUARTER, Note, sort_notes
from core.timemap import MeterMap

# Grid names a user picks from, in beats.
GRIDS: dict[str, float] = {
    "1 bar (4/4)": 4.0,
    "1/2": 2.0,
    "1/4": 1.0,
    "1/8": 0.5,
    "1/16": 0.25,
    "1/32": 0.125,
    "1/4 triplet": 2.0 / 3.0,
    "1/8 triplet": 1.0 / 3.0,
    "1/16 triplet": 1.0 / 6.0,
}

# Tolerance for values that sit on a grid line but carry floating-point dust.
_EPS = 1e-9


def _round_half_up(x: float) -> int:
    """Nearest integer, halves going up (Python's round() goes to even)."""
    return int(math.floor(x + 0.5 + _EPS))


def beats_to_steps(beats: float, steps_per_quarter: int = STEPS_PER_QUARTER) -> float:
    return beats * steps_per_quarter


def steps_to_beats(steps: float, steps_per_quarter: int = STEPS_PER_QUARTER) -> float:
    return steps / steps_per_quarter


def snap(value: float, grid: float) -> float:
    """The grid line nearest to `value` (grid in beats). A grid <= 0 leaves the value as it is."""
    if grid <= 0:
        return float(value)
    return _round_half_up(value / grid) * grid


def snap_down(value: float, grid: float) -> float:
    """The grid line at or before `value` (for placing a note under the mouse)."""
    if grid <= 0:
        return float(value)
    return math.floor(value / grid + _EPS) * grid


def quantize_note(note: Note, steps_per_quarter: int = STEPS_PER_QUARTER, strength: float = 1.0,
                  quantize_ends: bool = True) -> Note:
    """One note moved towards the step grid.

    With `strength` 1 the start (and the end, when `quantize_ends`) land on grid lines; with a
    smaller strength they move that fraction of the way. A fully quantised note is at least one
    step long. Without `quantize_ends` the note keeps its duration.
    """
    step = 1.0 / steps_per_quarter
    strength = min(max(float(strength), 0.0), 1.0)
    qs = _round_half_up(note.start * steps_per_quarter) * step
    if quantize_ends:
        qe = _round_half_up(note.end * steps_per_quarter) * step
        if qe - qs < step - _EPS:
            qe = qs + step
    else:
        qe = qs + note.duration
    start = note.start + strength * (qs - note.start)
    end = note.end + strength * (qe - note.end)
    if end <= start:  # only reachable for notes that were empty to begin with
        end = start + step * max(strength, 1e-3)
    return Note(note.pitch, start, end, note.velocity)


def quantize_notes(notes: Iterable[Note], steps_per_quarter: int = STEPS_PER_QUARTER,
                   strength: float = 1.0, quantize_ends: bool = True) -> list[Note]:
    """Every note quantised (see `quantize_note`), sorted by start then pitch."""
    return sort_notes(quantize_note(n, steps_per_quarter, strength, quantize_ends) for n in notes)


def notes_to_steps(notes: Iterable[Note], steps_per_quarter: int = STEPS_PER_QUARTER
                   ) -> list[tuple[int, int, int, int]]:
    """Notes as integer (pitch, start_step, end_step, velocity), each at least one step long."""
    out = []
    for n in quantize_notes(notes, steps_per_quarter):
        s = _round_half_up(n.start * steps_per_quarter)
        e = max(_round_half_up(n.end * steps_per_quarter), s + 1)
        out.append((int(n.pitch), s, e, int(n.velocity)))
    return out


def steps_to_notes(steps: Iterable[tuple[int, int, int, int]],
                   steps_per_quarter: int = STEPS_PER_QUARTER) -> list[Note]:
    """The inverse of `notes_to_steps`: integer steps back to notes in beats."""
    return sort_notes(Note(int(p), s / steps_per_quarter, e / steps_per_quarter, int(v))
                      for p, s, e, v in steps)


# ----------------------------------------------------------------- bars
def bars_at(time_signatures, beat: float) -> float:
    """How many bars (a fraction for a partial bar) lie between beat 0 and `beat`.

    Each time signature change starts a new bar, as a score would show it. One question
    costs a pass over the list; to ask many, build a core.timemap.MeterMap once.
    """
    return MeterMap(time_signatures).bars_at(beat)


def round_up_to_bar(time_signatures, beat: float) -> float:
    """The first bar line at or after `beat` (each time signature change starts a bar)."""
    return MeterMap(time_signatures).round_up_to_bar(beat)
