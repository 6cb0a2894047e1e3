"""The toolbar's Undo and Redo buttons.

The undo stack's actions rename themselves after each edit ("Undo Add 8 sampled clips"), which
made the toolbar change width with every edit and pushed the transport bar about. These
buttons keep a fixed label and name the edit they would undo in their tooltip; the Edit menu
keeps the full names.
"""
from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolButton


class UndoRedoButton(QToolButton):
    """A fixed label; the edit it would undo (or redo) in the tooltip."""

    def __init__(self, label: str, action: QAction, enabled: bool, edit: str, enabled_changed, edit_changed,
                 parent=None):
        super().__init__(parent)
        self._label = label
        self._keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.setText(label)
        self.setAutoRaise(True)
        self.clicked.connect(action.trigger)
        self.setEnabled(enabled)
        self.name_edit(edit)
        enabled_changed.connect(self.setEnabled)  # the stack's signals, e.g. canUndoChanged
        edit_changed.connect(self.name_edit)  # e.g. undoTextChanged

    @Slot(str)
    def name_edit(self, edit: str) -> None:
        tip = f"{self._label} {edit}" if edit else self._label
        self.setToolTip(tip + (f" ({self._keys})" if self._keys else ""))
