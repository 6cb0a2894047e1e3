"""The Gaussian that a model's codes fill, to sample from when they do not fill N(0, I).

A VAE samples z ~ N(0, I) because its KL term pulls every code towards that prior. With free
bits the pull stops once the KL is under them: trio_16bar ends training at about 250 bits,
just under its 256 free bits, so nothing holds its codes to N(0, I). They fill a narrower,
shifted and tilted cloud (the median spread per dimension is about 0.6 of the prior's), and a
draw from N(0, I) lands where no tune's code lies; the decoder answers such codes with sparse,
uncertain melody.

The fix here is the simplest second stage of a two-stage VAE (Dai and Wipf, 2019; Ghosh et al.,
2020 call it ex-post density estimation): after training, encode the training windows and fit
one full-covariance Gaussian to their codes, the mixture of N(mu_i, sigma_i^2):

    mean = mean_i(mu_i),   cov = cov_i(mu_i) + diag(mean_i(sigma_i^2))

A model folder that has one names it in model.json ("code_prior": {"file": "prior.npz", ...});
its random codes come from it (MusicVAE.random_z). Models without one, such as Magenta's
checkpoints, sample from N(0, I) as before.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from core.errors import CheckpointError

PRIOR_FILE = "prior.npz"


@dataclass
class CodePrior:
    mean: np.ndarray  # [z]
    scale_tril: np.ndarray  # [z, z], lower triangular: cov = L L^T

    @property
    def z_size(self) -> int:
        return int(self.mean.shape[0])

    def sample(self, n: int, rng=None) -> np.ndarray:
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        eps = rng.standard_normal((n, self.z_size))
        return (self.mean[None] + eps @ self.scale_tril.T).astype(np.float32)

    def spread(self) -> np.ndarray:
        """Standard deviation per dimension (1 everywhere for N(0, I))."""
        return np.sqrt(np.sum(self.scale_tril.astype(np.float64) ** 2, axis=1))

    @classmethod
    def fit(cls, mu, sigma) -> "CodePrior":
        mu = np.asarray(mu, np.float64)
        sigma = np.asarray(sigma, np.float64)
        if mu.ndim != 2 or mu.shape != sigma.shape or len(mu) < 2:
            raise ValueError("fitting a code prior needs at least two codes: mu and sigma as [n, z]")
        cov = np.cov(mu, rowvar=False) + np.diag(np.mean(sigma ** 2, axis=0))
        jitter = 1e-6 * float(np.mean(np.diag(cov)))
        scale = np.linalg.cholesky(cov + jitter * np.eye(cov.shape[0]))
        return cls(mu.mean(0).astype(np.float32), scale.astype(np.float32))

    # ------------------------------------------------------------ files
    def save(self, folder: str, info: dict | None = None) -> str:
        """Write prior.npz, then name it in model.json (each file written whole or not at all)."""
        from core.atomic_write import atomic_write_bytes, atomic_write_with

        meta_path = os.path.join(folder, "model.json")
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        z = (meta.get("config") or {}).get("z_size")
        if z is not None and int(z) != self.z_size:
            raise CheckpointError(f"{folder} has codes of {z} numbers; this prior is for {self.z_size}")
        path = os.path.join(folder, PRIOR_FILE)
        atomic_write_with(path, lambda f: np.savez(f, mean=self.mean, scale_tril=self.scale_tril))
        meta["code_prior"] = {"file": PRIOR_FILE, **(info or {})}
        atomic_write_bytes(meta_path, json.dumps(meta, indent=1).encode("utf-8"))
        return path

    @classmethod
    def from_meta(cls, folder: str, meta: dict, z_size: int) -> "CodePrior | None":
        """The prior model.json names, or None when it names none; a clear error when it is
        missing, unreadable or does not fit the model."""
        from core.musicvae.checkpoint import own_file

        entry = meta.get("code_prior")
        if not entry:
            return None
        if not isinstance(entry, dict):
            raise CheckpointError(f"{os.path.join(folder, 'model.json')} names a code prior it does not describe "
                                  f"({entry!r:.60})")
        path = own_file(folder, entry.get("file", PRIOR_FILE), "its code prior")
        try:
            with np.load(path, allow_pickle=False) as data:
                mean = np.asarray(data["mean"], np.float32)
                tril = np.asarray(data["scale_tril"], np.float32)
        except Exception as exc:  # noqa: BLE001 - a damaged .npz fails in many ways (see checkpoint._open_own)
            raise CheckpointError(f"{path}, the code prior that model.json names, could not be read: {exc}") from exc
        if mean.shape != (z_size,) or tril.shape != (z_size, z_size):
            raise CheckpointError(f"{path} does not fit a model with codes of {z_size} numbers "
                                  f"(mean {list(mean.shape)}, scale {list(tril.shape)})")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(tril))):
            raise CheckpointError(f"{path} holds numbers that are not finite")
        return cls(mean, tril)


def encode_windows(token, model_dir: str, tokens: np.ndarray, batch_size: int = 256, device=None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) [n, z] of `tokens` (windows as the dataset holds them) under the model in `model_dir`."""
    from core.musicvae.checkpoint import load_weights
    from core.musicvae.training import Trainer, TrainSettings

    cfg, weights, _ = load_weights(None, model_dir)
    trainer = Trainer(cfg, TrainSettings(steps=1, device=device), weights)
    tokens = np.asarray(tokens, np.int32)
    mus, sigmas = [], []
    for a in range(0, len(tokens), batch_size):
        if token is not None:
            token.check()
            token.progress(a / max(len(tokens), 1), f"encoding training windows ({a} of {len(tokens)})")
        mu, sigma = trainer.encode(tokens[a:a + batch_size])
        mus.append(mu)
        sigmas.append(sigma)
    if not mus:
        raise ValueError("no windows to encode")
    return np.concatenate(mus), np.concatenate(sigmas)


def fit_to_codes(token, model_dir: str, tokens: np.ndarray, batch_size: int = 256, device=None) -> CodePrior:
    """Encode `tokens` (training windows) with the model in `model_dir` and fit the Gaussian."""
    return CodePrior.fit(*encode_windows(token, model_dir, tokens, batch_size, device))
