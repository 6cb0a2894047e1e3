"""One lookup for model names: --model NAME on the command line and the GUI's model picker
(core.models.catalogue.models_by_name / find_model; core.musicvae.model_paths calls them)."""
import pytest

from core.errors import CheckpointError
from core.models import catalogue
from core.musicvae.checkpoint import random_weights, save_model
from core.musicvae.configs import CONFIGS
from core.musicvae.model_paths import resolve_model

MEL = CONFIGS["cat-mel_2bar_small"].with_sizes([8], [8], 4)
DRUMS = CONFIGS["cat-drums_2bar_small"].with_sizes([8], [8], 4)


@pytest.fixture()
def places(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("core.paths.resources_dir", lambda: tmp_path / "res")
    save_model(str(tmp_path / "res" / "models" / "tiny_mel"), MEL, random_weights(MEL))
    save_model(str(tmp_path / "res" / "models" / "shared"), MEL, random_weights(MEL))
    save_model(str(tmp_path / "data" / "models" / "my_drums"), DRUMS, random_weights(DRUMS))
    save_model(str(tmp_path / "data" / "models" / "shared"), DRUMS, random_weights(DRUMS))
    return tmp_path


def test_installed_and_embedded_names_resolve_on_the_command_line(places):
    assert resolve_model("my_drums") == (None, str(places / "data" / "models" / "my_drums"))
    assert resolve_model("tiny_mel") == (None, str(places / "res" / "models" / "tiny_mel"))
    # an installed model hides an embedded one of the same name
    assert resolve_model("shared") == (None, str(places / "data" / "models" / "shared"))
    with pytest.raises(CheckpointError, match="no model named 'nope'"):
        resolve_model("nope")


def test_the_command_line_and_the_catalogue_agree_on_a_broken_model(places):
    (places / "data" / "models" / "tiny_mel").mkdir(parents=True)  # an install gone wrong
    with pytest.raises(Exception, match="cannot be used: no model.json"):
        catalogue.find_model("tiny_mel")
    with pytest.raises(CheckpointError, match="cannot be used: no model.json"):
        resolve_model("tiny_mel")


def test_the_gui_model_picker_resolves_names_the_same_way(places):
    from gui.model_service import discover_models

    infos = discover_models()
    names = [i.name for i in infos]
    assert sorted(names) == ["my_drums", "shared", "tiny_mel"]  # each name once
    for info in infos:
        assert resolve_model(info.name)[1] == info.path
        assert catalogue.find_model(info.name).path == info.path
