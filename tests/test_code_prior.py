"""A model's code prior: the Gaussian its codes fill, which its random codes come from.

Fitting recovers a known Gaussian; a model folder that names a prior samples from it (and its
"similar" noise too); a missing, corrupt or misfitting prior is a clear error, at load and at
install, never a silent fall-back to N(0, I).
"""
import json
import os

import numpy as np
import pytest

from core import generation as g
from core.errors import CheckpointError
from core.jobs import run_job
from core.musicvae import CONFIGS, load_model
from core.musicvae.checkpoint import random_weights, save_model
from core.musicvae.code_prior import PRIOR_FILE, CodePrior, fit_to_codes
from core.song import Clip


def tiny_folder(path, z=8):
    cfg = CONFIGS["cat-mel_2bar_small"].with_sizes([32], [32], z)
    return save_model(str(path), cfg, random_weights(cfg, seed=3)), cfg


def test_fit_recovers_the_gaussian_of_the_codes():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6)) * 0.4
    true_cov = a @ a.T + 0.05 * np.eye(6)
    true_mean = np.array([1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
    mu = rng.multivariate_normal(true_mean, true_cov, size=20000)
    sigma = np.full_like(mu, 0.3)  # each code's own spread adds 0.09 to every variance
    prior = CodePrior.fit(mu, sigma)
    np.testing.assert_allclose(prior.mean, true_mean, atol=0.03)
    cov = prior.scale_tril.astype(np.float64) @ prior.scale_tril.T
    np.testing.assert_allclose(cov, true_cov + 0.09 * np.eye(6), atol=0.03)
    np.testing.assert_allclose(prior.spread(), np.sqrt(np.diag(cov)), rtol=1e-5)
    draws = prior.sample(20000, 1)
    assert draws.dtype == np.float32 and draws.shape == (20000, 6)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), cov, atol=0.05)
    with pytest.raises(ValueError):
        CodePrior.fit(mu[:1], sigma[:1])


def test_a_model_with_a_prior_samples_from_it(tmp_path):
    folder, cfg = tiny_folder(tmp_path / "m")
    plain = load_model(None, folder)
    assert plain.prior is None
    assert abs(plain.random_z(4000, 0).mean()) < 0.05  # N(0, I)
    mean = np.linspace(2.0, 4.0, cfg.z_size).astype(np.float32)
    CodePrior(mean, np.eye(cfg.z_size, dtype=np.float32) * 0.1).save(folder, {"windows": 10})
    assert json.load(open(os.path.join(folder, "model.json")))["code_prior"] == {"file": PRIOR_FILE, "windows": 10}
    model = load_model(None, folder)
    z = model.random_z(4000, 0)
    np.testing.assert_allclose(z.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(z.std(0), 0.1, atol=0.01)
    clips = run_job(g.sample, model, 3, 0.5, seed=2)
    assert all(np.abs(np.asarray(c.latent) - mean).max() < 0.6 for c in clips)
    plain = Clip(clips[0].name, clips[0].length, notes=dict(clips[0].notes))  # no stored code: encoded
    near = run_job(g.similar, model, plain, 4, 0.5, temperature=None, seed=1)  # half the clip's code (mu), half a random code
    mu = model.encode([clips[0]])[1][0]
    for c in near:
        np.testing.assert_allclose(c.latent, 0.5 * mu + 0.5 * mean, atol=0.3)


def test_fit_to_codes_encodes_the_windows(tmp_path):
    folder, cfg = tiny_folder(tmp_path / "m")
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, cfg.output_depths[0], (40, cfg.steps))
    prior = fit_to_codes(None, folder, tokens)
    model = load_model(None, folder)
    from core.musicvae.training import Trainer, TrainSettings
    from core.musicvae.checkpoint import load_weights

    _, w, _ = load_weights(None, folder)
    mu = Trainer(cfg, TrainSettings(steps=1), w).encode_mu(tokens.astype(np.int32))
    np.testing.assert_allclose(prior.mean, mu.mean(0), atol=1e-5)
    assert prior.z_size == model.z_size


@pytest.mark.parametrize("damage", ["missing", "corrupt", "wrong size", "not finite"])
def test_a_bad_prior_is_a_clear_error_at_load_and_install(tmp_path, damage, monkeypatch):
    folder, cfg = tiny_folder(tmp_path / "m")
    CodePrior(np.zeros(cfg.z_size, np.float32), np.eye(cfg.z_size, dtype=np.float32)).save(folder)
    path = os.path.join(folder, PRIOR_FILE)
    if damage == "missing":
        os.remove(path)
    elif damage == "corrupt":
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 not really a zip")
    elif damage == "wrong size":
        np.savez(path, mean=np.zeros(3, np.float32), scale_tril=np.eye(3, dtype=np.float32))
    else:
        np.savez(path, mean=np.full(cfg.z_size, np.nan, np.float32), scale_tril=np.eye(cfg.z_size, dtype=np.float32))
    with pytest.raises(CheckpointError, match="prior"):
        load_model(None, folder)

    from core.models import install

    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    with pytest.raises(CheckpointError, match="prior"):
        install.check_checkpoint(folder, None)


def test_saving_a_prior_for_other_codes_is_refused(tmp_path):
    folder, cfg = tiny_folder(tmp_path / "m", z=8)
    before = open(os.path.join(folder, "model.json")).read()
    with pytest.raises(CheckpointError, match="8 numbers"):
        CodePrior(np.zeros(5, np.float32), np.eye(5, dtype=np.float32)).save(folder)
    assert open(os.path.join(folder, "model.json")).read() == before
    assert not os.path.exists(os.path.join(folder, PRIOR_FILE))


def test_a_cut_off_weights_file_is_a_clear_error(tmp_path):
    folder, _ = tiny_folder(tmp_path / "m")
    path = os.path.join(folder, "weights.npz")
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])  # a copy that stopped half-way: the zip's directory is gone
    with pytest.raises(CheckpointError, match="weights.npz could not be read"):
        load_model(None, folder)
