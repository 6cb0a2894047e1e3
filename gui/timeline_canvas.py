"""The painted part of the timeline: a bar ruler, the section blocks and one lane per track.

Each section is a coloured block across every lane: its label on a band at the top, and in
each lane a small view of that track's notes, the clip drawn once and repeated to fill the
block (faint lines mark where the clip starts again). A block linked to other blocks (they
play the same clip) shows a small chain mark.

The canvas is a view: it never changes the song. A gesture ends in a signal (move, resize,
drop, loop ...) that the Timeline turns into one undo command. While a gesture runs, the canvas
only draws a preview.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen,
                           QPixmap, QPolygonF)
from PySide6.QtWidgets import QSizePolicy, QWidget

from core import arrangement as arr
from core.song import Section, Song
from gui import timeline_style as ts
from gui.drag_formats import answer, clip_id_from_mime
from gui.track_list import track_color

MIN_PX_PER_BEAT = 1.5
MAX_PX_PER_BEAT = 80.0
MAX_CACHED_PIXMAPS = 400
MAX_PIXMAP_WIDTH = 4096

@dataclass
class DropTarget:
    """Where a dragged clip would land: into a section (slot), into one lane of a section
    (`track`: that part only), or between sections (insert)."""

    into: str | None = None  # section id
    index: int = 0  # insertion index when `into` is None
    track: str | None = None  # a lane of `into`: the dropped clip replaces that track's part


class TimelineCanvas(QWidget):
    selection_changed = Signal(list)  # section ids, in song order
    move_requested = Signal(str, int)  # section id, new index
    resize_requested = Signal(str, float)  # section id, new length in beats
    drop_requested = Signal(str, object)  # clip id, DropTarget
    rename_requested = Signal(str)  # section id
    context_requested = Signal(str, QPoint, float)  # section id ('' when none), global pos, beat
    loop_requested = Signal(object, object)  # start, end in beats (None, None: clear)
    playhead_requested = Signal(float)
    drag_out_requested = Signal(str, bool)  # section id, the clip alone (not the section)
    view_changed = Signal()  # zoom, scroll, size or lanes changed
    status_message = Signal(str)

    def __init__(self, song: Song, parent=None):
        super().__init__(parent)
        self.song = song
        self.px_per_beat = 6.0
        self.scroll_px = 0.0
        self.selected: list[str] = []
        self.current_clip: str | None = None  # the clip open in the piano roll
        self.model_name: str | None = None  # the model Fill uses: its section spaces are marked
        self.playhead: float | None = None
        self._gesture: dict | None = None
        self._drop: DropTarget | None = None
        self._pixmaps: dict[tuple, QPixmap] = {}
        self._track_ids = [t.id for t in song.tracks]
        self.setObjectName("timelineCanvas")
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(ts.RULER_H + ts.LABEL_H + ts.LANE_MIN_H)
        song.subscribe(self._on_song)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(800, ts.RULER_H + ts.LABEL_H + 3 * 44)

    # ================================================================= geometry
    @property
    def beats_per_bar(self) -> float:
        return self.song.beats_per_bar or 4.0

    def x_of(self, beat: float) -> float:
        return beat * self.px_per_beat - self.scroll_px

    def beat_at(self, x: float) -> float:
        return (x + self.scroll_px) / self.px_per_beat

    def content_width(self) -> float:
        """Pixels the song takes, with room after it to drop or extend."""
        end = max(arr.arrangement_end(self.song.sections), 0.0)
        return (end + 8 * self.beats_per_bar) * self.px_per_beat

    def lane_height(self) -> float:
        n = max(len(self.song.tracks), 1)
        free = self.height() - ts.RULER_H - ts.LABEL_H - 4
        return min(max(free / n, ts.LANE_MIN_H), ts.LANE_MAX_H)

    def lane_top(self, index: int) -> float:
        return ts.RULER_H + ts.LABEL_H + 2 + index * self.lane_height()

    def block_rect(self, sec: Section) -> QRectF:
        x0 = self.x_of(sec.start)
        x1 = self.x_of(sec.end)
        if self.song.tracks:
            bottom = self.lane_top(len(self.song.tracks))
        else:
            bottom = ts.RULER_H + ts.LABEL_H + ts.LANE_MIN_H
        return QRectF(x0 + 1, ts.RULER_H + 2, max(x1 - x0 - 2, 2), bottom - ts.RULER_H)

    def section_at(self, pos: QPointF) -> Section | None:
        if pos.y() < ts.RULER_H:
            return None
        for sec in self.song.sections:
            if self.block_rect(sec).adjusted(-1, 0, 1, 0).contains(pos):
                return sec
        return None

    def snap_beat(self, beat: float) -> float:
        bpb = self.beats_per_bar
        return max(round(beat / bpb), 0) * bpb

    # ================================================================= view state
    def set_zoom(self, px_per_beat: float, anchor_x: float | None = None) -> None:
        px = min(max(float(px_per_beat), MIN_PX_PER_BEAT), MAX_PX_PER_BEAT)
        if anchor_x is None:
            anchor_x = self.width() / 2
        beat = self.beat_at(anchor_x)
        self.px_per_beat = px
        self.set_scroll(beat * px - anchor_x)

    def zoom_to_fit(self) -> None:
        end = arr.arrangement_end(self.song.sections) or 16 * self.beats_per_bar
        width = max(self.width() - 24, 100)
        self.px_per_beat = min(max(width / end, MIN_PX_PER_BEAT), MAX_PX_PER_BEAT)
        self.set_scroll(0.0)

    def set_scroll(self, px: float) -> None:
        limit = max(self.content_width() - self.width(), 0.0)
        self.scroll_px = min(max(float(px), 0.0), limit)
        self.update()
        self.view_changed.emit()

    def set_selection(self, ids: list[str], emit: bool = True) -> None:
        known = [s.id for s in self.song.sections]
        ids = [i for i in known if i in set(ids)]
        if ids != self.selected:
            self.selected = ids
            self.update()
            if emit:
                self.selection_changed.emit(list(ids))

    def set_current_clip(self, clip_id: str | None) -> None:
        if clip_id != self.current_clip:
            self.current_clip = clip_id
            self.update()

    def set_playhead(self, beat: float | None) -> None:
        if beat != self.playhead:
            self.playhead = beat
            self.update()

    def ensure_visible(self, sec: Section) -> None:
        x0, x1 = sec.start * self.px_per_beat, sec.end * self.px_per_beat
        if x0 < self.scroll_px:
            self.set_scroll(x0 - 12)
        elif x1 > self.scroll_px + self.width():
            self.set_scroll(min(x0 - 12, x1 - self.width() + 12))

    def set_model(self, name: str | None) -> None:
        """The model Fill uses; blocks whose label has a section space of it are marked."""
        self.model_name = name
        self.update()

    def space_labels(self) -> set[str]:
        """Labels with a usable section space of the fill model (core.section_space)."""
        return {label for (model, label), entry in getattr(self.song, "spaces", {}).items()
                if model == self.model_name and entry.problem is None}

    def space_note(self, sec: Section, clip, spaced: set[str] | None = None) -> str | None:
        """What a section space has to do with this block (None: nothing), for the marker's tooltip."""
        spaced = self.space_labels() if spaced is None else spaced
        label = sec.label.lower()
        if clip is not None and clip.origin == "section space":
            return f"Filled from the '{(clip.label or label)}' space"
        if label in spaced:
            verb = "Fill" if clip is None else "Regenerate"
            return f"{verb} uses the '{label}' space of {self.model_name}"
        return None

    # ================================================================= song events
    def _on_song(self, event: str, **details) -> None:
        if event == "clip_changed":
            cid = details.get("clip_id")
            self._pixmaps = {k: v for k, v in self._pixmaps.items() if k[0] != cid}
        elif event in ("clip_removed", "reset") or (
                event == "tracks" and self._track_ids != [t.id for t in self.song.tracks]):
            self._pixmaps.clear()  # a mute or volume change leaves the note pictures as they are
        self._track_ids = [t.id for t in self.song.tracks]
        if event in ("sections", "reset", "clip_removed"):
            self.set_selection(self.selected, emit=True)
        if event in ("tracks", "reset", "tempo"):
            self.view_changed.emit()
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._pixmaps.clear()
        self.set_scroll(self.scroll_px)

    # ================================================================= painting
    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            self._paint(p)
        finally:
            p.end()

    def _paint(self, p: QPainter) -> None:
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, ts.BACKGROUND)
        self._paint_lanes(p, w)
        self._paint_grid(p, w, h)
        secs = self.song.sections
        first = self.beat_at(0)
        last = self.beat_at(w)
        sharing = {}
        for s in secs:
            if s.clip_id is not None:
                sharing[s.clip_id] = sharing.get(s.clip_id, 0) + 1
        g = self._gesture or {}
        moving = g.get("id") if g.get("kind") == "move" and g.get("active") else None
        spaced = self.space_labels()
        for sec in secs:
            if sec.end < first or sec.start > last:
                continue
            self._paint_block(p, sec, sharing.get(sec.clip_id, 0) > 1, faded=sec.id == moving, spaced=spaced)
        if not secs:
            self._paint_empty_hint(p)
        self._paint_ruler(p, w)
        self._paint_loop(p, h)
        self._paint_feedback(p, h)
        if self.playhead is not None:
            x = self.x_of(self.playhead)
            if 0 <= x <= w:
                p.setPen(QPen(ts.PLAYHEAD, 1.5))
                p.drawLine(QPointF(x, 0), QPointF(x, h))

    def _paint_lanes(self, p: QPainter, w: int) -> None:
        lh = self.lane_height()
        for i, _t in enumerate(self.song.tracks):
            y = self.lane_top(i)
            p.fillRect(QRectF(0, y, w, lh), ts.LANE_BG if i % 2 == 0 else ts.LANE_BG_ALT)
            p.setPen(ts.LANE_LINE)
            p.drawLine(QPointF(0, y + lh - 0.5), QPointF(w, y + lh - 0.5))

    def _bar_step(self) -> int:
        """Bars between numbered ruler ticks, so the numbers do not crowd."""
        px_bar = self.px_per_beat * self.beats_per_bar
        for step in (1, 2, 4, 8, 16, 32, 64):
            if px_bar * step >= 34:
                return step
        return 128

    def _paint_grid(self, p: QPainter, w: int, h: int) -> None:
        bpb = self.beats_per_bar
        step = self._bar_step()
        fine = step if self.px_per_beat * bpb < 8 else 1
        bar = int(max(self.beat_at(0) // bpb, 0))
        bar -= bar % fine
        while True:
            x = self.x_of(bar * bpb)
            if x > w:
                break
            p.setPen(ts.BAR_LINE_STRONG if bar % (4 * fine) == 0 else ts.BAR_LINE)
            p.drawLine(QPointF(x + 0.5, ts.RULER_H), QPointF(x + 0.5, h))
            bar += fine

    def _paint_ruler(self, p: QPainter, w: int) -> None:
        p.fillRect(QRectF(0, 0, w, ts.RULER_H), ts.RULER_BG)
        p.setPen(ts.LANE_LINE)
        p.drawLine(QPointF(0, ts.RULER_H - 0.5), QPointF(w, ts.RULER_H - 0.5))
        bpb = self.beats_per_bar
        step = self._bar_step()
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7))
        p.setFont(font)
        bar = int(max(self.beat_at(0) // bpb, 0))
        bar -= bar % step
        while True:
            x = self.x_of(bar * bpb)
            if x > w:
                break
            p.setPen(ts.RULER_TEXT)
            p.drawLine(QPointF(x + 0.5, ts.RULER_H - 7), QPointF(x + 0.5, ts.RULER_H - 1))
            p.drawText(QRectF(x + 3, 0, 60, ts.RULER_H - 3),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, str(bar + 1))
            bar += step

    def _paint_loop(self, p: QPainter, h: int) -> None:
        g = self._gesture or {}
        if g.get("kind") == "loop" and g.get("active"):
            loop = tuple(sorted((g["start"], g["end"])))
        else:
            loop = self.song.loop
        if not loop:
            return
        x0, x1 = self.x_of(loop[0]), self.x_of(loop[1])
        p.fillRect(QRectF(x0, 0, x1 - x0, ts.RULER_H), QColor(232, 163, 61, 150))
        p.fillRect(QRectF(x0, ts.RULER_H, x1 - x0, h - ts.RULER_H), QColor(232, 163, 61, 22))
        p.setPen(QPen(ts.LOOP_EDGE, 1))
        for x in (x0, x1):
            p.drawLine(QPointF(x, 0), QPointF(x, h))

    def _paint_block(self, p: QPainter, sec: Section, shared: bool, faded: bool,
                     spaced: frozenset | set = frozenset()) -> None:
        rect = self.block_rect(sec)
        clip = self.song.clips.get(sec.clip_id) if sec.clip_id else None
        empty = clip is None
        selected = sec.id in self.selected
        color = ts.label_color(sec.label)
        p.save()
        if faded:
            p.setOpacity(0.35)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = QPainterPath()
        path.addRoundedRect(rect, 5, 5)
        p.fillPath(path, ts.block_fill(color, selected, empty))
        band = QRectF(rect.left(), rect.top(), rect.width(), ts.LABEL_H - 2)
        band_path = QPainterPath()
        band_path.setFillRule(Qt.FillRule.WindingFill)
        band_path.addRoundedRect(band, 5, 5)  # round top corners, square where it meets the lanes
        band_path.addRect(QRectF(band.left(), band.top() + 5, band.width(), band.height() - 5))
        p.fillPath(band_path, ts.header_fill(color, selected, empty))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if clip is not None and self.song.tracks:
            p.setClipRect(rect.adjusted(1, ts.LABEL_H - 1, -1, -1))
            self._paint_notes(p, sec, clip)
            p.setClipping(False)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if empty:
            pen = QPen(color.lighter(110), 1.2, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
            body = rect.adjusted(4, ts.LABEL_H, -4, -2)
            if body.width() > 40 and body.height() > 14:
                p.setPen(ts.EMPTY_TEXT)
                text = "empty: drop a clip or Fill" if body.width() > 150 else "empty"
                p.drawText(body, Qt.AlignmentFlag.AlignCenter, text)
        if clip is not None and clip.id == self.current_clip:
            p.setPen(QPen(QColor("#ffffff"), 1.0, Qt.PenStyle.DotLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(2.5, 2.5, -2.5, -2.5), 4, 4)
        if selected:
            p.setPen(QPen(ts.SELECTION, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 5, 5)
        self._paint_band_text(p, sec, clip, band, shared)
        if self.space_note(sec, clip, spaced) is not None:
            self._paint_space_mark(p, rect, filled=clip is not None and clip.origin == "section space")
        p.restore()

    def _paint_space_mark(self, p: QPainter, rect: QRectF, filled: bool) -> None:
        """A small diamond in the block's lower right corner: a section space serves this slot
        (filled: its clip came from the space; hollow: Fill will take it from the space)."""
        if rect.width() < 24 or rect.height() < ts.LABEL_H + 12:
            return
        cx, cy, r = rect.right() - 9, rect.bottom() - 9, 4.5
        diamond = QPainterPath()
        diamond.moveTo(cx, cy - r)
        diamond.lineTo(cx + r, cy)
        diamond.lineTo(cx, cy + r)
        diamond.lineTo(cx - r, cy)
        diamond.closeSubpath()
        p.setPen(QPen(QColor("#15171b"), 1.0))
        p.setBrush(QColor(ts.SPACE_MARK) if filled else QColor(21, 23, 27, 170))
        p.drawPath(diamond)
        p.setPen(QPen(QColor(ts.SPACE_MARK), 1.4))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(diamond)

    def band_inner(self, band: QRectF) -> QRectF:
        """Where a block's band has room for text: narrow blocks give up most of the margin."""
        return band.adjusted(6, 0, -5, 0) if band.width() >= 70 else band.adjusted(3, 0, -2, 0)

    def label_fit(self, title: str, width: float) -> tuple[QFont, str]:
        """The font and text of a block's title in `width` pixels: bold when it fits, then
        regular, then smaller; elided only when even the smallest does not fit (the tooltip
        always has the whole name). "Intro" and "Outro" on a 4-bar block fit at the zoom that
        shows a whole 8-section song in the default window."""
        bold = QFont(self.font())
        bold.setBold(True)
        regular = QFont(self.font())
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 7))
        for font in (bold, regular, small):
            if QFontMetrics(font).horizontalAdvance(title) <= width:
                return font, title
        return small, QFontMetrics(small).elidedText(title, Qt.TextElideMode.ElideRight,
                                                     int(max(width, 0)))

    def _paint_band_text(self, p: QPainter, sec: Section, clip, band: QRectF, shared: bool) -> None:
        inner = self.band_inner(band)
        if inner.width() < 8:
            return
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 7))
        bars = f"{sec.length / self.beats_per_bar:g}"
        right = ""
        if inner.width() > 110:  # narrower blocks: the ruler tells the length
            right = f"{bars} bars"
        fm_small = QFontMetrics(small)
        right_w = fm_small.horizontalAdvance(right) + 4 if right else 0
        link_w = 14 if shared and inner.width() > 60 else 0
        title = arr.label_title(sec.label)
        avail = inner.width() - right_w - link_w
        bold, text = self.label_fit(title, avail)
        fm = QFontMetrics(bold)
        p.setFont(bold)
        p.setPen(ts.TEXT)
        p.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        used = fm.horizontalAdvance(text)
        if clip is not None and avail - used > 40:
            p.setFont(small)
            p.setPen(QColor(255, 255, 255, 150))
            name = fm_small.elidedText(clip.name, Qt.TextElideMode.ElideRight, int(avail - used - 12))
            if clip.name.lower() != sec.label.lower():
                p.drawText(QRectF(inner.left() + used + 8, inner.top(), avail - used - 8, inner.height()),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        if right:
            p.setFont(small)
            p.setPen(QColor(255, 255, 255, 170))
            p.drawText(inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, right)
        if link_w:
            cx = inner.right() - right_w - 8
            cy = inner.center().y()
            p.setPen(QPen(QColor(255, 255, 255, 190), 1.3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(cx - 6, cy - 3, 7, 6), 3, 3)
            p.drawRoundedRect(QRectF(cx - 2, cy - 3, 7, 6), 3, 3)

    def _paint_notes(self, p: QPainter, sec: Section, clip) -> None:
        if clip.length <= 0:
            return
        lh = self.lane_height()
        rep_px = clip.length * self.px_per_beat
        x0 = self.x_of(sec.start)
        x_end = self.x_of(sec.end)
        reps = int(math.ceil(sec.length / clip.length - 1e-9))
        for i, track in enumerate(self.song.tracks):
            notes = clip.track_notes(track.id)
            y = self.lane_top(i)
            if notes:
                pix = self._note_pixmap(clip, track, i, rep_px, lh)
                for r in range(reps):
                    x = x0 + r * rep_px
                    if x > self.width() or x > x_end:
                        break
                    if x + rep_px < 0:
                        continue
                    if pix is not None:
                        p.drawPixmap(QPointF(x, y), pix)
                    else:
                        self._draw_notes(p, notes, track, i, x, y, lh)
        if reps > 1 and rep_px >= 6:
            p.setPen(QPen(QColor(255, 255, 255, 45), 1, Qt.PenStyle.DotLine))
            top = ts.RULER_H + ts.LABEL_H
            bottom = self.lane_top(len(self.song.tracks))
            for r in range(1, reps):
                x = x0 + r * rep_px
                p.drawLine(QPointF(x + 0.5, top), QPointF(x + 0.5, bottom))

    def _note_pixmap(self, clip, track, index: int, rep_px: float, lh: float) -> QPixmap | None:
        width = int(math.ceil(rep_px))
        if width > MAX_PIXMAP_WIDTH or width < 1:
            return None
        key = (clip.id, track.id, width, int(lh), index, round(self.devicePixelRatioF(), 2))
        pix = self._pixmaps.get(key)
        if pix is None:
            if len(self._pixmaps) > MAX_CACHED_PIXMAPS:
                self._pixmaps.clear()
            dpr = self.devicePixelRatioF()
            pix = QPixmap(int(width * dpr), int(math.ceil(lh) * dpr))
            pix.setDevicePixelRatio(dpr)
            pix.fill(Qt.GlobalColor.transparent)
            q = QPainter(pix)
            self._draw_notes(q, clip.track_notes(track.id), track, index, 0.0, 0.0, lh)
            q.end()
            self._pixmaps[key] = pix
        return pix

    def _draw_notes(self, p: QPainter, notes, track, index: int, x0: float, y0: float, lh: float) -> None:
        pad = 3.0
        usable = max(lh - 2 * pad, 4.0)
        if track.is_drum:
            pitches = sorted({n.pitch for n in notes})
            row = {pitch: k for k, pitch in enumerate(pitches)}
            rows = max(len(pitches), 1)
            h = max(usable / rows, 1.5)

            def y_of(n):
                return y0 + pad + (rows - 1 - row[n.pitch]) * usable / rows
        else:
            lo = min(n.pitch for n in notes)
            hi = max(n.pitch for n in notes)
            span = max(hi - lo + 1, 12)
            mid = (lo + hi) / 2
            lo = mid - span / 2
            h = max(usable / span, 1.5)

            def y_of(n):
                return y0 + pad + (span - (n.pitch - lo) - 1) * usable / span
        color = QColor(track_color(self.song, track.id)).lighter(125)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(color))
        ppb = self.px_per_beat
        rects = []
        for n in notes:
            w = max((n.end - n.start) * ppb - (0.5 if track.is_drum else 0.8), 1.2)
            if track.is_drum:
                w = max(min(w, 3.0), 1.5)
            rects.append(QRectF(x0 + n.start * ppb, y_of(n), w, h))
        p.drawRects(rects)

    def _paint_empty_hint(self, p: QPainter) -> None:
        p.setPen(ts.TEXT_DIM)
        rect = QRectF(12, ts.RULER_H + 4, self.width() - 24, self.height() - ts.RULER_H - 8)
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                   "No sections yet. Choose a Song form to lay out empty slots, "
                   "or drag a clip here from the library.")

    def _paint_resize(self, p: QPainter, g: dict) -> None:
        """The new length over everything: an outline, the edge, and the bar count in a tag."""
        sec = self._find(g["id"])
        if sec is None:
            return
        rect = self.block_rect(sec)
        ghost = QRectF(rect.left(), rect.top(), g["length"] * self.px_per_beat - 2, rect.height())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(ts.INSERT_MARK, 2, Qt.PenStyle.DashLine))
        p.setBrush(QColor(255, 210, 122, 45))
        p.drawRoundedRect(ghost, 5, 5)
        p.setPen(QPen(ts.INSERT_MARK, 3))
        p.drawLine(QPointF(ghost.right(), ghost.top()), QPointF(ghost.right(), ghost.bottom()))
        text = f"{g['length'] / self.beats_per_bar:g} bars"
        fm = QFontMetrics(self.font())
        tag = QRectF(ghost.right() + 4, ghost.top() + ts.LABEL_H + 4, fm.horizontalAdvance(text) + 12, 20)
        if tag.right() > self.width():
            tag.moveRight(ghost.right() - 4)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ts.INSERT_MARK)
        p.drawRoundedRect(tag, 4, 4)
        p.setPen(QColor("#1d2025"))
        p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_feedback(self, p: QPainter, h: int) -> None:
        g = self._gesture or {}
        if g.get("kind") == "resize":
            self._paint_resize(p, g)
            return
        target = self._drop
        if g.get("kind") == "move" and g.get("active"):
            target = DropTarget(None, g["index"])
        if target is None:
            return
        if target.into is not None:
            try:
                sec = arr.find_section(self.song.sections, target.into)
            except Exception:  # noqa: BLE001 - the section went away during the drag
                return
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(ts.INSERT_MARK, 2.5))
            p.setBrush(QColor(255, 210, 122, 40))
            rect = self.block_rect(sec)
            index = next((i for i, t in enumerate(self.song.tracks) if t.id == target.track), None)
            if index is not None:  # one lane: only that part changes
                rect = QRectF(rect.left(), self.lane_top(index), rect.width(), self.lane_height())
            p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 5, 5)
            return
        if g.get("kind") == "move":
            beat = self._move_bounds(g["id"])[target.index]
        else:
            beat = arr.insertion_beat(self.song.sections, target.index)
        x = self.x_of(beat)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(ts.INSERT_MARK, 2.5))
        p.drawLine(QPointF(x, ts.RULER_H), QPointF(x, h))
        p.setBrush(ts.INSERT_MARK)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon(QPolygonF([QPointF(x - 6, ts.RULER_H), QPointF(x + 6, ts.RULER_H),
                                 QPointF(x, ts.RULER_H + 7)]))

    # ================================================================= mouse
    def _near_right_edge(self, sec: Section, x: float) -> bool:
        rect = self.block_rect(sec)
        return abs(x - rect.right()) <= ts.EDGE_GRAB_PX and rect.width() > 10

    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton:
            if event.button() == Qt.MouseButton.RightButton:
                sec = self.section_at(pos)
                if sec is not None and sec.id not in self.selected:
                    self.set_selection([sec.id])
            return super().mousePressEvent(event)
        if pos.y() < ts.RULER_H:
            beat = self.snap_beat(self.beat_at(pos.x()))
            self._gesture = {"kind": "loop", "start": beat, "end": beat, "press": pos,
                             "raw": self.beat_at(pos.x()), "active": False}
            return
        sec = self.section_at(pos)
        if sec is None:
            self.set_selection([])
            self._gesture = None
            return
        mods = event.modifiers()
        if self._near_right_edge(sec, pos.x()):
            self.set_selection([sec.id])
            self._gesture = {"kind": "resize", "id": sec.id, "length": sec.length, "press": pos,
                             "start": sec.start}
            return
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier):
            if sec.id in self.selected:
                self.set_selection([i for i in self.selected if i != sec.id])
            else:
                self.set_selection(self.selected + [sec.id])
        elif mods & Qt.KeyboardModifier.ShiftModifier and self.selected:
            order = [s.id for s in arr.ordered(self.song.sections)]
            a = order.index(self.selected[0])
            b = order.index(sec.id)
            self.set_selection(order[min(a, b):max(a, b) + 1])
        else:
            self.set_selection([sec.id])
        self._gesture = {"kind": "move", "id": sec.id, "press": pos, "active": False, "index": 0,
                         "clip_only": bool(mods & Qt.KeyboardModifier.AltModifier)}

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        g = self._gesture
        if g is None:
            self._update_cursor(pos)
            return
        moved = (pos - g["press"]).manhattanLength() >= ts.DRAG_START_PX
        if g["kind"] == "loop":
            if moved or g["active"]:
                g["active"] = True
                g["end"] = self.snap_beat(self.beat_at(pos.x()))
                a, b = sorted((g["start"], g["end"]))
                self.status_message.emit(f"Loop bars {a / self.beats_per_bar + 1:g} to "
                                         f"{b / self.beats_per_bar:g}" if b > a else "Loop")
                self.update()
        elif g["kind"] == "resize":
            bpb = self.beats_per_bar
            raw = self.beat_at(pos.x()) - g["start"]
            g["length"] = max(round(raw / bpb), 1) * bpb
            self.status_message.emit(f"{g['length'] / bpb:g} bars")
            self.update()
        elif g["kind"] == "move":
            if moved and not self.rect().contains(pos.toPoint()):  # out of the timeline: a file
                sid, clip_only = g["id"], g["clip_only"]
                self._gesture = None
                self.update()
                self.drag_out_requested.emit(sid, clip_only)
                return
            if moved or g["active"]:
                g["active"] = True
                bounds = self._move_bounds(g["id"])
                beat = self.beat_at(pos.x())
                g["index"] = min(range(len(bounds)), key=lambda i: (abs(bounds[i] - beat), i))
                self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        g, self._gesture = self._gesture, None
        if g is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if g["kind"] == "loop":
            if g["active"]:
                a, b = sorted((g["start"], g["end"]))
                if b > a:
                    self.loop_requested.emit(a, b)
            else:
                self.playhead_requested.emit(max(g["raw"], 0.0))
        elif g["kind"] == "resize":
            sec = self._find(g["id"])
            if sec is not None and abs(g["length"] - sec.length) > 1e-9:
                self.resize_requested.emit(g["id"], float(g["length"]))
        elif g["kind"] == "move" and g["active"]:
            order = [s.id for s in arr.ordered(self.song.sections)]
            if g["id"] in order and order.index(g["id"]) != g["index"]:
                self.move_requested.emit(g["id"], int(g["index"]))
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if pos.y() < ts.RULER_H:
            if self.song.loop:
                self.loop_requested.emit(None, None)
            return
        sec = self.section_at(pos)
        if sec is not None:
            self.set_selection([sec.id])
            self.rename_requested.emit(sec.id)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        pos = QPointF(event.pos())
        sec = self.section_at(pos)
        if sec is not None and sec.id not in self.selected:
            self.set_selection([sec.id])
        self.context_requested.emit(sec.id if sec else "", event.globalPos(), self.beat_at(pos.x()))

    def wheelEvent(self, event) -> None:  # noqa: N802
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 ** (delta.y() / 120.0)
            self.set_zoom(self.px_per_beat * factor, event.position().x())
        else:
            step = delta.x() or delta.y()
            self.set_scroll(self.scroll_px - step)
        event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.unsetCursor()
        super().leaveEvent(event)

    def _update_cursor(self, pos: QPointF) -> None:
        sec = self.section_at(pos)
        if sec is not None and self._near_right_edge(sec, pos.x()):
            self.setCursor(Qt.CursorShape.SizeHorCursor)
            self.setToolTip("")
        elif sec is not None:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            clip = self.song.clips.get(sec.clip_id) if sec.clip_id else None
            others = len(arr.sections_sharing(self.song.sections, sec.clip_id)) - 1
            tip = f"<b>{arr.label_title(sec.label)}</b>, {sec.length / self.beats_per_bar:g} bars"
            if clip is None:
                tip += "<br>Empty slot: drop a clip here or Fill it with a model."
            else:
                tip += f"<br>Clip: {clip.name} ({clip.length / self.beats_per_bar:g} bars)"
                if others > 0:
                    tip += (f"<br>Linked: {others} other section{'s' if others > 1 else ''} play this clip."
                            " Editing it changes them all; Make Unique to edit this one alone.")
            note = self.space_note(sec, clip)
            if note:
                tip += f"<br>&#9670; {note}."
            tip += "<br><i>Drag to move, drag the right edge to resize, drag out to export MIDI.</i>"
            self.setToolTip(tip)
        else:
            self.unsetCursor()
            self.setToolTip("Drag on the ruler to set a loop; click it to move the playhead."
                            if pos.y() < ts.RULER_H else "")

    def _move_bounds(self, moving_id: str) -> list[float]:
        """Where each move target index lies in the current layout: before each other section, then the end."""
        secs = arr.ordered(self.song.sections)
        return [s.start for s in secs if s.id != moving_id] + [arr.arrangement_end(secs)]

    def _find(self, section_id: str) -> Section | None:
        for s in self.song.sections:
            if s.id == section_id:
                return s
        return None

    def cancel_gesture(self) -> None:
        self._gesture = None
        self.update()

    # ================================================================= drops from the library
    def lane_at(self, y: float) -> str | None:
        """The id of the track whose lane is at this height (None above or below the lanes)."""
        if not self.song.tracks or y < self.lane_top(0):
            return None
        index = int((y - self.lane_top(0)) // self.lane_height())
        return self.song.tracks[index].id if 0 <= index < len(self.song.tracks) else None

    def drop_target(self, pos: QPointF) -> DropTarget:
        """Where a clip dropped here lands. The outer quarters of a block insert before or
        after it; its middle takes the clip: the label band (or an empty slot) as the whole
        section's clip, a lane of a filled section as that track's part only."""
        sec = self.section_at(pos)
        if sec is not None:
            rect = self.block_rect(sec)
            quarter = rect.width() / 4
            if sec.clip_id is None or rect.left() + quarter <= pos.x() <= rect.right() - quarter:
                filled = sec.clip_id in self.song.clips
                track = self.lane_at(pos.y()) if filled else None
                return DropTarget(into=sec.id, track=track)
        return DropTarget(None, arr.nearest_boundary(self.song.sections, self.beat_at(pos.x())))

    def _describe_drop(self, target: DropTarget) -> str:
        if target.into is None:
            return "Drop to add the clip as a new section here"
        sec = self._find(target.into)
        if sec is None:
            return ""
        if target.track is not None:
            try:
                name = self.song.track(target.track).name
            except KeyError:
                return ""
            return (f"Drop to replace the {name} part of {arr.label_title(sec.label)} "
                    "(the other parts stay)")
        return f"Drop to replace the whole {arr.label_title(sec.label)} section"

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        answer(event, clip_id_from_mime(event.mimeData(), self.song))

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if answer(event, clip_id_from_mime(event.mimeData(), self.song)):
            target = self.drop_target(event.position())
            if target != self._drop:
                self.status_message.emit(self._describe_drop(target))
            self._drop = target
            self.update()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._drop = None
        self.update()

    def dropEvent(self, event) -> None:  # noqa: N802
        clip_id = clip_id_from_mime(event.mimeData(), self.song)
        target = self.drop_target(event.position())
        self._drop = None
        self.update()
        if answer(event, clip_id):
            self.drop_requested.emit(clip_id, target)
