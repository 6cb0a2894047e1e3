"""Latent maths: slerp, interpolation, similar and attribute vectors (numpy only)."""
import numpy as np
import pytest

from core.musicvae import latent


def test_slerp_ends_and_constant_norm_between_equal_norm_vectors():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    np.testing.assert_allclose(latent.slerp(a, b, 0.0), a, rtol=1e-6)
    np.testing.assert_allclose(latent.slerp(a, b, 1.0), b, rtol=1e-6)
    path = latent.slerp(a, b, np.linspace(0, 1, 7))
    assert path.shape == (7, 16)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-5)
    mid = latent.slerp(a, b, 0.5)
    assert np.linalg.norm(mid) > np.linalg.norm((a + b) / 2) + 1e-3  # not the chord midpoint


def test_slerp_matches_the_formula():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    w = np.pi / 2
    t = 0.3
    want = np.sin((1 - t) * w) / np.sin(w) * a + np.sin(t * w) / np.sin(w) * b
    np.testing.assert_allclose(latent.slerp(a, b, t), want, rtol=1e-6)


def test_slerp_falls_back_to_linear_for_parallel_or_zero_vectors():
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(latent.slerp(a, 2 * a, 0.25), 1.25 * a, rtol=1e-6)
    np.testing.assert_allclose(latent.slerp(np.zeros(3), a, 0.5), 0.5 * a, rtol=1e-6)
    assert np.isfinite(latent.slerp(a, a, 0.5)).all()


def test_interpolation_includes_both_ends():
    a, b = np.ones(4), -np.arange(4.0)
    pts = latent.interpolation(a, b, 5)
    assert pts.shape == (5, 4)
    np.testing.assert_allclose(pts[0], a, atol=1e-6)
    np.testing.assert_allclose(pts[-1], b, atol=1e-6)
    with pytest.raises(ValueError):
        latent.interpolation(a, b, 1)


def test_similar_blends_mu_with_noise():
    mu = np.full(256, 3.0)
    np.testing.assert_allclose(latent.similar(mu, 4, 1.0, rng=0), np.tile(mu, (4, 1)))
    pure = latent.similar(mu, 200, 0.0, rng=1)
    assert abs(pure.mean()) < 0.05 and abs(pure.std() - 1) < 0.05
    half = latent.similar(mu, 200, 0.5, rng=1)
    np.testing.assert_allclose(half, 0.5 * mu + 0.5 * pure, rtol=1e-5)  # same seed, same noise
    with pytest.raises(ValueError):
        latent.similar(mu, 1, 1.5)


def test_attribute_vectors():
    rng = np.random.default_rng(3)
    direction = np.zeros(8)
    direction[2] = 1.0
    scores = rng.random(400)
    z = rng.standard_normal((400, 8)) * 0.1 + scores[:, None] * direction * 4
    vec = latent.attribute_vector_by_score(z, scores)
    assert np.argmax(np.abs(vec)) == 2 and vec[2] > 2
    moved = latent.apply_attribute(z[:3], vec, 0.5)
    np.testing.assert_allclose(moved - z[:3], np.tile(0.5 * vec, (3, 1)), atol=1e-6)
    np.testing.assert_allclose(latent.attribute_vector(z[:10], z[10:20]), z[:10].mean(0) - z[10:20].mean(0), rtol=1e-5)
