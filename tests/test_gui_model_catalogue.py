"""The model catalogue dialog (issue 16.11): lists, installs from a file, downloads, cancels, removes.

Downloads come from a local server on 127.0.0.1 (never the real host); the checkpoint is the
tiny Magenta-format fixture.
"""
import os
import threading

import pytest
from PySide6.QtCore import QSettings

from core.models import catalogue
from gui import model_catalogue
from gui.job_runner import JobRunner
from gui.model_catalogue import ModelCatalogueDialog
from gui.model_service import ModelService
from helpers_models import official_style_tar, serving

NAME = "cat-mel_2bar_big"
SHOTS = os.environ.get("LATENT_STUDIO_SHOTS")  # a folder: screenshots of the dialog are saved there


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LATENT_STUDIO_MODEL_URL", raising=False)
    return tmp_path / "data"


@pytest.fixture()
def dialog(qtbot, tmp_path, data):
    runner = JobRunner()
    service = ModelService(runner, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    d = ModelCatalogueDialog(service)
    qtbot.addWidget(d)
    d.show()
    yield d
    runner.shutdown(5000)


def shot(d, name):
    if SHOTS:
        d.grab().save(os.path.join(SHOTS, name))


def test_lists_embedded_installed_and_downloadable_models_with_size_and_purpose(dialog):
    rows = dialog.rows()
    embedded = [name for origin, name, _ in rows if origin == "embedded"]
    assert embedded == [e.name for e in catalogue.embedded_models()]
    assert {"mel_2bar", "drums_2bar", "trio_16bar"} <= set(embedded)
    assert not [r for r in rows if r[0] == "installed"]
    official = {name: status for origin, name, status in rows if origin == "official"}
    assert official[NAME] == "can be downloaded"
    assert official["groovae_4bar"] == "not supported"
    # every embedded row says how big it is and what it does
    group = dialog.tree.topLevelItem(0)
    for i in range(group.childCount()):
        item = group.child(i)
        assert item.text(1).endswith("MB") and item.text(2), [item.text(c) for c in range(4)]
    shot(dialog, "model_catalogue.png")


def test_install_from_a_file_then_remove(dialog, qtbot, tmp_path, data, monkeypatch):
    tar = tmp_path / f"{NAME}.tar"
    tar.write_bytes(official_style_tar(NAME, folder=True))
    with qtbot.waitSignal(dialog.installed, timeout=60000) as got:
        dialog.install_path(str(tar))
        assert dialog.cancel_button.isVisible() and not dialog.file_button.isEnabled()
    assert got.args == [NAME]
    assert ("installed", NAME, "ready") in dialog.rows()
    assert NAME in [i.name for i in dialog.service.infos()]  # the Generate panel can use it now
    assert "Installed cat-mel_2bar_big" in dialog.message.text()
    assert not dialog.cancel_button.isVisible()
    assert dialog.selected_entry().name == NAME and dialog.remove_button.isEnabled()
    shot(dialog, "model_catalogue_installed.png")

    monkeypatch.setattr(model_catalogue, "ask_remove", lambda parent, name: False)
    dialog.remove_selected()  # said no: nothing happens
    assert (data / "models" / NAME).is_dir()
    monkeypatch.setattr(model_catalogue, "ask_remove", lambda parent, name: True)
    with qtbot.waitSignal(dialog.removed, timeout=5000):
        dialog.remove_selected()
    assert not (data / "models" / NAME).exists()
    assert not [r for r in dialog.rows() if r[0] == "installed"]
    assert NAME not in [i.name for i in dialog.service.infos()]


def test_embedded_models_cannot_be_removed(dialog):
    assert dialog.select("embedded", "mel_2bar")
    assert not dialog.remove_button.isEnabled()
    assert not dialog.download_button.isEnabled()


def test_download_an_official_checkpoint_with_progress(dialog, qtbot, data, monkeypatch):
    archive = official_style_tar(NAME)
    seen = []
    dialog.service.runner.progress.connect(lambda f, m: seen.append(m))
    with serving({f"/checkpoints/{NAME}.tar": archive}) as server:
        monkeypatch.setenv("LATENT_STUDIO_MODEL_URL", server.base_url)
        dialog.refresh()
        assert dialog.select("official", NAME) and dialog.download_button.isEnabled()
        dialog.download_selected()
        qtbot.waitUntil(lambda: dialog.job is None, timeout=60000)
    assert dialog.message.text().startswith(f"Installed {NAME}"), dialog.message.text()
    assert [r["path"] for r in server.requests] == [f"/checkpoints/{NAME}.tar"]
    assert seen and seen[-1] == f"installed {NAME}"  # progress reached the window (throttled in between)
    official = {name: status for origin, name, status in dialog.rows() if origin == "official"}
    assert official[NAME] == "installed"
    assert (data / "models" / NAME / "model.json").is_file()


def test_a_bad_archive_says_why_and_installs_nothing(dialog, qtbot, tmp_path, data):
    bad = tmp_path / "broken.tar"
    bad.write_bytes(b"this is not a tar archive at all" * 10)
    failed = []
    dialog.service.runner.failed.connect(lambda m, d: failed.append(m))
    dialog.install_path(str(bad))
    qtbot.waitUntil(lambda: dialog.job is None, timeout=30000)
    assert failed and dialog.message.text() == failed[0]
    assert not [r for r in dialog.rows() if r[0] == "installed"]
    assert dialog.file_button.isEnabled()


def test_cancel_stops_the_install_and_installs_nothing(dialog, qtbot, tmp_path, data):
    tar = tmp_path / f"{NAME}.tar"
    tar.write_bytes(official_style_tar(NAME, folder=True))
    gate = threading.Event()
    # the worker is busy with another job, so the install waits in the queue and is cancelled there
    dialog.service.runner.submit(lambda token: gate.wait(10), description="something before")
    dialog.install_path(str(tar))
    assert dialog.cancel_button.isVisible()
    dialog.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=30000)
    assert dialog.message.text() == "Cancelled; nothing was installed."
    assert not (data / "models" / NAME).exists()
    assert dialog.file_button.isEnabled()


def test_the_window_opens_it_from_the_models_menu(qtbot, tmp_path, data, monkeypatch):
    from gui.main_window import MainWindow

    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    w = MainWindow(settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    assert w.act_model_catalogue in w.models_menu.actions()
    w.act_model_catalogue.trigger()
    d = w.model_catalogue
    assert isinstance(d, ModelCatalogueDialog) and d.isVisible()
    assert d.service is w.models
    w.act_model_catalogue.trigger()
    assert w.model_catalogue is d  # one dialog per window
    d.close()
    w.generate_panel.add_model_button.click()  # the Generate panel's "Add…" opens the same one
    assert w.model_catalogue is d and d.isVisible()
    d.resize(960, 560)
    shot(d, "model_catalogue_window.png")
    d.close()
    w.runner.shutdown(3000)
