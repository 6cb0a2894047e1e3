"""The note grid: draws rows, bar/beat lines and the visible notes, and turns mouse input
into edits.

Drawing only touches what is on screen: per track, `NoteArrays.visible()` finds the slice,
and the notes are drawn with one `drawRects` call per brush (velocity shade x selected).
Mouse editing, drawing first as in a DAW's pencil: a press on empty space draws a note and
dragging right sets its length on the grid (a plain click: one grid step); Shift-drag on empty
space selects with a rubber band (Ctrl+Shift adds to the selection); dragging a note moves the
selection (alt: no snap, ctrl: copy); dragging a note's right edge resizes; right-click on a
note deletes it, on empty space asks for the context menu (`context_menu_requested`: the main
window's Rewrite and Continue). A drag shows a preview and pushes one undo command on release.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QImage, QPainter

from core.song import Note
from gui import piano_roll_raster as raster
from gui import piano_roll_style as style
from gui.edit_commands import (MIN_LENGTH, drawn_note, move_notes, plural, resize_notes, snap_beat,
                               without)
from gui.piano_roll_part import RollPart
from gui.piano_roll_state import ROWS, RollState

DRAG_START_PX = 4
EDGE_PX = 7
MAX_LABELS = 400
DENSE_NOTES = 1500  # more notes than this on screen: rasterise them with numpy
TOOLTIP = ("Draw: click empty space for a one-step note, or drag right to draw a longer one.\n"
           "Select: Shift-drag on empty space draws a selection box (Ctrl+Shift-drag adds to it);\n"
           "click a note to select it, Shift-click to add it.\n"
           "Drag a note to move it (Ctrl: copy, Alt: off the grid), its right edge to resize it;\n"
           "Right-click a note to delete it; right-click empty space to rewrite bars or continue the clip.\n"
           "Wheel scrolls, Ctrl+wheel zooms time, Ctrl+Shift+wheel zooms pitch.")


@dataclass
class _Drag:
    mode: str  # "draw", "select" (a shift-press on empty space), "rubber", "move", "resize"
    press: QPointF
    press_beat: float = 0.0  # where the press was in the music (survives scrolling)
    press_pitch: int = 0
    press_y: float = 0.0  # pixels from the top of the highest row
    anchor: Note | None = None
    additive: bool = False
    copy: bool = False
    free: bool = False  # alt held at the press: ignore the grid
    moved: bool = False
    toggle_off: bool = False  # shift-click on a selected note: deselect it if there is no drag
    base: list = field(default_factory=list)
    rect: QRectF | None = None
    result: tuple | None = None  # (new notes, new selection, d_beats, d_pitch or d_end)


class PianoRollView(RollPart):
    """The grid and notes. All edits go through `state.edits` (one undo command each)."""

    status_message = Signal(str)
    context_menu_requested = Signal(QPoint, float)  # global position, the beat under it

    def __init__(self, state: RollState, parent=None):
        super().__init__(state, parent)
        self.draw_velocity = 100
        self._drag: _Drag | None = None
        self._grid_cache: tuple | None = None
        self._last_move: tuple | None = None
        self._autoscroll = QTimer(self)
        self._autoscroll.setInterval(30)
        self._autoscroll.timeout.connect(self._autoscroll_step)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 120)
        self.setToolTip(TOOLTIP)
        self._label_font = QFont()
        self._label_font.setPixelSize(9)
        for sig in (state.notes_changed, state.selection_changed, state.view_changed,
                    state.preview_changed):
            sig.connect(self.update)
        self._playhead_x: float | None = None
        state.playhead_changed.connect(self._on_playhead)

    # ----------------------------------------------------------------- geometry
    def resizeEvent(self, event) -> None:
        self.state.view_w, self.state.view_h = float(self.width()), float(self.height())
        self.state.set_view()
        super().resizeEvent(event)

    # ----------------------------------------------------------------- painting
    def _on_playhead(self, beat: float) -> None:
        """Repaint only the strips under the old and the new playhead (playback moves it often)."""
        x = self.state.x_of(beat)
        for old in (self._playhead_x, x):
            if old is not None and -4 <= old <= self.width() + 4:
                self.update(int(old) - 3, 0, 7, self.height())
        self._playhead_x = x

    def paint(self, p: QPainter, w: int, h: int) -> None:
        st = self.state
        b0, b1 = st.beat_at(0), st.beat_at(w)
        p_hi, p_lo = st.pitch_at(0), st.pitch_at(h - 1)
        layers = self._visible_notes(b0, b1, p_lo, p_hi)
        grid = self._grid(w, h)
        p.drawImage(0, 0, QImage(grid.data, w, h, 4 * w, QImage.Format_RGB32))
        dense = sum(len(idx) for _, _, idx in layers) > DENSE_NOTES
        if dense:  # too many to draw one by one: rasterise them with numpy
            notes = raster.DenseNotes(st, w, h)
            for tid, arr, idx in layers:
                edited = tid == st.edit_track
                chosen = self._selected_mask(arr, idx) if edited else None
                notes.add(arr, idx, st.track_index(tid), not edited, chosen)
            pixels = notes.overlay()
            p.drawImage(0, 0, QImage(pixels.data, w, h, 4 * w, QImage.Format_ARGB32_Premultiplied))
        else:
            for tid, arr, idx in layers:
                self._paint_notes(p, w, tid, arr, idx)
        d = self._drag
        if d is not None and d.mode == "rubber" and d.rect is not None:
            p.setPen(style.cosmetic_pen(style.RUBBER_BAND_EDGE))
            p.setBrush(style.RUBBER_BAND)
            p.drawRect(d.rect)
        x = st.x_of(st.playhead)
        self._playhead_x = x
        if st.playhead_shown and -2 <= x <= w + 2:
            p.setPen(style.cosmetic_pen(style.PLAYHEAD, 2.0))
            p.drawLine(QLineF(x, 0, x, h))

    def _grid(self, w: int, h: int) -> np.ndarray:
        """The background pixels, rebuilt only when zoom, scroll, snap, metre or clip change."""
        st = self.state
        clip = st.clip()
        key = (w, h, st.scroll_x, st.scroll_y, st.px_per_beat, st.row_h, st.snap,
               st.song.beats_per_bar, st.is_drum_view(), clip.length if clip else None)
        if self._grid_cache is None or self._grid_cache[0] != key:
            self._grid_cache = (key, raster.render_grid(st, w, h))
        return self._grid_cache[1]

    def _visible_notes(self, b0: float, b1: float, p_lo: int, p_hi: int) -> list:
        """(track id, arrays, visible indices) per shown track, the edited track last."""
        st = self.state
        if st.clip() is None:
            return []
        drawn = st.drawn_tracks()  # no melody notes on drum rows, no drum hits on piano rows
        order = [t for t in drawn if t != st.edit_track]
        if st.edit_track in drawn:
            order.append(st.edit_track)
        layers = []
        for tid in order:
            arr = st.draw_arrays(tid)
            idx = arr.visible(b0, b1, p_lo, p_hi)
            if len(idx):
                layers.append((tid, arr, idx))
        return layers

    def _selected_mask(self, arr, idx: np.ndarray) -> np.ndarray | None:
        selection = self.state.drawn_selection()
        if not selection:
            return None
        chosen = Counter(selection)
        return np.fromiter((chosen[arr.notes[i]] > 0 for i in idx.tolist()), dtype=bool, count=len(idx))

    def _paint_notes(self, p: QPainter, w: int, tid: str, arr, idx: np.ndarray) -> None:
        """One rectangle per note, batched per colour, and note names where there is room."""
        st = self.state
        ppb, rh = st.px_per_beat, st.row_h
        dim = tid != st.edit_track
        ti = st.track_index(tid)
        x0 = np.clip((arr.start[idx] - st.scroll_x) * ppb, -4.0, w + 4.0)
        x1 = np.clip((arr.end[idx] - st.scroll_x) * ppb, -4.0, w + 4.0)
        width = np.maximum(np.floor(x1) - np.floor(x0) - 1.0, 2.0)
        xs = np.floor(x0).tolist()
        ys = ((ROWS - 1 - arr.pitch[idx].astype(np.float64)) * rh - st.scroll_y).tolist()
        ws = width.tolist()
        hh = max(np.floor(rh) - 1.0, 1.0)
        key = (arr.velocity[idx] * style.VELOCITY_BUCKETS // 128).astype(np.int32) * 2
        chosen = None if dim else self._selected_mask(arr, idx)
        if chosen is not None:
            key += chosen
        style.draw_note_rects(p, ti, dim, key, xs, ys, ws, [hh] * len(xs))
        if rh >= 11 and not dim and not st.is_drum_view():
            wide = np.flatnonzero(width >= 26).tolist()[:MAX_LABELS]
            if wide:
                p.setFont(self._label_font)
                p.setPen(style.PANEL)
                for j in wide:
                    p.drawText(QRectF(xs[j] + 3, ys[j], ws[j] - 4, hh), Qt.AlignVCenter | Qt.AlignLeft,
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
            elif st.clip_id is not None:
                self.context_menu_requested.emit(event.globalPosition().toPoint(), st.beat_at(pos.x()))
            return
        if event.button() != Qt.LeftButton or not st.can_edit():
            return
        mods = event.modifiers()
        shift = bool(mods & Qt.ShiftModifier)
        where = dict(press_beat=st.beat_at(pos.x()), press_pitch=st.pitch_at(pos.y()),
                     press_y=pos.y() + st.scroll_y)
        if hit is None:  # Shift: select with a box (Ctrl+Shift: add to the selection); else draw
            additive = shift and bool(mods & Qt.ControlModifier)
            self._drag = _Drag("select" if shift else "draw", pos, additive=additive,
                               base=list(st.selection) if additive else [],
                               free=bool(mods & Qt.AltModifier), **where)
            if not shift:
                self._preview_drawn(self._drag, pos, mods)
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
                           copy=bool(mods & Qt.ControlModifier) and not on_edge,
                           free=bool(mods & Qt.AltModifier), **where)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        d = self._drag
        if d is None:
            hit = self.note_at(pos)
            shape = Qt.SizeHorCursor if hit and hit[1] else Qt.ArrowCursor
            if self.cursor().shape() != shape:
                self.setCursor(shape)
            return
        if not d.moved and (pos - d.press).manhattanLength() < DRAG_START_PX:
            return
        d.moved = True
        self._last_move = (pos, event.modifiers())
        outside = not QRectF(0, 0, self.width(), self.height()).contains(pos)
        if outside and not self._autoscroll.isActive():
            self._autoscroll.start()
        elif not outside:
            self._autoscroll.stop()
        self._drag_to(pos, event.modifiers())

    def _autoscroll_step(self) -> None:
        """While a drag is held outside the roll, scroll toward the pointer and follow it."""
        if self._drag is None or self._last_move is None:
            self._autoscroll.stop()
            return
        pos, mods = self._last_move
        st = self.state
        dx = pos.x() - self.width() if pos.x() > self.width() else min(0.0, pos.x())
        dy = pos.y() - self.height() if pos.y() > self.height() else min(0.0, pos.y())
        st.set_view(scroll_x=st.scroll_x + max(-40.0, min(40.0, dx / 2)) / st.px_per_beat,
                    scroll_y=st.scroll_y + max(-30.0, min(30.0, dy / 2)))
        self._drag_to(pos, mods)

    def _drag_to(self, pos: QPointF, modifiers) -> None:
        d = self._drag
        st = self.state
        no_snap = d.free or bool(modifiers & Qt.AltModifier)
        grid = 0.0 if no_snap else st.snap
        if d.mode == "draw":
            self._preview_drawn(d, pos, modifiers)
        elif d.mode in ("select", "rubber"):
            d.mode = "rubber"
            d.rect = QRectF(QPointF(st.x_of(d.press_beat), d.press_y - st.scroll_y), pos).normalized()
            self._rubber_select(d)
            self.update()
        elif d.mode == "move":
            a = d.anchor
            new_start = snap_beat(a.start + st.beat_at(pos.x()) - d.press_beat, grid)
            d_beats = new_start - a.start
            d_pitch = st.pitch_at(pos.y()) - d.press_pitch
            notes = st.edit_notes()
            if d.copy:
                _, moved = move_notes(st.selection, st.selection, d_beats, d_pitch)
                d.result = (notes + moved, moved, d_beats, d_pitch)
            else:
                new_notes, moved = move_notes(notes, st.selection, d_beats, d_pitch)
                d.result = (new_notes, moved, d_beats, d_pitch)
            st.set_preview(d.result[0], d.result[1])
            if d.result[1]:
                self.status_message.emit(
                    f"{'Copy' if d.copy else 'Move'} {plural(len(d.result[1]))}: "
                    f"{style.note_name(a.pitch + d_pitch)} at {self._position(new_start)}")
        elif d.mode == "resize":
            a = d.anchor
            new_end = snap_beat(a.end + st.beat_at(pos.x()) - d.press_beat, grid)
            d_end = new_end - a.end
            min_len = grid if grid > 0 else MIN_LENGTH
            new_notes, resized = resize_notes(st.edit_notes(), st.selection, d_end, min_len)
            d.result = (new_notes, resized, d_end, min_len)
            st.set_preview(new_notes, resized)
            self.status_message.emit(f"Resize {plural(len(resized))}: ends at {self._position(new_end)}")

    def _position(self, beat: float) -> str:
        bpb = self.state.song.beats_per_bar
        return f"bar {int(beat // bpb) + 1}, beat {beat % bpb + 1:.4g}"

    def _rubber_select(self, d: _Drag) -> None:
        st = self.state
        r = d.rect
        arr = st.arrays(st.edit_track)
        idx = arr.visible(st.beat_at(r.left()), st.beat_at(r.right()),
                          st.pitch_at(r.bottom()), st.pitch_at(r.top()))
        hits = [arr.notes[i] for i in idx.tolist()]
        st.set_selection(d.base + without(hits, d.base) if d.additive else hits)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() != Qt.LeftButton:  # another button let go: the drag goes on
            return
        self._autoscroll.stop()
        d, self._drag = self._drag, None
        if d is None:
            return
        st = self.state
        st.clear_preview()
        if not st.can_edit():
            return
        cid, tid = st.clip_id, st.edit_track
        if d.mode == "draw" and d.result is not None:
            st.set_selection(st.edits.add(cid, tid, [d.result[0]]))
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

    def _preview_drawn(self, d: _Drag, pos: QPointF, modifiers) -> None:
        """The note being drawn, from the press to the pointer (a click: one grid step), shown
        as a preview; the release adds it as one undo step."""
        st = self.state
        grid = 0.0 if d.free or modifiers & Qt.AltModifier else st.snap
        pointer = st.beat_at(pos.x()) if d.moved else d.press_beat
        note = drawn_note(d.press_pitch, d.press_beat, pointer, grid, self.draw_velocity)
        d.result = (note,)
        st.set_preview(st.edit_notes() + [note], [note])
        self.status_message.emit(f"Draw {style.note_name(note.pitch)} at {self._position(note.start)}, "
                                 f"{note.duration:.4g} beat{'' if note.duration == 1 else 's'} long"
                                 "  (Shift-drag on empty space selects)")

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            if self._drag is not None:
                self._drag = None
                self._autoscroll.stop()
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
