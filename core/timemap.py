"""Tempo and metre maps: beats to seconds, and bar arithmetic, answered by binary search.

A song may hold any number of tempo and time-signature changes; a MIDI file from the internet
can hold one every tick. Walking the list for every question made a loop over the changes cost
the square of their count (10,000 changes took 42 s to describe). These maps are built once,
in O(n log n) (a sort, then a running sum), and each question costs O(log n).

Beats are quarter notes. Each time-signature change starts a new bar, as a score shows it: a
change in the middle of a bar closes that bar early, and the shortened bar still counts as one.
Values within `EPS` of a bar line are on it, so beats computed as ticks / resolution give
whole bar counts, not 968.999.

Nothing here imports the Song: the maps take any objects with `.beat` and `.bpm`
(tempo changes) or `.beat`, `.numerator`, `.denominator` (time signatures).
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Iterable

EPS = 1e-9
DEFAULT_BPM = 120.0
DEFAULT_BEATS_PER_BAR = 4.0


class TempoMap:
    """Beat <-> seconds over a list of tempo changes (sorted here; the first starts the song)."""

    def __init__(self, tempos: Iterable):
        changes = sorted(((float(t.beat), float(t.bpm)) for t in tempos), key=lambda c: c[0])
        if not changes:
            changes = [(0.0, DEFAULT_BPM)]
        self.beats = [b for b, _ in changes]
        self.bpms = [bpm for _, bpm in changes]
        # seconds at each change, summed in the same order as Song.beat_to_seconds walks them
        self.seconds = [0.0] * len(changes)
        total = 0.0
        for i in range(1, len(changes)):
            total += (self.beats[i] - self.beats[i - 1]) * 60.0 / self.bpms[i - 1]
            self.seconds[i] = total

    def seconds_at(self, beat: float) -> float:
        """Seconds from the start of the song to `beat`."""
        i = max(bisect_left(self.beats, beat) - 1, 0)  # the change in force just before `beat`
        return self.seconds[i] + (beat - self.beats[i]) * 60.0 / self.bpms[i]

    def beat_at(self, seconds: float) -> float:
        """The beat reached after `seconds` (the inverse of `seconds_at`)."""
        i = max(bisect_left(self.seconds, seconds) - 1, 0)
        return self.beats[i] + (seconds - self.seconds[i]) * self.bpms[i] / 60.0


class MeterMap:
    """Bar arithmetic over a list of time signatures (4/4 before the first one)."""

    def __init__(self, time_signatures: Iterable):
        segs = sorted(((float(ts.beat), ts.numerator * 4.0 / ts.denominator) for ts in time_signatures),
                      key=lambda s: s[0])
        if not segs or segs[0][0] > 0:
            segs.insert(0, (0.0, DEFAULT_BEATS_PER_BAR))
        self.starts = [s for s, _ in segs]
        self.beats_per_bar = [bpb for _, bpb in segs]
        # bars that lie wholly before each segment; a part bar cut short by a change is one bar
        self.bars_before = [0] * len(segs)
        total = 0
        for i in range(1, len(segs)):
            span = self.starts[i] - self.starts[i - 1]
            total += max(math.ceil(span / self.beats_per_bar[i - 1] - EPS), 0)
            self.bars_before[i] = total

    def _segment(self, beat: float) -> int:
        """The segment in force at `beat`; the last of several starting at one beat wins."""
        return max(bisect_right(self.starts, beat + EPS) - 1, 0)

    def bars_at(self, beat: float) -> float:
        """Bars from beat 0 to `beat`, a fraction inside a bar; whole at every bar line."""
        i = self._segment(beat)
        part = max(beat - self.starts[i], 0.0) / self.beats_per_bar[i]
        whole = round(part)
        if abs(part - whole) * self.beats_per_bar[i] < 1e-7:
            part = whole
        return self.bars_before[i] + part

    def round_up_to_bar(self, beat: float) -> float:
        """The first bar line at or after `beat`."""
        i = self._segment(beat)
        start, bpb = self.starts[i], self.beats_per_bar[i]
        line = start + max(math.ceil((beat - start) / bpb - EPS), 0) * bpb
        if i + 1 < len(self.starts):
            line = min(line, self.starts[i + 1])
        return line

