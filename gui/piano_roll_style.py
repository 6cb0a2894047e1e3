"""Colours, note names and drum names shared by the piano roll's widgets."""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
BLACK_KEYS = frozenset((1, 3, 6, 8, 10))

# One colour per track, by the track's position in the song.
TRACK_PALETTE = ("#4fa3ff", "#57d58a", "#ffae42", "#e56fd8", "#a08bff", "#ff6b6b", "#4fd6d6",
                 "#d9d95a")

# Roll background.
BG_WHITE_ROW = QColor("#262a31")
BG_BLACK_ROW = QColor("#1e2127")
BG_DRUM_ROW = QColor("#2c3038")
BG_OUTSIDE_CLIP = QColor(0, 0, 0, 95)
BAR_SHADE = QColor(255, 255, 255, 7)
LINE_ROW = QColor("#1a1c21")
LINE_OCTAVE = QColor("#3a3f49")
LINE_SUB = QColor("#2f333b")
LINE_BEAT = QColor("#3b404a")
LINE_BAR = QColor("#5d6472")
PLAYHEAD = QColor("#ff5a4f")
SELECTION_OUTLINE = QColor("#ffffff")
RUBBER_BAND = QColor(120, 170, 255, 50)
RUBBER_BAND_EDGE = QColor(150, 190, 255, 200)
TEXT = QColor("#c9ced8")
TEXT_DIM = QColor("#8a909c")
PANEL = QColor("#1b1d22")

VELOCITY_BUCKETS = 8

# General MIDI percussion (channel 10) names, with short names for the nine drum classes
# MusicVAE's drum models use.
GM_DRUMS = {
    35: "Acoustic Bass Drum", 36: "Kick", 37: "Side Stick", 38: "Snare", 39: "Hand Clap",
    40: "Electric Snare", 41: "Low Floor Tom", 42: "Closed Hat", 43: "High Floor Tom",
    44: "Pedal Hat", 45: "Low Tom", 46: "Open Hat", 47: "Low-Mid Tom", 48: "Mid Tom",
    49: "Crash", 50: "High Tom", 51: "Ride", 52: "Chinese Cymbal", 53: "Ride Bell",
    54: "Tambourine", 55: "Splash", 56: "Cowbell", 57: "Crash 2", 58: "Vibraslap",
    59: "Ride 2", 60: "High Bongo", 61: "Low Bongo", 62: "Mute High Conga",
    63: "Open High Conga", 64: "Low Conga", 65: "High Timbale", 66: "Low Timbale",
    67: "High Agogo", 68: "Low Agogo", 69: "Cabasa", 70: "Maracas", 71: "Short Whistle",
    72: "Long Whistle", 73: "Short Guiro", 74: "Long Guiro", 75: "Claves",
    76: "High Wood Block", 77: "Low Wood Block", 78: "Mute Cuica", 79: "Open Cuica",
    80: "Mute Triangle", 81: "Open Triangle",
}
MAIN_DRUMS = frozenset((36, 38, 42, 46, 45, 48, 50, 49, 51))


def note_name(pitch: int) -> str:
    """MIDI pitch to a name with octave, middle C (60) being C4."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def drum_name(pitch: int) -> str:
    return GM_DRUMS.get(pitch, note_name(pitch))


def is_black(pitch: int) -> bool:
    return pitch % 12 in BLACK_KEYS


def track_color(index: int) -> QColor:
    return QColor(TRACK_PALETTE[index % len(TRACK_PALETTE)])


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """a blended toward b by t (0..1), keeping a's alpha."""
    return QColor(round(a.red() + (b.red() - a.red()) * t),
                  round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t), a.alpha())


def over(base: QColor, top: QColor) -> QColor:
    """A translucent `top` composited over `base`, as painting it would."""
    return mix(base, QColor(top.red(), top.green(), top.blue()), top.alphaF())


def velocity_bucket(velocity: int) -> int:
    return min(VELOCITY_BUCKETS - 1, max(0, int(velocity) * VELOCITY_BUCKETS // 128))


@lru_cache(maxsize=512)
def note_brush(track_index: int, bucket: int, dim: bool, selected: bool) -> QBrush:
    """Fill for a note: the track colour, paler for soft notes, faded for non-edited tracks."""
    base = track_color(track_index)
    soft = 1.0 - bucket / (VELOCITY_BUCKETS - 1)  # 0 loud .. 1 soft
    color = mix(base, BG_WHITE_ROW, 0.55 * soft)
    if selected:
        color = mix(color, QColor("#ffffff"), 0.45)
    if dim:  # opaque, so the border drawn underneath does not show through
        color = mix(color, BG_WHITE_ROW, 0.55)
    return QBrush(color)


@lru_cache(maxsize=64)
def note_pen(track_index: int, dim: bool, selected: bool) -> QPen:
    if selected:
        pen = QPen(SELECTION_OUTLINE)
    else:
        color = track_color(track_index).darker(230)
        if dim:
            color = mix(color, BG_WHITE_ROW, 0.4)
        pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(1.0)
    return pen


def cosmetic_pen(color: QColor, width: float = 1.0) -> QPen:
    pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    return pen


def draw_note_rects(p: QPainter, track_index: int, dim: bool, key: np.ndarray,
                    xs: Sequence[float], ys: Sequence[float], ws: Sequence[float],
                    hs: Sequence[float]) -> None:
    """Note rectangles in batches: the border colour first (one drawRects per selected state),
    then each fill inset by a pixel (one per velocity bucket and selected state); two fills are
    much cheaper for Qt than outlined rectangles. `key[i]` is bucket * 2 + selected."""
    p.setPen(Qt.NoPen)
    for selected in (0, 1):
        picks = np.flatnonzero((key & 1) == selected).tolist()
        if picks:
            p.setBrush(note_pen(track_index, dim, bool(selected)).color())
            p.drawRects([QRectF(xs[j], ys[j], ws[j], hs[j]) for j in picks])
    for k in np.unique(key).tolist():
        picks = [j for j in np.flatnonzero(key == k).tolist() if ws[j] > 2 and hs[j] > 2]
        if picks:
            bucket, selected = divmod(k, 2)
            p.setBrush(note_brush(track_index, bucket, dim, bool(selected)))
            p.drawRects([QRectF(xs[j] + 1, ys[j] + 1, ws[j] - 2, hs[j] - 2) for j in picks])
