"""Model jobs for the explorer: plain functions `(token, model, ...) -> clips`, no Qt.

The GUI runs them on its job worker (gui/model_service.py); the CLI or a test can call them
with `core.jobs.run_job`. Decoding happens in chunks sized so that one chunk takes about
CHUNK_SECONDS; the token is checked between chunks, so a cancel lands well within half a
second even for a big trio model on a CPU.

Clips come back with their notes keyed by part name ("melody", "bass", "drums"); the caller
maps them onto the song's tracks (`assign_tracks`) on its own thread. Every clip keeps its
code (`latent`) and the model's name, so it can be placed on the latent map.
"""
from __future__ import annotations

import contextlib
import gc
import os
import time

import numpy as np

from core.errors import UserError
from core.musicvae import converters as cv
from core.musicvae import latent as latent_ops
from core.song import Clip, Note

CHUNK_SECONDS = 0.25  # the longest a decode chunk should take (cancel is checked between them)
MAX_CHUNK = 64
MAX_IMPORT_WINDOWS = 256


# ------------------------------------------------------------------ loading
def load(token, config: str | None, path: str, name: str, device: str | None = None):
    """A job: load a model (imports TensorFlow the first time)."""
    token.progress(0.05, f"Loading {name} (the first model takes a few seconds)")
    from core.musicvae import load_model

    model = load_model(config, path, device=device, name=name)
    token.check()
    token.progress(0.7, f"Preparing {name}")
    # One tiny decode traces the graph now, so the first Generate is quick.
    model.decode_tokens(np.zeros((1, model.z_size), np.float32), length=min(16, model.config.steps)
                        if not model.config.hierarchical else None)
    token.progress(1.0, f"{name} is ready")
    return model


def describe_device(model=None) -> str:
    """'GPU: <name>' or 'CPU' for the status bar (imports TensorFlow)."""
    if model is not None and "GPU" not in str(getattr(model, "device", "")).upper():
        return "CPU"
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            try:
                details = tf.config.experimental.get_device_details(gpus[0])
            except Exception:  # noqa: BLE001 - a bad driver must not break the label
                details = {}
            return f"GPU: {details.get('device_name') or gpus[0].name}"
    except Exception:  # noqa: BLE001
        pass
    return "CPU"


# ------------------------------------------------------------------ decoding in chunks
def decode_chunked(token, model, z, temperature=None, seed=None, message: str = "Decoding",
                   start: float = 0.0, span: float = 1.0) -> np.ndarray:
    """Tokens for codes z, decoded in chunks that each take at most about CHUNK_SECONDS.

    The first chunk is one code; a chunk that took under 80 % of the budget doubles the next
    one, one that took over 150 % halves it. A decode call has a large fixed cost (the step
    loop), so doubling rarely doubles the time, and chunks grow quickly to the whole batch on a
    fast device; no chunk should take much more than twice the budget, so a cancel lands
    within half a second.
    """
    z = np.atleast_2d(np.asarray(z, np.float32))
    rng = np.random.default_rng(seed)
    n = len(z)
    out, done, size = [], 0, 1
    while done < n:
        token.progress(start + span * done / max(n, 1), f"{message} ({done} of {n})")
        part = z[done:done + size]
        t0 = time.monotonic()
        out.append(model.decode_tokens(part, None, temperature, rng))
        took = time.monotonic() - t0
        done += len(part)
        if took < CHUNK_SECONDS * 0.8:
            size = min(MAX_CHUNK, size * 2)
        elif took > CHUNK_SECONDS * 1.5:
            size = max(1, size // 2)
    token.check()
    token.progress(start + span, f"{message} ({n} of {n})")
    if not out:
        shape = (0, model.config.steps) + ((3,) if model.kind == "trio" else ())
        return np.zeros(shape, np.int64)
    return np.concatenate(out)


@contextlib.contextmanager
def no_collection_while_building():
    """Build many long-lived objects (the notes of a batch of clips) without a garbage
    collection in the middle, and keep them out of later ones.

    Tens of thousands of new Note tuples make the cyclic collector run a full (generation 2)
    pass part-way through; it holds the GIL for tens of milliseconds, and when the building
    runs on the job worker, the GUI thread waits that long (benchmarks/bench_gui_stall.py
    --verbose shows such passes and the stalls they cause). So the collector is off while the
    clips are built; afterwards everything alive is frozen (gc.freeze: skipped by later
    collections, still freed by reference counting; clips hold no reference cycles) and the
    collector is back on.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.freeze()
            gc.enable()


def clips_from_tokens(model, tokens, codes, origin: str, name: str, label: str | None = None) -> list[Clip]:
    """Clips named "<name> · 1", "<name> · 2" ... (a lone clip is just "<name>")."""
    ids = {p: p for p in cv.PARTS[model.kind]}
    out = []
    with no_collection_while_building():
        for i, tok in enumerate(tokens):
            title = name if len(tokens) == 1 else f"{name} · {i + 1}"
            clip = cv.tensors_to_clip(np.asarray(tok, np.int64), model.kind, ids, name=title,
                                      origin=origin, model=model.name, latent=codes[i], label=label)
            out.append(clip)
            time.sleep(0)  # let a waiting GUI thread have the GIL between clips
    return out


# ------------------------------------------------------------------ jobs
def sample(token, model, n: int, temperature: float = 0.5, seed=None) -> list[Clip]:
    """A job: n new clips from random codes."""
    if not 1 <= n <= 256:
        raise UserError(f"ask for 1 to 256 variations, not {n}")
    rng = np.random.default_rng(seed)
    z = model.random_z(n, rng)  # the model's code prior when it has one, else N(0, I)
    tokens = decode_chunked(token, model, z, temperature, rng, f"Generating with {model.name}")
    return clips_from_tokens(model, tokens, z, "sampled", "Sample")


def decode_codes(token, model, z, temperature=None, seed=None, origin: str = "sampled",
                 name: str = "Decoded", label: str | None = None) -> list[Clip]:
    """A job: clips for given codes (a spot on the map, an attribute move)."""
    z = np.atleast_2d(np.asarray(z, np.float32))
    if z.shape[1] != model.z_size:
        raise UserError(f"{model.name} takes codes of {model.z_size} numbers, got {z.shape[1]}")
    tokens = decode_chunked(token, model, z, temperature, seed, f"Decoding with {model.name}")
    return clips_from_tokens(model, tokens, z, origin, name, label)


def clip_code(model, clip: Clip, tracks=None) -> np.ndarray:
    """The code of a clip in this model: its stored latent when this model made it, else encoded (mu)."""
    if clip.latent is not None and clip.model == model.name and len(clip.latent) == model.z_size:
        return np.asarray(clip.latent, np.float32)
    _, mu, _ = model.encode([clip], tracks)
    return mu[0]


def interpolation_codes(model, clip_a: Clip, clip_b: Clip, steps: int, tracks=None):
    """(path [steps + 2, z]: both ends and the codes in between)."""
    if not 1 <= steps <= 64:
        raise UserError(f"an interpolation takes 1 to 64 steps between the clips, not {steps}")
    a = clip_code(model, clip_a, tracks)
    b = clip_code(model, clip_b, tracks)
    return latent_ops.interpolation(a, b, steps + 2)


def interpolate(token, model, clip_a: Clip, clip_b: Clip, steps: int, tracks=None,
                temperature=None, seed=None) -> list[Clip]:
    """A job: `steps` clips along the slerp from clip_a to clip_b, in order (the ends left out)."""
    token.progress(0.0, f"Encoding {clip_a.name} and {clip_b.name}")
    path = interpolation_codes(model, clip_a, clip_b, steps, tracks)
    inner = path[1:-1]
    tokens = decode_chunked(token, model, inner, temperature, seed, "Interpolating", 0.1, 0.9)
    clips = clips_from_tokens(model, tokens, inner, "interpolated", f"{clip_a.name} → {clip_b.name}")
    return clips


def similar(token, model, clip: Clip, n: int, similarity: float, tracks=None, temperature=0.5,
            seed=None) -> list[Clip]:
    """A job: n clips around a clip; similarity 1 keeps its code, 0 ignores it."""
    if not 0.0 <= similarity <= 1.0:
        raise UserError(f"similarity must be within 0 and 1, not {similarity}")
    token.progress(0.0, f"Encoding {clip.name}")
    rng = np.random.default_rng(seed)
    mu = clip_code(model, clip, tracks)
    z = latent_ops.similar(mu, n, similarity, rng, noise=model.random_z(n, rng))
    tokens = decode_chunked(token, model, z, temperature, rng, f"Variations of {clip.name}", 0.1, 0.9)
    return clips_from_tokens(model, tokens, z, "similar", f"Like {clip.name}")


def steer(token, model, z, vectors: dict, amounts: dict, name: str, temperature=None) -> Clip:
    """A job: one clip decoded from a code moved along attribute vectors."""
    from core.attributes import steer as steer_code

    moved = steer_code(z, vectors, amounts)
    label = ", ".join(f"{k.replace('_', ' ')} {v:+.2f}" for k, v in amounts.items() if v) or None
    tokens = decode_chunked(token, model, moved[None], temperature, 0, f"Steering {name}")
    return clips_from_tokens(model, tokens, moved[None], "attribute", name, label)[0]


def _model_inputs(model, tokens: np.ndarray) -> np.ndarray:
    if model.kind == "drums" and model.config.input_depth == cv.DRUM_DEPTH:
        return cv.tokens_to_outputs(tokens, model.kind)
    return cv.tokens_to_inputs(tokens, model.kind)


def import_windows(token, model, path: str, max_windows: int = MAX_IMPORT_WINDOWS) -> list[Clip]:
    """A job: cut a MIDI file into windows the model fits, encode them, one clip per window.

    Windows do not overlap; silent windows are left out. The clips' codes are the encoder's mu.
    """
    from core.midi_io import import_midi

    name = os.path.basename(path)
    token.progress(0.0, f"Reading {name}")
    song = import_midi(path)
    bars = model.config.steps // cv.STEPS_PER_BAR
    windows = []
    for clip in song.clips.values():
        found, _ = cv.clip_windows(clip, song, model.kind, bars, hop_bars=bars, skip_silent=True)
        windows.extend(found)
    if not windows:
        raise UserError(f"{name} has no {bars}-bar stretch with notes that {model.name} can read "
                        f"(it needs {'/'.join(cv.PARTS[model.kind])} parts in 4/4)")
    windows = windows[:max_windows]
    tokens = np.stack([w.tokens for w in windows])
    inputs = _model_inputs(model, tokens)
    mus = []
    chunk = 16
    for a in range(0, len(inputs), chunk):
        token.progress(0.1 + 0.9 * a / len(inputs), f"Encoding {name} ({a} of {len(inputs)} windows)")
        _, mu, _ = model.encode_tensors(inputs[a:a + chunk])
        mus.append(mu)
    mu = np.concatenate(mus)
    token.check()
    label = os.path.splitext(name)[0]
    out = []
    for w, code in zip(windows, mu):
        notes = cv.tokens_to_notes(w.tokens, model.kind)
        out.append(Clip(name=f"{label} bar {w.start_bar + 1}", length=len(w.tokens) / cv.STEPS_PER_QUARTER,
                        notes={p: ns for p, ns in notes.items() if ns},
                        latent=[float(x) for x in code], model=model.name, origin="imported",
                        label=label))
    token.progress(1.0, f"Placed {len(out)} windows of {name}")
    return out


# ------------------------------------------------------------------ tracks
def assign_tracks(clips: list[Clip], track_ids: dict[str, str]) -> list[Clip]:
    """Re-key the clips' notes from part names to track ids (in place; returns the clips)."""
    for clip in clips:
        notes: dict[str, list[Note]] = {}
        for part, ns in clip.notes.items():
            notes.setdefault(track_ids.get(part, part), []).extend(ns)
        clip.notes = notes
    return clips


def steer_clip(token, model, clip: Clip, vectors: dict, amounts: dict, tracks=None,
               name: str | None = None, temperature=None) -> Clip:
    """A job: a clip moved along attribute vectors (its code from the clip, encoded if need be)."""
    token.progress(0.0, f"Steering {clip.name}")
    z = clip_code(model, clip, tracks)
    return steer(token, model, z, vectors, amounts, name or f"{clip.name} (steered)", temperature)
