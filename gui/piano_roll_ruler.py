"""The bar/beat ruler above the roll; a click or drag there moves the playhead."""
from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPolygonF

from gui import piano_roll_style as style
from gui.edit_commands import snap_beat
from gui.piano_roll_part import RollPart
from gui.piano_roll_state import RollState

HEIGHT = 26


class RulerWidget(RollPart):
    """Emits `playhead_requested(beat)` when the musician clicks or drags in it."""

    playhead_requested = Signal(float)

    def __init__(self, state: RollState, parent=None):
        super().__init__(state, parent)
        self.setFixedHeight(HEIGHT)
        self._font = QFont()
        self._font.setPixelSize(10)
        for sig in (state.view_changed, state.notes_changed, state.playhead_changed):
            sig.connect(self.update)
        self.setToolTip("Bars and beats. Click or drag to move the playhead (Shift: no snap).")

    def paint(self, p: QPainter, w: int, h: int) -> None:
        st = self.state
        p.fillRect(0, 0, w, h, style.PANEL)
        clip = st.clip()
        if clip is not None:
            x_end = st.x_of(clip.length)
            if x_end < w:
                p.fillRect(QRectF(max(0.0, x_end), 0, w, h), style.BG_OUTSIDE_CLIP)
        ppb = st.px_per_beat
        bpb = st.song.beats_per_bar
        b0, b1 = max(0.0, st.beat_at(0)), st.beat_at(w)
        label_every = 1
        while bpb * ppb * label_every < 34:
            label_every *= 2
        ticks, bars = [], []
        p.setFont(self._font)
        if ppb >= 6:
            for beat in range(int(b0), int(b1) + 2):
                if beat % bpb:
                    x = round(st.x_of(beat)) + 0.5
                    ticks.append(QLineF(x, h - 6, x, h))
                    if ppb >= 70:  # room to number the beats too: bar.beat
                        p.setPen(style.TEXT_DIM)
                        p.drawText(QRectF(x + 3, 1, 40, h - 8), Qt.AlignLeft | Qt.AlignVCenter,
                                   f"{int(beat // bpb) + 1}.{int(beat % bpb) + 1}")
        bar = int(b0 // bpb)
        while bar * bpb <= b1:
            x = round(st.x_of(bar * bpb)) + 0.5
            if bar % label_every == 0:
                bars.append(QLineF(x, 3, x, h))
                p.setPen(style.TEXT)
                p.drawText(QRectF(x + 4, 1, 60, h - 8), Qt.AlignLeft | Qt.AlignVCenter, str(bar + 1))
            elif label_every <= 4:
                bars.append(QLineF(x, h - 10, x, h))
            bar += 1
        p.setPen(style.cosmetic_pen(style.TEXT_DIM))
        if ticks:
            p.drawLines(ticks)
        if bars:
            p.drawLines(bars)
        p.setPen(style.cosmetic_pen(style.LINE_BAR))
        p.drawLine(QLineF(0, h - 0.5, w, h - 0.5))
        x = st.x_of(st.playhead)
        if st.playhead_shown and -8 <= x <= w + 8:
            p.setPen(Qt.NoPen)
            p.setBrush(style.PLAYHEAD)
            p.drawPolygon(QPolygonF([QPointF(x - 6, h - 11), QPointF(x + 6, h - 11), QPointF(x, h - 1)]))

    def _request(self, event) -> None:
        st = self.state
        beat = max(0.0, st.beat_at(event.position().x()))
        if not event.modifiers() & Qt.ShiftModifier and st.snap > 0:
            beat = max(0.0, snap_beat(beat, st.snap))
        self.playhead_requested.emit(beat)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            self._request(event)

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.LeftButton:
            self._request(event)
