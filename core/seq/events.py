"""The event vocabulary of the sequence models (continue and infill).

One stream for all parts, with track tokens inside each bar. Why one stream and not one per
part: continuing or rewriting a bar of a trio needs the bass to hear the melody of the same bar
and the drums to hear both; with one stream the model attends across parts directly, and a
melody alone is simply a stream with one track. Inside a bar the parts follow each other
(melody, bass, drums), as MMM's bar-major layout does, so a bar is one unit that infilling can
name, move and rewrite.

    BAR  TRK_melody POS_0 PITCH_67 DUR_4  POS_4 PITCH_69 DUR_2 ...  TRK_bass ...  TRK_drums POS_0 PITCH_36 PITCH_42 ...

- Time is the app's 16th-note grid (4 steps a beat, 16 a 4/4 bar). POS_s is the step inside the
  bar where the following notes start; it is written only when it changes.
- A note is PITCH_p then DUR_d (d steps, 1..MAX_DUR) for melody and bass; drum hits are PITCH_p
  alone (a drum hit is one step long, as the drum corpus writes them).
- Every part of the piece writes its TRK token in every bar, even an empty bar, so a stream says
  which parts it holds and a continuation keeps to them.
- No velocity tokens: the corpus melodies and basses have one velocity, and the drum corpus'
  velocities are random humanisation around each cell's level, nothing a model can learn from.
  Decoding gives each part a velocity (the prompt's, when there is one).

Round trip: notes on the grid whose duration is at most MAX_DUR steps decode to exactly the
notes encoded (velocity aside). Off-grid times are rounded to the nearest step, longer notes
are cut to MAX_DUR steps.

Infilling ("fill in the middle", MMM's recipe): the bars to rewrite are taken out, one HOLE token
stands in for each of them, and they are appended behind a FILL marker:

    BOS  bars before  HOLE HOLE  bars after  FILL  missing bar 1  missing bar 2  EOS

so a left-to-right model that has read everything around the gap writes the gap last.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from core.song import Note, sort_notes

STEPS_PER_BEAT = 4
STEPS_PER_BAR = 16
BAR_BEATS = 4.0
MAX_DUR = 32  # steps (two bars)
PARTS = ("melody", "bass", "drums")

PAD, BOS, EOS, BAR, HOLE, FILL = 0, 1, 2, 3, 4, 5
TRK0 = 6
POS0 = TRK0 + len(PARTS)
PITCH0 = POS0 + STEPS_PER_BAR
DUR0 = PITCH0 + 128
VOCAB_SIZE = DUR0 + MAX_DUR  # DUR_d is DUR0 + d - 1

DEFAULT_VELOCITY = {"melody": 90, "bass": 85, "drums": 90}


def trk(part: str) -> int:
    return TRK0 + PARTS.index(part)


def token_name(t: int) -> str:
    """A readable name for a token id (for messages and debugging)."""
    t = int(t)
    names = {PAD: "PAD", BOS: "BOS", EOS: "EOS", BAR: "BAR", HOLE: "HOLE", FILL: "FILL"}
    if t in names:
        return names[t]
    if TRK0 <= t < POS0:
        return "TRK_" + PARTS[t - TRK0]
    if POS0 <= t < PITCH0:
        return f"POS_{t - POS0}"
    if PITCH0 <= t < DUR0:
        return f"PITCH_{t - PITCH0}"
    if DUR0 <= t < VOCAB_SIZE:
        return f"DUR_{t - DUR0 + 1}"
    return f"?{t}"


def bar_count(length_beats: float) -> int:
    return max(1, int(math.ceil(length_beats / BAR_BEATS - 1e-9)))


def _step(beats: float) -> int:
    return int(round(beats * STEPS_PER_BEAT))


def encode_bar(parts: Mapping[str, Sequence[Note]], bar: int, order: Sequence[str] | None = None,
               transpose: int = 0) -> list[int]:
    """The tokens of one bar (BAR first) for the given parts; notes starting in the bar count."""
    out = [BAR]
    lo, hi = bar * STEPS_PER_BAR, (bar + 1) * STEPS_PER_BAR
    for part in (order or [p for p in PARTS if p in parts]):
        out.append(trk(part))
        drums = part == "drums"
        events = []
        for n in parts.get(part, ()):
            s = _step(n.start)
            if lo <= s < hi:
                pitch = n.pitch if drums else n.pitch + transpose
                if not 0 <= pitch < 128:
                    continue
                dur = min(max(1, _step(n.end) - s), MAX_DUR)
                events.append((s - lo, pitch, dur))
        pos = None
        for s, pitch, dur in sorted(set(events)):
            if s != pos:
                out.append(POS0 + s)
                pos = s
            out.append(PITCH0 + pitch)
            if not drums:
                out.append(DUR0 + dur - 1)
    return out


def bar_tokens(parts: Mapping[str, Sequence[Note]], bars: int, transpose: int = 0) -> list[list[int]]:
    """Each bar's tokens, for bars 0..bars-1."""
    order = [p for p in PARTS if p in parts]
    if not order:
        raise ValueError("no parts to encode (expected some of melody, bass, drums)")
    by_bar: dict[str, list[list[Note]]] = {p: [[] for _ in range(bars)] for p in order}
    for p in order:
        for n in parts[p]:
            b = _step(n.start) // STEPS_PER_BAR
            if 0 <= b < bars:
                by_bar[p][b].append(n)
    return [encode_bar({p: by_bar[p][b] for p in order}, b, order, transpose) for b in range(bars)]


def encode(parts: Mapping[str, Sequence[Note]], bars: int | None = None, bos: bool = True,
           eos: bool = False) -> list[int]:
    """Notes per part ("melody", "bass", "drums") -> token ids."""
    if bars is None:
        ends = [n.end for ns in parts.values() for n in ns]
        bars = bar_count(max(ends) if ends else BAR_BEATS)
    out = [BOS] if bos else []
    for b in bar_tokens(parts, bars):
        out.extend(b)
    if eos:
        out.append(EOS)
    return out


def decode(ids: Sequence[int], first_bar: int = 0, velocity: Mapping[str, int] | None = None
           ) -> tuple[dict[str, list[Note]], int]:
    """Token ids -> (notes per part, number of bars). Tolerant: tokens out of place are skipped.

    Bar k of the stream (counting from 0) is placed at bar `first_bar + k`. Decoding stops at EOS
    or FILL. Parts named by a TRK token are in the result even when they have no notes.
    """
    vel = dict(DEFAULT_VELOCITY)
    vel.update(velocity or {})
    parts: dict[str, list[Note]] = {}
    bar = first_bar - 1
    part = None
    pos = 0
    pending = None  # (pitch, start) of a melody/bass note waiting for its duration
    for t in ids:
        t = int(t)
        if pending is not None and not (DUR0 <= t < VOCAB_SIZE):
            pending = None  # a pitch without a duration is dropped
        if t in (EOS, FILL):
            break
        if t == BAR:
            bar += 1
            part, pos = None, 0
        elif bar < first_bar:
            continue
        elif TRK0 <= t < POS0:
            part = PARTS[t - TRK0]
            parts.setdefault(part, [])
            pos = 0
        elif part is None:
            continue
        elif POS0 <= t < PITCH0:
            pos = t - POS0
        elif PITCH0 <= t < DUR0:
            start = (bar * STEPS_PER_BAR + pos) / STEPS_PER_BEAT
            if part == "drums":
                parts[part].append(Note(t - PITCH0, start, start + 1 / STEPS_PER_BEAT, vel["drums"]))
            else:
                pending = (t - PITCH0, start)
        elif DUR0 <= t < VOCAB_SIZE and pending is not None:
            pitch, start = pending
            parts[part].append(Note(pitch, start, start + (t - DUR0 + 1) / STEPS_PER_BEAT, vel[part]))
            pending = None
    return {p: sort_notes(ns) for p, ns in parts.items()}, max(bar - first_bar + 1, 0)


def count_bars(ids: Sequence[int]) -> int:
    return sum(1 for t in ids if int(t) == BAR)


# ----------------------------------------------------------------- infilling
def infill_prompt(bars: Sequence[Sequence[int]], start: int, stop: int) -> list[int]:
    """BOS, the bars before `start`, one HOLE per missing bar, the bars from `stop`, FILL."""
    if not 0 <= start < stop <= len(bars):
        raise ValueError(f"bars {start}..{stop} are not inside 0..{len(bars)}")
    out = [BOS]
    for b in bars[:start]:
        out.extend(b)
    out.extend([HOLE] * (stop - start))
    for b in bars[stop:]:
        out.extend(b)
    out.append(FILL)
    return out


def infill_example(bars: Sequence[Sequence[int]], start: int, stop: int) -> list[int]:
    """A training sequence: the infill prompt, then the missing bars and EOS."""
    out = infill_prompt(bars, start, stop)
    for b in bars[start:stop]:
        out.extend(b)
    out.append(EOS)
    return out


def continue_example(bars: Sequence[Sequence[int]], ends_piece: bool = False) -> list[int]:
    out = [BOS]
    for b in bars:
        out.extend(b)
    if ends_piece:
        out.append(EOS)
    return out


def read_fill(ids: Sequence[int], start_bar: int, bars: int, velocity: Mapping[str, int] | None = None
              ) -> dict[str, list[Note]]:
    """The notes of a generated fill (the tokens after FILL), placed from `start_bar`, at most `bars` bars."""
    ids = list(ids)
    if FILL in ids:
        ids = ids[ids.index(FILL) + 1:]
    cut = []
    seen = 0
    for t in ids:
        if t == BAR:
            seen += 1
            if seen > bars:
                break
        if t == EOS:
            break
        cut.append(t)
    parts, _ = decode(cut, first_bar=start_bar, velocity=velocity)
    return parts


def part_velocities(parts: Mapping[str, Sequence[Note]]) -> dict[str, int]:
    """Each part's typical velocity (the median), to give generated notes."""
    out = {}
    for p, ns in parts.items():
        if ns:
            v = sorted(n.velocity for n in ns)
            out[p] = int(v[len(v) // 2])
    return out
