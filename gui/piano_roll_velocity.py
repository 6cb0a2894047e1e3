"""The velocity lane under the roll: one bar per note of the edited track, drawn at the note's
start. Dragging a bar up or down sets that note's velocity (and moves the other selected notes
by the same amount when the note is selected); dragging across empty lane paints velocities
onto the notes passed over. One undo command on release."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter

from core.song import Note
from gui import piano_roll_raster as raster
from gui import piano_roll_style as style
from gui.edit_commands import set_velocities
from gui.piano_roll_part import RollPart
from gui.piano_roll_state import RollState

HEIGHT = 84
PAD = 4  # pixels above velocity 127
HIT_PX = 5
DENSE_BARS = 800  # more bars than this: draw them as pixel columns with numpy


class VelocityLane(RollPart):
    def __init__(self, state: RollState, parent=None):
        super().__init__(state, parent)
        self.setFixedHeight(HEIGHT)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._mode: str | None = None
        self._targets: list[Note] = []  # bar mode: the hit note first
        self._changes: dict[Note, int] = {}
        self._last_x = 0.0
        for sig in (state.notes_changed, state.selection_changed, state.view_changed,
                    state.preview_changed):
            sig.connect(self.update)
        self.setToolTip("Velocity: drag a bar up or down (selected notes move together), "
                        "or drag across the lane to paint velocities.")

    # ----------------------------------------------------------------- mapping
    def velocity_at(self, y: float) -> int:
        usable = self.height() - PAD - 1
        return max(1, min(127, round((self.height() - 1 - y) / usable * 127)))

    def y_of(self, velocity: float) -> float:
        usable = self.height() - PAD - 1
        return self.height() - 1 - velocity / 127 * usable

    def _visible(self):
        st = self.state
        if not st.can_edit():
            return None, np.zeros(0, dtype=np.intp)
        arr = st.draw_arrays(st.edit_track)
        return arr, arr.visible(st.beat_at(-HIT_PX), st.beat_at(self.width() + HIT_PX))

    # ----------------------------------------------------------------- painting
    def paint(self, p: QPainter, w: int, h: int) -> None:
        st = self.state
        p.fillRect(0, 0, w, h, style.PANEL)
        p.setPen(style.cosmetic_pen(style.LINE_SUB))
        p.drawLines([QLineF(0, self.y_of(v), w, self.y_of(v)) for v in (32, 64, 96, 127)])
        p.setPen(style.cosmetic_pen(style.LINE_BAR))
        p.drawLine(QLineF(0, 0.5, w, 0.5))
        arr, idx = self._visible()
        if arr is None or not len(idx):
            return
        ti = st.track_index(st.edit_track)
        chosen = set(st.drawn_selection())
        selected = np.fromiter((arr.notes[i] in chosen for i in idx.tolist()), dtype=bool,
                               count=len(idx)) if chosen else np.zeros(len(idx), dtype=bool)
        xs = (arr.start[idx] - st.scroll_x) * st.px_per_beat
        velocity = arr.velocity[idx].astype(np.int64)
        if len(idx) > DENSE_BARS:
            self._paint_dense(p, w, h, ti, xs, velocity, selected)
            return
        widths = np.clip((arr.end[idx] - arr.start[idx]) * st.px_per_beat - 2.0, 3.0, 9.0).tolist()
        tops = self.y_of(velocity.astype(np.float64)).tolist()
        xs = xs.tolist()
        key = (velocity * style.VELOCITY_BUCKETS // 128) * 2 + selected
        style.draw_note_rects(p, ti, False, key, xs, tops, widths, [h - t for t in tops])

    def _paint_dense(self, p: QPainter, w: int, h: int, ti: int, xs: np.ndarray,
                     velocity: np.ndarray, selected: np.ndarray) -> None:
        """Many notes: one pixel column each, the loudest note of a column sets its height."""
        cols = np.clip(np.floor(xs).astype(np.int64), 0, w - 1)
        top_velocity = np.zeros(w, dtype=np.int64)
        np.maximum.at(top_velocity, cols, velocity)
        chosen = np.zeros(w, dtype=np.int64)
        np.maximum.at(chosen, cols, selected.astype(np.int64))
        key = np.minimum(top_velocity * style.VELOCITY_BUCKETS // 128, style.VELOCITY_BUCKETS - 1) * 2
        colour = raster.note_lut(ti, False)[key + chosen]
        tops = self.y_of(top_velocity.astype(np.float64))
        mask = (np.arange(h, dtype=np.float64)[:, None] >= tops[None, :]) & (top_velocity > 0)[None, :]
        pixels = np.where(mask, colour[None, :], 0).astype(np.uint32)
        p.drawImage(0, 0, QImage(pixels.data, w, h, 4 * w, QImage.Format_ARGB32_Premultiplied))

    # ----------------------------------------------------------------- editing
    def note_at(self, x: float, y: float) -> Note | None:
        """The bar nearest to x (within a few pixels); among a chord, the top nearest to y."""
        arr, idx = self._visible()
        if arr is None or not len(idx):
            return None
        xs = (arr.start[idx] - self.state.scroll_x) * self.state.px_per_beat
        near = idx[np.abs(xs + 2 - x) <= HIT_PX]
        if not len(near):
            return None
        def closeness(i: int) -> tuple[int, float]:
            bar_x = self.state.x_of(arr.start[i]) + 2
            return round(abs(bar_x - x)), abs(self.y_of(arr.notes[i].velocity) - y)

        best = min(near.tolist(), key=closeness)
        return arr.notes[best]

    def mousePressEvent(self, event) -> None:
        st = self.state
        if event.button() != Qt.LeftButton or not st.can_edit():
            return
        pos = event.position()
        hit = self.note_at(pos.x(), pos.y())
        self._changes = {}
        if hit is not None:
            self._mode = "bar"
            self._targets = [hit] + ([n for n in st.selection if n != hit] if hit in st.selection else [])
        else:
            self._mode = "paint"
            self._last_x = pos.x()
        self._drag_to(pos.x(), pos.y())

    def mouseMoveEvent(self, event) -> None:
        if self._mode is not None:
            self._drag_to(event.position().x(), event.position().y())

    def _drag_to(self, x: float, y: float) -> None:
        st = self.state
        vel = self.velocity_at(y)
        if self._mode == "bar":
            delta = vel - self._targets[0].velocity
            self._changes = {n: max(1, min(127, n.velocity + delta)) for n in self._targets}
        else:
            arr = st.arrays(st.edit_track)
            lo, hi = sorted((self._last_x, x))
            for i in arr.visible(st.beat_at(lo - HIT_PX), st.beat_at(hi + HIT_PX)).tolist():
                sx = st.x_of(arr.start[i])
                if lo - HIT_PX <= sx <= hi + HIT_PX:
                    self._changes[arr.notes[i]] = vel
            self._last_x = x
        notes, changed = set_velocities(st.edit_notes(), list(self._changes.items()))
        st.set_preview(notes, self._renamed_selection(changed))

    def _renamed_selection(self, changed: list[Note]) -> list[Note]:
        new_for = dict(zip(self._changes, changed))
        return [new_for.get(n, n) for n in self.state.selection]

    def mouseReleaseEvent(self, event) -> None:
        if self._mode is None or event.button() != Qt.LeftButton:
            return
        st = self.state
        self._mode = None
        st.clear_preview()
        self._changes = {n: v for n, v in self._changes.items() if n.velocity != v}
        if self._changes:
            _, changed = set_velocities([], list(self._changes.items()))
            selection = self._renamed_selection(changed)  # before the edit trims the old notes
            st.edits.set_velocities(st.clip_id, st.edit_track, list(self._changes.items()))
            st.set_selection(selection)
        self._changes = {}
