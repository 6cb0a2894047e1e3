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


class SetTempoCommand(QUndoCommand):
    def __init__(self, song: Song, bpm: float):
        super().__init__(f"Set Tempo to {bpm:g} BPM")
        self.song = song
        self.old = song.tempo
        self.new = float(bpm)
        self.at = time.monotonic()

    def id(self) -> int:  # noqa: A003 - Qt's name
        return TEMPO_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, SetTempoCommand) or other.song is not self.song \
                or other.at - self.at > MERGE_SECONDS:
            return False
        self.new, self.at = other.new, other.at
        self.setText(other.text())
        return True

    def redo(self) -> None:
        self.song.set_tempo(self.new)

    def undo(self) -> None:
        self.song.set_tempo(self.old)


class SetTimeSignatureCommand(QUndoCommand):
    def __init__(self, song: Song, numerator: int, denominator: int):
        super().__init__(f"Set Time Signature to {numerator}/{denominator}")
        self.song = song
        sig = song.time_signatures[0]
        self.old = (sig.numerator, sig.denominator)
        self.new = (int(numerator), int(denominator))
        self.at = time.monotonic()

    def id(self) -> int:  # noqa: A003
        return METER_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, SetTimeSignatureCommand) or other.song is not self.song \
                or other.at - self.at > MERGE_SECONDS:
            return False
        self.new, self.at = other.new, other.at
        self.setText(other.text())
        return True

    def redo(self) -> None:
        self.song.set_time_signature(*self.new)

    def undo(self) -> None:
        self.song.set_time_signature(*self.old)


class SetVolumeCommand(QUndoCommand):
    """A track's volume; consecutive changes of the same track merge into one step."""

    def __init__(self, song: Song, track_id: str, volume: float):
        track = song.track(track_id)
        super().__init__(f"Set {track.name} Volume to {round(volume * 100)}%")
        self.song = song
        self.track_id = track_id
        self.old = track.volume
        self.new = min(max(float(volume), 0.0), 1.0)
        self.at = time.monotonic()

    def id(self) -> int:  # noqa: A003
        return VOLUME_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, SetVolumeCommand) or other.track_id != self.track_id \
                or other.song is not self.song or other.at - self.at > MERGE_SECONDS:
            return False
        self.new, self.at = other.new, other.at
        self.setText(other.text())
        return True

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
