"""What the piano roll's widgets share: the selection, the snap grid, the zoom and scroll
position, the playhead, and a transient drag preview.

Which clip is shown and which tracks are shown and edited are the session's (core.session):
`clip_id`, `visible_tracks` and `edit_track` read it, and the setters here write it, so the
piano roll, the track list and the window never hold copies of their own.
The Song stays the only copy of the notes. The state keeps a derived index per visible track
(`NoteArrays`), rebuilt lazily after the Song announces a change, and the selection as a list
of notes that is trimmed to what still exists after every change (undo included).
"""
from __future__ import annotations

import weakref
from typing import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.session import Session
from core.song import Clip, Note, Song, Track
from gui.edit_commands import NoteEditCommand, NoteEdits, present
from gui.piano_roll_arrays import NoteArrays

SNAP_CHOICES = (("1/4", 1.0), ("1/8", 0.5), ("1/16", 0.25), ("1/32", 0.125),
                ("1/8T", 1.0 / 3.0), ("1/16T", 1.0 / 6.0), ("Off", 0.0))
ROWS = 128


class RollState(QObject):
    notes_changed = Signal()  # note data, the clip, or the visible / edited tracks changed
    selection_changed = Signal()
    view_changed = Signal()  # zoom or scroll
    playhead_changed = Signal(float)
    preview_changed = Signal()
    tracks_changed = Signal()  # the song's tracks were added, removed, renamed or replaced

    def __init__(self, song: Song, undo_stack: QUndoStack, session: Session):
        super().__init__()
        self.song = song
        self.session = session
        self.edits = NoteEdits(song, undo_stack)
        self.selection: list[Note] = []
        self.snap = 0.25
        self.snap_name = "1/16"
        self.playhead = 0.0
        self.playhead_shown = True  # False while what plays (or would play) is not this clip
        self.px_per_beat = 48.0
        self.row_h = 14.0
        self.scroll_x = 0.0  # beat at the left edge
        self.scroll_y = 0.0  # pixels from the top of the highest row
        self.view_w = 800.0  # the roll's size in pixels, kept up to date by the roll widget
        self.view_h = 600.0
        self.preview_notes: list[Note] | None = None  # edit track's notes while dragging
        self.preview_selection: list[Note] = []
        self._undo_index = undo_stack.index()
        self._arrays: dict[str, NoteArrays] = {}
        self._preview_arrays: NoteArrays | None = None
        self._subscribe()
        session.subscribe(self._on_session, events=["current_clip", "visible_tracks", "edit_track"])

    # ----------------------------------------------------------------- the session's choices
    @property
    def clip_id(self) -> str | None:
        return self.session.current_clip

    @property
    def visible_tracks(self) -> list[str]:
        return self.session.visible_tracks

    @property
    def edit_track(self) -> str | None:
        return self.session.edit_track

    def _on_session(self, event: str, **_details) -> None:
        if event == "visible_tracks":
            self.notes_changed.emit()
            return
        if event == "current_clip":
            self._arrays.clear()
        self.clear_preview()
        self.set_selection([])
        self.notes_changed.emit()

    # ----------------------------------------------------------------- song events
    def _subscribe(self) -> None:
        me = weakref.ref(self)
        song = self.song

        def on_event(event: str, **details) -> None:
            state = me()
            if state is None:
                song.unsubscribe(on_event)
                return
            try:
                state._on_song_event(event, **details)
            except RuntimeError as exc:
                if "already deleted" not in str(exc):
                    raise
                song.unsubscribe(on_event)  # the Qt side is gone

        self._listener = on_event
        song.subscribe(on_event)

        # The stack may be destroyed while this object is being freed (it holds the stack), and
        # it emits indexChanged as it goes: reach the state through a weak reference only.
        def on_index(index: int) -> None:
            state = me()
            if state is not None:
                state._on_undo_index(index)

        self._index_listener = on_index
        self.edits.undo_stack.indexChanged.connect(on_index)

    def detach(self) -> None:
        """Stop listening to the song and the undo stack (the editor is going away)."""
        self.song.unsubscribe(self._listener)
        try:
            self.edits.undo_stack.indexChanged.disconnect(self._index_listener)
        except (RuntimeError, TypeError):  # already gone
            pass

    def _on_song_event(self, event: str, **details) -> None:
        if event == "clip_changed" and details.get("clip_id") == self.clip_id:
            tid = details.get("track_id")
            if tid is None:
                self._arrays.clear()
            else:
                self._arrays.pop(tid, None)
            self._trim_selection()
            self.notes_changed.emit()
        elif event in ("clip_removed", "reset", "tracks"):
            self._arrays.clear()
            self._trim_selection()
            self.tracks_changed.emit()
            self.notes_changed.emit()
        elif event == "tempo":  # time signature changes move the bar lines
            self.notes_changed.emit()

    def _on_undo_index(self, index: int) -> None:
        """After an undo or redo of a note edit here, select the notes it brought back."""
        undone = index < self._undo_index
        self._undo_index = index
        try:
            command = self.edits.undo_stack.command(index if undone else index - 1)
        except RuntimeError:  # the stack is being destroyed
            return
        if (isinstance(command, NoteEditCommand) and command.clip_id == self.clip_id
                and command.track_id == self.edit_track):
            chosen = command.selected_before if undone else command.selected_after
            self.set_selection(present(self.edit_notes(), chosen))

    def _trim_selection(self) -> None:
        kept = present(self.edit_notes(), self.selection)
        if len(kept) != len(self.selection):
            self.selection = kept
            self.selection_changed.emit()

    # ----------------------------------------------------------------- what is shown
    def clip(self) -> Clip | None:
        return self.song.clips.get(self.clip_id) if self.clip_id else None

    def set_clip(self, clip_id: str | None) -> None:
        """Show a clip (the session's current clip; an unknown id shows none)."""
        self.session.current_clip = clip_id if clip_id in self.song.clips else None

    def set_visible_tracks(self, track_ids: Sequence[str]) -> None:
        """Show these tracks (the edited one is always shown)."""
        self.session.set_visible_tracks(track_ids)

    def set_edit_track(self, track_id: str | None) -> None:
        """Edit this track (KeyError for a track the song does not have)."""
        self.session.edit_track = track_id

    def track_index(self, track_id: str) -> int:
        for i, t in enumerate(self.song.tracks):
            if t.id == track_id:
                return i
        return 0

    def edited_track(self) -> Track | None:
        try:
            return self.song.track(self.edit_track) if self.edit_track else None
        except KeyError:
            return None

    def is_drum_view(self) -> bool:
        t = self.edited_track()
        return bool(t and t.is_drum)

    def drawn_tracks(self) -> list[str]:
        """The visible tracks whose notes the roll draws: those whose rows mean the same as the
        edited track's. On a drum track's rows a pitch names an instrument ("40 Electric
        Snare"), so a melody note drawn there, even dimmed, reads as a drum hit; and a drum
        note on piano rows reads as a low bass note. Hiding them reads clearer than dimming:
        every note on a row means what the row's label says. Other drum tracks still show
        (dimmed) in the drum view and other pitched tracks in a pitched view."""
        drums = self.is_drum_view()
        kinds = {t.id: t.is_drum for t in self.song.tracks}
        return [tid for tid in self.visible_tracks
                if tid == self.edit_track or kinds.get(tid, False) == drums]

    def can_edit(self) -> bool:
        return self.clip() is not None and self.edited_track() is not None

    # ----------------------------------------------------------------- notes
    def arrays(self, track_id: str) -> NoteArrays:
        arr = self._arrays.get(track_id)
        if arr is None:
            clip = self.clip()
            arr = NoteArrays(clip.track_notes(track_id) if clip else [])
            self._arrays[track_id] = arr
        return arr

    def draw_arrays(self, track_id: str) -> NoteArrays:
        """What to draw for a track: the drag preview for the edited track while dragging."""
        if track_id == self.edit_track and self._preview_arrays is not None:
            return self._preview_arrays
        return self.arrays(track_id)

    def drawn_selection(self) -> list[Note]:
        return self.preview_selection if self.preview_notes is not None else self.selection

    def edit_notes(self) -> list[Note]:
        clip = self.clip()
        return list(clip.track_notes(self.edit_track)) if clip and self.edit_track else []

    def set_preview(self, notes: list[Note] | None, selection: Sequence[Note] = ()) -> None:
        self.preview_notes = notes
        self.preview_selection = list(selection)
        self._preview_arrays = NoteArrays(notes) if notes is not None else None
        self.preview_changed.emit()

    def clear_preview(self) -> None:
        if self.preview_notes is not None:
            self.set_preview(None)

    def set_selection(self, notes: Sequence[Note]) -> None:
        notes = list(notes)
        if notes != self.selection:
            self.selection = notes
            self.selection_changed.emit()

    def content_beats(self) -> float:
        """How far the roll reaches: the clip length, the last note or the playhead."""
        clip = self.clip()
        end = max(clip.length if clip else 0.0, self.playhead)
        for tid in self.visible_tracks:
            span = self.arrays(tid).span()
            if span:
                end = max(end, span[1])
        return max(end, self.song.beats_per_bar * 4)

    # ----------------------------------------------------------------- geometry
    def x_of(self, beat: float) -> float:
        return (beat - self.scroll_x) * self.px_per_beat

    def beat_at(self, x: float) -> float:
        return x / self.px_per_beat + self.scroll_x

    def y_of(self, pitch: float) -> float:
        """Top of a pitch's row."""
        return (ROWS - 1 - pitch) * self.row_h - self.scroll_y

    def pitch_at(self, y: float) -> int:
        return max(0, min(ROWS - 1, ROWS - 1 - int((y + self.scroll_y) // self.row_h)))

    def set_view(self, *, px_per_beat=None, row_h=None, scroll_x=None, scroll_y=None) -> None:
        """Change zoom and scroll, clamped to sensible limits for the roll's current size."""
        width, height = self.view_w, self.view_h
        if px_per_beat is not None:
            self.px_per_beat = max(2.0, min(800.0, float(px_per_beat)))
        if row_h is not None:
            self.row_h = max(4.0, min(48.0, float(row_h)))
        if scroll_x is not None:
            self.scroll_x = float(scroll_x)
        if scroll_y is not None:
            self.scroll_y = float(scroll_y)
        # room for four empty bars after the music, to drag notes there
        max_x = max(0.0, self.content_beats() + 4 * self.song.beats_per_bar - width / self.px_per_beat)
        self.scroll_x = max(0.0, min(max_x, self.scroll_x))
        max_y = max(0.0, ROWS * self.row_h - height)
        self.scroll_y = max(0.0, min(max_y, self.scroll_y))
        self.view_changed.emit()

    def zoom_x(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom time by `factor`, keeping the beat under `anchor_x` (pixels) in place."""
        anchor_x = self.view_w / 2 if anchor_x is None else anchor_x
        beat = self.beat_at(anchor_x)
        ppb = max(2.0, min(800.0, self.px_per_beat * factor))
        self.set_view(px_per_beat=ppb, scroll_x=beat - anchor_x / ppb)

    def zoom_y(self, factor: float, anchor_y: float | None = None) -> None:
        anchor_y = self.view_h / 2 if anchor_y is None else anchor_y
        rows = (anchor_y + self.scroll_y) / self.row_h
        rh = max(4.0, min(48.0, self.row_h * factor))
        self.set_view(row_h=rh, scroll_y=rows * rh - anchor_y)

    def zoom_to_fit(self) -> None:
        """Show the whole clip across, and the pitch range of its visible notes down."""
        lo, hi = 127, 0
        for tid in self.drawn_tracks():
            span = self.arrays(tid).span()
            if span:
                lo, hi = min(lo, span[2]), max(hi, span[3])
        if lo > hi:
            lo, hi = 48, 84
        lo, hi = max(0, lo - 2), min(ROWS - 1, hi + 2)
        beats = self.content_beats()
        ppb = max(2.0, min(800.0, (self.view_w - 8) / max(beats, 1.0)))
        rh = max(4.0, min(48.0, self.view_h / (hi - lo + 1)))
        self.px_per_beat, self.row_h = ppb, rh
        centre = (ROWS - 1 - (lo + hi) / 2 + 0.5) * rh
        self.set_view(scroll_x=0.0, scroll_y=centre - self.view_h / 2)

    def centre_on_notes(self) -> None:
        """Scroll vertically so the edited (or first visible) track's notes are in view."""
        for tid in ([self.edit_track] if self.edit_track else []) + self.drawn_tracks():
            span = self.arrays(tid).span()
            if span:
                mid = (span[2] + span[3]) / 2
                self.set_view(scroll_y=(ROWS - 1 - mid + 0.5) * self.row_h - self.view_h / 2)
                return
        self.set_view(scroll_y=(ROWS - 1 - 66) * self.row_h - self.view_h / 2)

    def set_playhead(self, beat: float) -> None:
        beat = max(0.0, float(beat))
        if beat != self.playhead or not self.playhead_shown:
            self.playhead = beat
            self.playhead_shown = True
            self.playhead_changed.emit(beat)

    def hide_playhead(self) -> None:
        """No playhead line: the position playback reports is not in this clip (another clip
        is auditioned, or the song is at a section that plays another clip). The beat is kept
        (Paste still goes there) until the next set_playhead."""
        if self.playhead_shown:
            self.playhead_shown = False
            self.playhead_changed.emit(self.playhead)
