"""The status bar's view of the job runner and the model device.

A progress bar and a Cancel button that show while a job runs, the job's messages in the
status bar, a dialog when a job fails (the detail behind its button), and which device the
models run on. Nothing asks TensorFlow at start-up (importing it stalls the window): the model
service reads the device in its worker after the first model load and says so.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from gui import dialogs


class JobStatus(QWidget):
    """Progress, Cancel and the device label, for the window's status bar."""

    def __init__(self, runner, models, window):
        super().__init__(window)
        self.runner = runner
        self.models = models
        self._window = window
        self._title = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("jobProgress")
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(180)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.setToolTip("Stop the running job (Ctrl+.)")
        self.cancel_button.clicked.connect(lambda: runner.cancel())
        self.cancel_button.hide()
        self.device_label = QLabel(self)
        self.device_label.setObjectName("deviceLabel")
        for widget in (self.progress, self.cancel_button, self.device_label):
            layout.addWidget(widget)
        self.show_device(models.device_text)
        models.device_changed.connect(self.show_device)
        runner.started.connect(self._started)
        runner.progress.connect(self._progress)
        runner.failed.connect(self._failed)
        runner.busy_changed.connect(self._busy)
        runner.cancelled.connect(lambda what: self._say(f"Cancelled: {what}", 5000))
        runner.finished.connect(lambda what: self._say(f"Done: {what}", 3000))

    def _say(self, text: str, ms: int = 0) -> None:
        self._window.statusBar().showMessage(text, ms)

    def show_device(self, text: str) -> None:
        loaded = text != "not loaded"
        if not loaded:
            self.device_label.setText("Device: not loaded")
            self.device_label.setToolTip("Shows 'GPU: <name>' or 'CPU' once the first model "
                                         "has loaded")
        else:
            self.device_label.setText(text)
            self.device_label.setToolTip(f"Models run on: {text}")
        # the style sheet paints a loaded device green and "not loaded" grey: green said "ready"
        self.device_label.setProperty("loaded", loaded)
        self.device_label.style().unpolish(self.device_label)
        self.device_label.style().polish(self.device_label)

    def _started(self, description: str) -> None:
        self._title = description
        self._say(description)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        if message:
            self._say(message)

    def _busy(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def _failed(self, message: str, detail: str) -> None:
        title = f"{self._title} failed" if self._title else "Something went wrong"
        self._say(message, 8000)
        dialogs.show_error(self._window, title, message, detail)
