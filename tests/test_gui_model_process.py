"""The app's way of running models (issue 16.4): the default model is preloaded behind the window,
in a separate process, and Generate uses it from there."""
import pytest
from PySide6.QtCore import QSettings

from core.model_host import RemoteModel
from gui import dialogs, model_service
from gui.app import preload_default_model
from gui.main_window import MainWindow


@pytest.fixture()
def process_mode():
    model_service.use_model_process(True)
    yield
    model_service.use_model_process(False)


def test_preloaded_default_model_generates_from_the_model_process(qtbot, tmp_path, monkeypatch, process_mode):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    panel = w.generate_panel
    name = panel.model_name()
    assert name == "mel_2bar"  # the first launch's default
    try:
        with qtbot.waitSignal(w.models.model_loaded, timeout=180000):
            assert preload_default_model(w)
            assert not preload_default_model(w)  # loading already: nothing more to do
        model = w.models.model(name)
        assert isinstance(model, RemoteModel) and model.kind == "melody"
        assert w.job_status.device_label.text() in ("CPU",) or w.job_status.device_label.text().startswith("GPU")
        before = len(w.song.clips)
        with qtbot.waitSignal(panel.clips_added, timeout=120000) as added:
            panel.generate_button.click()
        ids = added.args[0]
        assert len(ids) == panel.count_spin.value() and len(w.song.clips) == before + len(ids)
        assert any(w.song.clips[i].note_count() > 0 for i in ids)
        assert not preload_default_model(w)  # loaded: nothing to do

        # the other model jobs travel to the model process too (clips, tracks and codes pickled)
        a, b = ids[0], ids[1]
        panel.session.select_clips([a])
        with qtbot.waitSignal(panel.clips_added, timeout=120000) as similar:
            panel.similar()
        assert len(similar.args[0]) == panel.similar_count.value()
        panel.session.select_clips([a, b])
        with qtbot.waitSignal(panel.clips_added, timeout=120000) as blend:
            panel.interpolate()
        assert len(blend.args[0]) >= 1
        with qtbot.waitSignal(panel.clips_added, timeout=120000) as spot:
            panel.decode_code(w.song.clips[a].latent)
        assert len(spot.args[0]) == 1
    finally:
        w.runner.shutdown(5000)
        w.models.close()
    assert not w.models.host.running


def test_preload_can_be_turned_off(qtbot, tmp_path, monkeypatch, process_mode):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue(model_service.PRELOAD_KEY, False)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert not preload_default_model(w)
    assert not w.runner.is_busy() and w.models.host is None
    w.runner.shutdown(3000)
