"""The catalogue: embedded models with their cards, installed models in the data folder,
official checkpoints with their addresses, and the device line."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from core.models import catalogue
from core.musicvae.checkpoint import random_weights, save_model
from core.musicvae.configs import CONFIGS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEL = CONFIGS["cat-mel_2bar_small"].with_sizes([16], [12, 12], 8)
DRUMS = CONFIGS["cat-drums_2bar_small"].with_sizes([8], [8, 8], 4)


@pytest.fixture()
def places(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LATENT_STUDIO_MODEL_URL", raising=False)
    monkeypatch.setattr("core.paths.resources_dir", lambda: tmp_path / "res")
    res = tmp_path / "res" / "models"
    save_model(str(res / "mel_2bar"), MEL, random_weights(MEL), storage="float16")
    (res / "mel_2bar" / "model-card.json").write_text(json.dumps({
        "summary": "2-bar melodies trained on folk tunes\nsecond line", "steps": 20000,
        "held_out": {"free_running_accuracy": 0.934, "teacher_forced_accuracy": 0.97}}))
    save_model(str(res / "drums_2bar"), DRUMS, random_weights(DRUMS))
    (res / "broken").mkdir()
    return tmp_path


def test_embedded_models_show_config_sizes_and_card_summary(places):
    entries = {e.name: e for e in catalogue.embedded_models()}
    assert sorted(entries) == ["broken", "drums_2bar", "mel_2bar"]
    mel = entries["mel_2bar"]
    assert mel.origin == "embedded" and mel.config == "cat-mel_2bar_small"
    assert mel.sizes == "enc 16 / dec 12x2 / z 8"
    assert mel.summary == ("2-bar melodies trained on folk tunes; 20000 steps; free-running acc 0.934; "
                           "teacher-forced acc 0.970")
    assert mel.size_bytes == sum(os.path.getsize(places / "res" / "models" / "mel_2bar" / f)
                                 for f in ("model.json", "weights.npz", "model-card.json"))
    drums = entries["drums_2bar"]
    assert drums.summary == CONFIGS["cat-drums_2bar_small"].description  # no card: the config's description
    from core.musicvae.code_prior import CodePrior

    CodePrior(np.zeros(DRUMS.z_size, np.float32), np.eye(DRUMS.z_size, dtype=np.float32)).save(drums.path)
    drums = {e.name: e for e in catalogue.embedded_models()}["drums_2bar"]
    assert drums.summary.endswith("; samples from its code prior")
    assert entries["broken"].problem == "no model.json in the folder" and not entries["broken"].supported


def test_installed_models_live_in_the_data_folder_and_skip_unfinished_installs(places):
    models = places / "data" / "models"
    save_model(str(models / "mine"), DRUMS, random_weights(DRUMS))
    (models / "mine" / "install.json").write_text(json.dumps({"source": "/somewhere/mine.tar"}))
    (models / ".install-other-x1y2").mkdir()
    entries = catalogue.installed_models()
    assert [e.name for e in entries] == ["mine"]
    assert entries[0].path == str(models / "mine") and entries[0].summary.endswith("from /somewhere/mine.tar")
    assert catalogue.find_model("mine").origin == "installed"
    assert catalogue.find_model("mel_2bar").origin == "embedded"
    with pytest.raises(Exception, match="cannot be used: no model.json"):
        catalogue.find_model("broken")
    with pytest.raises(Exception, match="no model named 'nope'"):
        catalogue.find_model("nope")
    assert not str(catalogue.installed_dir()).startswith(ROOT)


def test_official_list_addresses_and_sizes(places, monkeypatch):
    names = [e.name for e in catalogue.official_models()]
    for required in ("cat-mel_2bar_big", "cat-mel_2bar_small", "hierdec-mel_16bar", "hierdec-trio_16bar",
                     "cat-drums_2bar_small.lokl", "cat-drums_2bar_small.hikl", "groovae_2bar_humanize"):
        assert required in names
    big = next(e for e in catalogue.official_models() if e.name == "hierdec-trio_16bar")
    assert big.url == "https://storage.googleapis.com/magentadata/models/music_vae/checkpoints/hierdec-trio_16bar.tar"
    assert big.supported and big.config == "hierdec-trio_16bar" and 0.5e9 < big.size_bytes < 2.5e9
    groove = next(e for e in catalogue.official_models() if e.name == "groovae_2bar_humanize")
    assert not groove.supported and "not supported" in groove.problem
    monkeypatch.setenv("LATENT_STUDIO_MODEL_URL", "http://127.0.0.1:9/mirror/")
    assert catalogue.official_url("cat-drums_2bar_small.lokl") == "http://127.0.0.1:9/mirror/cat-drums_2bar_small.lokl.tar"
    assert catalogue.official_url("x", "http://other") == "http://other/x.tar"


def test_weight_size_estimate_matches_a_written_model(tmp_path):
    folder = save_model(str(tmp_path / "m"), MEL, random_weights(MEL))
    with np.load(os.path.join(folder, "weights.npz")) as npz:
        assert catalogue.weights_bytes(MEL) == sum(npz[k].nbytes for k in npz.files)


def test_cli_listing_without_device_does_not_import_tensorflow(places):
    script = ("import sys; from cli import run; rc = run(['models', '--no-device']); "
              "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'; sys.exit(rc)")
    env = dict(os.environ, LATENT_STUDIO_DATA=str(places / "data"), LATENT_STUDIO_CACHE=str(places / "cache"),
               LATENT_STUDIO_MODEL_URL="http://mirror.example/ckpt")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Embedded models (" in text and "Installed models (" + str(places / "data" / "models") in text
    assert "(none; install one with" in text
    assert "http://mirror.example/ckpt/hierdec-mel_16bar.tar" in text
    assert "groovae_2bar_humanize" in text and "Device:" not in text


def test_cli_listing_shows_embedded_models_and_the_device(places, capsys):
    import tensorflow as tf
    from cli import run

    assert run(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("  mel_2bar  [cat-mel_2bar_small] enc 16 / dec 12x2 / z 8") and "free-running acc 0.934"
               in line for line in lines)
    assert any(line.startswith("  broken  UNUSABLE: no model.json") for line in lines)
    device = lines[-1]
    assert device.startswith("Device: GPU: " if tf.config.list_physical_devices("GPU") else "Device: CPU: ")


def test_cli_remove_of_an_unknown_model_is_a_clear_error(places, capsys):
    from cli import run

    assert run(["models", "remove", "nothing-here"]) == 2
    assert "error: no installed model named 'nothing-here' (installed: none)" in capsys.readouterr().err
