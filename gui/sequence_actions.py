"""Models > Continue Clip… and Rewrite Bars…: sequence models in the window.

Continue: n continuations of the current clip. Rewrite: n candidates for chosen bars of the
current clip (preset to the bars of the piano roll's selected notes), every other bar kept.

The dialog picks a sequence model (the catalogue's embedded and installed ones), the bars to
add, how many variations and the temperature. The job (`core.generation.continue_with`) runs
through the ModelService like every model call (in the model process, with progress and
cancel); its clips land in the library as one undoable step and are selected.

From the timeline (Continue Section… / Rewrite Bars of Section…) the same dialog works on the
section's clip; a rewrite can also put its first candidate into that section (and its repeats
stay as they are), in the same undo step.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QLabel, QMenu, QMessageBox, QSpinBox, QVBoxLayout)

from core import arrangement as arr
from core import generation
from core.errors import UserError
from core.seq import model as seq_model
from gui.arrange_commands import ArrangeCommand
from gui.commands import AddClipsCommand


def sequence_models() -> list:
    from core.models import catalogue

    try:
        return [e for e in catalogue.models_by_name() if e.is_sequence and not e.problem]
    except Exception:  # noqa: BLE001 - a broken catalogue leaves the action with nothing to offer
        return []


class ContinueDialog(QDialog):
    def __init__(self, clip_name: str, clip_bars: float, entries: list, parent=None,
                 rewrite: tuple[int, int] | None = None, section_name: str | None = None,
                 model_path: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Rewrite bars" if rewrite else "Continue clip")
        self.entries = entries
        lay = QVBoxLayout(self)
        if rewrite:
            lay.addWidget(QLabel(f"Rewrite bars of <b>{clip_name}</b> ({clip_bars:g} bars) to fit the bars "
                                 "around them. The other bars stay as they are."))
        else:
            lay.addWidget(QLabel(f"Add bars after <b>{clip_name}</b> ({clip_bars:g} bars). Each new clip "
                                 "starts with it unchanged."))
        form = QFormLayout()
        self.first = self.last = None
        if rewrite:
            total = max(1, int(-(-clip_bars // 1)))
            self.first, self.last = QSpinBox(), QSpinBox()
            for box, value in ((self.first, rewrite[0]), (self.last, rewrite[1])):
                box.setRange(1, total)
                box.setValue(min(max(value, 1), total))
            self.first.valueChanged.connect(lambda v: self.last.setValue(max(self.last.value(), v)))
            self.last.valueChanged.connect(lambda v: self.first.setValue(min(self.first.value(), v)))
        self.model_box = QComboBox()
        for e in entries:
            self.model_box.addItem(f"{e.name}  ({e.sizes})", e.path)
        # the model used last in this window, else the default (the Transformer), else the first
        for wanted in (model_path, None):
            i = next((i for i, e in enumerate(entries)
                      if (e.path == wanted if wanted else e.name == seq_model.DEFAULT_MODEL)), -1)
            if i >= 0:
                self.model_box.setCurrentIndex(i)
                break
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
        if rewrite:
            form.addRow("From bar", self.first)
            form.addRow("To bar", self.last)
            self.bars.hide()
        else:
            form.addRow("Continue by", self.bars)
        form.addRow("Candidates" if rewrite else "Variations", self.count)
        form.addRow("Temperature", self.temperature)
        lay.addLayout(form)
        self.into_section = None
        if rewrite and section_name:
            self.into_section = QCheckBox(f"Put the first candidate in {section_name}")
            self.into_section.setChecked(True)
            self.into_section.setToolTip("The section plays the first candidate (undo brings the old clip "
                                         "back); all candidates stay in the library to audition")
            lay.addWidget(self.into_section)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Rewrite" if rewrite else "Continue")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def choice(self) -> tuple[str, int, int, float]:
        return self.model_box.currentData(), self.bars.value(), self.count.value(), self.temperature.value()

    def bar_range(self) -> tuple[int, int]:
        return self.first.value(), self.last.value()


class ContinueAction(QObject):
    """Owns the action; the window adds `act_continue` to a menu."""

    def __init__(self, song, undo_stack, session, models, parent=None, selected_notes=None):
        super().__init__(parent)
        self.song, self.undo_stack, self.session, self.models = song, undo_stack, session, models
        self.selected_notes = selected_notes or (lambda: [])  # the piano roll's selection
        self.act_continue = QAction("&Continue Clip…", parent)
        self.act_continue.setStatusTip("Add bars after the current clip with a sequence model")
        self.act_continue.triggered.connect(lambda: self.open(False))
        self.act_rewrite = QAction("&Rewrite Bars…", parent)
        self.act_rewrite.setStatusTip("New candidates for the selected bars of the current clip; the rest stays")
        self.act_rewrite.triggered.connect(lambda: self.open(True))
        self._busy = False
        self._last_model: str | None = None  # the folder of the sequence model chosen last

    def _enable(self, on: bool) -> None:
        self._busy = not on
        self.act_continue.setEnabled(on)
        self.act_rewrite.setEnabled(on)

    def open_section(self, section_id: str, rewrite: bool = False) -> None:
        """Continue or rewrite the clip a timeline section plays."""
        try:
            sec = arr.find_section(self.song.sections, section_id)
        except UserError:
            return  # gone between the menu and here
        if sec.clip_id in self.song.clips:
            self.open(rewrite, clip_id=sec.clip_id, section=sec)

    def roll_menu(self, beat: float, parent=None) -> QMenu:
        """The piano roll's right-click menu on empty space at `beat`: rewrite the bars of the
        selected notes (or, with none selected, the bar clicked) or continue the clip."""
        menu = QMenu(parent)
        notes = self.selected_notes()
        if notes:
            first, last = self._bars_of(notes)
        else:
            first = last = max(1, int(beat // 4) + 1)
        label = f"Rewrite Bar {first}…" if first == last else f"Rewrite Bars {first}-{last}…"
        act = menu.addAction(label, lambda: self.open(True, bars=(first, last)))
        act.setStatusTip("New candidates for these bars that fit the bars around them; the rest stays")
        menu.addAction(self.act_continue.text().replace("&", ""), lambda: self.open(False))
        for a in menu.actions():
            a.setEnabled(not self._busy and self.session.current_clip is not None)
        return menu

    @staticmethod
    def _bars_of(notes) -> tuple[int, int]:
        return int(min(n.start for n in notes) // 4) + 1, int(max(n.start for n in notes) // 4) + 1

    def open(self, rewrite: bool = False, clip_id: str | None = None, section=None,
             bars: tuple[int, int] | None = None) -> None:
        """`section` (a Section playing `clip_id`): a rewrite may put its first candidate there.
        `bars` (first, last): the bars a rewrite starts with (else those of the selected notes)."""
        parent = self.parent()
        title = "Rewrite bars" if rewrite else "Continue clip"
        section_name = None
        if section is not None:
            section_name = arr.label_title(section.label) if section.label else "the section"
        if clip_id is None:
            clip_id = self.session.current_clip
        if clip_id is None or clip_id not in self.song.clips:
            QMessageBox.information(parent, title, "Choose a clip first (in the library or the piano roll).")
            return
        entries = sequence_models()
        if not entries:
            QMessageBox.information(parent, title, "No sequence model is installed or embedded.")
            return
        clip = self.song.clip(clip_id)
        preset = None
        if rewrite:
            notes = self.selected_notes() if clip_id == self.session.current_clip else []
            preset = bars or (self._bars_of(notes) if notes else (1, 1))
        dialog = ContinueDialog(clip.name, clip.length / 4, entries, parent, rewrite=preset,
                                section_name=section_name, model_path=self._last_model)
        if dialog.exec() != QDialog.Accepted or self._busy:
            return
        path, bars, n, temperature = dialog.choice()
        self._last_model = path
        into = section.id if dialog.into_section is not None and dialog.into_section.isChecked() else None
        tracks = {t.id: copy.copy(t) for t in self.song.tracks}
        self._enable(False)

        def done(clips):
            self._enable(True)
            if clips:
                what = f"Rewrite bars of {clip.name}" if rewrite else f"Continue {clip.name}"
                placed = into is not None and any(s.id == into for s in self.song.sections)
                if placed:
                    self.undo_stack.beginMacro(what)
                self.undo_stack.push(AddClipsCommand(self.song, clips, what))
                if placed:  # this slot plays the first candidate; its repeats keep the old clip
                    self.undo_stack.push(ArrangeCommand(self.song, what,
                                                        arr.assign_clip(self.song.sections, [into], clips[0].id),
                                                        [into]))
                    self.undo_stack.endMacro()
                self.session.select_clips([c.id for c in clips])

        if rewrite:
            fn, args = generation.infill_with, (path, copy.deepcopy(clip), dialog.bar_range(), n, temperature, tracks)
        else:
            fn, args = generation.continue_with, (path, copy.deepcopy(clip), bars, n, temperature, tracks)
        self.models.submit(fn, *args, on_done=done, on_error=lambda *a: self._enable(True),
                           on_cancel=lambda: self._enable(True),
                           description=f"Rewriting bars of {clip.name}" if rewrite else f"Continuing {clip.name}")
