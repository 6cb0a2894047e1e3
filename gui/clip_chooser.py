"""The toolbar's clip chooser: every clip of the song, showing and setting the session's
current clip (the one the piano roll shows).

Rows follow the song's events one at a time where they can: a burst of 64 generated clips
in a song of a thousand appends 64 rows instead of rebuilding the list 64 times.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from core.session import Session
from core.song import Clip, Song


class ClipChooser(QComboBox):
    def __init__(self, song: Song, session: Session, parent=None):
        super().__init__(parent)
        self.song = song
        self.session = session
        self.setObjectName("clipCombo")
        self.setMinimumWidth(260)
        self.setToolTip("The clip shown in the piano roll")
        self.activated.connect(lambda index: session.show_clip(self.itemData(index)))
        song.subscribe(self._on_song)
        session.subscribe(self._on_session, events=["current_clip"])
        self.refresh()

    def refresh(self) -> None:
        """Rebuild every row from the song."""
        was = self.blockSignals(True)
        self.clear()
        for clip in self.song.clips.values():
            self._add_row(clip)
        self.blockSignals(was)
        self._show_current()

    def _row_text(self, clip: Clip) -> str:
        bpb = self.song.beats_per_bar
        bars = clip.length / bpb if bpb else 0
        count = clip.note_count()
        return f"{clip.name}  ·  {bars:g} bars  ·  {count} note{'' if count == 1 else 's'}"

    def _add_row(self, clip: Clip) -> None:
        was = self.blockSignals(True)
        self.addItem(self._row_text(clip), clip.id)
        self.blockSignals(was)
        self.setEnabled(True)

    def _show_current(self) -> None:
        was = self.blockSignals(True)
        self.setCurrentIndex(max(self.findData(self.session.current_clip), 0))
        self.setEnabled(self.count() > 0)
        self.blockSignals(was)

    def _on_session(self, _event: str, clip_id: str | None) -> None:
        self._show_current()

    def _on_song(self, event: str, **details) -> None:
        clip_id = details.get("clip_id")
        if event == "clips_reordered" or (event == "clip_added" and details.get("index") is not None):
            self.refresh()  # put in the middle of the library (a duplicate, an undone removal)
        elif event == "clip_added" and clip_id in self.song.clips:
            self._add_row(self.song.clips[clip_id])  # one row more
            self._show_current()
        elif event == "clip_removed" and self.findData(clip_id) >= 0:
            was = self.blockSignals(True)  # undoing a batch: a row less each
            self.removeItem(self.findData(clip_id))
            self.blockSignals(was)
            self._show_current()
        elif event == "reset" or (event == "clip_changed" and details.get("track_id") is None):
            self.refresh()  # another song, or a clip renamed or resized
        elif event == "clip_changed" and clip_id in self.song.clips and self.findData(clip_id) >= 0:
            # notes of one track edited: only that row's note count changes
            self.setItemText(self.findData(clip_id), self._row_text(self.song.clips[clip_id]))
