"""The "Train on my MIDI…" dialog (issue 18): scan first, then train in its own process with
progress, a live plot, Pause, Resume of unfinished runs, Cancel, and the result in the model list.

The model fine-tuned here is a tiny one installed by the test (a real run of the real code, in the
training process the dialog starts, so the test takes about a minute)."""
import os

import pytest
from PySide6.QtCore import QSettings

from core.jobs import JobToken
from core.models.install import install_from_path
from gui import train_dialog
from gui.job_runner import JobRunner
from gui.model_service import ModelService
from gui.train_dialog import TrainDialog
from test_train_on_midi import _track, melody, melody_folder, tiny_model, write_midi

SHOTS = os.environ.get("LATENT_STUDIO_SHOTS")  # a folder: screenshots of the dialog are saved there


@pytest.fixture()
def service(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    runner = JobRunner()
    s = ModelService(runner, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    yield s
    runner.shutdown(5000)


def make(qtbot, service):
    d = TrainDialog(service)
    qtbot.addWidget(d)
    d.show()
    return d


def scan(qtbot, d, folder):
    d.start_scan(folder)
    qtbot.waitUntil(lambda: not d.busy, timeout=30_000)


def shot(d, name):
    if SHOTS:
        d.grab().save(os.path.join(SHOTS, name))


def test_scan_first_then_train_pause_resume_and_the_model_is_listed(qtbot, tmp_path, service, monkeypatch):
    model_dir, _ = tiny_model(str(tmp_path / "tiny"), step=40)
    install_from_path(JobToken(), model_dir, name="tiny-mel")
    service.refresh()
    folder = melody_folder(str(tmp_path / "my tunes"), 10)
    (tmp_path / "my tunes" / "broken.mid").write_bytes(b"MThd\x00\x00")
    d = make(qtbot, service)
    assert not d.resume_box.isVisible()
    assert not d.train_button.isEnabled() and "folder" in d.train_button.toolTip()

    scan(qtbot, d, folder)
    text = d.scan_label.text()
    assert "11 MIDI files found, 10 read, 1 refused" in text and "2-bar melodies" in text
    assert d.refused_view.isVisible() and "broken.mid" in d.refused_view.toPlainText()
    assert d.kind() == "melody" and "windows)" in d.kind_combo.currentText()
    assert d.name_edit.text() == "my-tunes-melodies"
    assert d.base_combo.currentText() == "mel_2bar"  # the embedded model is the default
    assert d.steps_spin.value() == 300 and d.keep_spin.value() == 2
    assert "needs about" in d.disk_label.text() and "free" in d.disk_label.text()
    d.base_combo.setCurrentText("tiny-mel")
    d.steps_spin.setValue(12)
    assert d.train_button.isEnabled()

    d.train_button.click()
    assert not d.train_button.isEnabled() and d.pause_button.isEnabled()
    qtbot.waitUntil(lambda: len(d._steps) >= 3, timeout=180_000)
    d.pause_button.click()
    qtbot.waitUntil(lambda: not d.busy, timeout=120_000)
    assert d.progress.format().startswith("Paused at step")
    assert d.device_label.text().startswith("CPU") and "s per step" in d.device_label.text()
    assert d.loss_curve.getData()[0] is not None and len(d.loss_curve.getData()[0]) >= 3
    loss, trend = d.loss_curve.getData()[1], d.trend_curve.getData()[1]
    assert trend[0] == loss[0] and trend[2] == pytest.approx(loss[:3].mean())  # a running mean
    assert d.resume_box.isVisible() and d.resume_combo.count() == 1
    assert "my-tunes-melodies" in d.resume_combo.currentText()
    assert "my-tunes-melodies" not in [i.name for i in service.infos()]
    shot(d, "train_dialog_paused.png")

    # a new dialog (as after restarting the app) offers the run and resumes it to the end
    d.close()
    d2 = make(qtbot, service)
    assert d2.resume_box.isVisible() and d2.resume_button.isEnabled()
    installed = []
    d2.model_installed.connect(installed.append)
    d2.resume_button.click()
    qtbot.waitUntil(lambda: not d2.busy, timeout=180_000)
    assert installed == ["my-tunes-melodies"], d2.status.text()
    assert d2.progress.format() == "Done" and "is installed" in d2.status.text()
    assert "Held-out loss on your files" in d2.status.text()
    info = service.info("my-tunes-melodies")
    assert info.origin == "installed" and info.kind == "melody"
    assert not d2.resume_box.isVisible()
    assert d2.base_combo.findText("my-tunes-melodies") >= 0  # and it can be fine-tuned further
    # the held-out curve got its points (one per evaluation)
    assert len(d2.acc_curve.getData()[0]) >= 1
    shot(d2, "train_dialog_done.png")
    d2.close()


def test_cancel_stops_the_run_and_deletes_it(qtbot, tmp_path, service, monkeypatch):
    model_dir, _ = tiny_model(str(tmp_path / "tiny"), step=40)
    install_from_path(JobToken(), model_dir, name="tiny-mel")
    service.refresh()
    d = make(qtbot, service)
    scan(qtbot, d, melody_folder(str(tmp_path / "tunes"), 6))
    d.base_combo.setCurrentText("tiny-mel")
    d.steps_spin.setValue(100_000)
    d.train_button.click()
    qtbot.waitUntil(lambda: len(d._steps) >= 1, timeout=180_000)
    run_dir = d.run_dir
    assert os.path.isdir(run_dir)
    monkeypatch.setattr(train_dialog, "confirm", lambda *a: True)
    d.cancel_button.click()
    qtbot.waitUntil(lambda: not d.busy, timeout=30_000)
    assert d.progress.format().startswith("Cancelled") and not os.path.exists(run_dir)
    assert not d.resume_box.isVisible() and d.train_button.isEnabled()


def test_pause_before_the_first_step_keeps_the_run(qtbot, tmp_path, service):
    model_dir, _ = tiny_model(str(tmp_path / "tiny"), step=40)
    install_from_path(JobToken(), model_dir, name="tiny-mel")
    service.refresh()
    d = make(qtbot, service)
    scan(qtbot, d, melody_folder(str(tmp_path / "tunes"), 4))
    d.base_combo.setCurrentText("tiny-mel")
    d.steps_spin.setValue(50)
    d.train_button.click()
    d.pause_button.click()  # the training process has not even started TensorFlow yet
    qtbot.waitUntil(lambda: not d.busy, timeout=120_000)
    assert d.progress.format() == "Paused at step 0", (d.progress.format(), d.status.text())
    assert d.resume_combo.count() == 1 and os.path.isdir(d.run_dir)


def test_train_stays_off_with_a_reason_and_a_short_disk_is_said(qtbot, tmp_path, service, monkeypatch):
    d = make(qtbot, service)
    empty = tmp_path / "empty"
    empty.mkdir()
    scan(qtbot, d, str(empty))
    assert "no MIDI files" in d.scan_label.text()
    assert not d.train_button.isEnabled() and "no MIDI files" in d.train_button.toolTip()

    waltzes = tmp_path / "waltzes"
    waltzes.mkdir()
    write_midi(str(waltzes / "w.mid"), [_track(melody(1, 8))], numerator=3)
    scan(qtbot, d, str(waltzes))
    assert not d.train_button.isEnabled() and "give no" in d.train_button.toolTip()

    scan(qtbot, d, melody_folder(str(tmp_path / "ok"), 3))
    assert d.train_button.isEnabled()
    import shutil as sh

    real = sh.disk_usage
    monkeypatch.setattr(train_dialog.shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    d.keep_spin.setValue(3)
    assert "(not enough)" in d.disk_label.text()
    from core.musicvae import training

    monkeypatch.setattr(training.shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    d.train_button.click()
    assert not d.busy and "Not enough free disk space" in d.status.text()
    assert not os.listdir(os.path.join(os.environ["LATENT_STUDIO_DATA"], "runs"))


def test_the_models_menu_opens_it(qtbot, tmp_path, monkeypatch):
    from gui.main_window import MainWindow

    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    w = MainWindow(settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    try:
        assert ("Models", "&Train on my MIDI…") in [(m, a.text()) for m, a in w.all_actions()]
        w.act_train_midi.trigger()
        assert isinstance(w.train_dialog, TrainDialog) and w.train_dialog.isVisible()
        assert w.show_train_dialog() is w.train_dialog  # one per window
        w.train_dialog.close()
    finally:
        w.runner.shutdown(5000)
