"""The "New section space" dialog: train a small VAE on one label's clips and watch it learn.

It runs core.section_space.train on the window's JobRunner (the worker never touches a widget):
a progress bar, a live loss plot (reconstruction and KL per step, log scale, pyqtgraph) polled
from the job's TrainControl by a timer, Cancel (nothing is kept) and "Good enough, stop now"
(training ends after the current step and the space learned so far is kept). When it is done, a
small map shows where the clips' codes lie and where the space's samples and the model's prior
samples land (a 2-D PCA of the codes, core.projection), so a musician sees what was learned.

Beside the map, "before and after": a few training clips decoded from their own codes (the big
model alone) and from their codes after the trip through the space (encode, small encode and
decode, big decode), as MidiMe shows them, so a musician sees what the space kept; "Add to
library" hands the pairs over.

The dialog makes the space and, once there is one, samples it (count, temperature);
`SectionSpaceDialog.for_space` opens it on a space already trained (from a file). It emits
`space_ready(space)`, `samples_ready(clips)` and `reconstructions_ready(clips)` (notes keyed by
part name, as core.generation makes them) and whoever opened it decides what to do with them
(keep the space in the project, put the clips in the library on the song's tracks).

Model work runs where the model lives: given the window's ModelService (`models`), a model
loaded in the model process trains there. The loss curve then comes from the progress
messages (core.section_space.parse_step) and "good enough" travels as the job token's
finish_early; with a model in this process the curve comes step by step from the TrainControl.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QVBoxLayout)

from core import section_space as ss
from core.projection import Projection
from core.song import Song
from gui.clip_library import clip_pixmap

POLL_MS = 100
RECON_COLOR = "#5fb3f9"
KL_COLOR = "#f2a65a"
CLIP_COLOR = "#7bd88f"
SAMPLE_COLOR = "#f25f8a"
PRIOR_COLOR = "#6b7280"
MAP_SAMPLES = 64
RECONSTRUCTIONS = 4  # training clips shown before and after


class SectionSpaceDialog(QDialog):
    """Train a section space for `label` from `clips` with `model` (see the module docstring)."""

    space_ready = Signal(object)  # the trained SectionSpace
    samples_ready = Signal(list)  # clips sampled from it
    reconstructions_ready = Signal(list)  # the before/after clips, in pairs, for the library
    map_shown = Signal()  # the map of clips, samples and prior is drawn
    reconstructions_shown = Signal()  # the before/after pictures are drawn

    def __init__(self, runner, model, clips, label: str, tracks=None, parent=None, models=None):
        super().__init__(parent)
        self.runner, self.model, self.clips, self.label, self.tracks = runner, model, list(clips), label, tracks
        self.models = models  # the window's ModelService: runs model work where the model lives
        self.space: ss.SectionSpace | None = None
        self.control: ss.TrainControl | None = None
        self.pairs: list[tuple] = []  # (the model's reconstruction, the space's) of training clips
        self._job = None
        self._aux: list = []  # the map's and the reconstructions' jobs (never block the buttons)
        self._remote = False  # the running training job is in the model process
        self._shown = 0
        self._steps: list[int] = []
        self._recon: list[float] = []
        self._kl: list[float] = []
        self.setWindowTitle(f"New section space: {label}")
        self.setMinimumSize(560, 520)

        layout = QVBoxLayout(self)
        self.intro = QLabel(f"A small VAE learns where the {len(self.clips)} <b>{label}</b> clips lie in "
                            f"{model.name}'s space, so it can make more like them.")
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        form = QFormLayout()
        self.latent_spin = QSpinBox()
        self.latent_spin.setRange(*ss.LATENT_RANGE)
        self.latent_spin.setValue(ss.DEFAULT_LATENT)
        self.latent_spin.setToolTip("Numbers in the small space: fewer keep only the main ways the clips "
                                    "differ, more keep finer detail")
        form.addRow("Latent size", self.latent_spin)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(50, 100_000)
        self.steps_spin.setSingleStep(100)
        self.steps_spin.setValue(ss.default_steps(len(self.clips)))
        form.addRow("Training steps", self.steps_spin)
        layout.addLayout(form)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        layout.addWidget(self.progress)

        pg.setConfigOptions(antialias=True)
        self.loss_plot = pg.PlotWidget(background="#181a1e")
        self.loss_plot.setObjectName("spaceLossPlot")
        self.loss_plot.setMenuEnabled(False)
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.showGrid(x=True, y=True, alpha=0.15)
        self.loss_plot.getAxis("bottom").setLabel("step")
        self.loss_plot.getAxis("left").setLabel("nats per clip")
        self.loss_plot.addLegend(offset=(-10, 10), brush=pg.mkBrush(24, 26, 30, 210))
        self.recon_curve = self.loss_plot.plot([], [], pen=pg.mkPen(RECON_COLOR, width=2), name="reconstruction")
        self.kl_curve = self.loss_plot.plot([], [], pen=pg.mkPen(KL_COLOR, width=2), name="KL")
        self.loss_plot.setMinimumHeight(170)
        layout.addWidget(self.loss_plot, 2)

        self.map_plot = pg.PlotWidget(background="#181a1e")
        self.map_plot.setObjectName("spaceMapPlot")
        self.map_plot.setMenuEnabled(False)
        self.map_plot.showGrid(x=True, y=True, alpha=0.12)
        self.map_plot.addLegend(offset=(-10, 10), brush=pg.mkBrush(24, 26, 30, 210))
        self.prior_points = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(PRIOR_COLOR),
                                               name="model's prior")
        self.sample_points = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(SAMPLE_COLOR), symbol="t",
                                                name="space samples")
        self.clip_points = pg.ScatterPlotItem(size=10, pen=pg.mkPen("#10141a"), brush=pg.mkBrush(CLIP_COLOR),
                                              name=f"{label} clips")
        for item in (self.prior_points, self.sample_points, self.clip_points):
            self.map_plot.addItem(item)
        self.map_plot.setMinimumHeight(150)
        self.map_plot.hide()
        lower = QHBoxLayout()
        lower.addWidget(self.map_plot, 3)
        self.recon_box = QGroupBox("Before and after: the model alone, through the space")
        self.recon_box.setObjectName("spaceReconstructions")
        self.recon_box.setToolTip("Training clips decoded from their own codes (left) and from their codes "
                                  "after the trip through the space (right): what the space kept of them")
        box = QVBoxLayout(self.recon_box)
        self.recon_grid = QGridLayout()
        self.recon_grid.setHorizontalSpacing(6)
        self.recon_grid.setVerticalSpacing(3)
        box.addLayout(self.recon_grid)
        self.recon_add = QPushButton("Add to library")
        self.recon_add.setToolTip("Put these pairs in the clip library to hear them side by side")
        self.recon_add.clicked.connect(lambda: self.reconstructions_ready.emit(
            [c for pair in self.pairs for c in pair]))
        box.addWidget(self.recon_add, 0, Qt.AlignmentFlag.AlignRight)
        self.recon_box.hide()
        lower.addWidget(self.recon_box, 2)
        layout.addLayout(lower, 2)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        sample_row = QHBoxLayout()
        sample_row.addWidget(QLabel("Sample"))
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 256)
        self.count_spin.setValue(8)
        sample_row.addWidget(self.count_spin)
        sample_row.addWidget(QLabel("clips at temperature"))
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setValue(0.5)
        sample_row.addWidget(self.temperature_spin)
        self.sample_button = QPushButton("Sample")
        self.sample_button.setToolTip("New clips from the space (into the library)")
        self.sample_button.clicked.connect(self.sample)
        sample_row.addWidget(self.sample_button)
        sample_row.addStretch(1)
        layout.addLayout(sample_row)

        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.train_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Good enough, stop now")
        self.stop_button.setToolTip("End training after this step and keep what the space has learned")
        self.stop_button.clicked.connect(self.stop_early)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop training and keep nothing")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_box.rejected.connect(self.reject)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_box)
        layout.addLayout(buttons)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        runner.progress.connect(self._on_progress)
        self._set_running(False)

    @classmethod
    def for_space(cls, runner, model, space, parent=None, models=None) -> "SectionSpaceDialog":
        """The dialog for a space already trained (opened from a file or the project): its loss
        curve and map as they were, and Sample; Train would train it again on no clips, so it
        is off. Raises SpaceModelError when `model` is not the space's model."""
        space.check_model(model)
        dialog = cls(runner, model, [], space.label, parent=parent, models=models)
        dialog.setWindowTitle(f"Section space: {space.label}")
        dialog.intro.setText(f"The <b>{space.label}</b> space of {model.name}, trained on "
                             f"{space.info.get('clip_count', '?')} clips.")
        dialog.space = space
        steps = list(range(1, space.steps + 1))
        dialog._steps, dialog._recon, dialog._kl = steps, list(space.reconstruction), list(space.kl)
        dialog.recon_curve.setData(steps, np.maximum(space.reconstruction, 1e-3))
        dialog.kl_curve.setData(steps, np.maximum(space.kl, 1e-3))
        recon, kl = space.final_losses()
        dialog.status.setText(f"{space.steps} steps: reconstruction {recon:.2f}, KL {kl:.2f} "
                              f"(the last 50 steps' mean).")
        dialog.progress.setFormat("Trained")
        dialog.progress.setValue(1000)
        dialog.latent_spin.setValue(space.latent)
        dialog.steps_spin.setValue(max(space.steps, dialog.steps_spin.minimum()))
        dialog._set_running(False)
        dialog.show_map(space)
        return dialog

    # ------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        return self._job is not None

    def _set_running(self, running: bool) -> None:
        self.sample_button.setEnabled(not running and self.space is not None)
        can_train = not running and bool(self.clips)
        self.train_button.setEnabled(can_train)
        self.latent_spin.setEnabled(can_train)
        self.steps_spin.setEnabled(can_train)
        self.stop_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        self.close_box.setEnabled(not running)

    # ------------------------------------------------------------ actions
    def start(self) -> None:
        if self.running:
            return
        settings = ss.SpaceSettings(latent=self.latent_spin.value(), steps=self.steps_spin.value())
        self.control = ss.TrainControl()
        self.space = None
        self._shown = 0
        self._steps, self._recon, self._kl = [], [], []
        self.recon_curve.setData([], [])
        self.kl_curve.setData([], [])
        self.map_plot.hide()
        self.recon_box.hide()
        self.pairs = []
        self.status.setText("")
        self.progress.setValue(0)
        self.progress.setFormat("Starting")
        call, head = self._call(ss.train)
        self._remote = call is not ss.train
        # a TrainControl cannot travel to the model process: there the curve comes from progress
        self._job = self.runner.submit(call, *head, self.clips, self.label, settings,
                                       None if self._remote else self.control,
                                       self.tracks, on_done=self._done, on_error=self._failed,
                                       on_cancel=self._cancelled,
                                       description=f"Training the {self.label} section space")
        self._set_running(True)
        self.timer.start()

    def sample(self) -> None:
        """Sample the trained space on the runner; the clips arrive through `samples_ready`."""
        if self.running or self.space is None:
            return
        call, head = self._call(ss.sample)
        self._job = self.runner.submit(call, *head, self.space, self.count_spin.value(),
                                       self.temperature_spin.value(), on_done=self._sampled,
                                       on_error=self._failed, on_cancel=self._cancelled,
                                       description=f"Sampling the {self.label} section space")
        self.progress.setFormat("Sampling")
        self._set_running(True)
        self.stop_button.setEnabled(False)

    def _sampled(self, clips) -> None:
        self._job = None
        self._set_running(False)
        self.progress.setValue(1000)
        self.progress.setFormat(f"Sampled {len(clips)} clip{'s' if len(clips) != 1 else ''}")
        self.samples_ready.emit(list(clips))

    def _call(self, fn):
        """(callable, leading arguments) running fn(token, model, ...) where the model lives."""
        if self.models is not None:
            return self.models.job_call(self.model, fn)
        return fn, (self.model,)

    def _submit_aux(self, fn, *args, on_done, description: str) -> None:
        call, head = self._call(fn)
        job = None

        def done(result):
            if job in self._aux:
                self._aux.remove(job)
            on_done(result)

        def over(*_args):
            if job in self._aux:
                self._aux.remove(job)

        job = self.runner.submit(call, *head, *args, on_done=done, on_error=over, on_cancel=over,
                                 description=description)
        self._aux.append(job)

    def stop_early(self) -> None:
        if self.running and self.control is not None:
            self.control.request_stop()
            self._job.token.finish_early()  # reaches a job in the model process too
            self.stop_button.setEnabled(False)
            self.progress.setFormat("Stopping after this step")

    def cancel(self) -> None:
        if self.running:
            self.runner.cancel(self._job)
            self.cancel_button.setEnabled(False)
            self.stop_button.setEnabled(False)
            self.progress.setFormat("Cancelling")

    def reject(self) -> None:
        if self.running:  # closing the window while it trains cancels the training
            self.cancel()
        for job in list(self._aux):
            self.runner.cancel(job)
        super().reject()

    # ------------------------------------------------------------ reports (GUI thread)
    def _on_progress(self, fraction: float, message: str) -> None:
        if self.running and self.runner.current is self._job:
            self.progress.setValue(int(round(fraction * 1000)))
            self.progress.setFormat(message or "%p%")
            step = ss.parse_step(message) if self._remote else None
            if step is not None and (not self._steps or step[0] > self._steps[-1]):
                self._steps.append(step[0])
                self._recon.append(step[1])
                self._kl.append(step[2])
                self._draw_curve()

    def poll(self) -> None:
        """Add the steps recorded since the last poll to the loss plot."""
        if self.control is None:
            return
        steps, recon, kl = self.control.curve(self._shown)
        if not steps:
            return
        self._shown += len(steps)
        self._steps.extend(steps)
        self._recon.extend(recon)
        self._kl.extend(kl)
        self._draw_curve()

    def _draw_curve(self) -> None:
        x = np.asarray(self._steps, float)
        # a log axis cannot show 0: the floor is far below anything a step reports
        self.recon_curve.setData(x, np.maximum(self._recon, 1e-3))
        self.kl_curve.setData(x, np.maximum(self._kl, 1e-3))

    def _finish(self) -> None:
        self.timer.stop()
        self.poll()
        self._job = None
        self._set_running(False)

    def _done(self, space) -> None:
        self.space = space
        self._finish()
        # the whole curve, every step (from the model process only some steps came as progress)
        self._steps = list(range(1, space.steps + 1))
        self._recon, self._kl = list(space.reconstruction), list(space.kl)
        self._draw_curve()
        refused = space.info.get("refused") or []
        early = " (stopped early: good enough)" if space.info.get("stopped_early") else ""
        recon, kl = space.final_losses()
        text = (f"Trained on {space.info.get('clip_count')} clips in {space.steps} steps{early}: "
                f"reconstruction {recon:.2f}, KL {kl:.2f} (the last 50 steps' mean).")
        if refused:
            text += "<br>Left out: " + "; ".join(f"<i>{name}</i>: {why}" for name, why in refused)
        self.status.setText(text)
        self.progress.setValue(1000)
        self.progress.setFormat("Done")
        self.show_map(space)
        self.space_ready.emit(space)

    def _failed(self, message: str, detail: str) -> None:
        self._finish()
        self.progress.setFormat("Failed")
        self.status.setText(message)

    def _cancelled(self) -> None:
        self._finish()
        self.progress.setValue(0)
        self.progress.setFormat("Cancelled: nothing was kept")

    # ------------------------------------------------------------ the map, before and after
    def show_map(self, space, seed: int = 0) -> None:
        """Draw the clips' codes, the space's samples and the model's prior samples on a PCA map
        (the prior needs the model: a small job), then the before/after reconstructions."""
        if space.codes is None or not len(space.codes):
            return
        self._submit_aux(ss.map_codes, space, MAP_SAMPLES, seed,
                         on_done=lambda result: self._draw_map(space, *result),
                         description=f"Mapping the {space.label} section space")
        self._submit_aux(ss.reconstructions, space, RECONSTRUCTIONS,
                         on_done=self._show_reconstructions,
                         description=f"Reconstructing {space.label} clips through the space")

    def _draw_map(self, space, samples, prior) -> None:
        if space is not self.space:
            return  # trained again meanwhile
        projection = Projection().fit(np.concatenate([space.codes, prior]))
        self.clip_points.setData(pos=projection.transform(space.codes))
        self.sample_points.setData(pos=projection.transform(samples))
        self.prior_points.setData(pos=projection.transform(prior))
        self.map_plot.show()
        self.map_shown.emit()

    def _show_reconstructions(self, pairs) -> None:
        self.pairs = list(pairs)
        grid = self.recon_grid
        while grid.count():
            item = grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        blank = Song()  # the pictures colour notes by part name; no song tracks are needed
        for col, text in enumerate(("", "model alone", "through the space")):
            head = QLabel(text)
            head.setStyleSheet("color: #8b93a1; font-size: 9pt;")
            grid.addWidget(head, 0, col)
        for row, (before, after) in enumerate(self.pairs, start=1):
            name = before.name[:-len(" (model)")] if before.name.endswith(" (model)") else before.name
            title = QLabel(name)
            title.setStyleSheet("font-size: 9pt;")
            title.setWordWrap(True)
            title.setMaximumWidth(90)
            grid.addWidget(title, row, 0)
            for col, clip in ((1, before), (2, after)):
                picture = QLabel()
                picture.setPixmap(clip_pixmap(blank, clip, 150, 44))
                picture.setToolTip(f"{clip.name}: {clip.note_count()} notes")
                grid.addWidget(picture, row, col)
        self.recon_add.setEnabled(bool(self.pairs))
        self.recon_box.setVisible(bool(self.pairs))
        self.reconstructions_shown.emit()
