"""Undoable commands: one QUndoCommand per model operation (docs/architecture.md).

Every edit a user can make is a command that calls Song methods in redo() and restores the
previous state in undo(). A drag is pushed once, on release. Commands hold what they need to
undo (old note lists, old attribute values); notes are immutable tuples, so holding a list
of them is cheap and safe.

Prefer `SongCommand` with two closures for one-off edits; write a subclass when an edit needs
merging (QUndoCommand.id / mergeWith) or when undo needs data that only redo computes.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QUndoCommand

from core.song import Note, Song


class SongCommand(QUndoCommand):
    """A command made of a redo and an undo callable."""

    def __init__(self, text: str, redo: Callable[[], None], undo: Callable[[], None]):
        super().__init__(text)
        self._redo = redo
        self._undo = undo

    def redo(self) -> None:
        self._redo()

    def undo(self) -> None:
        self._undo()


class SetNotesCommand(QUndoCommand):
    """Replace the notes of one track in one clip (covers add, delete, move, resize, velocity)."""

    def __init__(self, song: Song, clip_id: str, track_id: str, new_notes: list[Note], text: str):
        super().__init__(text)
        self.song = song
        self.clip_id = clip_id
        self.track_id = track_id
        self.new_notes = list(new_notes)
        self.old_notes = list(song.clip(clip_id).track_notes(track_id))

    def redo(self) -> None:
        self.song.set_notes(self.clip_id, self.track_id, self.new_notes)

    def undo(self) -> None:
        self.song.set_notes(self.clip_id, self.track_id, self.old_notes)


class UpdateTrackCommand(QUndoCommand):
    def __init__(self, song: Song, track_id: str, text: str, **changes):
        super().__init__(text)
        self.song, self.track_id, self.changes = song, track_id, changes
        self.old = {k: getattr(song.track(track_id), k) for k in changes}

    def redo(self) -> None:
        self.song.update_track(self.track_id, **self.changes)

    def undo(self) -> None:
        self.song.update_track(self.track_id, **self.old)


class AddClipsCommand(QUndoCommand):
    """Add clips to the song's library, with any tracks they need that the song lacks.

    Tracks are made once (here), so redo after undo brings back the very same ids.
    With `deferred`, the first redo adds only the tracks and `land()` adds the clips a slice
    at a time (the caller calls it from a timer), so a big batch of generated clips does not
    freeze the window; undo in the middle removes what has landed and drops the rest.
    """

    def __init__(self, song: Song, clips, text: str, new_tracks=(), deferred: bool = False,
                 indices: list[int] | None = None):
        super().__init__(text)
        self.song = song
        self.clips = list(clips)
        self.new_tracks = list(new_tracks)
        # where each clip goes in the library's order (None: at the end); ascending, so each
        # index is counted in the library as it stands once the clips before it are in
        self.indices = list(indices) if indices is not None else [None] * len(self.clips)
        self._pending = list(self.clips) if deferred else []
        self._deferred = deferred

    def redo(self) -> None:
        for track in self.new_tracks:
            self.song.add_track(track)
        if self._deferred:
            self._deferred = False  # the first redo: land() adds the clips
            return
        self._pending = []
        for clip, index in zip(self.clips, self.indices):
            self.song.add_clip(clip, index)

    def land(self, max_notes: int) -> bool:
        """Add pending clips up to about max_notes notes; True while some are still pending."""
        notes = 0
        while self._pending and (notes == 0 or notes + self._pending[0].note_count() <= max_notes):
            clip = self._pending.pop(0)
            notes += clip.note_count()
            self.song.add_clip(clip)
        return bool(self._pending)

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def undo(self) -> None:
        self._pending = []
        for clip in reversed(self.clips):
            if clip.id in self.song.clips:
                self.song.remove_clip(clip.id)
        for track in reversed(self.new_tracks):
            if any(t.id == track.id for t in self.song.tracks):
                self.song.remove_track(track.id)


class RemoveClipsCommand(QUndoCommand):
    """Remove clips from the library as one step. Sections that used them keep their place
    with an empty slot (Song.remove_clip clears them); undo puts clips and sections back."""

    def __init__(self, song: Song, clip_ids: list[str], text: str = ""):
        ids = [c for c in dict.fromkeys(clip_ids) if c in song.clips]
        super().__init__(text or (f"Remove clip {song.clip(ids[0]).name}" if len(ids) == 1
                                  else f"Remove {len(ids)} clips"))
        self.song = song
        self.clips = [song.clip(c) for c in ids]
        self.old_sections = list(song.sections)
        self.places = {c: song.clip_index(c) for c in ids}  # undo puts each clip back in its place

    def redo(self) -> None:
        for clip in self.clips:
            if clip.id in self.song.clips:
                self.song.remove_clip(clip.id)

    def undo(self) -> None:
        for clip in sorted(self.clips, key=lambda c: self.places[c.id]):
            if clip.id not in self.song.clips:
                self.song.add_clip(clip, self.places[clip.id])
        self.song.set_sections(list(self.old_sections))
