"""Latent-space arithmetic on numpy arrays: slerp, "similar" and attribute vectors."""
from __future__ import annotations

import numpy as np


def slerp(p0, p1, t):
    """Spherical interpolation between p0 and p1 at t (scalar or array of t values).

    Falls back to linear interpolation when the vectors are (nearly) parallel or one is zero.
    With an array t the result has shape [len(t), dim].
    """
    p0 = np.asarray(p0, dtype=np.float64)
    p1 = np.asarray(p1, dtype=np.float64)
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))[:, None]
    n0, n1 = np.linalg.norm(p0), np.linalg.norm(p1)
    if n0 < 1e-12 or n1 < 1e-12:
        out = (1 - ts) * p0 + ts * p1
    else:
        cos = np.clip(np.dot(p0 / n0, p1 / n1), -1.0, 1.0)
        omega = np.arccos(cos)
        so = np.sin(omega)
        if so < 1e-6:
            out = (1 - ts) * p0 + ts * p1
        else:
            out = np.sin((1 - ts) * omega) / so * p0 + np.sin(ts * omega) / so * p1
    out = out.astype(np.float32)
    return out[0] if np.ndim(t) == 0 else out


def interpolation(p0, p1, steps: int):
    """`steps` points from p0 to p1 along the slerp, both ends included: [steps, dim]."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps (the two ends)")
    return slerp(p0, p1, np.linspace(0.0, 1.0, steps))


def similar(mu, n: int, similarity: float, rng=None, noise=None):
    """n codes near mu: s * mu + (1 - s) * noise (magenta.js's "similar"); the noise is N(0, I)
    unless given (random codes of a model with its own code prior)."""
    if not 0.0 <= similarity <= 1.0:
        raise ValueError(f"similarity must be within 0..1, got {similarity}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    mu = np.asarray(mu, dtype=np.float32)
    if noise is None:
        noise = rng.standard_normal((n,) + mu.shape).astype(np.float32)
    noise = np.asarray(noise, np.float32)
    if noise.shape != (n,) + mu.shape:
        raise ValueError(f"noise must be [{n}, {mu.shape[0]}], got {list(noise.shape)}")
    return (similarity * mu[None] + (1.0 - similarity) * noise).astype(np.float32)


def attribute_vector(z_high, z_low):
    """Mean code of examples high in an attribute minus the mean of those low in it."""
    z_high = np.asarray(z_high, dtype=np.float32)
    z_low = np.asarray(z_low, dtype=np.float32)
    if z_high.ndim != 2 or z_low.ndim != 2 or not len(z_high) or not len(z_low):
        raise ValueError("attribute_vector needs two non-empty [n, dim] arrays")
    return z_high.mean(axis=0) - z_low.mean(axis=0)


def attribute_vector_by_score(z, scores, fraction: float = 0.25):
    """Attribute vector from codes and a score per code (top fraction minus bottom fraction)."""
    z = np.asarray(z, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float64)
    if len(z) != len(scores) or len(z) < 2:
        raise ValueError("need at least two codes with one score each")
    k = max(1, int(round(len(z) * fraction)))
    order = np.argsort(scores, kind="stable")
    return attribute_vector(z[order[-k:]], z[order[:k]])


def apply_attribute(z, vector, amount: float):
    """Move codes along an attribute vector: z + amount * vector."""
    return (np.asarray(z, dtype=np.float32) + np.float32(amount) * np.asarray(vector, dtype=np.float32))
