"""The note grid: draws rows, bar/beat lines and the visible notes, and turns mouse input
into edits.

Drawing only touches what is on screen: per track, `NoteArrays.visible()` finds the slice,
and the notes are drawn with one `drawRects` call per brush (velocity shade x selected).
Mouse editing: a click on empty space draws a note one grid step long; a drag on empty space
selects with a rubber band (shift adds); dragging a note moves the selection (alt: no snap,
ctrl: copy); dragging a note's right edge resizes; right-click deletes. A drag shows a preview
and pushes one undo command on release.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QWidget

from core.song import Note
from gui import piano_roll_style as style
from gui.edit_commands import (DEFAULT_LENGTH, MIN_LENGTH, floor_beat, move_notes, plural,
                               resize_notes, snap_beat, without)
from gui.piano_roll_state import ROWS, RollState

DRAG_START_PX = 4
EDGE_PX = 7
MAX_LABELS = 400


@dataclass
class _Drag:
    mode: str  # "empty", "rubber", "move", "resize"
    press: QPointF
    anchor: Note | None = None
    additive: bool = False
    copy: bool = False
    moved: bool = False
    toggle_off: bool = False  # shift-click on a selected note: deselect it if there is no drag
    base: list = field(default_factory=list)
    rect: QRectF | None = None
    result: tuple | None = None  # (new notes, new selection, d_beats, d_pitch or d_end)


class PianoRollView(QWidget):
    """The grid and notes. All edits go through `state.edits` (one undo command each)."""

    status_message = Signal(str)

    def __init__(self, state: RollState, parent=None):
        super().__init__(parent)
        self.state = state
        self.draw_velocity = 100
        self._drag: _Drag | None = None
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 120)
        self.setToolTip("Click empty space to draw a note; drag to select; drag a note to move it, "
                        "its right edge to resize it; right-click deletes.\n"
                        "Wheel scrolls, Ctrl+wheel zooms time, Ctrl+Shift+wheel zooms pitch.")
        self._label_font = QFont()
        self._label_font.setPixelSize(9)
        for sig in (state.notes_changed, state.selection_changed, state.view_changed,
                    state.preview_changed, state.playhead_changed):
            sig.connect(self.update)

    # ----------------------------------------------------------------- geometry
    def resizeEvent(self, event) -> None:
        self.state.view_w, self.state.view_h = float(self.width()), float(self.height())
        self.state.set_view()
        super().resizeEvent(event)

    # ----------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            self.paint(p, self.width(), self.height())
        finally:
            p.end()

    def paint(self, p: QPainter, w: int, h: int) -> None:
        st = self.state
        b0, b1 = st.beat_at(0), st.beat_at(w)
        p_hi, p_lo = st.pitch_at(0), st.pitch_at(h - 1)
        self._paint_rows(p, w, h, p_lo, p_hi)
        self._paint_time_grid(p, w, h, b0, b1)
        self._paint_notes(p, w, b0, b1, p_lo, p_hi)
        d = self._drag
        if d is not None and d.mode == "rubber" and d.rect is not None:
            p.setPen(style.cosmetic_pen(style.RUBBER_BAND_EDGE))
            p.setBrush(style.RUBBER_BAND)
            p.drawRect(d.rect)
        x = st.x_of(st.playhead)
        if -2 <= x <= w + 2:
            p.setPen(style.cosmetic_pen(style.PLAYHEAD, 2.0))
            p.drawLine(QLineF(x, 0, x, h))

    def _paint_rows(self, p: QPainter, w: int, h: int, p_lo: int, p_hi: int) -> None:
        st = self.state
        p.fillRect(0, 0, w, h, style.BG_WHITE_ROW)
        drums = st.is_drum_view()
        shaded, marked = [], []
        for pitch in range(p_lo, p_hi + 1):
            rect = QRectF(0, st.y_of(pitch), w, st.row_h)
            if drums:
                if pitch in style.MAIN_DRUMS:
                    marked.append(rect)
                elif pitch not in style.GM_DRUMS:
                    shaded.append(rect)
            elif style.is_black(pitch):
                shaded.append(rect)
        p.setPen(Qt.NoPen)
        if shaded:
            p.setBrush(style.BG_BLACK_ROW)
            p.drawRects(shaded)
        if marked:
            p.setBrush(style.BG_DRUM_ROW)
            p.drawRects(marked)
        lines, octaves = [], []
        if st.row_h >= 6:
            for pitch in range(p_lo, p_hi + 1):
                y = st.y_of(pitch) + st.row_h - 0.5
                (octaves if pitch % 12 == 0 and not drums else lines).append(QLineF(0, y, w, y))
        p.setPen(style.cosmetic_pen(style.LINE_ROW))
        if lines:
            p.drawLines(lines)
        if octaves:
            p.setPen(style.cosmetic_pen(style.LINE_OCTAVE))
            p.drawLines(octaves)

    def _paint_time_grid(self, p: QPainter, w: int, h: int, b0: float, b1: float) -> None:
        st = self.state
        ppb = st.px_per_beat
        bpb = st.song.beats_per_bar
        bar_px = bpb * ppb
        bar_every = 1
        while bar_px * bar_every < 14:
            bar_every *= 2
        first_bar = int(max(0.0, b0) // bpb)
        last_bar = int(b1 // bpb) + 1
        # every other bar a touch lighter, so bars read at a glance
        shade = [QRectF(st.x_of(b * bpb), 0, bar_px, h)
                 for b in range(first_bar, last_bar + 1) if b % 2 == 1]
        if shade:
            p.setPen(Qt.NoPen)
            p.setBrush(style.BAR_SHADE)
            p.drawRects(shade)
        subs, beats, bars = [], [], []
        step = st.snap if st.snap > 0 else 0.25
        if step * ppb >= 7:
            n0, n1 = int(max(0.0, b0) // step), int(b1 // step) + 1
            for i in range(n0, n1 + 1):
                beat = i * step
                if abs(beat - round(beat)) > 1e-6:
                    x = round(st.x_of(beat)) + 0.5
                    subs.append(QLineF(x, 0, x, h))
        if ppb >= 6:
            for beat in range(int(max(0.0, b0)), int(b1) + 2):
                if beat % bpb:
                    x = round(st.x_of(beat)) + 0.5
                    beats.append(QLineF(x, 0, x, h))
        for b in range(first_bar, last_bar + 1):
            if b % bar_every == 0:
                x = round(st.x_of(b * bpb)) + 0.5
                bars.append(QLineF(x, 0, x, h))
        for lines, color in ((subs, style.LINE_SUB), (beats, style.LINE_BEAT), (bars, style.LINE_BAR)):
            if lines:
                p.setPen(style.cosmetic_pen(color))
                p.drawLines(lines)
        clip = st.clip()
        if clip is not None:
            x_end = st.x_of(clip.length)
            if x_end < w:
                p.fillRect(QRectF(max(0.0, x_end), 0, w - max(0.0, x_end), h), style.BG_OUTSIDE_CLIP)
                p.setPen(style.cosmetic_pen(style.LINE_BAR, 2.0))
                p.drawLine(QLineF(x_end, 0, x_end, h))

    def _paint_notes(self, p: QPainter, w: int, b0: float, b1: float, p_lo: int, p_hi: int) -> None:
        st = self.state
        if st.clip() is None:
            return
        order = [t for t in st.visible_tracks if t != st.edit_track]
        if st.edit_track in st.visible_tracks:
            order.append(st.edit_track)
        ppb, rh = st.px_per_beat, st.row_h
        label = rh >= 11 and not st.is_drum_view()
        for tid in order:
            arr = st.draw_arrays(tid)
            idx = arr.visible(b0, b1, p_lo, p_hi)
            if not len(idx):
                continue
            dim = tid != st.edit_track
            ti = st.track_index(tid)
            x0 = np.clip((arr.start[idx] - st.scroll_x) * ppb, -4.0, w + 4.0)
            x1 = np.clip((arr.end[idx] - st.scroll_x) * ppb, -4.0, w + 4.0)
            width = np.maximum(x1 - x0 - 1.0, 2.0)
            y = (ROWS - 1 - arr.pitch[idx].astype(np.float64)) * rh - st.scroll_y + 0.5
            key = (arr.velocity[idx] * style.VELOCITY_BUCKETS // 128).astype(np.int32) * 2
            selection = st.drawn_selection()
            if not dim and selection:
                chosen = Counter(selection)
                key += np.fromiter((chosen[arr.notes[i]] > 0 for i in idx.tolist()), dtype=np.int32,
                                   count=len(idx))
            xs, ys, ws = x0.tolist(), y.tolist(), width.tolist()
            hh = max(rh - 1.0, 1.0)
            for k in np.unique(key).tolist():
                picks = np.flatnonzero(key == k).tolist()
                bucket, selected = divmod(k, 2)
                p.setBrush(style.note_brush(ti, bucket, dim, bool(selected)))
                p.setPen(style.note_pen(ti, dim, bool(selected)))
                p.drawRects([QRectF(xs[j], ys[j], ws[j], hh) for j in picks])
            if label and not dim:
                wide = np.flatnonzero(width >= 26).tolist()[:MAX_LABELS]
                if wide:
                    p.setFont(self._label_font)
                    p.setPen(style.PANEL)
                    for j in wide:
                        p.drawText(QRectF(xs[j] + 3, ys[j], ws[j] - 4, hh),
                                   Qt.AlignVCenter | Qt.AlignLeft,
                                   style.note_name(int(arr.pitch[idx[j]])))

    # ----------------------------------------------------------------- hit testing
    def note_at(self, pos: QPointF) -> tuple[Note, bool] | None:
        """The edited track's note under a point and whether the point is on its right edge."""
        st = self.state
        if not st.can_edit():
            return None
        arr = st.arrays(st.edit_track)
        beat, pitch = st.beat_at(pos.x()), st.pitch_at(pos.y())
        i = arr.at(beat, pitch)
        if i is None:  # just past a note's end still grabs its edge
            i = arr.at(beat - 3.0 / st.px_per_beat, pitch)
            if i is None:
                return None
        note = arr.notes[i]
        note_px = (note.end - note.start) * st.px_per_beat
        edge = min(EDGE_PX, max(3.0, note_px * 0.3))
        return note, st.x_of(note.end) - pos.x() <= edge

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event) -> None:
        self.setFocus(Qt.MouseFocusReason)
        st = self.state
        pos = event.position()
        hit = self.note_at(pos)
        if event.button() == Qt.RightButton:
            if hit is not None:
                st.set_selection(st.edits.delete(st.clip_id, st.edit_track, [hit[0]]))
            return
        if event.button() != Qt.LeftButton or not st.can_edit():
            return
        mods = event.modifiers()
        shift = bool(mods & Qt.ShiftModifier)
        if hit is None:
            self._drag = _Drag("empty", pos, additive=shift,
                               base=list(st.selection) if shift else [])
            return
        note, on_edge = hit
        selected = note in st.selection
        toggle_off = False
        if shift and selected:
            toggle_off = True
        elif shift:
            st.set_selection(st.selection + [note])
        elif not selected:
            st.set_selection([note])
        self.draw_velocity = note.velocity
        self._drag = _Drag("resize" if on_edge else "move", pos, anchor=note, toggle_off=toggle_off,
                           copy=bool(mods & Qt.ControlModifier) and not on_edge)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        d = self._drag
        if d is None:
            hit = self.note_at(pos)
            self.setCursor(Qt.SizeHorCursor if hit and hit[1] else Qt.ArrowCursor)
            return
        if not d.moved and (pos - d.press).manhattanLength() < DRAG_START_PX:
            return
        d.moved = True
        st = self.state
        no_snap = bool(event.modifiers() & Qt.AltModifier)
        grid = 0.0 if no_snap else st.snap
        if d.mode in ("empty", "rubber"):
            d.mode = "rubber"
            d.rect = QRectF(d.press, pos).normalized()
            self._rubber_select(d)
        elif d.mode == "move":
            a = d.anchor
            new_start = snap_beat(a.start + (pos.x() - d.press.x()) / st.px_per_beat, grid)
            d_beats = new_start - a.start
            d_pitch = st.pitch_at(pos.y()) - st.pitch_at(d.press.y())
            notes = st.edit_notes()
            if d.copy:
                _, moved = move_notes(st.selection, st.selection, d_beats, d_pitch)
                d.result = (notes + moved, moved, d_beats, d_pitch)
            else:
                new_notes, moved = move_notes(notes, st.selection, d_beats, d_pitch)
                d.result = (new_notes, moved, d_beats, d_pitch)
            st.set_preview(d.result[0], d.result[1])
            self.status_message.emit(f"{style.note_name(d.result[1][0].pitch) if d.result[1] else ''}"
                                     f"  start {new_start:g}")
        elif d.mode == "resize":
            a = d.anchor
            new_end = snap_beat(a.end + (pos.x() - d.press.x()) / st.px_per_beat, grid)
            d_end = new_end - a.end
            min_len = grid if grid > 0 else MIN_LENGTH
            new_notes, resized = resize_notes(st.edit_notes(), st.selection, d_end, min_len)
            d.result = (new_notes, resized, d_end, min_len)
            st.set_preview(new_notes, resized)

    def _rubber_select(self, d: _Drag) -> None:
        st = self.state
        r = d.rect
        arr = st.arrays(st.edit_track)
        idx = arr.visible(st.beat_at(r.left()), st.beat_at(r.right()),
                          st.pitch_at(r.bottom()), st.pitch_at(r.top()))
        hits = [arr.notes[i] for i in idx.tolist()]
        st.set_selection(d.base + without(hits, d.base) if d.additive else hits)

    def mouseReleaseEvent(self, event) -> None:
        d, self._drag = self._drag, None
        if d is None or event.button() != Qt.LeftButton:
            return
        st = self.state
        st.clear_preview()
        if not st.can_edit():
            return
        cid, tid = st.clip_id, st.edit_track
        if d.mode == "empty" and not d.additive:
            self._draw_note(d.press)
        elif d.mode in ("move", "resize") and not d.moved:
            if d.toggle_off:
                chosen = list(st.selection)
                chosen.remove(d.anchor)
                st.set_selection(chosen)
        elif d.mode == "move" and d.result is not None:
            _, _, d_beats, d_pitch = d.result
            if d.copy:
                st.set_selection(st.edits.add(cid, tid, d.result[1],
                                              text=f"Copy {plural(len(d.result[1]))}"))
            else:
                st.set_selection(st.edits.move(cid, tid, st.selection, d_beats, d_pitch))
        elif d.mode == "resize" and d.result is not None:
            _, _, d_end, min_len = d.result
            st.set_selection(st.edits.resize(cid, tid, st.selection, d_end, min_len))
        self.update()

    def _draw_note(self, pos: QPointF) -> None:
        st = self.state
        length = st.snap if st.snap > 0 else DEFAULT_LENGTH
        start = floor_beat(max(0.0, st.beat_at(pos.x())), st.snap if st.snap > 0 else DEFAULT_LENGTH)
        note = Note(st.pitch_at(pos.y()), start, start + length, self.draw_velocity)
        st.set_selection(st.edits.add(st.clip_id, st.edit_track, [note]))

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            if self._drag is not None:
                self._drag = None
                self.state.clear_preview()
            else:
                self.state.set_selection([])
            return
        super().keyPressEvent(event)

    # ----------------------------------------------------------------- wheel
    def wheelEvent(self, event) -> None:
        st = self.state
        delta = event.angleDelta()
        dy = delta.y() or delta.x()
        mods = event.modifiers()
        pos = event.position()
        if mods & Qt.ControlModifier and mods & Qt.ShiftModifier:
            st.zoom_y(1.15 ** (dy / 120.0), pos.y())
        elif mods & Qt.ControlModifier:
            st.zoom_x(1.2 ** (dy / 120.0), pos.x())
        elif mods & Qt.ShiftModifier or (delta.x() and not delta.y()):
            st.set_view(scroll_x=st.scroll_x - dy / 120.0 * 60.0 / st.px_per_beat)
        else:
            st.set_view(scroll_y=st.scroll_y - dy / 120.0 * 3 * st.row_h)
        event.accept()
