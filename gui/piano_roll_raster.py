"""Numpy rendering for the piano roll: the grid background, and notes when there are too many
on screen to draw one rectangle each.

Qt's raster engine is slow at long vertical lines (about 0.1 ms per full-height line), and
building a QRectF per note costs about 1.5 us in Python. The grid is a pure function of row
kind (white key, black key, drum row, row line, octave line) and column kind (bar parity,
grid line, inside or outside the clip), so it is built as one row of pixels per row kind and
stacked with a single numpy index: a few hundred microseconds for a full view.

Dense note views (thousands of notes, zoomed out) are rasterised the same way: each note adds
+1 at its first pixel column and -1 past its last in its pitch row, a cumulative sum gives
coverage per (row, column), and rows are stretched to pixels with one index. The cost depends
on the view size, not on the number of notes.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PySide6.QtGui import QColor

from gui import piano_roll_style as style
from gui.piano_roll_arrays import NoteArrays

ROWS = 128
# row kinds
R_WHITE, R_BLACK, R_DRUM, R_LINE, R_OCTAVE = range(5)
# column kinds: line level (0 none, 1 sub-beat, 2 beat, 3 bar) + 4 * odd bar + 8 * outside clip
LINE_COLOURS = (None, style.LINE_SUB, style.LINE_BEAT, style.LINE_BAR)


def argb(color: QColor) -> int:
    return 0xFF000000 | (color.red() << 16) | (color.green() << 8) | color.blue()


@lru_cache(maxsize=1)
def grid_lut() -> np.ndarray:
    """Pixel colour for every (row kind, column kind) pair."""
    rows = (style.BG_WHITE_ROW, style.BG_BLACK_ROW, style.BG_DRUM_ROW, style.LINE_ROW, style.LINE_OCTAVE)
    lut = np.zeros((len(rows), 16), dtype=np.uint32)
    for r, row_colour in enumerate(rows):
        for c in range(16):
            line, odd, outside = c & 3, (c >> 2) & 1, (c >> 3) & 1
            colour = QColor(row_colour)
            if odd:
                colour = style.over(colour, style.BAR_SHADE)
            if line:
                colour = QColor(LINE_COLOURS[line])
            if outside:
                colour = style.over(colour, style.BG_OUTSIDE_CLIP)
            lut[r, c] = argb(colour)
    return lut


def _row_kinds(state, h: int) -> np.ndarray:
    rh = state.row_h
    yy = np.arange(h, dtype=np.float64) + state.scroll_y
    k = np.floor(yy / rh).astype(np.int64)
    pitch = ROWS - 1 - k
    valid = (pitch >= 0) & (pitch < ROWS)
    pc = np.clip(pitch, 0, ROWS - 1)
    drums = state.is_drum_view()
    table = np.full(ROWS, R_WHITE, dtype=np.int64)
    for p in range(ROWS):
        if drums:
            table[p] = R_DRUM if p in style.MAIN_DRUMS else (R_WHITE if p in style.GM_DRUMS else R_BLACK)
        elif style.is_black(p):
            table[p] = R_BLACK
    kinds = np.where(valid, table[pc], R_BLACK)
    if rh >= 6:
        last = np.floor((yy + 1) / rh).astype(np.int64) > k
        octave = (pc % 12 == 0) & (not drums)
        kinds = np.where(last & valid, np.where(octave, R_OCTAVE, R_LINE), kinds)
    return kinds


def _line_positions(state, w: int, b0: float, b1: float, step: float, every: int = 1,
                    skip_integers: bool = False, skip_multiple: float = 0.0) -> np.ndarray:
    n0, n1 = int(max(0.0, b0) // step), int(b1 // step) + 1
    i = np.arange(n0, n1 + 1)
    if every > 1:
        i = i[i % every == 0]
    beats = i * step
    if skip_integers:
        beats = beats[np.abs(beats - np.round(beats)) > 1e-6]
    if skip_multiple:
        beats = beats[np.abs(beats / skip_multiple - np.round(beats / skip_multiple)) > 1e-6]
    x = np.round((beats - state.scroll_x) * state.px_per_beat).astype(np.int64)
    return x[(x >= 0) & (x < w)]


def grid_lines(state, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel columns of sub-beat, beat and bar lines (bars thinned out when zoomed far out)."""
    ppb, bpb = state.px_per_beat, state.song.beats_per_bar
    b0, b1 = state.beat_at(0), state.beat_at(w)
    step = state.snap if state.snap > 0 else 0.25
    subs = (_line_positions(state, w, b0, b1, step, skip_integers=True) if step * ppb >= 7
            else np.zeros(0, dtype=np.int64))
    beats = (_line_positions(state, w, b0, b1, 1.0, skip_multiple=bpb) if ppb >= 6
             else np.zeros(0, dtype=np.int64))
    bar_every = 1
    while bpb * ppb * bar_every < 14:
        bar_every *= 2
    bars = _line_positions(state, w, b0, b1, bpb, every=bar_every)
    return subs, beats, bars


def _column_kinds(state, w: int) -> np.ndarray:
    ppb, bpb = state.px_per_beat, state.song.beats_per_bar
    beat = state.scroll_x + (np.arange(w, dtype=np.float64) + 0.5) / ppb
    odd = (np.floor(beat / bpb).astype(np.int64) % 2 == 1)
    line = np.zeros(w, dtype=np.int64)
    for level, xs in enumerate(grid_lines(state, w), start=1):
        line[xs] = level
    clip = state.clip()
    outside = np.zeros(w, dtype=bool)
    if clip is not None:
        x_end = int(round((clip.length - state.scroll_x) * ppb))
        outside = np.arange(w) >= x_end
        for x in (x_end, x_end + 1):  # a 2-pixel line where the clip ends
            if 0 <= x < w:
                line[x] = 3
    return line + 4 * odd + 8 * outside


def render_grid(state, w: int, h: int) -> np.ndarray:
    """The background of the roll as an (h, w) array of 0xAARRGGBB pixels."""
    scan = grid_lut()[:, _column_kinds(state, w)]  # one pixel row per row kind
    return scan[_row_kinds(state, h)]


# --------------------------------------------------------------------------- dense notes
@lru_cache(maxsize=256)
def note_lut(track_index: int, dim: bool) -> np.ndarray:
    """Opaque colour per (velocity bucket * 2 + selected), plus the border colour at the end."""
    out = np.zeros(2 * style.VELOCITY_BUCKETS + 1, dtype=np.uint32)
    for bucket in range(style.VELOCITY_BUCKETS):
        for sel in (0, 1):
            out[bucket * 2 + sel] = argb(style.note_brush(track_index, bucket, dim, bool(sel)).color())
    out[-1] = argb(style.note_pen(track_index, dim, False).color())
    return out


class DenseNotes:
    """Notes rasterised per (pitch row, pixel column), then stretched onto the background once.

    Add tracks bottom layer first; a later track covers an earlier one. Colour follows the
    average velocity of the notes covering a pixel; selected notes are highlighted; notes
    wide enough get a darker first column so neighbours stay apart.
    """

    def __init__(self, state, w: int, h: int):
        self.state, self.w, self.h = state, w, h
        self.top = int(state.scroll_y // state.row_h)
        self.nrows = int((h + state.scroll_y) // state.row_h) - self.top + 1
        self.grid = np.zeros((self.nrows, w), dtype=np.uint32)
        self.used = np.zeros(self.nrows, dtype=bool)

    def add(self, arr: NoteArrays, idx: np.ndarray, track_index: int, dim: bool,
            selected: np.ndarray | None) -> None:
        st, w = self.state, self.w
        if not len(idx) or w == 0:
            return
        ppb = st.px_per_beat
        rows = (ROWS - 1 - arr.pitch[idx].astype(np.int64)) - self.top
        keep = (rows >= 0) & (rows < self.nrows)
        idx, rows = idx[keep], rows[keep]
        if not len(idx):
            return
        used, rr = np.unique(rows, return_inverse=True)  # work only on rows that hold notes
        rr = rr.reshape(-1)
        nrows = len(used)
        x0 = np.clip(np.floor((arr.start[idx] - st.scroll_x) * ppb), 0, w - 1).astype(np.int64)
        x1 = np.clip(np.floor((arr.end[idx] - st.scroll_x) * ppb), 0, w).astype(np.int64)
        x1 = np.maximum(x1, x0 + 1)
        size = nrows * (w + 1)
        a, b = rr * (w + 1) + x0, rr * (w + 1) + x1

        def spans(weights=None) -> np.ndarray:
            d = np.bincount(a, weights, minlength=size) - np.bincount(b, weights, minlength=size)
            return np.cumsum(d.reshape(nrows, w + 1), axis=1)[:, :w]

        count = spans()
        covered = count > 0.5
        velocity = spans(arr.velocity[idx].astype(np.float64)) / np.maximum(count, 1)
        key = np.minimum(velocity * (style.VELOCITY_BUCKETS / 128), style.VELOCITY_BUCKETS - 1
                         ).astype(np.int64) * 2
        if selected is not None and selected[keep].any():
            key += spans(selected[keep].astype(np.float64)) > 0.5
        lut = note_lut(track_index, dim)
        colours = lut[key]
        wide = (x1 - x0) >= 3  # notes too narrow for a border are drawn solid
        firsts = np.bincount((rr * w + x0)[wide], minlength=nrows * w).reshape(nrows, w) > 0
        colours[firsts] = lut[-1]
        target = self.grid[used]
        np.copyto(target, colours, where=covered)
        self.grid[used] = target
        self.used[used] = True

    def overlay(self) -> np.ndarray:
        """The notes as (h, w) premultiplied ARGB pixels, 0 (transparent) where there is none."""
        st = self.state
        out = np.zeros((self.h, self.w), dtype=np.uint32)
        yy = np.arange(self.h, dtype=np.float64) + st.scroll_y
        ky = np.floor(yy / st.row_h).astype(np.int64)
        row = np.clip(ky - self.top, 0, self.nrows - 1)
        show = self.used[row]
        if st.row_h >= 4:  # keep each row's last pixel line free, like the outlined notes
            show &= np.floor((yy + 1) / st.row_h).astype(np.int64) == ky
        ys = np.flatnonzero(show)
        out[ys] = self.grid[row[ys]]
        return out
