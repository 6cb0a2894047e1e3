"""Model operations as jobs: plain functions `(token, model, ...) -> clips`, no Qt.

The GUI runs them on its job worker (gui/model_service.py); the CLI or a test can call them
with `core.jobs.run_job`. Decoding happens in chunks sized so that one chunk takes about
CHUNK_SECONDS; the token is checked between chunks, so a cancel lands well within half a
second even for a big trio model on a CPU.

Every model operation the app runs lives here: the window's jobs, the timeline's Fill,
Regenerate and Vary (`fill_job`), and every CLI command (sample, interpolate, arrange) call
these functions, never the engine's decode directly, so each of them is chunked and
cancellable the same way. The engine (core.musicvae.model) only encodes and decodes tensors.

Clips come back with their notes keyed by part name ("melody", "bass", "drums"); the caller
maps them onto the song's tracks (`core.arrangement.assign_tracks`) on its own thread. Every
clip keeps its code (`latent`) and the model's name, so it can be placed on the latent map.

Naming: a batch of generated clips is named "<what> 1", "<what> 2", ... and a lone clip just
"<what>" (`clip_names`); the window numbers sampled clips on from the song's last "Sample N"
(`number_on`).
"""
from __future__ import annotations

import contextlib
import gc
import os
import re
import time
from typing import Iterable, Mapping

import numpy as np

from core.arrangement import (MODEL_BAR_BEATS, ArrangementChange, apply_change, fill_change,
                              label_title, plan_fill)
from core.arrangement import assign_tracks  # noqa: F401 - the re-keying rule, for callers of generation
from core.errors import UserError
from core.jobs import JobToken
from core.musicvae import converters as cv
from core.musicvae import latent as latent_ops
from core.song import Clip, Note

CHUNK_SECONDS = 0.25  # the longest a decode chunk should take (cancel is checked between them)
MAX_CHUNK = 64
MAX_IMPORT_WINDOWS = 256


# ------------------------------------------------------------------ loading
def load(token, config: str | None, path: str, name: str, device: str | None = None):
    """A job: load a model (imports TensorFlow the first time); a sequence model folder loads
    with `load_seq`, so the model process loads both kinds the same way."""
    if config is None:
        from core.seq.model import is_seq_model

        if is_seq_model(path):
            return load_seq(token, path, name)
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
                   start: float = 0.0, span: float = 1.0, length: int | None = None,
                   reproducible: bool = False) -> np.ndarray:
    """Tokens for codes z (`length` steps each, default the model's), decoded in chunks.

    By default each chunk takes at most about CHUNK_SECONDS: the first chunk is one code; a
    chunk that took under 80 % of the budget doubles the next one, one that took over 150 %
    halves it. A decode call has a large fixed cost (the step loop), so doubling rarely
    doubles the time, and chunks grow quickly to the whole batch on a fast device; no chunk
    should take much more than twice the budget, so a cancel lands within half a second.

    The random draws of a decode above temperature 0 depend on how the codes are grouped into
    calls, and that grouping follows the device's speed. `reproducible=True` groups them in
    fixed chunks of MAX_CHUNK codes instead, so a seed gives the same notes on every run (a
    cancel then waits for a whole chunk); the CLI, which has no cancel button, uses it.
    """
    z = np.atleast_2d(np.asarray(z, np.float32))
    rng = np.random.default_rng(seed)
    n = len(z)
    out, done = [], 0
    size = MAX_CHUNK if reproducible else 1
    while done < n:
        token.progress(start + span * done / max(n, 1), f"{message} ({done} of {n})")
        part = z[done:done + size]
        t0 = time.monotonic()
        out.append(model.decode_tokens(part, length, temperature, rng))
        took = time.monotonic() - t0
        done += len(part)
        if reproducible:
            continue
        if took < CHUNK_SECONDS * 0.8:
            size = min(MAX_CHUNK, size * 2)
        elif took > CHUNK_SECONDS * 1.5:
            size = max(1, size // 2)
    token.check()
    token.progress(start + span, f"{message} ({n} of {n})")
    if not out:
        shape = (0, length or model.config.steps) + ((3,) if model.kind == "trio" else ())
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


def clip_names(name: str, count: int) -> list[str]:
    """The one naming rule for generated clips: "<name> 1" .. "<name> N", a lone one "<name>"."""
    return [name] if count == 1 else [f"{name} {i + 1}" for i in range(count)]


def number_on(clips: list[Clip], taken_names, name: str = "Sample") -> list[Clip]:
    """Name sampled clips "<name> N" numbered on from the highest such name already taken (the
    song's library), so a second batch goes on from "Sample 6" instead of starting again at 1.
    In place; returns the clips. Other clips keep their names."""
    pattern = re.compile(re.escape(name) + r" (\d+)")
    n = max((int(m.group(1)) for t in taken_names for m in [pattern.fullmatch(t)] if m), default=0)
    for clip in clips:
        if clip.origin == "sampled" and clip.name.startswith(name):
            n += 1
            clip.name = f"{name} {n}"
    return clips


def clips_from_tokens(model, tokens, codes, origin: str, name: str, label: str | None = None) -> list[Clip]:
    """Clips from decoded tokens, keyed by part name and named by `clip_names`."""
    ids = {p: p for p in model_parts(model)}
    out = []
    with no_collection_while_building():
        for tok, title, code in zip(tokens, clip_names(name, len(tokens)), codes):
            clip = cv.tensors_to_clip(np.asarray(tok, np.int64), model.kind, ids, name=title,
                                      origin=origin, model=model.name, latent=code, label=label)
            out.append(clip)
            time.sleep(0)  # let a waiting GUI thread have the GIL between clips
    return out


# ------------------------------------------------------------------ jobs
def sample(token, model, n: int, temperature: float = 0.5, seed=None, reproducible: bool = False) -> list[Clip]:
    """A job: n new clips from random codes ("Sample 1" ..)."""
    if not 1 <= n <= 256:
        raise UserError(f"ask for 1 to 256 variations, not {n}")
    rng = np.random.default_rng(seed)
    z = model.random_z(n, rng)  # the model's code prior when it has one, else N(0, I)
    tokens = decode_chunked(token, model, z, temperature, rng, f"Generating with {model.name}",
                            reproducible=reproducible)
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


def interpolation_codes(model, clip_a: Clip, clip_b: Clip, steps: int, tracks=None, tracks_b=None,
                        ends: bool = False):
    """(path [steps + 2, z]: both ends and the codes in between).

    `tracks` says which track plays which part (see MusicVAE.encode); `tracks_b`, when clip_b
    comes from another song, says it for clip_b. With `ends`, 0 steps (just the ends) is allowed.
    """
    low = 0 if ends else 1
    if not low <= steps <= 64:
        raise UserError(f"an interpolation takes {low} to 64 steps between the clips, not {steps}")
    a = clip_code(model, clip_a, tracks)
    b = clip_code(model, clip_b, tracks if tracks_b is None else tracks_b)
    return latent_ops.interpolation(a, b, steps + 2)


def interpolate(token, model, clip_a: Clip, clip_b: Clip, steps: int, tracks=None,
                temperature=None, seed=None, tracks_b=None, ends: bool = False,
                reproducible: bool = False) -> list[Clip]:
    """A job: `steps` clips along the slerp from clip_a to clip_b, in order.

    The ends are left out unless `ends` (then steps + 2 clips, the first and last decoded from
    the two clips' own codes). A clip's code is its stored latent when this model made it, else
    the encoder's mu.
    """
    token.progress(0.0, f"Encoding {clip_a.name} and {clip_b.name}")
    path = interpolation_codes(model, clip_a, clip_b, steps, tracks, tracks_b, ends)
    codes = path if ends else path[1:-1]
    tokens = decode_chunked(token, model, codes, temperature, seed, "Interpolating", 0.1, 0.9,
                            reproducible=reproducible)
    return clips_from_tokens(model, tokens, codes, "interpolated", f"{clip_a.name} → {clip_b.name}")


def similar(token, model, clip: Clip, n: int, similarity: float, tracks=None, temperature=0.5,
            seed=None, reproducible: bool = False) -> list[Clip]:
    """A job: n clips around a clip; similarity 1 keeps its code, 0 ignores it."""
    if not 0.0 <= similarity <= 1.0:
        raise UserError(f"similarity must be within 0 and 1, not {similarity}")
    token.progress(0.0, f"Encoding {clip.name}")
    rng = np.random.default_rng(seed)
    mu = clip_code(model, clip, tracks)
    z = latent_ops.similar(mu, n, similarity, rng, noise=model.random_z(n, rng))
    tokens = decode_chunked(token, model, z, temperature, rng, f"Variations of {clip.name}", 0.1, 0.9,
                            reproducible=reproducible)
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


def steer_clip(token, model, clip: Clip, vectors: dict, amounts: dict, tracks=None,
               name: str | None = None, temperature=None) -> Clip:
    """A job: a clip moved along attribute vectors (its code from the clip, encoded if need be)."""
    token.progress(0.0, f"Steering {clip.name}")
    z = clip_code(model, clip, tracks)
    return steer(token, model, z, vectors, amounts, name or f"{clip.name} (steered)", temperature)


# ------------------------------------------------------------------ filling song sections
def model_parts(model) -> tuple[str, ...]:
    """The parts a model's clips are keyed by before they meet a song ("melody", ...)."""
    return tuple(cv.PARTS[model.kind])


def generate_clips(token, model, requests: Mapping[str, int], temperature: float = 0.5,
                   seed: int | None = None, vary: float | None = None,
                   reproducible: bool = False, spaces: Mapping | None = None) -> dict[str, Clip]:
    """A job step: one new clip per requested label, from the model, keyed by part name.

    `requests` maps label -> length in model bars. Without `vary` a request is cut to the
    model's length (the clip then repeats to fill its sections). With `vary` (a similarity in
    0..1), a label asking for more bars than a flat (2-bar) model makes gets a longer clip of
    phrases: the first phrase, then a variation of it (a code near the first one), the first
    again, another variation and so on, so an 8-bar verse goes A A' A A''. Labels are sampled
    in the order given; the same seed gives the same clips (with `reproducible`, see
    decode_chunked). Every decode goes through decode_chunked, so a cancel lands within a
    chunk, not only between labels. The song is not touched. A clip is named after its label.
    `spaces` maps a label to its section space (core.section_space): that label's code comes
    from the space instead of the model's prior (labels without one draw as before).
    """
    if token is None:
        token = JobToken()
    if temperature < 0:
        raise UserError(f"The temperature must be 0 or more (got {temperature}).")
    if vary is not None and not 0.0 <= vary <= 1.0:
        raise UserError(f"The variation similarity must be within 0 and 1 (got {vary}).")
    for space in (spaces or {}).values():
        space.check_model(model)  # a space made for another model says so (a UserError)
    model_bars = int(model.config.bars)
    steps_per_bar = int(model.config.steps) // model_bars
    labels = list(requests)
    by_length: dict[int, list[str]] = {}
    longer: list[str] = []
    for label in labels:
        want = max(int(requests[label]), 1)
        if vary is not None and want > model_bars and not model.config.hierarchical:
            longer.append(label)
        else:
            by_length.setdefault(min(want, model_bars), []).append(label)
    rng = np.random.default_rng(seed)
    total = max(len(labels), 1)
    out: dict[str, Clip] = {}
    done = 0
    for bars, group in by_length.items():
        z = model.random_z(len(group), rng)
        for i, label in enumerate(group):
            if spaces and label in spaces:
                z[i] = spaces[label].sample_codes(1, rng)[0]
        tokens = decode_chunked(token, model, z, temperature, rng,
                                f"Generating {', '.join(group)} ({bars} bar{'s' if bars != 1 else ''})",
                                done / total, len(group) / total, length=bars * steps_per_bar,
                                reproducible=reproducible)
        for i, label in enumerate(group):
            (out[label],) = clips_from_tokens(model, tokens[i:i + 1], z[i:i + 1],
                                              "section space" if spaces and label in spaces else "sampled",
                                              label_title(label), label)
        done += len(group)
    for label in longer:
        out[label] = _varied_clip(token, model, label, int(requests[label]), temperature, vary, rng,
                                  done / total, 1 / total, reproducible, (spaces or {}).get(label))
        done += 1
    token.progress(1.0, f"Generated {len(out)} clip{'s' if len(out) != 1 else ''}")
    return {label: out[label] for label in labels}


def _varied_clip(token, model, label: str, bars: int, temperature: float, similarity: float, rng,
                 start: float, span: float, reproducible: bool, space=None) -> Clip:
    """`bars` bars of phrases A A' A A'' ... from a flat model (see generate_clips); A's code
    comes from `space` when the label has a section space."""
    model_bars = int(model.config.bars)
    phrases = int(np.ceil(bars / model_bars))
    z0 = model.random_z(1, rng)[0] if space is None else space.sample_codes(1, rng)[0]
    variations = latent_ops.similar(z0, phrases // 2, similarity, rng,
                                    noise=model.random_z(phrases // 2, rng))
    codes = np.concatenate([z0[None], np.reshape(variations, (-1, model.z_size))]).astype(np.float32)
    tokens = decode_chunked(token, model, codes, temperature, rng, f"Generating {label} ({bars} bars)",
                            start, span, reproducible=reproducible)
    base, *rest = clips_from_tokens(model, tokens, codes, "sampled", "Varied")
    phrase_beats = model_bars * MODEL_BAR_BEATS
    length = bars * MODEL_BAR_BEATS
    notes: dict[str, list[Note]] = {}
    for k in range(phrases):
        piece = base if k % 2 == 0 else rest[k // 2]
        offset = k * phrase_beats
        for part, ns in piece.notes.items():
            for n in ns:
                if n.start + offset < length - 1e-6:
                    notes.setdefault(part, []).append(
                        n._replace(start=n.start + offset, end=min(n.end + offset, length)))
    return Clip(name=label_title(label), length=length, notes=notes, latent=base.latent,
                model=base.model, origin="sampled" if space is None else "section space", label=label)


def _fill_requests(model, requests: Mapping[str, int], vary: float | None):
    """(requests, vary) as a fill of this model runs them: without variations (or with a
    hierarchical model, which makes long clips itself) a request is cut to the model's length."""
    if vary is None or model.config.hierarchical:
        max_bars = int(model.config.bars)
        return {k: min(int(v), max_bars) for k, v in requests.items()}, None
    return dict(requests), vary


def fill_job(token, model, requests: Mapping[str, int], temperature: float = 0.5,
             seed: int | None = None, vary: float | None = None,
             reproducible: bool = False, spaces: Mapping | None = None
             ) -> tuple[dict[str, Clip], tuple[str, ...]]:
    """The job the timeline runs for Fill, Regenerate and Vary with a loaded model.

    Returns (clips keyed by label, with notes keyed by part name; the model's parts), which
    core.arrangement.fill_change turns into a change of the song on the GUI thread.
    `spaces` (label -> section space) fills those labels from their spaces.
    """
    requests, vary = _fill_requests(model, requests, vary)
    return (generate_clips(token, model, requests, temperature, seed, vary, reproducible, spaces),
            model_parts(model))


def fill(song, model, section_ids: Iterable[str] | None = None, temperature: float = 0.5,
         seed: int | None = None, token=None, regenerate: bool = False,
         vary: float | None = None, reproducible: bool = True,
         spaces: Mapping | None = None) -> ArrangementChange:
    """Plan, generate and apply a fill in one go (the CLI and tests); returns the change.

    The song changes only once every clip is made: a cancelled fill leaves it as it was.
    Reproducible by default (a seed gives the same song on every run; see decode_chunked).
    """
    cap = None if vary is not None and not model.config.hierarchical else int(model.config.bars)
    plan = plan_fill(song, section_ids, regenerate=regenerate, max_bars=cap)
    clips: dict[str, Clip] = {}
    if plan.requests:
        clips, _ = fill_job(token if token is not None else JobToken(), model, plan.requests,
                            temperature, seed, vary, reproducible, spaces)
    change = fill_change(song, plan, clips, parts=model_parts(model))
    apply_change(song, change)
    return change


# ------------------------------------------------------------------ sequence models: continue, infill
# These take a sequence model (core/seq/model.py: a Transformer or an LSTM over the event stream
# of core/seq/events.py) instead of a MusicVAE. Both keep the clip's own notes untouched and
# keyed as they were (by track id, or by part name for a clip keyed that way); generated notes
# go into the track that fed their part.
MAX_CONTINUE_BARS = 16
MAX_FILL_BARS = 8


def load_seq(token, path: str, name: str | None = None):
    """A job: load a sequence model (imports TensorFlow the first time) and trace its step."""
    from core.seq import model as seq_model

    token.progress(0.05, f"Loading {name or path}")
    model = seq_model.load(path, name)
    token.check()
    token.progress(0.6, f"Preparing {model.name}")
    _, state = model.prime(np.ones((1, 2), np.int32))
    model.step(state, np.ones(1, np.int32))
    token.progress(1.0, f"{model.name} is ready")
    return model


def seq_parts(clip: Clip, tracks=None) -> tuple[dict[str, list[Note]], dict[str, str]]:
    """(notes per part, part -> the key its new notes go to) for a clip.

    Drum tracks (is_drum or role drums) make the drums, bass-role tracks the bass, every other
    pitched track the melody (several tracks of a part are merged). Without `tracks` the clip's
    keys are read as part names ("melody", "bass", "drums"; others count as melody).
    """
    roles = cv.track_roles(tracks) if tracks is not None else {}
    parts: dict[str, list[Note]] = {}
    home: dict[str, str] = {}
    for key, notes in clip.notes.items():
        role, is_drum = roles.get(key, (key if key in ("melody", "bass", "drums") else "other", key == "drums"))
        part = "drums" if (is_drum or role == "drums") else "bass" if role == "bass" else "melody"
        parts.setdefault(part, []).extend(n for n in notes if n.velocity > 0)
        home.setdefault(part, key)
    return {p: sorted(ns, key=lambda n: (n.start, n.pitch)) for p, ns in parts.items()}, home


def _with_generated(clip: Clip, new: Mapping[str, list[Note]], home: Mapping[str, str], name: str,
                    origin: str, model_name: str, length: float, until: float, drop=None) -> Clip:
    notes = {k: [n for n in ns if drop is None or not drop(n)] for k, ns in clip.notes.items()}
    for part, ns in new.items():
        key = home.get(part, part)
        # a generated note ends by `until` (the end of the rewritten bars or of the continuation)
        ns = [n if n.end <= until else n._replace(end=until) for n in ns if n.start < until]
        notes[key] = sorted(notes.get(key, []) + ns, key=lambda n: (n.start, n.pitch))
    return Clip(name=name, length=length, notes=notes, model=model_name, origin=origin, label=clip.label)


def _check_seq_model(model) -> None:
    if getattr(model, "kind", None) != "sequence":
        raise UserError(f"{getattr(model, 'name', 'this model')} is not a sequence model; continue and "
                        "infill need one (seq_transformer, seq_lstm or one trained with train-seq)")


def continue_clip(token, model, clip: Clip, bars: int, n: int = 4, temperature: float = 1.0,
                  tracks=None, seed=None, use_cache: bool = True) -> list[Clip]:
    """A job: n clips that start with `clip` unchanged and go on for `bars` more bars.

    The new bars begin at the first bar line at or after the clip's end.
    """
    from core.seq import events as ev
    from core.seq.sampling import sample_bars

    _check_seq_model(model)
    if not 1 <= bars <= MAX_CONTINUE_BARS:
        raise UserError(f"continue by 1 to {MAX_CONTINUE_BARS} bars, not {bars}")
    if not 1 <= n <= 64:
        raise UserError(f"ask for 1 to 64 continuations, not {n}")
    if not temperature > 0:
        raise UserError(f"the temperature must be above 0, not {temperature}")
    parts, home = seq_parts(clip, tracks)
    if not parts:
        raise UserError(f'"{clip.name}" has no notes to continue from')
    have = ev.bar_count(clip.length)
    prompt = ev.encode(parts, bars=have)
    token.progress(0.0, f"Continuing {clip.name}")
    rows = sample_bars(model, prompt, n, bars, temperature, seed, token, use_cache,
                       message=f"Continuing {clip.name} with {model.name}")
    vel = ev.part_velocities(parts)
    out = []
    for row, title in zip(rows, clip_names(f"{clip.name} continued", n)):
        new, _ = ev.decode(row, first_bar=have, velocity=vel)
        out.append(_with_generated(clip, {p: ns for p, ns in new.items() if p in parts}, home, title,
                                   "continued", model.name, (have + bars) * ev.BAR_BEATS,
                                   (have + bars) * ev.BAR_BEATS))
    token.progress(1.0, f"{n} continuation{'s' if n != 1 else ''} of {clip.name}")
    return out


def infill_clip(token, model, clip: Clip, bar_range: tuple[int, int], n: int = 4, temperature: float = 1.0,
                tracks=None, seed=None) -> list[Clip]:
    """A job: n candidates for bars first..last (1-based, inclusive) of a clip; every note that
    starts outside those bars is kept as it is, the notes starting inside them are rewritten."""
    from core.seq import events as ev
    from core.seq.sampling import sample_bars

    _check_seq_model(model)
    first, last = int(bar_range[0]), int(bar_range[1])
    total = ev.bar_count(clip.length)
    if not 1 <= first <= last <= total:
        raise UserError(f"bars {first}-{last} are not within the clip's bars 1-{total}")
    if last - first + 1 > MAX_FILL_BARS:
        raise UserError(f"rewrite at most {MAX_FILL_BARS} bars at a time, not {last - first + 1}")
    if not 1 <= n <= 64:
        raise UserError(f"ask for 1 to 64 candidates, not {n}")
    parts, home = seq_parts(clip, tracks)
    if not parts:
        raise UserError(f'"{clip.name}" has no notes; infilling needs bars around the gap')
    a, b = first - 1, last  # 0-based half-open
    bar_ids = ev.bar_tokens(parts, total)
    # keep the context that fits the model's window beside room for the fill: the bars nearest the gap
    per_bar = max(1, int(np.mean([len(x) for x in bar_ids])))
    room = model.max_len - 2 - (b - a) * (per_bar * 2 + 8)
    lo, hi = a, b
    used = 0
    while True:
        grew = False
        if lo > 0 and used + len(bar_ids[lo - 1]) <= room:
            lo -= 1
            used += len(bar_ids[lo])
            grew = True
        if hi < total and used + len(bar_ids[hi]) <= room:
            used += len(bar_ids[hi])
            hi += 1
            grew = True
        if not grew:
            break
    prompt = ev.infill_prompt(bar_ids[lo:hi], a - lo, b - lo)
    token.progress(0.0, f"Rewriting bars {first}-{last} of {clip.name}")
    rows = sample_bars(model, prompt, n, b - a, temperature, seed, token, True, parts=[p for p in ev.PARTS if p in parts],
                       message=f"Rewriting bars {first}-{last} with {model.name}")
    vel = ev.part_velocities(parts)
    lo_beat, hi_beat = a * ev.BAR_BEATS, b * ev.BAR_BEATS

    def inside(note):  # the notes whose start the grid puts inside the rewritten bars
        s = round(note.start * ev.STEPS_PER_BEAT) / ev.STEPS_PER_BEAT
        return lo_beat <= s < hi_beat

    out = []
    for row, title in zip(rows, clip_names(f"{clip.name} bars {first}-{last}", n)):
        new, _ = ev.decode(row, first_bar=a, velocity=vel)
        out.append(_with_generated(clip, {p: ns for p, ns in new.items() if p in parts}, home, title,
                                   "infilled", model.name, clip.length, hi_beat, drop=inside))
    token.progress(1.0, f"{n} candidate{'s' if n != 1 else ''} for bars {first}-{last}")
    return out


_SEQ_LOADED: dict = {}


def continue_with(token, path: str, clip: Clip, bars: int, n: int = 4, temperature: float = 1.0,
                  tracks=None, seed=None) -> list[Clip]:
    """A job for the window: continue_clip with the sequence model in folder `path`, loaded once
    per process (the model process keeps it), so the job needs no model chosen in advance."""
    model = _SEQ_LOADED.get(path)
    if model is None:
        model = _SEQ_LOADED[path] = load_seq(token, path)
    return continue_clip(token, model, clip, bars, n, temperature, tracks=tracks, seed=seed)


def infill_with(token, path: str, clip: Clip, bar_range: tuple[int, int], n: int = 4,
                temperature: float = 1.0, tracks=None, seed=None) -> list[Clip]:
    """A job for the window: infill_clip with the sequence model in folder `path` (loaded once)."""
    model = _SEQ_LOADED.get(path)
    if model is None:
        model = _SEQ_LOADED[path] = load_seq(token, path)
    return infill_clip(token, model, clip, bar_range, n, temperature, tracks=tracks, seed=seed)
