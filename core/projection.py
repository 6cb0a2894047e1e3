"""A 2-D map of latent codes: PCA that stays put as points are added.

The latent map must not jump every time a clip appears, so the projection is fitted once on
the codes there are and then only transforms new ones. It refits on request (the map's "Re-fit"
button) and, while it was fitted on fewer than three codes (too few to fix two axes), by
itself when more arrive. After a refit each axis keeps the orientation of the previous one
(the sign of a principal axis is arbitrary, so it is flipped to point the same way as
before), so the picture does not mirror.

The inverse sends a point of the map back to a full code: the mean of the codes plus the two
axes, every other direction left at the mean (what "decode this spot" means).
"""
from __future__ import annotations

import numpy as np

AUTO_REFIT_BELOW = 3  # one or two codes cannot fix two axes: refit as more arrive


class Projection:
    """PCA to two dimensions of codes [n, dim]."""

    def __init__(self, dims: int = 2, auto_refit_below: int = AUTO_REFIT_BELOW):
        self.dims = dims
        self.auto_refit_below = auto_refit_below
        self.mean: np.ndarray | None = None
        self.components: np.ndarray | None = None  # [dims, dim], orthonormal rows
        self.scale: np.ndarray | None = None  # spread along each axis (for the view's range)
        self.fitted_on = 0

    @property
    def is_fitted(self) -> bool:
        return self.components is not None

    def fit(self, codes) -> "Projection":
        """Fit on these codes; axes keep the orientation of the previous fit when there was one."""
        x = np.asarray(codes, dtype=np.float64)
        if x.ndim != 2 or len(x) == 0:
            raise ValueError("fit needs codes shaped [n, dim] with n >= 1")
        mean = x.mean(axis=0)
        centred = x - mean
        dim = x.shape[1]
        comps = np.zeros((self.dims, dim))
        if len(x) > 1:
            _, s, vt = np.linalg.svd(centred, full_matrices=False)
            k = min(self.dims, vt.shape[0])
            comps[:k] = vt[:k]
            scale = np.zeros(self.dims)
            scale[:k] = s[:k] / np.sqrt(max(len(x) - 1, 1))
        else:
            scale = np.zeros(self.dims)
        # Axes the data could not determine: fill with unit vectors orthogonal to the others.
        for i in range(self.dims):
            if np.linalg.norm(comps[i]) < 1e-9:
                for j in range(dim):
                    e = np.zeros(dim)
                    e[j] = 1.0
                    e -= comps[:i].T @ (comps[:i] @ e)
                    if np.linalg.norm(e) > 1e-6:
                        comps[i] = e / np.linalg.norm(e)
                        break
        comps = self._orient(comps)
        self.mean, self.components, self.fitted_on = mean, comps, len(x)
        self.scale = np.maximum(scale, 1e-6)
        return self

    def _orient(self, comps: np.ndarray) -> np.ndarray:
        """Flip each axis to agree with the previous fit (or, first time, its largest loading > 0)."""
        out = comps.copy()
        for i in range(self.dims):
            if self.components is not None and self.components.shape == comps.shape:
                sign = np.sign(np.dot(out[i], self.components[i])) or 1.0
            else:
                sign = np.sign(out[i][np.argmax(np.abs(out[i]))]) or 1.0
            out[i] *= sign
        return out

    def update(self, codes) -> bool:
        """Called with all codes shown: fits the first time, refits while fitted on few. True if refitted."""
        codes = np.asarray(codes, dtype=np.float64)
        if len(codes) == 0:
            return False
        if (not self.is_fitted or self.components.shape[1] != codes.shape[1]
                or (self.fitted_on < self.auto_refit_below and len(codes) > self.fitted_on)):
            self.fit(codes)
            return True
        return False

    def transform(self, codes) -> np.ndarray:
        """Map coordinates [n, dims] of codes [n, dim]."""
        if not self.is_fitted:
            raise ValueError("the projection has not been fitted")
        x = np.atleast_2d(np.asarray(codes, dtype=np.float64))
        return (x - self.mean) @ self.components.T

    def inverse(self, points) -> np.ndarray:
        """Codes [n, dim] for map points [n, dims]: the mean plus the axes, other directions at the mean."""
        if not self.is_fitted:
            raise ValueError("the projection has not been fitted")
        p = np.atleast_2d(np.asarray(points, dtype=np.float64))
        return (self.mean + p @ self.components).astype(np.float32)

    def reset(self) -> None:
        self.mean = self.components = self.scale = None
        self.fitted_on = 0
