"""The "Train on my MIDI…" dialog (Models menu): a model of the musician's own files.

1. Pick a folder: it is scanned at once (core/data/scan.py, a job with progress and Cancel)
   and the dialog says what it found before anything is trained: files read and refused (and
   why), windows per kind.
2. Pick what to learn (2-bar melodies, 2-bar drums, 16-bar trios), the model to fine-tune (an
   embedded or installed one of that kind: the default, minutes) or "from scratch" (advanced:
   hours), a name for the result, the steps and how many checkpoints to keep. The disk space the
   run needs is shown beside what is free and checked again when it starts.
3. Train: the run (core/musicvae/finetune.py) goes in its own process (core/model_host.py's
   ModelHost, a second one beside the Generate panel's model process) driven from this dialog's
   own JobRunner thread, so neither the window nor the Generate panel waits for it. Progress,
   ETA, the device and seconds per step come from the run's messages; the plot shows the
   training loss per step and the held-out free-running accuracy at each evaluation.
   Pause stops at a checkpoint written there and then (resumable); Cancel ends the process and
   deletes the run. Closing the dialog while it trains pauses it. Runs left unfinished by a
   pause, a closed app or a crash are listed at the top with Resume and Discard.
4. When the run is done its model is installed under its name with a model card, and the
   window's model list (ModelService.refresh) shows it in the Generate panel at once.
"""
from __future__ import annotations

import os
import shutil

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton,
                               QRadioButton, QSpinBox, QVBoxLayout, QWidget)

from core.data.scan import KIND_LABELS, KINDS, scan_folder
from core.errors import JobCancelled
from core.jobs import JobToken
from core.musicvae import finetune

LOSS_COLOR = "#5fb3f9"
TREND_COLOR = "#f2a65a"
TREND_STEPS = 20  # the trend line: the mean of the last this many steps' losses
ACC_COLOR = "#7bd88f"
TRAIN_CANCEL_GRACE_S = 600.0  # a paused run writes its checkpoint before it stops


def choose_folder(parent, start: str = "") -> str:
    """Ask for the folder of MIDI files (tests replace this)."""
    return QFileDialog.getExistingDirectory(parent, "Folder of MIDI files to learn from", start)


def confirm(parent, title: str, text: str) -> bool:
    """Ask yes or no (tests replace this)."""
    return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes


def _mb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


class TrainDialog(QDialog):
    """See the module docstring. `models` is the window's ModelService (its list is refreshed
    when a model is installed); `runs_root` (tests) replaces core.paths.runs_dir()."""

    model_installed = Signal(str)  # the installed model's name

    def __init__(self, models, parent=None, runs_root: str | None = None):
        super().__init__(parent)
        from gui.job_runner import JobRunner

        self.models = models
        self.runs_root = runs_root
        self.runner = JobRunner(self)  # scans and training: never behind (or in front of) the Generate panel's jobs
        self.host = None  # the training process, made on first use
        self.scan = None
        self.run_dir: str | None = None
        self._job = None
        self._run_token: JobToken | None = None
        self._cancelling = False
        self._steps: list[int] = []
        self._loss: list[float] = []
        self._eval_steps: list[int] = []
        self._eval_acc: list[float] = []
        self._start_step = None
        self.setWindowTitle("Train on my MIDI")
        self.setMinimumSize(640, 700)
        layout = QVBoxLayout(self)

        # runs left unfinished
        self.resume_box = QGroupBox("Unfinished training runs")
        row = QHBoxLayout(self.resume_box)
        self.resume_combo = QComboBox()
        self.resume_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        row.addWidget(self.resume_combo, 1)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Go on from the run's last checkpoint")
        self.resume_button.clicked.connect(self.resume_selected)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Delete the run and its checkpoints")
        self.discard_button.clicked.connect(self.discard_selected)
        row.addWidget(self.resume_button)
        row.addWidget(self.discard_button)
        layout.addWidget(self.resume_box)

        # 1. the folder and what it holds
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Folder"))
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("a folder of .mid files (subfolders are read too)")
        self.folder_edit.returnPressed.connect(lambda: self.start_scan(self.folder_edit.text()))
        folder_row.addWidget(self.folder_edit, 1)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self.pick_folder)
        folder_row.addWidget(self.choose_button)
        layout.addLayout(folder_row)
        self.scan_label = QLabel("Pick a folder: it is read first, and you see what it holds before anything is trained.")
        self.scan_label.setWordWrap(True)
        self.scan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.scan_label)
        self.refused_view = QPlainTextEdit()
        self.refused_view.setReadOnly(True)
        self.refused_view.setMaximumHeight(80)
        self.refused_view.hide()
        layout.addWidget(self.refused_view)

        # 2. what to train
        form = QFormLayout()
        self.kind_combo = QComboBox()
        for k in KINDS:
            self.kind_combo.addItem(KIND_LABELS[k], k)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        form.addRow("Learn", self.kind_combo)
        start_row = QWidget()
        srow = QHBoxLayout(start_row)
        srow.setContentsMargins(0, 0, 0, 0)
        self.finetune_radio = QRadioButton("Fine-tune")
        self.finetune_radio.setChecked(True)
        self.finetune_radio.setToolTip("Start from a trained model and teach it your style: minutes")
        self.base_combo = QComboBox()
        self.base_combo.currentIndexChanged.connect(self._update_disk)
        self.scratch_radio = QRadioButton("From scratch (advanced)")
        self.scratch_radio.setToolTip("Random weights: needs thousands of steps (hours on a CPU) and many files")
        group = QButtonGroup(self)
        group.addButton(self.finetune_radio)
        group.addButton(self.scratch_radio)
        self.finetune_radio.toggled.connect(self._mode_changed)
        srow.addWidget(self.finetune_radio)
        srow.addWidget(self.base_combo, 1)
        srow.addWidget(self.scratch_radio)
        form.addRow("Start from", start_row)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("the new model's name")
        self.name_edit.textEdited.connect(self._name_typed)
        form.addRow("Name", self.name_edit)
        steps_row = QWidget()
        strow = QHBoxLayout(steps_row)
        strow.setContentsMargins(0, 0, 0, 0)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 1_000_000)
        self.steps_spin.setSingleStep(50)
        strow.addWidget(self.steps_spin)
        strow.addWidget(QLabel("checkpoints kept"))
        self.keep_spin = QSpinBox()
        self.keep_spin.setRange(1, 20)
        self.keep_spin.setValue(2)
        self.keep_spin.valueChanged.connect(self._update_disk)
        strow.addWidget(self.keep_spin)
        strow.addStretch(1)
        form.addRow("Steps", steps_row)
        self.disk_label = QLabel("")
        form.addRow("Disk", self.disk_label)
        self.device_label = QLabel("shown once training starts")
        form.addRow("Device", self.device_label)
        layout.addLayout(form)

        # 3. training
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("Not started")
        self.progress.setTextVisible(True)
        layout.addWidget(self.progress)
        self.eta_label = QLabel("")
        layout.addWidget(self.eta_label)
        pg.setConfigOptions(antialias=True)
        plots = QHBoxLayout()
        self.loss_plot = self._plot("training loss", "loss per window")
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen(LOSS_COLOR, width=1))
        self.trend_curve = self.loss_plot.plot([], [], pen=pg.mkPen(TREND_COLOR, width=2))
        self.acc_plot = self._plot("held-out accuracy", "free-running accuracy")
        self.acc_plot.setYRange(0.0, 1.0, padding=0.02)
        self.acc_plot.enableAutoRange(axis="y", enable=False)
        self.acc_curve = self.acc_plot.plot([], [], pen=pg.mkPen(ACC_COLOR, width=2), symbol="o", symbolSize=6,
                                            symbolBrush=ACC_COLOR)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        layout.addLayout(plots, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.train_button.clicked.connect(self.start_training)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Write a checkpoint and stop; resume later, even after closing the app")
        self.pause_button.clicked.connect(self.pause)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now and delete this run")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        for b in (self.train_button, self.pause_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.runner.progress.connect(self._on_progress)
        models.models_changed.connect(self._models_changed)
        self._fill_bases()
        self._kind_changed()
        self.refresh_runs()
        self._set_state("idle")

    def _plot(self, title: str, left: str):
        plot = pg.PlotWidget(background="#181a1e")
        plot.setMenuEnabled(False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setTitle(title, color="#c8ccd4", size="9pt")
        plot.getAxis("bottom").setLabel("step")
        plot.getAxis("left").setLabel(left)
        plot.setMinimumHeight(170)
        return plot

    # ------------------------------------------------------------ state
    @property
    def training(self) -> bool:
        return self._job is not None and self._run_token is not None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def _set_state(self, state: str) -> None:
        """idle / scanning / training: which controls work."""
        self._state = state
        idle = state == "idle"
        for w in (self.folder_edit, self.choose_button, self.kind_combo, self.finetune_radio, self.scratch_radio,
                  self.name_edit, self.steps_spin, self.keep_spin):
            w.setEnabled(idle)
        self.base_combo.setEnabled(idle and self.finetune_radio.isChecked())
        self.resume_button.setEnabled(idle and self.resume_combo.count() > 0)
        self.discard_button.setEnabled(idle and self.resume_combo.count() > 0)
        self.train_button.setEnabled(idle and self.can_train() is None)
        self.train_button.setToolTip(self.can_train() or "Start training")
        self.pause_button.setEnabled(state == "training")
        self.cancel_button.setEnabled(state in ("training", "scanning"))

    def can_train(self) -> str | None:
        """Why Train is off, or None."""
        if self.scan is None:
            return "Pick a folder first"
        problem = self.scan.problem(self.kind())
        if problem:
            return problem
        if self.finetune_radio.isChecked() and not self.base_combo.currentText():
            return f"No {KIND_LABELS[self.kind()]} model to fine-tune"
        if not self.name_edit.text().strip():
            return "Give the new model a name"
        return None

    def kind(self) -> str:
        return self.kind_combo.currentData()

    def base(self) -> str | None:
        return self.base_combo.currentText() if self.finetune_radio.isChecked() else None

    # ------------------------------------------------------------ choices
    def _fill_bases(self) -> None:
        self._bases = {k: [i.name for i in self.models.infos() if i.kind == k and i.origin != "folder"]
                       for k in KINDS}

    def _models_changed(self) -> None:
        """A model was installed or removed: the bases offered follow (the choice stays when it can)."""
        chosen = self.base_combo.currentText()
        self._fill_bases()
        if self._state == "idle":
            self.base_combo.blockSignals(True)
            self.base_combo.clear()
            self.base_combo.addItems(self._bases.get(self.kind(), []))
            self.base_combo.blockSignals(False)
            if self.base_combo.findText(chosen) >= 0:
                self.base_combo.setCurrentText(chosen)
            self._set_state(self._state)

    def _kind_changed(self, *_args) -> None:
        kind = self.kind()
        self.base_combo.clear()
        names = self._bases.get(kind, [])
        self.base_combo.addItems(names)
        if finetune.BASES[kind] in names:
            self.base_combo.setCurrentText(finetune.BASES[kind])
        self._mode_changed()
        self._suggest_name()
        if hasattr(self, "_state"):
            self._set_state(self._state)

    def _mode_changed(self, *_args) -> None:
        table = finetune.DEFAULT_STEPS if self.finetune_radio.isChecked() else finetune.SCRATCH_STEPS
        self.steps_spin.setValue(table[self.kind()])
        self._update_disk()
        if hasattr(self, "_state"):
            self._set_state(self._state)

    def _suggest_name(self) -> None:
        folder = self.folder_edit.text().strip().rstrip(os.sep)
        if not folder or (self.name_edit.text() and not getattr(self, "_name_suggested", False)):
            return
        base = "".join(c if c.isalnum() or c in "._-" else "-" for c in os.path.basename(folder)).strip("-.") or "my"
        self.name_edit.setText(f"{base}-{ {'melody': 'melodies', 'drums': 'drums', 'trio': 'trios'}[self.kind()] }")
        self._name_suggested = True

    def _name_typed(self, *_args) -> None:
        self._name_suggested = False  # the musician's own name stays
        self._set_state(self._state)

    def _update_disk(self, *_args) -> None:
        from core import paths
        from core.musicvae.training import disk_space_needed

        try:
            cfg = finetune.base_config(self.base(), self.kind())
            need = disk_space_needed(cfg, self.keep_spin.value())
            free = shutil.disk_usage(self.runs_root or str(paths.runs_dir())).free
        except Exception as exc:  # noqa: BLE001 - shown, never fatal
            self.disk_label.setText(f"cannot tell ({exc})")
            return
        short = need > free
        self.disk_label.setText(f"needs about {_mb(need)}, {_mb(free)} free" + ("  <b>(not enough)</b>" if short else ""))

    # ------------------------------------------------------------ unfinished runs
    def refresh_runs(self) -> None:
        self._runs = finetune.unfinished_runs(self.runs_root)
        self.resume_combo.clear()
        for r in self._runs:
            self.resume_combo.addItem(r.describe(), r.path)
        self.resume_box.setVisible(bool(self._runs))
        if hasattr(self, "_state"):
            self._set_state(self._state)

    def resume_selected(self) -> None:
        if self.busy or not self._runs:
            return
        run = self._runs[self.resume_combo.currentIndex()]
        self._show_request(run.request, run.target_step - run.start_step)
        self._start_run(run.path, run.start_step, f"Resuming {run.request.name} at step "
                                                  f"{run.step - run.start_step} of {run.target_step - run.start_step}")
        self._show_history(run.path, run.start_step)

    def _show_request(self, req, steps: int) -> None:
        """Fill the form with what a resumed run was asked to do."""
        self.folder_edit.setText(req.folder)
        self.kind_combo.setCurrentIndex(KINDS.index(req.kind))
        if req.base:
            self.finetune_radio.setChecked(True)
            if self.base_combo.findText(req.base) < 0:
                self.base_combo.addItem(req.base)
            self.base_combo.setCurrentText(req.base)
        else:
            self.scratch_radio.setChecked(True)
        self.name_edit.setText(req.name)
        self._name_suggested = False
        self.steps_spin.setValue(steps)
        self.keep_spin.setValue(req.keep)

    def _show_history(self, run_dir: str, start_step: int) -> None:
        """The held-out points a resumed run measured before it stopped (its training.json)."""
        import json

        try:
            with open(os.path.join(run_dir, "training.json"), encoding="utf-8") as f:
                history = json.load(f).get("history") or []
        except (OSError, ValueError):
            return
        for h in history:
            if isinstance(h, dict) and h.get("free_running_accuracy") is not None:
                self._eval_steps.append(int(h["step"]) - start_step)
                self._eval_acc.append(float(h["free_running_accuracy"]))
        if self._eval_steps:
            self.acc_curve.setData(np.asarray(self._eval_steps, float), np.asarray(self._eval_acc, float))

    def discard_selected(self) -> None:
        if self.busy or not self._runs:
            return
        run = self._runs[self.resume_combo.currentIndex()]
        if not confirm(self, "Discard training run", f"Delete the unfinished run {run.request.name} and its checkpoints?"):
            return
        finetune.discard_run(run.path, self.runs_root)
        self.refresh_runs()
        self._set_state("idle")

    # ------------------------------------------------------------ scanning
    def pick_folder(self) -> None:
        folder = choose_folder(self, self.folder_edit.text())
        if folder:
            self.start_scan(folder)

    def start_scan(self, folder: str) -> None:
        if self.busy or not folder:
            return
        self.folder_edit.setText(folder)
        self._name_suggested = True
        self._suggest_name()
        self.scan = None
        self.refused_view.hide()
        self.scan_label.setText("Reading the files…")
        self.progress.setValue(0)
        self.progress.setFormat("Scanning")
        self._job = self.runner.submit(scan_folder, folder, on_done=self._scanned, on_error=self._scan_failed,
                                       on_cancel=self._scan_cancelled, description=f"Scanning {folder}")
        self._set_state("scanning")

    def _scanned(self, result) -> None:
        self._job = None
        self.scan = result
        lines = result.lines()
        text = f"<b>{lines[0]}</b> ({result.seconds:.1f} s)<br>" + "<br>".join(lines[1:1 + len(KINDS)])
        problem = result.problem()
        if problem:
            text += f"<br><b>{problem}</b>"
        self.scan_label.setText(text)
        if result.refused:
            more = result.refused_count - len(result.refused)
            self.refused_view.setPlainText("\n".join(f"{p}: {why}" for p, why in result.refused)
                                           + (f"\n… and {more} more" if more > 0 else ""))
            self.refused_view.show()
        # the kind with the most windows is picked, and each kind says what it has
        for i, k in enumerate(KINDS):
            self.kind_combo.setItemText(i, f"{KIND_LABELS[k]} ({result.distinct[k]} windows)")
        best = max(KINDS, key=lambda k: result.distinct[k])
        if result.distinct[best]:
            self.kind_combo.setCurrentIndex(KINDS.index(best))
        self.progress.setValue(1000)
        self.progress.setFormat("Folder read")
        self._set_state("idle")

    def _scan_failed(self, message: str, _detail: str) -> None:
        self._job = None
        self.scan_label.setText(f"<b>{message}</b>")
        self.progress.setFormat("Scan failed")
        self._set_state("idle")

    def _scan_cancelled(self) -> None:
        self._job = None
        self.scan_label.setText("Scan cancelled.")
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self._set_state("idle")

    # ------------------------------------------------------------ training
    def request(self) -> finetune.RunRequest:
        return finetune.RunRequest(folder=self.folder_edit.text().strip(), kind=self.kind(),
                                   name=self.name_edit.text().strip(), base=self.base(),
                                   steps=self.steps_spin.value(), keep=self.keep_spin.value())

    def start_training(self) -> None:
        if self.busy or self.can_train():
            return
        try:
            run_dir = finetune.new_run(self.request(), self.runs_root)
        except Exception as exc:  # noqa: BLE001 - a UserError (name taken, disk full) or a broken model
            self.status.setText(f"<b>{getattr(exc, 'message', None) or exc}</b>")
            return
        _, meta = finetune.read_run(run_dir)
        self._start_run(run_dir, int(meta.get("start_step", 0)), "Starting")

    def _host(self):
        if self.host is None:
            from core.model_host import ModelHost
            from gui.job_runner import WORKER_NICE

            self.host = ModelHost(nice=WORKER_NICE, cancel_grace_s=TRAIN_CANCEL_GRACE_S)
        return self.host

    def _start_run(self, run_dir: str, start_step: int, message: str) -> None:
        self.run_dir = run_dir
        self._start_step = start_step
        self._steps, self._loss, self._eval_steps, self._eval_acc = [], [], [], []
        self.loss_curve.setData([], [])
        self.trend_curve.setData([], [])
        self.acc_curve.setData([], [])
        self.status.setText("")
        self.eta_label.setText("")
        self.progress.setValue(0)
        self.progress.setFormat(message)
        self._cancelling = False
        host = self._host()
        run_token = JobToken()
        self._run_token = run_token

        def job(token):  # on the dialog's job thread: no widget here
            run_token.report_to(lambda f, m: token.progress(f, m))
            try:
                return host.call(run_token, finetune.train_run, run_dir)
            except JobCancelled:
                if not run_token.cancelled:
                    raise
                # paused before the first step (while the files were read): the run waits as it was
                from core.musicvae.training import checkpoint_dirs

                found = checkpoint_dirs(run_dir)
                return finetune.RunOutcome(run_dir, True, found[-1][0] if found else start_step, start_step)

        self._job = self.runner.submit(job, on_done=self._trained, on_error=self._train_failed,
                                       on_cancel=self._train_cancelled, description="Training on my MIDI")
        self._set_state("training")

    def pause(self) -> None:
        if self.training:
            self._run_token.cancel()  # the run writes a checkpoint and returns
            self.pause_button.setEnabled(False)
            self.progress.setFormat("Pausing: writing a checkpoint")

    def cancel(self) -> None:
        if not self.busy:
            return
        if self._state == "scanning":
            self.runner.cancel(self._job)
            return
        if not confirm(self, "Cancel training", "Stop now and delete this run? (Pause keeps it to resume later.)"):
            return
        self._cancelling = True
        self.progress.setFormat("Cancelling")
        if self.host is not None:
            self.host.close()  # ends the training process now; its call returns with an error

    def _on_progress(self, fraction: float, message: str) -> None:
        if not self.busy:
            return
        self.progress.setValue(int(round(fraction * 1000)))
        if self._state != "training":
            self.progress.setFormat(message or "%p%")
            return
        if message.startswith("device: "):
            self.device_label.setText(message[len("device: "):])
        step = finetune.parse_step_message(message)
        if step is None:
            if message and self._run_token is not None and not self._run_token.cancelled:
                self.progress.setFormat(message)
            return
        done = step["step"] - self._start_step
        total = step["steps"] - self._start_step
        if not self._run_token.cancelled:
            self.progress.setFormat(f"step {done} of {total}")
        rate = step["steps_per_second"]
        self.eta_label.setText(f"loss {step['loss']:.3f} · about {step['eta']} left")
        if len(self._steps) >= 2 and rate > 0:  # the first step of a session traces the graph: not counted
            self.device_label.setText(self.device_label.text().split(" · ")[0] + f" · {1 / rate:.2f} s per step")
        self._steps.append(done)
        self._loss.append(step["loss"])
        x, y = np.asarray(self._steps, float), np.asarray(self._loss, float)
        self.loss_curve.setData(x, y)
        k = np.minimum(np.arange(1, len(y) + 1), TREND_STEPS)  # a running mean: the trend under the noise
        c = np.concatenate([[0.0], np.cumsum(y)])
        self.trend_curve.setData(x, (c[1:] - c[np.arange(len(y)) + 1 - k]) / k)
        if "held_out_accuracy" in step:
            self._eval_steps.append(done)
            self._eval_acc.append(step["held_out_accuracy"])
            self.acc_curve.setData(np.asarray(self._eval_steps, float), np.asarray(self._eval_acc, float))

    def _end_run(self) -> None:
        self._job = None
        self._run_token = None
        self._set_state("idle")
        self.refresh_runs()
        self._set_state("idle")

    def _trained(self, outcome) -> None:
        self._end_run()
        if outcome.paused:
            self.eta_label.setText("")
            self.progress.setFormat(f"Paused at step {outcome.step - self._start_step}")
            self.status.setText("Paused. The run is kept with its checkpoint: resume it from the list above, "
                                "now or after restarting the app.")
            if getattr(self, "_close_after_pause", False):
                self._close_after_pause = False
                self.close()
            return
        self.progress.setValue(1000)
        self.progress.setFormat("Done")
        self.eta_label.setText(f"took {outcome.seconds / 60:.1f} min")
        card = outcome.card or {}
        held = card.get("held_out") or {}
        text = f"<b>{outcome.installed_name}</b> is installed and in the Generate panel's model list."
        ft = card.get("fine_tune") or {}
        if ft.get("loss", {}).get("before") is not None:
            text += (f"<br>Held-out loss on your files (reconstruction + KL): {ft['loss']['before']:.2f} before, "
                     f"{ft['loss']['after']:.2f} after.")
        if held.get("free_running_accuracy") is not None:
            text += f" Held-out free-running accuracy {held['free_running_accuracy']:.3f}."
        self.status.setText(text)
        self.models.refresh()
        self.model_installed.emit(outcome.installed_name)

    def _train_failed(self, message: str, _detail: str) -> None:
        cancelled = self._cancelling
        run_dir = self.run_dir
        self._end_run()
        if cancelled:
            self._train_cancelled(run_dir)
            return
        self.progress.setFormat("Stopped")
        self.status.setText(f"<b>{message}</b>")

    def _train_cancelled(self, run_dir: str | None = None) -> None:
        run_dir = run_dir or self.run_dir
        if self._job is not None:
            self._end_run()
        if run_dir and os.path.isdir(run_dir):
            finetune.discard_run(run_dir, self.runs_root)
        self.refresh_runs()
        self._set_state("idle")
        self.progress.setValue(0)
        self.progress.setFormat("Cancelled: the run was deleted")

    # ------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override: closing pauses a run first
        if self.training:
            event.ignore()  # closes by itself once the checkpoint is written (see _trained)
            self._close_after_pause = True
            self.pause()
            self.status.setText("Pausing the run before closing…")
            return
        if self.busy:
            self.runner.cancel(self._job)  # a scan
        super().closeEvent(event)

    def reject(self) -> None:  # Escape closes like the Close button
        self.close()
