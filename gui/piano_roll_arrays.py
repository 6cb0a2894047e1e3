"""One track's notes as numpy columns sorted by start, for finding what is on screen fast.

Built from the Song's note list whenever that list changes (the list stays the data; these
arrays are a derived index). `visible()` finds the notes overlapping a time window with two
binary searches: `start` is sorted, and `reach` (the running maximum of `end`) is
non-decreasing, so notes that began long before the window but still sound in it are found too.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from core.song import Note


class NoteArrays:
    __slots__ = ("notes", "pitch", "start", "end", "velocity", "reach")

    def __init__(self, notes: Sequence[Note]):
        self.notes = list(notes)
        columns = tuple(zip(*self.notes)) or ((), (), (), ())  # four tuples: fast to convert
        n = len(self.notes)
        self.pitch = np.fromiter(columns[0], dtype=np.float64, count=n).astype(np.int16)
        self.start = np.fromiter(columns[1], dtype=np.float64, count=n)
        self.end = np.fromiter(columns[2], dtype=np.float64, count=n)
        self.velocity = np.fromiter(columns[3], dtype=np.float64, count=n).astype(np.int16)
        if len(self.start) > 1 and np.any(self.start[1:] < self.start[:-1]):
            order = np.argsort(self.start, kind="stable")  # the Song keeps lists sorted; be safe
            self.notes = [self.notes[i] for i in order]
            self.pitch, self.start = self.pitch[order], self.start[order]
            self.end, self.velocity = self.end[order], self.velocity[order]
        self.reach = np.maximum.accumulate(self.end) if len(self.end) else self.end

    def __len__(self) -> int:
        return len(self.notes)

    def visible(self, beat0: float, beat1: float, pitch_lo: int = 0, pitch_hi: int = 127) -> np.ndarray:
        """Indices of notes that overlap [beat0, beat1) and lie within [pitch_lo, pitch_hi]."""
        if not len(self.notes):
            return np.zeros(0, dtype=np.intp)
        hi = int(np.searchsorted(self.start, beat1, side="left"))
        lo = int(np.searchsorted(self.reach, beat0, side="right"))
        if hi <= lo:
            return np.zeros(0, dtype=np.intp)
        p = self.pitch[lo:hi]
        mask = (self.end[lo:hi] > beat0) & (p >= pitch_lo) & (p <= pitch_hi)
        return np.flatnonzero(mask) + lo

    def at(self, beat: float, pitch: int) -> int | None:
        """Index of the note sounding at (beat, pitch); the latest-starting one wins."""
        idx = self.visible(beat, beat + 1e-9, pitch, pitch)
        idx = idx[self.start[idx] <= beat]
        return int(idx[-1]) if len(idx) else None

    def span(self) -> tuple[float, float, int, int] | None:
        """(first start, last end, lowest pitch, highest pitch), or None when empty."""
        if not len(self.notes):
            return None
        return (float(self.start[0]), float(self.reach[-1]), int(self.pitch.min()), int(self.pitch.max()))
