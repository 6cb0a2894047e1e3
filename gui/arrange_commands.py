"""Undo commands for the timeline: arrangement edits, the song's tempo and metre, the mixer.

An arrangement edit is computed by a pure function in core.arrangement (new sections, maybe
new clips and tracks) and wrapped in one `ArrangeCommand`, so every timeline gesture is one
step on the undo stack. Tempo, time signature and volume commands merge with the one before
them when they change the same thing, so spinning a tempo box or sliding a fader is undone in
one step.
"""
from __future__ import annotations

import time

from PySide6.QtGui import QUndoCommand

from core.arrangement import ArrangementChange, apply_change, revert_change
from core.song import Section, Song

MERGE_SECONDS = 2.0  # changes closer together than this are one undo step

TEMPO_ID = 8001
METER_ID = 8002
VOLUME_ID = 8003


class ArrangeCommand(QUndoCommand):
    """Set the sections (adding any clips and tracks the change brings) and put them back on undo."""

    def __init__(self, song: Song, text: str, change: ArrangementChange | list[Section],
                 select: list[str] | None = None):
        super().__init__(text)
        self.song = song
        self.change = change if isinstance(change, ArrangementChange) else ArrangementChange(list(change))
        self.old_sections: list[Section] = list(song.sections)
        self.select = list(select or [])  # section ids the timeline selects after redo

    def redo(self) -> None:
        self.old_sections = apply_change(self.song, self.change)

    def undo(self) -> None:
        revert_change(self.song, self.change, self.old_sections)


class _MergingCommand(QUndoCommand):
    """A change of one setting (`old` -> `new`, made at `at`) that absorbs the next change of the
    same setting of the same song when it comes within MERGE_SECONDS, so one undo takes both back."""

    def __init__(self, text: str, song: Song, old, new):
        super().__init__(text)
        self.song, self.old, self.new = song, old, new
        self.at = time.monotonic()

    def _same_target(self, other: "_MergingCommand") -> bool:
        return True  # a song-wide setting; a per-track one compares its track

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, type(self)) or other.song is not self.song \
                or not self._same_target(other) or other.at - self.at > MERGE_SECONDS:
            return False
        self.new, self.at = other.new, other.at
        self.setText(other.text())
        return True


class SetTempoCommand(_MergingCommand):
    def __init__(self, song: Song, bpm: float):
        super().__init__(f"Set Tempo to {bpm:g} BPM", song, song.tempo, float(bpm))

    def id(self) -> int:  # noqa: A003 - Qt's name
        return TEMPO_ID

    def redo(self) -> None:
        self.song.set_tempo(self.new)

    def undo(self) -> None:
        self.song.set_tempo(self.old)


class SetTimeSignatureCommand(_MergingCommand):
    def __init__(self, song: Song, numerator: int, denominator: int):
        sig = song.time_signatures[0]
        super().__init__(f"Set Time Signature to {numerator}/{denominator}", song,
                         (sig.numerator, sig.denominator), (int(numerator), int(denominator)))

    def id(self) -> int:  # noqa: A003
        return METER_ID

    def redo(self) -> None:
        self.song.set_time_signature(*self.new)

    def undo(self) -> None:
        self.song.set_time_signature(*self.old)


class SetVolumeCommand(_MergingCommand):
    """A track's volume; consecutive changes of the same track merge into one step."""

    def __init__(self, song: Song, track_id: str, volume: float):
        track = song.track(track_id)
        super().__init__(f"Set {track.name} Volume to {round(volume * 100)}%", song,
                         track.volume, min(max(float(volume), 0.0), 1.0))
        self.track_id = track_id

    def id(self) -> int:  # noqa: A003
        return VOLUME_ID

    def _same_target(self, other: "SetVolumeCommand") -> bool:
        return other.track_id == self.track_id

    def redo(self) -> None:
        self.song.update_track(self.track_id, volume=self.new)

    def undo(self) -> None:
        self.song.update_track(self.track_id, volume=self.old)


class SetLoopCommand(QUndoCommand):
    """Set or clear the song's loop region."""

    def __init__(self, song: Song, loop: tuple[float, float] | None, text: str = "Set Loop"):
        super().__init__(text)
        self.song = song
        self.old = song.loop
        self.new = loop

    def redo(self) -> None:
        self.song.set_loop(*(self.new or (None,)))

    def undo(self) -> None:
        self.song.set_loop(*(self.old or (None,)))
