"""Damaged model folders (what fuzz_inputs.py found): the loader gives a CheckpointError naming the
problem, and the model list shows the folder as unusable instead of failing."""
import json
import os

import numpy as np
import pytest

from core.errors import CheckpointError
from core.models import catalogue
from core.musicvae.checkpoint import load_weights, random_weights, save_model
from core.musicvae.code_prior import CodePrior
from core.musicvae.configs import CONFIGS

TINY = CONFIGS["cat-mel_2bar_small"].with_sizes([8], [8], 4)


@pytest.fixture()
def model(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    folder = save_model(str(tmp_path / "data" / "models" / "tiny"), TINY, random_weights(TINY))
    CodePrior(np.zeros(4, np.float32), np.eye(4, dtype=np.float32)).save(folder)
    return folder


def load(folder):
    cfg, _, source = load_weights(None, folder)
    return CodePrior.from_meta(source.path, source.meta, cfg.z_size)


def rewrite_weights(folder, change):
    path = os.path.join(folder, "weights.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(path, **arrays)


def edit_meta(folder, change):
    path = os.path.join(folder, "model.json")
    meta = json.load(open(path))
    change(meta)
    open(path, "w").write(json.dumps(meta))


def test_intact_model_loads(model):
    assert load(model).z_size == 4


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_weights_that_are_not_finite_are_refused(model, bad):
    def change(a):
        k = sorted(a)[0]
        a[k] = a[k].copy()
        a[k].flat[0] = bad
    rewrite_weights(model, change)
    with pytest.raises(CheckpointError, match="not finite"):
        load(model)


def test_weights_that_are_not_floats_are_refused(model):
    rewrite_weights(model, lambda a: a.__setitem__(sorted(a)[0], np.array(["x"] * 3)))
    with pytest.raises(CheckpointError, match="not floating point"):
        load(model)


def test_damaged_array_inside_the_archive_is_refused(model):
    path = os.path.join(model, "weights.npz")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 3] ^= 0xFF
    open(path, "wb").write(bytes(data))
    with pytest.raises(CheckpointError, match="could not be read"):
        load(model)


@pytest.mark.parametrize("change, match", [
    (lambda m: m.__setitem__("config", [1, 2]), "no model config"),
    (lambda m: m["config"].__setitem__("z_size", "four"), "does not describe a MusicVAE"),
    (lambda m: m["config"].__setitem__("enc_rnn_size", [10 ** 12]), "does not describe a MusicVAE"),
    (lambda m: m.__setitem__("version", "1"), "no valid format version"),
    (lambda m: m.__setitem__("weights", "../../elsewhere.npz"), "not a file name inside"),
    (lambda m: m.__setitem__("code_prior", [1]), "names a code prior it does not describe"),
    (lambda m: m.__setitem__("code_prior", {"file": "/etc/passwd"}), "not a file name inside"),
])
def test_damaged_model_json_is_refused(model, change, match):
    edit_meta(model, change)
    with pytest.raises(CheckpointError, match=match):
        load(model)


def test_prior_for_another_model_is_refused(model):
    np.savez(os.path.join(model, "prior.npz"), mean=np.zeros(16, np.float32), scale_tril=np.eye(16, dtype=np.float32))
    with pytest.raises(CheckpointError, match="does not fit a model with codes of 4"):
        load(model)


def test_model_list_shows_a_damaged_model_json_as_unusable(model):
    edit_meta(model, lambda m: m.__setitem__("config", "nonsense"))
    (entry,) = catalogue.installed_models()
    assert entry.name == "tiny" and not entry.supported and "cannot be read" in entry.problem
