"""The TF2 engine against a plain numpy MusicVAE (tiny random models of every structure)."""
import numpy as np
import pytest

from core.musicvae.checkpoint import random_weights
from core.musicvae.configs import CONFIGS
import musicvae_numpy_ref as ref

import tensorflow as tf  # a hard dependency: a broken install must fail here, not skip

STRUCTURES = ["cat-mel_2bar_big", "cat-drums_2bar_small", "hierdec-mel_16bar", "hierdec-trio_16bar"]


def tiny(name):
    cfg = CONFIGS[name]
    return cfg.with_sizes([16, 12][:len(cfg.enc_rnn_size)], [20, 24, 16][:len(cfg.dec_rnn_size)], 8)


@pytest.fixture(scope="module")
def models():
    from core.musicvae.model import build_model

    out = {}
    for name in STRUCTURES:
        cfg = tiny(name)
        w = random_weights(cfg, seed=3, std=0.5)
        out[name] = (cfg, w, build_model(cfg, w, device="cpu"))
    return out


def test_cell_matches_lstm_block_cell_on_unsplit_kernel():
    from core.musicvae.layers import lstm_update

    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((4, 7)), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    kernel, bias = rng.standard_normal((12, 20)), rng.standard_normal(20)
    want_h, (want_c, _) = ref.lstm_block_cell(x, (c, h), kernel, bias)
    gates = np.concatenate([x, h], 1) @ kernel + bias
    got_h, got_c = lstm_update(tf.constant(gates), tf.constant(c))
    np.testing.assert_allclose(got_h.numpy(), want_h, atol=1e-12)
    np.testing.assert_allclose(got_c.numpy(), want_c, atol=1e-12)


@pytest.mark.parametrize("name", STRUCTURES)
def test_argmax_decode_matches_numpy_reference(models, name):
    cfg, w, model = models[name]
    z = np.random.default_rng(1).standard_normal((3, cfg.z_size)).astype(np.float32)
    tokens = model.decode_tokens(z)
    want = ref.decode_argmax(cfg, w, z)
    assert tokens.shape == want.shape
    assert len(np.unique(tokens)) > 3  # the test would be empty if every step gave one token
    np.testing.assert_array_equal(tokens, want)
    onehot = model.decode_to_tensors(z)
    assert onehot.shape == (3, cfg.steps, cfg.output_depth)
    np.testing.assert_array_equal(onehot.sum(-1), len(cfg.output_depths))


@pytest.mark.parametrize("name", STRUCTURES)
def test_encoder_matches_numpy_reference_with_lengths(models, name):
    cfg, w, model = models[name]
    rng = np.random.default_rng(2)
    x = rng.random((3, cfg.steps, cfg.input_depth)).astype(np.float32)
    lengths = np.array([cfg.steps, cfg.steps // 2, 5], np.int32)
    z, mu, sigma = model.encode_tensors(x, lengths, seed=0)
    want_mu, want_sigma = ref.encode(cfg, w, x, lengths)
    np.testing.assert_allclose(mu, want_mu, atol=1e-5)
    np.testing.assert_allclose(sigma, want_sigma, atol=1e-5)
    assert (sigma > 0).all()
    z2, _, _ = model.encode_tensors(x, lengths, seed=0)
    np.testing.assert_array_equal(z, z2)
    assert not np.allclose(z, mu)


def test_sampling_is_reproducible_with_a_seed(models):
    cfg, _, model = models["hierdec-trio_16bar"]
    z = np.random.default_rng(4).standard_normal((2, cfg.z_size)).astype(np.float32)
    a = model.decode_tokens(z, temperature=1.0, seed=11)
    b = model.decode_tokens(z, temperature=1.0, seed=11)
    c = model.decode_tokens(z, temperature=1.0, seed=12)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    greedy = model.decode_tokens(z)
    cold = model.decode_tokens(z, temperature=1e-5, seed=3)
    np.testing.assert_array_equal(greedy, cold)


def test_flat_decode_length_is_a_prefix(models):
    cfg, _, model = models["cat-mel_2bar_big"]
    z = np.random.default_rng(5).standard_normal((2, cfg.z_size)).astype(np.float32)
    full = model.decode_tokens(z)
    short = model.decode_tokens(z, length=10)
    assert short.shape == (2, 10)
    np.testing.assert_array_equal(short, full[:, :10])


def test_bfloat16_mode_mostly_agrees(models):
    from core.musicvae.model import build_model

    cfg, w, model = models["cat-mel_2bar_big"]
    low = build_model(cfg, w, device="cpu", precision="bfloat16")
    z = np.random.default_rng(6).standard_normal((8, cfg.z_size)).astype(np.float32)
    agree = (low.decode_tokens(z) == model.decode_tokens(z)).mean()
    assert agree > 0.5, agree
    assert low.encoder.layers[0][0][1].dtype == tf.bfloat16  # the recurrent kernel really is bf16


def test_bad_inputs_are_user_errors(models):
    from core.errors import UserError

    cfg, _, model = models["cat-mel_2bar_big"]
    with pytest.raises(UserError, match="z must be"):
        model.decode_tokens(np.zeros((2, cfg.z_size + 1), np.float32))
    with pytest.raises(UserError, match="inputs must be"):
        model.encode_tensors(np.zeros((1, cfg.steps, 3), np.float32))


def test_top2_gaps_come_with_the_tokens(models):
    cfg, _, model = models["hierdec-trio_16bar"]
    z = np.random.default_rng(7).standard_normal((2, cfg.z_size)).astype(np.float32)
    tokens, gaps = model.decode_tokens(z, with_gaps=True)
    assert gaps.shape == tokens.shape == (2, cfg.steps, 3)
    assert (gaps >= 0).all() and gaps.max() > 0.1
    np.testing.assert_array_equal(tokens, model.decode_tokens(z))
