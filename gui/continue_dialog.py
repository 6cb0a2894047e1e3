"""Models > Continue clip…: n continuations of the current clip from a sequence model.

The dialog picks a sequence model (the catalogue's embedded and installed ones), the bars to
add, how many variations and the temperature. The job (`core.generation.continue_with`) runs
through the ModelService like every model call (in the model process, with progress and
cancel); its clips land in the library as one undoable step and are selected.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QMessageBox, QSpinBox, QVBoxLayout)

from core import generation
from gui.commands import AddClipsCommand


def sequence_models() -> list:
    from core.models import catalogue

    try:
        return [e for e in catalogue.models_by_name() if e.is_sequence and not e.problem]
    except Exception:  # noqa: BLE001 - a broken catalogue leaves the action with nothing to offer
        return []


class ContinueDialog(QDialog):
    def __init__(self, clip_name: str, clip_bars: float, entries: list, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Continue clip")
        self.entries = entries
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Add bars after <b>{clip_name}</b> ({clip_bars:g} bars). Each new clip "
                             "starts with it unchanged."))
        form = QFormLayout()
        self.model_box = QComboBox()
        for e in entries:
            self.model_box.addItem(f"{e.name}  ({e.sizes})", e.path)
        self.bars = QSpinBox()
        self.bars.setRange(1, generation.MAX_CONTINUE_BARS)
        self.bars.setValue(4)
        self.bars.setSuffix(" bars")
        self.count = QSpinBox()
        self.count.setRange(1, 8)
        self.count.setValue(4)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip("Lower: safer, more like what the model saw most; higher: wilder")
        form.addRow("Model", self.model_box)
        form.addRow("Continue by", self.bars)
        form.addRow("Variations", self.count)
        form.addRow("Temperature", self.temperature)
        lay.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Continue")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def choice(self) -> tuple[str, int, int, float]:
        return self.model_box.currentData(), self.bars.value(), self.count.value(), self.temperature.value()


class ContinueAction(QObject):
    """Owns the action; the window adds `act_continue` to a menu."""

    def __init__(self, song, undo_stack, session, models, parent=None):
        super().__init__(parent)
        self.song, self.undo_stack, self.session, self.models = song, undo_stack, session, models
        self.act_continue = QAction("&Continue Clip…", parent)
        self.act_continue.setStatusTip("Add bars after the current clip with a sequence model")
        self.act_continue.triggered.connect(self.open)
        self._busy = False

    def open(self) -> None:
        parent = self.parent()
        clip_id = self.session.current_clip
        if clip_id is None or clip_id not in self.song.clips:
            QMessageBox.information(parent, "Continue clip", "Choose a clip first (in the library or the piano roll).")
            return
        entries = sequence_models()
        if not entries:
            QMessageBox.information(parent, "Continue clip", "No sequence model is installed or embedded.")
            return
        clip = self.song.clip(clip_id)
        dialog = ContinueDialog(clip.name, clip.length / 4, entries, parent)
        if dialog.exec() != QDialog.Accepted or self._busy:
            return
        path, bars, n, temperature = dialog.choice()
        tracks = {t.id: copy.copy(t) for t in self.song.tracks}
        self._busy = True
        self.act_continue.setEnabled(False)

        def finished(*_):
            self._busy = False
            self.act_continue.setEnabled(True)

        def done(clips):
            finished()
            if clips:
                self.undo_stack.push(AddClipsCommand(self.song, clips, f"Continue {clip.name}"))
                self.session.select_clips([c.id for c in clips])

        self.models.submit(generation.continue_with, path, copy.deepcopy(clip), bars, n, temperature, tracks,
                           on_done=done, on_error=lambda *a: finished(), on_cancel=finished,
                           description=f"Continuing {clip.name}")
