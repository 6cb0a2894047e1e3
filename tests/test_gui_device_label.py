"""The status bar's device label: nothing asks TensorFlow at start-up; the model worker reads
the device after the first model load and the label shows it."""
import threading
from types import SimpleNamespace

from PySide6.QtCore import QSettings

from core import generation
from gui.main_window import MainWindow


def test_device_label_is_read_in_the_worker_after_the_first_load(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    asked_on = []

    def describe(model=None):
        asked_on.append(threading.current_thread())
        return "GPU: Fake Card"

    fake = SimpleNamespace(name="fake", kind="melody", device="/GPU:0",
                           config=SimpleNamespace(steps=32, name="fake"))
    monkeypatch.setattr(generation, "describe_device", describe)
    monkeypatch.setattr(generation, "load", lambda token, config, path, name, device: fake)
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    assert asked_on == []  # not at start-up
    assert w.job_status.device_label.text() == "Device: not loaded"
    w.models.register("fake", None, str(tmp_path))
    got = []
    with qtbot.waitSignal(w.models.device_changed, timeout=10000):
        w.models.with_model("fake", got.append)
    qtbot.waitUntil(lambda: got == [fake], timeout=5000)
    assert w.job_status.device_label.text() == "GPU: Fake Card"
    assert len(asked_on) == 1 and asked_on[0] is not threading.main_thread()
    w.transport.close()
    w.runner.shutdown(5000)


def test_device_label_is_green_only_once_a_device_is_known(qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QColor, QPalette

    from gui.style import STYLE_SHEET, style_sheet

    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    with open(STYLE_SHEET, encoding="utf-8") as fh:
        w.setStyleSheet(style_sheet(fh.read()))  # the app's sheet as the app loads it, on this window only
    label = w.job_status.device_label

    def colour() -> QColor:
        label.ensurePolished()
        return label.palette().color(QPalette.ColorRole.WindowText)

    green = QColor("#8cc265")
    assert label.text() == "Device: not loaded"
    assert colour() != green and colour().saturation() < 60  # grey: nothing is ready yet
    w.job_status.show_device("CPU")
    assert label.text() == "CPU" and colour() == green
    w.job_status.show_device("not loaded")
    assert colour() != green
    w.transport.close()
    w.runner.shutdown(5000)
