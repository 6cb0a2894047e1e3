"""The piano roll's command layer: one undo command per note edit.

The edits themselves are pure functions in core.note_edits (a track's notes and a selection
in, `(new_notes, new_selection)` out). `NoteEdits` calls one of them and pushes the result as
exactly one `SetNotesCommand`, named for what it does ("Move 3 notes"), so the Edit menu can
say what will be undone. Nothing here keeps a copy of the song's data between calls; the Song
stays the single source of truth.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

from PySide6.QtGui import QUndoStack

from core import note_edits as ne
# The piano roll's widgets import these helpers from here; they are core.note_edits' own.
from core.note_edits import (DEFAULT_LENGTH, MIN_LENGTH, clipboard_from, drawn_note,  # noqa: F401
                             floor_beat, move_notes, present, resize_notes, set_velocities,
                             snap_beat, without)
from core.song import Note, Song
from gui.commands import SetNotesCommand


def plural(count: int, word: str = "note") -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


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

    def _selected(self, clip_id: str, track_id: str, selected: Sequence[Note]) -> list[Note]:
        return ne.present(self.notes(clip_id, track_id), selected)

    def add(self, clip_id: str, track_id: str, new: Sequence[Note], text: str | None = None
            ) -> list[Note]:
        result = ne.add_notes(self.notes(clip_id, track_id), new)
        count = len(result[1])
        return self._run(clip_id, track_id, result, text or ("Add note" if count == 1 else f"Add {plural(count)}"))

    def delete(self, clip_id: str, track_id: str, selected: Sequence[Note], verb: str = "Delete"
               ) -> list[Note]:
        selected = self._selected(clip_id, track_id, selected)
        self._run(clip_id, track_id, ne.delete_notes(self.notes(clip_id, track_id), selected),
                  f"{verb} {plural(len(selected))}", selected)
        return []

    def move(self, clip_id: str, track_id: str, selected: Sequence[Note], d_beats: float,
             d_pitch: int, text: str | None = None) -> list[Note]:
        selected = self._selected(clip_id, track_id, selected)
        return self._run(clip_id, track_id,
                         ne.move_notes(self.notes(clip_id, track_id), selected, d_beats, d_pitch),
                         text or f"Move {plural(len(selected))}", selected)

    def transpose(self, clip_id: str, track_id: str, selected: Sequence[Note], semitones: int
                  ) -> list[Note]:
        selected = self._selected(clip_id, track_id, selected)
        size = "an octave" if abs(semitones) == 12 else plural(abs(semitones), "semitone")
        way = "up" if semitones > 0 else "down"
        return self._run(clip_id, track_id,
                         ne.transpose_notes(self.notes(clip_id, track_id), selected, semitones),
                         f"Transpose {plural(len(selected))} {way} {size}", selected)

    def resize(self, clip_id: str, track_id: str, selected: Sequence[Note], d_end: float,
               min_length: float = ne.MIN_LENGTH) -> list[Note]:
        selected = self._selected(clip_id, track_id, selected)
        return self._run(clip_id, track_id,
                         ne.resize_notes(self.notes(clip_id, track_id), selected, d_end, min_length),
                         f"Resize {plural(len(selected))}", selected)

    def set_velocities(self, clip_id: str, track_id: str, changes: Sequence[tuple[Note, int]]
                       ) -> list[Note]:
        keep = self._selected(clip_id, track_id, [n for n, _ in changes])
        changes = [(n, v) for n, v in changes if n in keep]
        return self._run(clip_id, track_id, ne.set_velocities(self.notes(clip_id, track_id), changes),
                         f"Change velocity of {plural(len(changes))}", [n for n, _ in changes])

    def quantise(self, clip_id: str, track_id: str, selected: Sequence[Note], grid: float,
                 grid_name: str = "") -> list[Note]:
        selected = self._selected(clip_id, track_id, selected)
        text = f"Quantise {plural(len(selected))}" + (f" to {grid_name}" if grid_name else "")
        return self._run(clip_id, track_id,
                         ne.quantise_notes(self.notes(clip_id, track_id), selected, grid), text, selected)

    def duplicate(self, clip_id: str, track_id: str, selected: Sequence[Note], grid: float
                  ) -> list[Note]:
        selected = self._selected(clip_id, track_id, selected)
        return self._run(clip_id, track_id,
                         ne.duplicate_notes(self.notes(clip_id, track_id), selected, grid),
                         f"Duplicate {plural(len(selected))}")

    def paste(self, clip_id: str, track_id: str, clipboard: Sequence[Note], at: float) -> list[Note]:
        return self._run(clip_id, track_id, ne.paste_notes(self.notes(clip_id, track_id), clipboard, at),
                         f"Paste {plural(len(clipboard))}")
