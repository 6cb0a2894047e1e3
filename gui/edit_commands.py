"""The piano roll's command layer: note edits as pure functions plus one undo command each.

The pure functions take a track's full note list and the selected notes (a multiset: identical
notes may appear twice) and return `(new_notes, new_selection)`. `NoteEdits` turns each of them
into exactly one `SetNotesCommand` pushed on the undo stack, named for what it does
("Move 3 notes"), so the Edit menu can say what will be undone. Nothing here keeps a copy of
the song's data between calls; the Song stays the single source of truth.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

from PySide6.QtGui import QUndoStack

from core.quantize import snap_down
from core.song import Note, Song
from gui.commands import SetNotesCommand

MIN_LENGTH = 1.0 / 32.0  # beats: the shortest note an edit may leave behind
DEFAULT_LENGTH = 0.25  # beats: a drawn note's length when snapping is off
MAX_PITCH = 127


def plural(count: int, word: str = "note") -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def clean(beat: float) -> float:
    """Round away float noise (triplet grids) so repeated snapping is stable."""
    return round(beat, 9) + 0.0


def snap_beat(beat: float, grid: float) -> float:
    return clean(round(beat / grid) * grid) if grid > 0 else clean(beat)


def floor_beat(beat: float, grid: float) -> float:
    return clean(snap_down(beat, grid))


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


# --------------------------------------------------------------------------- pure edits
def move_notes(notes: Sequence[Note], selected: Sequence[Note], d_beats: float,
               d_pitch: int) -> tuple[list[Note], list[Note]]:
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


def resize_notes(notes: Sequence[Note], selected: Sequence[Note], d_end: float,
                 min_length: float = MIN_LENGTH) -> tuple[list[Note], list[Note]]:
    """Move the end of every selected note by `d_end` beats, never shorter than `min_length`."""
    min_length = max(min_length, MIN_LENGTH)
    resized = [Note(n.pitch, n.start, clean(max(n.start + min_length, n.end + d_end)), n.velocity)
               for n in selected]
    return without(notes, selected) + resized, resized


def set_velocities(notes: Sequence[Note], changes: Sequence[tuple[Note, int]]
                   ) -> tuple[list[Note], list[Note]]:
    """Give each listed note a new velocity (clamped to 1..127)."""
    changed = [n._replace(velocity=max(1, min(127, int(v)))) for n, v in changes]
    return without(notes, [n for n, _ in changes]) + changed, changed


def quantise_notes(notes: Sequence[Note], selected: Sequence[Note], grid: float
                   ) -> tuple[list[Note], list[Note]]:
    """Snap each selected note's start to the grid, keeping its length."""
    out = []
    for n in selected:
        start = max(0.0, snap_beat(n.start, grid))
        out.append(Note(n.pitch, start, clean(start + n.duration), n.velocity))
    return without(notes, selected) + out, out


def duplicate_notes(notes: Sequence[Note], selected: Sequence[Note], grid: float
                    ) -> tuple[list[Note], list[Note]]:
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


def paste_notes(notes: Sequence[Note], clipboard: Sequence[Note], at: float
                ) -> tuple[list[Note], list[Note]]:
    pasted = [Note(n.pitch, clean(n.start + at), clean(n.end + at), n.velocity) for n in clipboard]
    return list(notes) + pasted, pasted


# --------------------------------------------------------------------------- commands
class NoteEditCommand(SetNotesCommand):
    """A note edit that also remembers which notes were selected before and after it, so an
    editor can select the notes an undo or redo brings back."""

    def __init__(self, song: Song, clip_id: str, track_id: str, new_notes: list[Note], text: str,
                 selected_before: Sequence[Note], selected_after: Sequence[Note]):
        super().__init__(song, clip_id, track_id, new_notes, text)
        self.selected_before = list(selected_before)
        self.selected_after = list(selected_after)


class NoteEdits:
    """Pushes one undo command per edit of one track in one clip.

    Every method returns the notes that should be selected afterwards. An edit that changes
    nothing pushes nothing (so the undo stack only holds real steps).
    """

    def __init__(self, song: Song, undo_stack: QUndoStack):
        self.song = song
        self.undo_stack = undo_stack

    def notes(self, clip_id: str, track_id: str) -> list[Note]:
        return list(self.song.clip(clip_id).track_notes(track_id))

    def _run(self, clip_id, track_id, result, text, taken_out: Sequence[Note] = ()) -> list[Note]:
        """Push `result` = (new notes, new selection) unless the edit changed nothing: the
        notes put in (the new selection) are the same as the notes `taken_out`."""
        new_notes, new_selection = result
        if Counter(new_selection) != Counter(taken_out):
            self.undo_stack.push(NoteEditCommand(self.song, clip_id, track_id, new_notes, text,
                                                 taken_out, new_selection))
        return new_selection

    def add(self, clip_id: str, track_id: str, new: Sequence[Note], text: str | None = None
            ) -> list[Note]:
        new = [n for n in new if 0 <= n.pitch <= MAX_PITCH and n.end > n.start >= 0]
        text = text or ("Add note" if len(new) == 1 else f"Add {plural(len(new))}")
        return self._run(clip_id, track_id, (self.notes(clip_id, track_id) + list(new), list(new)), text)

    def delete(self, clip_id: str, track_id: str, selected: Sequence[Note], verb: str = "Delete"
               ) -> list[Note]:
        selected = present(self.notes(clip_id, track_id), selected)
        self._run(clip_id, track_id, (without(self.notes(clip_id, track_id), selected), []),
                  f"{verb} {plural(len(selected))}", selected)
        return []

    def move(self, clip_id: str, track_id: str, selected: Sequence[Note], d_beats: float,
             d_pitch: int, text: str | None = None) -> list[Note]:
        selected = present(self.notes(clip_id, track_id), selected)
        return self._run(clip_id, track_id,
                         move_notes(self.notes(clip_id, track_id), selected, d_beats, d_pitch),
                         text or f"Move {plural(len(selected))}", selected)

    def transpose(self, clip_id: str, track_id: str, selected: Sequence[Note], semitones: int
                  ) -> list[Note]:
        size = "an octave" if abs(semitones) == 12 else plural(abs(semitones), "semitone")
        way = "up" if semitones > 0 else "down"
        return self.move(clip_id, track_id, selected, 0.0, semitones,
                         f"Transpose {plural(len(selected))} {way} {size}")

    def resize(self, clip_id: str, track_id: str, selected: Sequence[Note], d_end: float,
               min_length: float = MIN_LENGTH) -> list[Note]:
        selected = present(self.notes(clip_id, track_id), selected)
        return self._run(clip_id, track_id,
                         resize_notes(self.notes(clip_id, track_id), selected, d_end, min_length),
                         f"Resize {plural(len(selected))}", selected)

    def set_velocities(self, clip_id: str, track_id: str, changes: Sequence[tuple[Note, int]]
                       ) -> list[Note]:
        keep = present(self.notes(clip_id, track_id), [n for n, _ in changes])
        changes = [(n, v) for n, v in changes if n in keep]
        return self._run(clip_id, track_id, set_velocities(self.notes(clip_id, track_id), changes),
                         f"Change velocity of {plural(len(changes))}", [n for n, _ in changes])

    def quantise(self, clip_id: str, track_id: str, selected: Sequence[Note], grid: float,
                 grid_name: str = "") -> list[Note]:
        selected = present(self.notes(clip_id, track_id), selected)
        text = f"Quantise {plural(len(selected))}" + (f" to {grid_name}" if grid_name else "")
        return self._run(clip_id, track_id,
                         quantise_notes(self.notes(clip_id, track_id), selected, grid), text, selected)

    def duplicate(self, clip_id: str, track_id: str, selected: Sequence[Note], grid: float
                  ) -> list[Note]:
        selected = present(self.notes(clip_id, track_id), selected)
        return self._run(clip_id, track_id,
                         duplicate_notes(self.notes(clip_id, track_id), selected, grid),
                         f"Duplicate {plural(len(selected))}")

    def paste(self, clip_id: str, track_id: str, clipboard: Sequence[Note], at: float) -> list[Note]:
        return self._run(clip_id, track_id,
                         paste_notes(self.notes(clip_id, track_id), clipboard, max(0.0, at)),
                         f"Paste {plural(len(clipboard))}")
