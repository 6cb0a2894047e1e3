"""The keyboard beside the roll: piano keys with C marks, or drum names for a drum track."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter

from gui import piano_roll_style as style
from gui.piano_roll_part import RollPart
from gui.piano_roll_state import RollState

PIANO_WIDTH = 64
DRUM_WIDTH = 128
WHITE_KEY = QColor("#dfe2e7")
WHITE_KEY_C = QColor("#f3f4f6")
BLACK_KEY = QColor("#15171b")
KEY_EDGE = QColor("#9aa0aa")


class KeyboardWidget(RollPart):
    def __init__(self, state: RollState, parent=None):
        super().__init__(state, parent)
        self.setFixedWidth(PIANO_WIDTH)
        self._font = QFont()
        self._font.setPixelSize(9)
        self._shown: tuple | None = None
        state.view_changed.connect(self._on_view)
        state.notes_changed.connect(self._on_tracks)
        self.setToolTip("Pitches: C notes are labelled (C4 is middle C); a drum track shows drum "
                        "names. Click a key to select its notes (Shift adds).")

    def _on_view(self) -> None:
        shown = (self.state.scroll_y, self.state.row_h)
        if shown != self._shown:  # horizontal scrolling and zooming leave the keys as they are
            self._shown = shown
            self.update()

    def _on_tracks(self) -> None:
        self.setFixedWidth(DRUM_WIDTH if self.state.is_drum_view() else PIANO_WIDTH)
        self.update()

    def mousePressEvent(self, event) -> None:
        """Select every note of the edited track at the clicked pitch (all the snares...)."""
        st = self.state
        if event.button() != Qt.LeftButton or not st.can_edit():
            return
        pitch = st.pitch_at(event.position().y())
        row = [n for n in st.edit_notes() if n.pitch == pitch]
        if event.modifiers() & Qt.ShiftModifier:
            row = st.selection + [n for n in row if n not in st.selection]
        st.set_selection(row)

    def paint(self, p: QPainter, w: int, h: int) -> None:
        st = self.state
        p.fillRect(0, 0, w, h, style.PANEL)
        p_hi, p_lo = st.pitch_at(0), st.pitch_at(h - 1)
        rh = st.row_h
        p.setFont(self._font)
        if st.is_drum_view():
            for pitch in range(p_lo, p_hi + 1):
                y = st.y_of(pitch)
                main = pitch in style.MAIN_DRUMS
                named = pitch in style.GM_DRUMS
                p.fillRect(QRectF(0, y, w, rh - 1),
                           style.BG_DRUM_ROW if main else (style.BG_WHITE_ROW if named else style.PANEL))
                if rh >= 8:
                    p.setPen(style.TEXT if main else style.TEXT_DIM)
                    p.drawText(QRectF(6, y, w - 10, rh), Qt.AlignVCenter | Qt.AlignLeft,
                               f"{pitch}  {style.drum_name(pitch)}" if named else style.note_name(pitch))
            return
        # white keys fill the full width, black keys two thirds of it, one row per semitone
        for pitch in range(p_lo, p_hi + 1):
            y = st.y_of(pitch)
            if style.is_black(pitch):
                p.fillRect(QRectF(0, y, w, rh), WHITE_KEY)
                p.fillRect(QRectF(0, y, w * 0.62, rh), BLACK_KEY)
            else:
                p.fillRect(QRectF(0, y, w, rh), WHITE_KEY_C if pitch % 12 == 0 else WHITE_KEY)
        p.setPen(KEY_EDGE)
        for pitch in range(p_lo, p_hi + 1):
            if pitch % 12 in (0, 5):  # the borders between white keys that touch: B|C and E|F
                y = st.y_of(pitch) + rh - 0.5
                p.drawLine(0, round(y), w, round(y))
            if pitch % 12 == 0 and rh >= 6:
                y = st.y_of(pitch)
                p.setPen(QColor("#30343c"))
                p.drawText(QRectF(w * 0.4, y - 1, w * 0.6 - 4, rh + 2), Qt.AlignVCenter | Qt.AlignRight,
                           style.note_name(pitch))
                p.setPen(KEY_EDGE)
        p.setPen(QColor("#0c0d10"))
        p.drawLine(w - 1, 0, w - 1, h)
