"""Attribute vectors, as in the MusicVAE paper: directions in a model's latent space that make
music denser, jumpier, more syncopated, higher (melodies) or busier (drums).

A vector is the mean code of the samples highest in an attribute minus the mean code of those
lowest in it, measured on a few hundred of the model's own decodes (argmax, so that the same
code always gives the same notes). Computing them takes a while, so they are cached per model
in the cache folder. Measures work on token windows (core.musicvae.converters encodings).
"""
from __future__ import annotations

import hashlib
import os

import numpy as np

from core.atomic_write import atomic_write_with
from core.generation import decode_chunked
from core.musicvae import converters as cv
from core.musicvae import latent as latent_ops

# name -> (label shown to musicians, part it is measured on)
MELODY_ATTRIBUTES = {
    "note_density": ("Note density", "melody"),
    "average_interval": ("Average interval", "melody"),
    "syncopation": ("Syncopation", "melody"),
    "pitch_height": ("Pitch height", "melody"),
}
DRUM_ATTRIBUTES = {"hit_density": ("Hit density", "drums")}
DEFAULT_SAMPLES = 256
CACHE_VERSION = 1


def attributes_for(kind: str) -> dict[str, tuple[str, str]]:
    """The attributes a model of this kind (melody / drums / trio) offers."""
    if kind == "melody":
        return dict(MELODY_ATTRIBUTES)
    if kind == "drums":
        return dict(DRUM_ATTRIBUTES)
    return {**MELODY_ATTRIBUTES, **DRUM_ATTRIBUTES}


def _part(tokens: np.ndarray, kind: str, part: str) -> np.ndarray:
    t = np.asarray(tokens)
    if kind == "trio":
        return t[..., cv.TRIO_PARTS.index(part)]
    return t


def _melody_measures(col: np.ndarray) -> dict[str, float]:
    on = col >= cv.FIRST_NOTE_CLASS
    steps = len(col)
    bars = steps / cv.STEPS_PER_BAR
    n_on = int(on.sum())
    pitches = col[on] - cv.FIRST_NOTE_CLASS + cv.MIN_PITCH
    idx = np.nonzero(on)[0]
    return {
        "note_density": n_on / bars,
        "average_interval": float(np.abs(np.diff(pitches)).mean()) if n_on > 1 else 0.0,
        "syncopation": float(np.mean(idx % 4 != 0)) if n_on else 0.0,
        "pitch_height": float(pitches.mean()) if n_on else 0.0,
    }


def measure(tokens, kind: str) -> dict[str, float]:
    """Attribute values of one token window ([steps] or trio [steps, 3])."""
    out: dict[str, float] = {}
    names = attributes_for(kind)
    if any(p == "melody" for _, p in names.values()):
        out.update(_melody_measures(_part(tokens, kind, "melody")))
    if "hit_density" in names:
        col = _part(tokens, kind, "drums")
        hits = sum(bin(int(m)).count("1") for m in col)
        out["hit_density"] = hits / (len(col) / cv.STEPS_PER_BAR)
    return {k: v for k, v in out.items() if k in names}


def measure_batch(tokens, kind: str) -> dict[str, np.ndarray]:
    rows = [measure(t, kind) for t in np.asarray(tokens)]
    return {name: np.array([r[name] for r in rows], dtype=np.float64) for name in attributes_for(kind)}


def measure_clip(clip, kind: str, tracks=None, steps: int | None = None) -> dict[str, float]:
    """Attribute values of a clip (track ids are taken as part names unless `tracks` says)."""
    tracks = tracks if tracks is not None else {p: p for p in cv.PARTS[kind]}
    tokens, _ = cv.clip_to_tokens(clip, tracks, kind, steps)
    return measure(tokens, kind)


def model_key(model, n: int, seed: int) -> str:
    """A cache key naming the model's weights: its name, source file and that file's date."""
    src = getattr(model, "source", None) or ""
    stamp = ""
    if src and os.path.exists(src):
        stamp = str(os.path.getmtime(src))
    raw = f"{CACHE_VERSION}|{model.name}|{model.config.name}|{model.z_size}|{src}|{stamp}|{n}|{seed}"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in model.name)[:40]
    return f"{safe}-{hashlib.sha1(raw.encode()).hexdigest()[:12]}"


def compute_vectors(token, model, n: int = DEFAULT_SAMPLES, seed: int = 0,
                    fraction: float = 0.25) -> dict[str, np.ndarray]:
    """A job: attribute name -> vector [z_size], from n argmax decodes of random codes."""
    names = attributes_for(model.kind)
    z = model.random_z(n, seed)  # where the model's own samples come from
    tokens = decode_chunked(token, model, z, message=f"Measuring {model.name}'s attributes")
    scores = measure_batch(tokens, model.kind)
    token.progress(1.0, f"Measured {model.name}'s attributes")
    out = {}
    for name in names:
        s = scores[name]
        if np.ptp(s) == 0:  # the model never varies this attribute: no direction to follow
            out[name] = np.zeros(model.z_size, np.float32)
        else:
            out[name] = latent_ops.attribute_vector_by_score(z, s, fraction)
    return out


def load_or_compute(token, model, cache_dir: str | None = None, n: int = DEFAULT_SAMPLES,
                    seed: int = 0) -> dict[str, np.ndarray]:
    """Attribute vectors of a model, from the cache when they were computed before."""
    if cache_dir is None:
        from core import paths

        cache_dir = os.path.join(str(paths.cache_dir()), "attributes")
    path = os.path.join(cache_dir, model_key(model, n, seed) + ".npz")
    if os.path.isfile(path):
        try:
            with np.load(path) as data:
                vectors = {k: data[k] for k in data.files}
            if set(vectors) == set(attributes_for(model.kind)):
                return vectors
        except (OSError, ValueError):
            pass  # a damaged cache file is recomputed
    vectors = compute_vectors(token, model, n, seed)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        atomic_write_with(path, lambda f: np.savez(f, **vectors))
    except OSError:
        pass  # a read-only cache only costs time
    return vectors


def steer(z, vectors: dict[str, np.ndarray], amounts: dict[str, float]) -> np.ndarray:
    """A code moved along each attribute by its amount (in units of the vector)."""
    out = np.asarray(z, dtype=np.float32).copy()
    for name, amount in amounts.items():
        if amount:
            out = latent_ops.apply_attribute(out, vectors[name], amount)
    return out
