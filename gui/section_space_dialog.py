"""The "New section space" dialog: train a small VAE on one label's clips and watch it learn.

It runs core.section_space.train on the window's JobRunner (the worker never touches a widget):
a progress bar, a live loss plot (reconstruction and KL per step, log scale, pyqtgraph) polled
from the job's TrainControl by a timer, Cancel (nothing is kept) and "Good enough, stop now"
(training ends after the current step and the space learned so far is kept). When it is done, a
small map shows where the clips' codes lie and where the space's samples and the model's prior
samples land (a 2-D PCA of the codes, core.projection), so a musician sees what was learned.

The dialog makes the space and, once there is one, samples it (count, temperature);
`SectionSpaceDialog.for_space` opens it on a space already trained (from a file). It emits
`space_ready(space)` and `samples_ready(clips)` (notes keyed by part name, as core.generation
makes them) and whoever opened it decides what to do with them (keep the space in the project,
put the clips in the library on the song's tracks with core.arrangement.assign_tracks).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout)

from core import section_space as ss
from core.projection import Projection

POLL_MS = 100
RECON_COLOR = "#5fb3f9"
KL_COLOR = "#f2a65a"
CLIP_COLOR = "#7bd88f"
SAMPLE_COLOR = "#f25f8a"
PRIOR_COLOR = "#6b7280"
MAP_SAMPLES = 64


class SectionSpaceDialog(QDialog):
    """Train a section space for `label` from `clips` with `model` (see the module docstring)."""

    space_ready = Signal(object)  # the trained SectionSpace
    samples_ready = Signal(list)  # clips sampled from it

    def __init__(self, runner, model, clips, label: str, tracks=None, parent=None):
        super().__init__(parent)
        self.runner, self.model, self.clips, self.label, self.tracks = runner, model, list(clips), label, tracks
        self.space: ss.SectionSpace | None = None
        self.control: ss.TrainControl | None = None
        self._job = None
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
        layout.addWidget(self.map_plot, 2)

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
    def for_space(cls, runner, model, space, parent=None) -> "SectionSpaceDialog":
        """The dialog for a space already trained (opened from a file or the project): its loss
        curve and map as they were, and Sample; Train would train it again on no clips, so it
        is off. Raises SpaceModelError when `model` is not the space's model."""
        space.check_model(model)
        dialog = cls(runner, model, [], space.label, parent=parent)
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
        self.status.setText("")
        self.progress.setValue(0)
        self.progress.setFormat("Starting")
        self._job = self.runner.submit(ss.train, self.model, self.clips, self.label, settings, self.control,
                                       self.tracks, on_done=self._done, on_error=self._failed,
                                       on_cancel=self._cancelled,
                                       description=f"Training the {self.label} section space")
        self._set_running(True)
        self.timer.start()

    def sample(self) -> None:
        """Sample the trained space on the runner; the clips arrive through `samples_ready`."""
        if self.running or self.space is None:
            return
        self._job = self.runner.submit(ss.sample, self.model, self.space, self.count_spin.value(),
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

    def stop_early(self) -> None:
        if self.running and self.control is not None:
            self.control.request_stop()
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
        super().reject()

    # ------------------------------------------------------------ reports (GUI thread)
    def _on_progress(self, fraction: float, message: str) -> None:
        if self.running and self.runner.current is self._job:
            self.progress.setValue(int(round(fraction * 1000)))
            self.progress.setFormat(message or "%p%")

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

    # ------------------------------------------------------------ the map
    def show_map(self, space, seed: int = 0) -> None:
        """The clips' codes, the space's samples and the model's prior samples on a PCA map."""
        if space.codes is None or not len(space.codes):
            return
        rng = np.random.default_rng(seed)
        samples = space.sample_codes(MAP_SAMPLES, rng)
        prior = self.model.random_z(MAP_SAMPLES, rng)
        projection = Projection().fit(np.concatenate([space.codes, prior]))
        self.clip_points.setData(pos=projection.transform(space.codes))
        self.sample_points.setData(pos=projection.transform(samples))
        self.prior_points.setData(pos=projection.transform(prior))
        self.map_plot.show()
