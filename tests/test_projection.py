"""The latent map's projection: PCA that stays put as points arrive, and its inverse."""
import numpy as np
import pytest

from core.projection import Projection


def _codes(n, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    # Two strong directions so the principal axes are well defined.
    basis = np.linalg.qr(rng.standard_normal((dim, dim)))[0][:2]
    return rng.standard_normal((n, 2)) * [5.0, 2.0] @ basis + 0.1 * rng.standard_normal((n, dim)) + 3.0


def test_first_axis_follows_the_largest_spread():
    x = _codes(200)
    p = Projection().fit(x)
    xy = p.transform(x)
    assert xy.shape == (200, 2)
    assert xy[:, 0].std() > 2 * xy[:, 1].std()
    assert abs(np.corrcoef(xy[:, 0], xy[:, 1])[0, 1]) < 0.05


def test_points_stay_put_when_codes_are_added_after_a_fit():
    x = _codes(60)
    p = Projection(auto_refit_below=8)
    assert p.update(x[:20])
    before = p.transform(x[:20])
    assert not p.update(x)  # fitted on 20 codes: adding more does not move anything
    np.testing.assert_allclose(p.transform(x[:20]), before)


def test_few_codes_refit_by_themselves_and_keep_orientation():
    x = _codes(100, seed=3)
    p = Projection(auto_refit_below=8)
    p.update(x[:3])
    first = p.components.copy()
    assert p.update(x[:50])
    # Each axis points the same way as before the refit (no mirroring).
    assert all(np.dot(first[i], p.components[i]) >= 0 for i in range(2))


def test_refit_does_not_mirror_the_map():
    x = _codes(100, seed=4)
    p = Projection().fit(x[:50])
    a = p.transform(x[:50])
    p.fit(-x[:50] + 2 * x[:50].mean(0))  # same cloud mirrored: SVD may flip signs
    p.fit(x[:50])
    np.testing.assert_allclose(p.transform(x[:50]), a, atol=1e-9)


def test_inverse_puts_other_directions_at_the_mean():
    x = _codes(80)
    p = Projection().fit(x)
    xy = np.array([[1.5, -0.5], [0.0, 0.0]])
    z = p.inverse(xy)
    assert z.shape == (2, 16)
    np.testing.assert_allclose(p.transform(z), xy, atol=1e-5)
    np.testing.assert_allclose(z[1], x.mean(0), atol=1e-5)
    # The part of the code outside the two axes is exactly the mean's.
    resid = (z - x.mean(0)) - (z - x.mean(0)) @ p.components.T @ p.components
    assert np.abs(resid).max() < 1e-5


def test_one_or_two_codes_still_give_a_map():
    p = Projection()
    p.update(np.ones((1, 8)))
    assert p.transform(np.ones((1, 8))).shape == (1, 2)
    p.update(np.stack([np.ones(8), np.zeros(8)]))
    xy = p.transform(np.stack([np.ones(8), np.zeros(8)]))
    assert abs(xy[0, 0] - xy[1, 0]) == pytest.approx(np.sqrt(8))
