"""Note edits as pure functions, without Qt: what the piano roll does to the notes of one track.

Every edit takes a track's full note list and the notes it acts on (the selection, a multiset:
identical notes may appear twice) and returns `(new_notes, new_selection)`, leaving its input
untouched, as core.arrangement does for sections. The GUI wraps each call in one undo command
(gui.edit_commands), so the song stays the single source of truth and an edit is testable
without a window.

Times are beats (quarter notes); a grid is a length in beats (0 or less: no grid). Edits keep
notes on the piano (pitch 0..127), never before beat 0 and never shorter than MIN_LENGTH.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

from core.quantize import snap_down
from core.song import Note

MIN_LENGTH = 1.0 / 32.0  # beats: the shortest note an edit may leave behind
DEFAULT_LENGTH = 0.25  # beats: a drawn note's length when snapping is off
MAX_PITCH = 127
MAX_VELOCITY = 127

Edit = tuple[list[Note], list[Note]]  # (new notes of the track, the notes selected afterwards)


# --------------------------------------------------------------------------- beats and grids
def clean(beat: float) -> float:
    """Round away float noise (triplet grids) so repeated snapping is stable."""
    return round(beat, 9) + 0.0


def snap_beat(beat: float, grid: float) -> float:
    """The grid line nearest to `beat` (the beat itself without a grid)."""
    return clean(round(beat / grid) * grid) if grid > 0 else clean(beat)


def floor_beat(beat: float, grid: float) -> float:
    """The grid line at or before `beat`."""
    return clean(snap_down(beat, grid))


# --------------------------------------------------------------------------- multisets of notes
def without(notes: Iterable[Note], remove: Iterable[Note]) -> list[Note]:
    """`notes` minus one occurrence of each note in `remove`."""
    counts = Counter(remove)
    out = []
    for n in notes:
        if counts[n] > 0:
            counts[n] -= 1
        else:
            out.append(n)
    return out


def present(notes: Iterable[Note], selection: Iterable[Note]) -> list[Note]:
    """The part of `selection` that is still in `notes` (respecting multiplicity)."""
    have = Counter(notes)
    out = []
    for n in selection:
        if have[n] > 0:
            have[n] -= 1
            out.append(n)
    return out


def playable(notes: Iterable[Note]) -> list[Note]:
    """The notes that can be added to a track: on the piano, starting at 0 or later, not empty."""
    return [n for n in notes if 0 <= n.pitch <= MAX_PITCH and n.end > n.start >= 0]


# --------------------------------------------------------------------------- edits
def drawn_note(pitch: int, press_beat: float, pointer_beat: float, grid: float,
               velocity: int = 100) -> Note:
    """The note a press at `press_beat` and a drag to `pointer_beat` draws (a click: the pointer
    has not moved). It starts on the grid line at or before the press and ends on the grid line
    nearest the pointer, at least one grid step long; without a grid it starts on the
    DEFAULT_LENGTH line (as a click does) and ends at the pointer, at least DEFAULT_LENGTH long
    for a click and MIN_LENGTH for a drag. Dragging left of the press keeps the shortest note."""
    step = grid if grid > 0 else DEFAULT_LENGTH
    start = floor_beat(max(0.0, press_beat), step)
    if grid > 0:
        end = max(start + grid, snap_beat(pointer_beat, grid))
    elif pointer_beat == press_beat:
        end = start + DEFAULT_LENGTH
    else:
        end = max(start + MIN_LENGTH, pointer_beat)
    pitch = max(0, min(MAX_PITCH, int(pitch)))
    return Note(pitch, start, clean(end), max(1, min(MAX_VELOCITY, int(velocity))))


def add_notes(notes: Sequence[Note], new: Iterable[Note]) -> Edit:
    """Add the playable ones of `new`; they become the selection."""
    added = playable(new)
    return list(notes) + added, added


def delete_notes(notes: Sequence[Note], selected: Sequence[Note]) -> Edit:
    """Remove the selected notes (those still there); nothing stays selected."""
    return without(notes, present(notes, selected)), []


def move_notes(notes: Sequence[Note], selected: Sequence[Note], d_beats: float,
               d_pitch: int) -> Edit:
    """Shift the selected notes in time and pitch; the group keeps its shape at the edges."""
    if not selected:
        return list(notes), []
    lo_pitch = min(n.pitch for n in selected)
    hi_pitch = max(n.pitch for n in selected)
    d_pitch = max(-lo_pitch, min(MAX_PITCH - hi_pitch, int(d_pitch)))
    first = min(n.start for n in selected)
    d_beats = max(-first, d_beats)
    moved = [Note(n.pitch + d_pitch, clean(n.start + d_beats), clean(n.end + d_beats), n.velocity)
             for n in selected]
    return without(notes, selected) + moved, moved


def transpose_notes(notes: Sequence[Note], selected: Sequence[Note], semitones: int) -> Edit:
    """Move the selected notes up (or down) by `semitones`, kept on the piano as a group."""
    return move_notes(notes, selected, 0.0, semitones)


def resize_notes(notes: Sequence[Note], selected: Sequence[Note], d_end: float,
                 min_length: float = MIN_LENGTH) -> Edit:
    """Move the end of every selected note by `d_end` beats, never shorter than `min_length`."""
    min_length = max(min_length, MIN_LENGTH)
    resized = [Note(n.pitch, n.start, clean(max(n.start + min_length, n.end + d_end)), n.velocity)
               for n in selected]
    return without(notes, selected) + resized, resized


def set_velocities(notes: Sequence[Note], changes: Sequence[tuple[Note, int]]) -> Edit:
    """Give each listed note a new velocity (clamped to 1..127)."""
    changed = [n._replace(velocity=max(1, min(MAX_VELOCITY, int(v)))) for n, v in changes]
    return without(notes, [n for n, _ in changes]) + changed, changed


def quantise_notes(notes: Sequence[Note], selected: Sequence[Note], grid: float) -> Edit:
    """Snap each selected note's start to the grid, keeping its length."""
    out = []
    for n in selected:
        start = max(0.0, snap_beat(n.start, grid))
        out.append(Note(n.pitch, start, clean(start + n.duration), n.velocity))
    return without(notes, selected) + out, out


def duplicate_notes(notes: Sequence[Note], selected: Sequence[Note], grid: float) -> Edit:
    """Copy the selection to just after itself (the span rounded up to the grid)."""
    if not selected:
        return list(notes), []
    span = max(n.end for n in selected) - min(n.start for n in selected)
    if grid > 0:
        span = clean(math.ceil(span / grid - 1e-9) * grid)
    copies = [Note(n.pitch, clean(n.start + span), clean(n.end + span), n.velocity) for n in selected]
    return list(notes) + copies, copies


def clipboard_from(selected: Sequence[Note]) -> list[Note]:
    """The selection with times made relative to its first start (what Copy keeps)."""
    if not selected:
        return []
    first = min(n.start for n in selected)
    return [Note(n.pitch, clean(n.start - first), clean(n.end - first), n.velocity) for n in selected]


def paste_notes(notes: Sequence[Note], clipboard: Sequence[Note], at: float) -> Edit:
    """The clipboard's notes placed from beat `at` (0 at the earliest); they become the selection."""
    at = max(0.0, at)
    pasted = [Note(n.pitch, clean(n.start + at), clean(n.end + at), n.velocity) for n in clipboard]
    return list(notes) + pasted, pasted
