"""The base of the piano roll's drawn parts (grid, keys, ruler, velocity lane)."""
from __future__ import annotations

from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from gui.piano_roll_state import RollState


class RollPart(QWidget):
    """A widget that shares the roll's state and draws everything in `paint(p, w, h)`."""

    def __init__(self, state: RollState, parent=None):
        super().__init__(parent)
        self.state = state

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        try:
            self.paint(p, self.width(), self.height())
        finally:
            p.end()

    def paint(self, p: QPainter, w: int, h: int) -> None:
        raise NotImplementedError
