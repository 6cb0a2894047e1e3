"""Colours and sizes of the timeline: one colour per section label, the same in every song."""
from __future__ import annotations

import zlib

from PySide6.QtGui import QColor

# The common labels get colours a musician learns quickly: warm for the chorus, cool for verses.
LABEL_COLORS = {
    "intro": "#5c8fd6",
    "verse": "#3fa7a0",
    "pre-chorus": "#9a7fd6",
    "chorus": "#e0963a",
    "bridge": "#d0607a",
    "solo": "#7fb84f",
    "breakdown": "#6f8296",
    "outro": "#5b6fc4",
}

RULER_H = 22
LABEL_H = 24  # the band with the section's name at the top of each block
LANE_MIN_H = 18
LANE_MAX_H = 64
HEADER_W = 196
EDGE_GRAB_PX = 6  # how near the right edge a press resizes instead of moving
DRAG_START_PX = 6

BACKGROUND = QColor("#1b1d22")
LANE_BG = QColor("#202329")
LANE_BG_ALT = QColor("#1d2025")
LANE_LINE = QColor("#2b3038")
BAR_LINE = QColor("#2a2e36")
BAR_LINE_STRONG = QColor("#3a404b")
RULER_BG = QColor("#23272e")
RULER_TEXT = QColor("#8b93a1")
TEXT = QColor("#eef1f6")
TEXT_DIM = QColor("#9aa2af")
SELECTION = QColor("#ffffff")
INSERT_MARK = QColor("#ffd27a")
LOOP_FILL = QColor(232, 163, 61, 60)
LOOP_EDGE = QColor("#e8a33d")
PLAYHEAD = QColor("#ff5a4f")
EMPTY_TEXT = QColor("#aab2bf")


def label_color(label: str) -> QColor:
    """The colour of a section label; a custom label gets a steady colour from its name."""
    key = (label or "").strip().lower()
    if key in LABEL_COLORS:
        return QColor(LABEL_COLORS[key])
    for known, color in LABEL_COLORS.items():  # "verse 2", "chorus b" take their family's colour
        if key.startswith(known):
            return QColor(color).darker(112)
    hue = zlib.crc32(key.encode("utf-8")) % 360
    return QColor.fromHsv(hue, 120, 190)


def block_fill(color: QColor, selected: bool, empty: bool) -> QColor:
    """The body of a block: the label colour, darkened so the notes on it stay readable."""
    c = QColor(color)
    if empty:
        c = c.darker(260)
        c.setAlpha(150)
    else:
        c = c.darker(215 if not selected else 175)
    return c


def header_fill(color: QColor, selected: bool, empty: bool) -> QColor:
    c = QColor(color)
    if empty:
        c = c.darker(170)
    elif not selected:
        c = c.darker(112)
    return c

SPACE_MARK = "#e8d25f"  # the diamond on blocks a section space serves (the library's "section space" colour)
