"""Section spaces: a small VAE trained on one model's codes of the clips a musician gave one label.

A MusicVAE's space is huge (128 to 512 numbers a code) and its prior covers every kind of
phrase. A musician's eight to a few hundred choruses fill a small patch of it. A section space
learns that patch: a second, small VAE whose inputs are the big model's codes (the encoder's
mu) of the labelled clips, with a latent of 4 to 16 numbers. Sampling it is "decoding twice":
a draw from N(0, I) in the small space, through the small decoder to a big code, then through
the big model's decoder (core.generation, chunked and cancellable) to notes. This is MidiMe
(Dinculescu, Engel and Roberts, 2019), which does the same for one user's material in a browser.

    space = run_job(train, model, clips, "chorus", SpaceSettings(latent=8))
    save_space(space, "chorus.space")
    clips = run_job(sample, model, load_space("chorus.space", model), 8, 0.5, seed=1)

What is learned, and how:
- Inputs are standardised first: minus the clips' mean code, divided by one number, the
  root-mean-square spread of the codes around it. A single scale keeps the dimensions'
  relative sizes (the big model's dimensions that carry little stay small) while making the
  reconstruction term mean the same for a tight cluster of choruses and a wide one, for every
  model.
- The objective is MidiMe's: a unit-variance Gaussian reconstruction (half the summed squared
  error, in standardised units) plus the KL of the small code to N(0, I), weight beta = 1,
  Adam at 1e-3 on the whole batch (a minibatch of BATCH when there are more clips).
- The layers (see `hidden_sizes`) are sized to the big code.
- Training runs as a Job: every step reports its reconstruction and KL (nats per clip) through
  token.progress and into a TrainControl, whose curve a GUI can plot (in the model process,
  where no TrainControl is shared, `parse_step` reads the curve from the progress messages).
  Cancel raises JobCancelled and gives nothing; "good enough, stop now"
  (TrainControl.request_stop, or the token's finish_early, which reaches the model process)
  ends training after the current step and returns the space as learned so far.
- Sampling and reconstruction run the small network in numpy (float32), so a loaded space
  gives the same codes on every machine and needs no TensorFlow; only training imports it.

A space belongs to one model: its file records the model's name, data kind and code size, and
a space is refused for another model (SpaceModelError).

The `.space` file is a zip archive: `space.json` (format, version, model, label, layer sizes,
the standardisation, training settings, history summary, clip names, when) and `weights.npz`
(the layers, the per-step reconstruction and KL, and the training clips' codes, which the map
and before/after reconstructions need). It is written atomically; reading checks
every part and raises SpaceFileError (a UserError) for a damaged or foreign file.
"""
from __future__ import annotations

import datetime
import io
import json
import math
import os
import re
import threading
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

from core.errors import UserError

FORMAT = "latent-studio-section-space"
FORMAT_VERSION = 1
SUFFIX = ".space"
HEADER_NAME = "space.json"
WEIGHTS_NAME = "weights.npz"

MIN_CLIPS = 8  # fewer than this and the small VAE learns a handful of points, not a section
LATENT_RANGE = (4, 16)
DEFAULT_LATENT = 8
BATCH = 256  # clips per step; up to this many the whole set is one batch, as MidiMe trains
MAX_FILE_BYTES = 256 * 1024 * 1024
LEARNING_RATE = 1e-3
BETA = 1.0
# From this code size on, the train step is compiled with XLA: it fuses the Adam updates of the
# wide layers, about twice the steps per second for 512-number codes on 2 CPU cores, for about
# 2 s of compiling; for 128-number codes the steps were no faster, so the compile is not paid.
XLA_FROM_Z = 256


# ------------------------------------------------------------------ errors
class SectionSpaceError(UserError):
    """Training or sampling a section space cannot go on (too few clips, a bad setting)."""


class SpaceFileError(SectionSpaceError):
    """A .space file that cannot be read: damaged, foreign or from a newer program."""


class SpaceModelError(SectionSpaceError):
    """A section space used with a model it was not trained for."""


# ------------------------------------------------------------------ layer sizes
def hidden_sizes(z_size: int) -> tuple[int, int, int]:
    """The encoder's dense layers for a big code of z_size numbers (the decoder mirrors them).

    MidiMe uses 1024-256-64 for a 256-number code: a first layer four times as wide as the
    code, so the mix of its dimensions the clips differ in can be picked out, then narrowing
    by four, then 64 in front of a latent of 4..16. The rule here keeps that shape:
    first = 4 x z_size within 256..1024, second = first / 4, third = 64.
      256-d code (mel_16bar, trio_16bar from Magenta): 1024-256-64, MidiMe's own sizes.
      512-d code (cat-mel_2bar_big): 1024-256-64, not 2048-512-64. The first layer is still
        twice the code, which is room enough to pick out the directions a few hundred clips
        span (they span at most a few hundred), and its encoder holds 0.8 M weights, not 2.1 M:
        fewer to fit to 8..200 examples. Measured (benchmarks/bench_section_space.py --models
        --code-sizes 512 [--layers 2048 512 64], 30 codes, 2 busy cores): 161 against 61 steps
        a second, 11 s against 27 s for 1500 steps, and no better a fit (reconstruction 3.00
        against 3.55, KL 10.0 against 11.5).
      128-d code (the embedded models): 512-128-64.
      small test codes (16): 256-64-64.
    """
    z = int(z_size)
    first = int(min(max(4 * z, 256), 1024))
    return first, first // 4, 64


def layer_shapes(z_size: int, latent: int, hidden) -> list[tuple[str, tuple[int, int]]]:
    """(name, (inputs, outputs)) of every dense layer, encoder then decoder, in order."""
    shapes = []
    width = int(z_size)
    for i, h in enumerate(hidden):
        shapes.append((f"enc{i}", (width, int(h))))
        width = int(h)
    shapes.append(("enc_mu", (width, latent)))
    shapes.append(("enc_sigma", (width, latent)))
    width = latent
    for i, h in enumerate(reversed(tuple(hidden))):
        shapes.append((f"dec{i}", (width, int(h))))
        width = int(h)
    shapes.append(("dec_out", (width, int(z_size))))
    return shapes


def weight_names(z_size: int, latent: int, hidden) -> list[str]:
    return [f"{name}/{part}" for name, _ in layer_shapes(z_size, latent, hidden) for part in ("w", "b")]


def _initial_weights(z_size: int, latent: int, hidden, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels and zero biases, as a Keras Dense layer starts."""
    out = {}
    for name, (n_in, n_out) in layer_shapes(z_size, latent, hidden):
        limit = math.sqrt(6.0 / (n_in + n_out))
        out[f"{name}/w"] = rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)
        out[f"{name}/b"] = np.zeros(n_out, np.float32)
    return out


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x).astype(np.float32)


# ------------------------------------------------------------------ the space
@dataclass
class SectionSpace:
    """A trained small VAE over one model's codes, for one label."""

    model: dict  # {"name", "z_size", "kind", "config"} of the big model
    label: str
    latent: int
    hidden: tuple[int, ...]
    weights: dict[str, np.ndarray]
    center: np.ndarray  # [z_size] the training codes' mean
    scale: float  # their root-mean-square spread around it
    reconstruction: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # per step
    kl: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # per step
    info: dict = field(default_factory=dict)  # clips, refused, steps, stopped_early, seconds, created, ...
    codes: np.ndarray | None = None  # [n, z_size] the training clips' codes (for the map, reconstructions)

    @property
    def z_size(self) -> int:
        return int(self.model["z_size"])

    @property
    def model_name(self) -> str:
        return str(self.model["name"])

    @property
    def steps(self) -> int:
        return int(len(self.reconstruction))

    def final_losses(self, last: int = 50) -> tuple[float, float]:
        """(reconstruction, KL) averaged over the last `last` steps: each step draws new noise,
        so one step's numbers wobble by a factor of two late in training."""
        if not self.steps:
            return float("nan"), float("nan")
        return float(np.mean(self.reconstruction[-last:])), float(np.mean(self.kl[-last:]))

    # ------------------------------------------------------------ the network, in numpy
    def _dense(self, x, name: str, relu: bool) -> np.ndarray:
        y = x @ self.weights[f"{name}/w"] + self.weights[f"{name}/b"]
        return np.maximum(y, 0.0) if relu else y

    def encode(self, codes) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma) [n, latent] of big codes [n, z_size]."""
        codes = self._codes(codes)
        x = ((codes - self.center) / self.scale).astype(np.float32)
        for i in range(len(self.hidden)):
            x = self._dense(x, f"enc{i}", True)
        return self._dense(x, "enc_mu", False), _softplus(self._dense(x, "enc_sigma", False))

    def decode(self, small) -> np.ndarray:
        """Big codes [n, z_size] for small codes [n, latent]."""
        x = np.atleast_2d(np.asarray(small, np.float32))
        if x.shape[1] != self.latent:
            raise SectionSpaceError(f"this space takes codes of {self.latent} numbers, got {x.shape[1]}")
        for i in range(len(self.hidden)):
            x = self._dense(x, f"dec{i}", True)
        y = self._dense(x, "dec_out", False)
        return (self.center + self.scale * y).astype(np.float32)

    def reconstruct(self, codes) -> np.ndarray:
        """Big codes through the small space and back (from the small mu): what it kept of them."""
        return self.decode(self.encode(codes)[0])

    def sample_codes(self, n: int, rng=None, spread: float = 1.0) -> np.ndarray:
        """n big codes from small codes drawn from N(0, spread^2 I)."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        small = rng.standard_normal((int(n), self.latent)).astype(np.float32) * np.float32(spread)
        return self.decode(small)

    def _codes(self, codes) -> np.ndarray:
        codes = np.atleast_2d(np.asarray(codes, np.float32))
        if codes.shape[1] != self.z_size:
            raise SpaceModelError(f"the {self.label} space takes codes of {self.z_size} numbers "
                                  f"(model {self.model_name}), got {codes.shape[1]}")
        return codes

    # ------------------------------------------------------------ the model it belongs to
    def check_model(self, model) -> None:
        """Raise SpaceModelError unless `model` is the model this space was trained on."""
        mine = (self.model_name, self.z_size, self.model.get("kind"))
        theirs = (str(model.name), int(model.z_size), str(model.kind))
        if mine != theirs:
            raise SpaceModelError(
                f'The "{self.label}" section space was trained on the codes of {mine[0]} '
                f"({mine[2]}, {mine[1]} numbers a code); it cannot be used with {theirs[0]} "
                f"({theirs[2]}, {theirs[1]} numbers a code). Load {mine[0]} or train a new space "
                f"for {theirs[0]}.")

    def __repr__(self) -> str:
        return (f"SectionSpace({self.label!r}, model {self.model_name}, latent {self.latent}, "
                f"layers {'-'.join(map(str, self.hidden))}, {self.steps} steps, "
                f"{self.info.get('clip_count', '?')} clips)")


def model_record(model) -> dict:
    return {"name": str(model.name), "z_size": int(model.z_size), "kind": str(model.kind),
            "config": str(model.config.name)}


# ------------------------------------------------------------------ talking to a GUI
class TrainControl:
    """Shared by a training job and whoever watches it (any thread): the loss curve so far, and
    the "good enough, stop now" request. A GUI polls `curve` from a timer; the job records."""

    def __init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._steps: list[int] = []
        self._reconstruction: list[float] = []
        self._kl: list[float] = []

    def request_stop(self) -> None:
        """Finish after the current step and keep what was learned."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def record(self, step: int, reconstruction: float, kl: float) -> None:
        with self._lock:
            self._steps.append(int(step))
            self._reconstruction.append(float(reconstruction))
            self._kl.append(float(kl))

    def curve(self, since: int = 0) -> tuple[list[int], list[float], list[float]]:
        """(steps, reconstruction, kl) recorded from index `since` on (copies)."""
        with self._lock:
            return self._steps[since:], self._reconstruction[since:], self._kl[since:]

    def __len__(self) -> int:
        with self._lock:
            return len(self._steps)


# ------------------------------------------------------------------ settings
@dataclass
class SpaceSettings:
    latent: int = DEFAULT_LATENT
    steps: int | None = None  # None: default_steps(number of clips)
    learning_rate: float = LEARNING_RATE
    beta: float = BETA
    seed: int = 0
    hidden: tuple[int, int, int] | None = None  # None: hidden_sizes(the code size); for comparisons

    def __post_init__(self):
        lo, hi = LATENT_RANGE
        if not lo <= int(self.latent) <= hi:
            raise SectionSpaceError(f"a section space has a latent size of {lo} to {hi}, not {self.latent}")
        self.latent = int(self.latent)
        if self.steps is not None and not 1 <= int(self.steps) <= 1_000_000:
            raise SectionSpaceError(f"the number of training steps must be 1 to 1000000, not {self.steps}")
        if not self.learning_rate > 0 or not self.beta >= 0:
            raise SectionSpaceError("the learning rate must be above 0 and beta 0 or more")
        if self.hidden is not None:
            self.hidden = tuple(int(h) for h in self.hidden)
            if len(self.hidden) != 3 or min(self.hidden) < 1:
                raise SectionSpaceError(f"give three layer sizes of 1 or more, not {self.hidden}")


def default_steps(n_clips: int) -> int:
    """Steps when none are asked for. On the whole batch, Adam at 1e-3 brings the reconstruction
    of 8..256 clips from about 64 nats to a few within some 500 steps, then it drifts down slowly
    (docs/section-spaces.md); 1500 leaves room for that, and "good enough" stops sooner. More
    clips than one batch need more steps for each to be seen as often."""
    return 1500 if n_clips <= BATCH else int(min(6000, 1500 * math.ceil(n_clips / BATCH)))


# ------------------------------------------------------------------ clips to codes
def clips_for_label(song, label: str) -> list:
    """The song's clips that carry `label`, or that a section with that label plays, each once."""
    want = label.strip().lower()
    seen, out = set(), []
    for clip in song.clips.values():
        if (clip.label or "").strip().lower() == want:
            seen.add(clip.id)
            out.append(clip)
    for s in song.sections:
        if s.label.strip().lower() == want and s.clip_id in song.clips and s.clip_id not in seen:
            seen.add(s.clip_id)
            out.append(song.clips[s.clip_id])
    return out


def unreadable_reason(model, clip, report) -> str | None:
    """Why the model cannot encode this clip (None when it can), from its conversion report."""
    from core.musicvae import converters as cv

    bars = model.config.steps // cv.STEPS_PER_BAR
    counts = report.counts()
    if counts.get("outside_window"):
        # A note that rings on past the window is only cut; one that starts after it is lost.
        last = max(n.start for _, n in clip.all_notes())
        return (f"it runs to bar {int(last // (cv.STEPS_PER_BAR / cv.STEPS_PER_QUARTER)) + 1}; "
                f"{model.name} reads clips of up to "
                f"{bars} bars (cut it into {bars}-bar clips)")
    if counts.get("polyphony") and model.kind in ("melody", "trio"):
        part = "melody" if model.kind == "melody" else "melody and bass"
        return (f"it plays chords: {counts['polyphony']} note(s) start together with a higher note, "
                f"and {model.name} reads one note at a time in its {part} part")
    return None


def clip_codes(token, model, clips, tracks=None, batch: int = 64
               ) -> tuple[np.ndarray, list, list[tuple[str, str]]]:
    """(codes [n, z], the clips they belong to, refused [(clip name, reason)]).

    A clip's code is its stored latent when this model made it, else the encoder's mu. A clip the
    model cannot read (too long, chords for a melody model, no notes the model reads) is left
    out and named with the reason. `tracks` says which track plays which part, as for
    MusicVAE.encode (a Song, a mapping, or one of those per clip). The clips are not changed.
    """
    clips = list(clips)
    per_clip = tracks if isinstance(tracks, (list, tuple)) and len(tracks) == len(clips) \
        and clips and not isinstance(tracks[0], str) and not hasattr(tracks[0], "role") else [tracks] * len(clips)
    codes: list[np.ndarray | None] = []
    pending: list[int] = []
    refused: list[tuple[str, str]] = []
    kept = []
    inputs = []
    for clip, tr in zip(clips, per_clip):
        if clip.latent is not None and clip.model == model.name and len(clip.latent) == model.z_size:
            kept.append(clip)
            codes.append(np.asarray(clip.latent, np.float32))
            continue
        if clip.note_count() == 0:
            refused.append((clip.name, "it has no notes"))
            continue
        x, _, reports = model.clips_to_inputs([clip], tr)
        reason = unreadable_reason(model, clip, reports[0])
        if reason is None and len(reports[0].dropped) >= clip.note_count():
            reason = f"{model.name} reads none of its notes ({reports[0].summary()})"
        if reason is not None:
            refused.append((clip.name, reason))
            continue
        kept.append(clip)
        codes.append(None)
        pending.append(len(codes) - 1)
        inputs.append(x[0])
    for a in range(0, len(pending), batch):
        if token is not None:
            token.progress(0.1 * a / max(len(pending), 1), f"Encoding clips ({a} of {len(pending)})")
        _, mu, _ = model.encode_tensors(np.stack(inputs[a:a + batch]))
        for i, m in zip(pending[a:a + batch], mu):
            codes[i] = m
    arr = np.stack(codes).astype(np.float32) if codes else np.zeros((0, model.z_size), np.float32)
    return arr, kept, refused


def _refusal_text(refused) -> str:
    return "; ".join(f'"{name}": {reason}' for name, reason in refused)


# ------------------------------------------------------------------ training
def train(token, model, clips, label: str, settings: SpaceSettings | None = None,
          control: TrainControl | None = None, tracks=None, on_refused=None) -> SectionSpace:
    """A Job: a section space for `label` from the model's codes of `clips`.

    Needs at least MIN_CLIPS clips the model can read; the others are named in
    space.info["refused"] (and in the error when too few are left). `on_refused([(name,
    reason)])`, when given, hears of them before training starts (on the job's thread). Cancel
    gives JobCancelled and changes nothing; control.request_stop() ends early and keeps what
    was learned.
    """
    settings = settings or SpaceSettings()
    label = (label or "").strip()
    if not label:
        raise SectionSpaceError("give the section space a label (verse, chorus, or any word)")
    clips = list(clips)
    if token is not None:
        token.progress(0.0, f"Encoding {len(clips)} {label} clips with {model.name}")
    codes, kept, refused = clip_codes(token, model, clips, tracks)
    if len(kept) < MIN_CLIPS:
        have = f"{len(kept)} clip{'s' if len(kept) != 1 else ''} {model.name} can read"
        more = f" ({len(refused)} refused: {_refusal_text(refused)})" if refused else ""
        raise SectionSpaceError(
            f'A section space needs at least {MIN_CLIPS} clips; "{label}" has {have}{more}. '
            f"Label more clips {label}, or import a folder of them.")
    if refused and on_refused is not None:
        on_refused(list(refused))
    space = train_on_codes(token, codes, model_record(model), label, settings, control,
                           start=0.1, span=0.9)
    space.info.update(clips=[c.name for c in kept], refused=[list(r) for r in refused])
    return space


def standardisation(codes: np.ndarray) -> tuple[np.ndarray, float]:
    """(mean code, root-mean-square spread around it); a spread of 0 (one clip copied) becomes 1."""
    center = codes.mean(0)
    scale = float(np.sqrt(np.mean((codes - center) ** 2)))
    return center.astype(np.float32), (scale if scale > 1e-6 else 1.0)


def train_on_codes(token, codes, model: dict, label: str, settings: SpaceSettings | None = None,
                   control: TrainControl | None = None, start: float = 0.0, span: float = 1.0) -> SectionSpace:
    """A Job step: train the small VAE on big codes [n, z] (`model` as model_record gives it)."""
    from core.jobs import JobToken

    token = token if token is not None else JobToken()
    settings = settings or SpaceSettings()
    codes = np.asarray(codes, np.float32)
    if codes.ndim != 2 or codes.shape[1] != int(model["z_size"]):
        raise SectionSpaceError(f"codes must be [n, {model['z_size']}], got {list(codes.shape)}")
    if len(codes) < MIN_CLIPS:
        raise SectionSpaceError(f"a section space needs at least {MIN_CLIPS} clips, got {len(codes)}")
    if not np.all(np.isfinite(codes)):
        raise SectionSpaceError("some of the clips' codes are not finite numbers")
    steps = int(settings.steps or default_steps(len(codes)))
    hidden = settings.hidden or hidden_sizes(codes.shape[1])
    center, scale = standardisation(codes)
    x = (codes - center) / scale
    t0 = time.monotonic()
    weights, recon, kl, stopped = _fit(token, x, settings.latent, hidden, steps, settings, control,
                                       label, start, span)
    seconds = time.monotonic() - t0
    info = {"created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "clip_count": int(len(codes)), "steps_asked": steps, "stopped_early": bool(stopped),
            "seconds": round(seconds, 3), "learning_rate": settings.learning_rate,
            "beta": settings.beta, "seed": settings.seed, "batch": min(BATCH, len(codes))}
    space = SectionSpace(dict(model), label, settings.latent, tuple(hidden), weights, center, scale,
                         np.asarray(recon, np.float32), np.asarray(kl, np.float32), info, codes.copy())
    r, k = space.final_losses()
    token.progress(start + span, f"{label_title(label)} space: {len(recon)} steps in {seconds:.1f} s, "
                                 f"reconstruction {r:.2f}, KL {k:.2f}" + (" (stopped early)" if stopped else ""))
    return space


def label_title(label: str) -> str:
    return label[:1].upper() + label[1:]


_STEP_RE = re.compile(r"step (\d+)/(\d+)  reconstruction (\S+)  KL (\S+)$")


def step_message(title: str, step: int, steps: int, reconstruction: float, kl: float) -> str:
    """The progress message of one training step (`parse_step` reads it back)."""
    return f"{title} space: step {step}/{steps}  reconstruction {reconstruction:.4g}  KL {kl:.4g}"


def parse_step(message: str) -> tuple[int, float, float] | None:
    """(step, reconstruction, KL) from a training step's progress message, else None. A job in the
    model process cannot share a TrainControl with the window; its progress messages carry the
    curve instead (fewer points: progress is thinned on the way), and the finished space the rest."""
    m = _STEP_RE.search(message or "")
    if m is None:
        return None
    try:
        return int(m.group(1)), float(m.group(3)), float(m.group(4))
    except ValueError:
        return None


def _fit(token, x: np.ndarray, latent: int, hidden, steps: int, settings: SpaceSettings,
         control: TrainControl | None, label: str, start: float, span: float):
    """(weights, reconstruction per step, KL per step, stopped early) of the small VAE on x."""
    from core.musicvae.lazy_tf import tf

    rng = np.random.default_rng(settings.seed)
    z_size = x.shape[1]
    init = _initial_weights(z_size, latent, hidden, rng)
    names = weight_names(z_size, latent, hidden)
    n_hidden = len(hidden)
    beta = float(settings.beta)
    lr = float(settings.learning_rate)
    b1, b2, eps = 0.9, 0.999, 1e-8
    # The small VAE is a few dense layers on at most BATCH rows: on a GPU each step would spend
    # longer launching kernels than computing, so it stays on the CPU.
    with tf.device("/CPU:0"):
        var = {k: tf.Variable(init[k]) for k in names}
        params = [var[k] for k in names]
        m = [tf.Variable(tf.zeros_like(p), trainable=False) for p in params]
        v = [tf.Variable(tf.zeros_like(p), trainable=False) for p in params]
        t = tf.Variable(0.0, trainable=False)

        def dense(h, name, relu):
            y = tf.matmul(h, var[f"{name}/w"]) + var[f"{name}/b"]
            return tf.nn.relu(y) if relu else y

        def step_fn(batch, seed):
            with tf.GradientTape() as tape:
                h = batch
                for i in range(n_hidden):
                    h = dense(h, f"enc{i}", True)
                mu = dense(h, "enc_mu", False)
                sigma = tf.nn.softplus(dense(h, "enc_sigma", False))
                z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed)
                h = z
                for i in range(n_hidden):
                    h = dense(h, f"dec{i}", True)
                y = dense(h, "dec_out", False)
                recon = tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(batch - y), -1))
                kl = tf.reduce_mean(0.5 * tf.reduce_sum(
                    tf.square(mu) + tf.square(sigma) - 1.0 - 2.0 * tf.math.log(sigma + 1e-8), -1))
                loss = recon + beta * kl
            grads = tape.gradient(loss, params)
            t.assign_add(1.0)
            lr_t = lr * tf.sqrt(1.0 - tf.pow(b2, t)) / (1.0 - tf.pow(b1, t))
            for p, g, m_, v_ in zip(params, grads, m, v):
                m_.assign(b1 * m_ + (1.0 - b1) * g)
                v_.assign(b2 * v_ + (1.0 - b2) * tf.square(g))
                p.assign_sub(lr_t * m_ / (tf.sqrt(v_) + eps))
            return tf.stack([recon, kl])

        fn = tf.function(step_fn, autograph=False, jit_compile=z_size >= XLA_FROM_Z, input_signature=[
            tf.TensorSpec([None, z_size], tf.float32), tf.TensorSpec([2], tf.int32)])
        full = tf.constant(x, tf.float32)
        seeds = rng.integers(0, 2 ** 31 - 1, size=(steps, 2)).astype(np.int32)
        recon_hist: list[float] = []
        kl_hist: list[float] = []
        stopped = False
        title = label_title(label)
        for s in range(steps):
            token.check()
            if len(x) <= BATCH:
                batch = full
            else:
                batch = tf.constant(x[rng.choice(len(x), BATCH, replace=False)], tf.float32)
            r, k = fn(batch, tf.constant(seeds[s])).numpy()
            r, k = float(r), float(k)
            if not (math.isfinite(r) and math.isfinite(k)):
                raise SectionSpaceError(f"training the {label} space diverged at step {s + 1} "
                                        f"(reconstruction {r}, KL {k}); try a lower learning rate")
            recon_hist.append(r)
            kl_hist.append(k)
            if control is not None:
                control.record(s + 1, r, k)
            token.progress(start + span * (s + 1) / steps, step_message(title, s + 1, steps, r, k))
            asked = (control is not None and control.stop_requested) or getattr(token, "finish_requested", False)
            if asked and s + 1 < steps:
                stopped = True
                break
        weights = {k: var[k].numpy().astype(np.float32) for k in names}
    return weights, recon_hist, kl_hist, stopped


# ------------------------------------------------------------------ sampling
def sample(token, model, space: SectionSpace, n: int = 8, temperature: float = 0.5, seed=None,
           reproducible: bool = False, spread: float = 1.0) -> list:
    """A Job: n clips from the space, decoded twice (small code -> big code -> notes).

    The notes come from core.generation.decode_chunked (chunked, cancellable; `reproducible`
    groups the decode in fixed chunks so a seed gives the same notes on every run). Clips are
    named after the label ("Chorus 1" ..), labelled, and keep their big code.
    """
    from core import generation

    space.check_model(model)
    if not 1 <= int(n) <= 256:
        raise SectionSpaceError(f"ask for 1 to 256 clips, not {n}")
    if temperature < 0:
        raise SectionSpaceError(f"the temperature must be 0 or more, not {temperature}")
    if not spread > 0:
        raise SectionSpaceError(f"the spread must be above 0, not {spread}")
    rng = np.random.default_rng(seed)
    codes = space.sample_codes(int(n), rng, spread)
    tokens = generation.decode_chunked(token, model, codes, temperature, rng,
                                       f"Generating from the {space.label} space",
                                       reproducible=reproducible)
    return generation.clips_from_tokens(model, tokens, codes, "section space",
                                        label_title(space.label), space.label)


def map_codes(token, model, space: SectionSpace, n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A Job: (n big codes sampled from the space, n from the model's prior), for a map that
    shows where the space's samples land against everything the model makes."""
    space.check_model(model)
    rng = np.random.default_rng(seed)
    samples = space.sample_codes(int(n), rng)
    prior = np.asarray(model.random_z(int(n), rng), np.float32)
    return samples, prior


def reconstructions(token, model, space: SectionSpace, limit: int = 8) -> list[tuple]:
    """A Job: (the model's reconstruction, the space's) of the first `limit` training clips,
    to hear side by side what the space kept, as MidiMe shows them.

    The first decodes the clip's own code; the second its code after the trip through the small
    space (space.reconstruct). Both at argmax, so they differ only where the codes do.
    """
    from core import generation

    space.check_model(model)
    if space.codes is None or not len(space.codes):
        raise SectionSpaceError(f"the {space.label} space holds no training codes to reconstruct")
    codes = space.codes[:max(int(limit), 1)]
    names = list(space.info.get("clips") or [])[:len(codes)]
    names += [f"{label_title(space.label)} clip {i + 1}" for i in range(len(names), len(codes))]
    both = np.concatenate([codes, space.reconstruct(codes)]).astype(np.float32)
    tokens = generation.decode_chunked(token, model, both, None, 0, f"Reconstructing {len(codes)} clips")
    out = []
    for i, name in enumerate(names):
        (before,) = generation.clips_from_tokens(model, tokens[i:i + 1], both[i:i + 1], "sampled",
                                                 f"{name} (model)", space.label)
        j = len(codes) + i
        (after,) = generation.clips_from_tokens(model, tokens[j:j + 1], both[j:j + 1], "section space",
                                                f"{name} (space)", space.label)
        out.append((before, after))
    return out


# ------------------------------------------------------------------ spaces kept in a project
class StoredSpace:
    """A section space as a project keeps it (Song.spaces): the model's name, the label and the
    .space file's bytes, read the first time the space is used.

    The bytes are written back exactly as they were read, so an entry this program cannot use
    (damaged, from a newer version, for a model that is not installed) survives a save unchanged.
    `problem` says why an entry cannot be read (None when it can)."""

    def __init__(self, model: str, label: str, data: bytes, space: SectionSpace | None = None):
        self.model, self.label, self.data = str(model), str(label), bytes(data)
        self._space = space
        self._problem: str | None = None

    @classmethod
    def of(cls, space: SectionSpace) -> "StoredSpace":
        return cls(space.model_name, space.label, space_bytes(space), space)

    def space(self) -> SectionSpace:
        """The space itself; SpaceFileError when the bytes are not a space of this model and label."""
        if self._space is None:
            if self._problem is not None:
                raise SpaceFileError(self._problem)
            where = f"the {self.label} section space kept in the project"
            try:
                space = space_from_bytes(self.data, where)
                if space.model_name != self.model:
                    raise SpaceFileError(f'"{where}" says it is a space of {space.model_name}, '
                                         f"but the project files it under {self.model}.")
            except SpaceFileError as exc:
                self._problem = exc.message
                raise
            self._space = space
        return self._space

    @property
    def problem(self) -> str | None:
        try:
            self.space()
        except SpaceFileError as exc:
            return exc.message
        return None

    def __repr__(self) -> str:
        return f"StoredSpace({self.model!r}, {self.label!r}, {len(self.data)} bytes)"


def entry_problem(entry: StoredSpace, model_names) -> str | None:
    """Why a project's space cannot be used here (damaged, or its model is not installed), else None."""
    problem = entry.problem
    if problem is not None:
        return problem
    if entry.model not in set(model_names):
        return (f'the "{entry.label}" space was trained on {entry.model}, which is not installed here; '
                f"it is kept in the project, unused, until that model is installed")
    return None


def spaces_for(song, model_name: str | None) -> dict[str, SectionSpace]:
    """label -> space of the song's readable section spaces for one model (what Fill uses)."""
    out = {}
    for (model, label), entry in getattr(song, "spaces", {}).items():
        if model == model_name and entry.problem is None:
            out[label] = entry.space()
    return out


# ------------------------------------------------------------------ files
def space_bytes(space: SectionSpace) -> bytes:
    """The .space file's bytes (see the module docstring)."""
    header = {"format": FORMAT, "version": FORMAT_VERSION, "model": space.model, "label": space.label,
              "latent": space.latent, "hidden": list(space.hidden), "scale": float(space.scale),
              "steps": space.steps,
              "final": dict(zip(("reconstruction", "kl"), space.final_losses())) if space.steps else None,
              "info": space.info}
    arrays = {f"w|{k}": v for k, v in space.weights.items()}
    arrays.update(center=space.center, reconstruction=space.reconstruction, kl=space.kl)
    if space.codes is not None:
        arrays["codes"] = np.asarray(space.codes, np.float32)
    npz = io.BytesIO()
    np.savez(npz, **arrays)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(HEADER_NAME, json.dumps(header, indent=1))
        z.writestr(WEIGHTS_NAME, npz.getvalue())
    return out.getvalue()


def save_space(space: SectionSpace, path: str) -> str:
    """Write the space to `path` whole or not at all; a clear error when the folder is not writable."""
    from core.atomic_write import atomic_write_bytes

    path = os.fspath(path)
    data = space_bytes(space)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise SectionSpaceError(f'cannot write the section space "{path}": {exc.strerror or exc}') from None
    return path


def load_space(path: str, model=None) -> SectionSpace:
    """Read a .space file; with `model`, also check the space is that model's (SpaceModelError)."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise SpaceFileError(f'"{path}" is {size // 2 ** 20} MB, too large for a section space')
        with open(path, "rb") as f:
            data = f.read()
    except SpaceFileError:
        raise
    except OSError as exc:
        raise SpaceFileError(f'cannot read the section space "{path}": {exc.strerror or exc}') from None
    space = space_from_bytes(data, path)
    if model is not None:
        space.check_model(model)
    return space


def space_from_bytes(data: bytes, path: str = "<memory>") -> SectionSpace:
    def bad(problem: str) -> SpaceFileError:
        return SpaceFileError(f'"{path}" is not a section space Latent Studio can read: {problem}.')

    def member(z: zipfile.ZipFile, name: str) -> bytes:
        info = z.getinfo(name)
        if info.file_size > MAX_FILE_BYTES:  # a small file that unpacks to gigabytes is not ours
            raise bad(f"its {name} claims {info.file_size // 2 ** 20} MB")
        try:
            return z.read(name)
        except Exception as exc:  # noqa: BLE001 - zlib, CRC, truncation: all mean a damaged file
            raise bad(f"its {name} is damaged ({type(exc).__name__}: {exc})") from None

    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise bad("it is not a zip archive (a .space file is one)") from None
    with z:
        names = set(z.namelist())
        if HEADER_NAME not in names:
            raise bad(f"it has no {HEADER_NAME}; it is some other zip archive")
        try:
            header = json.loads(member(z, HEADER_NAME).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise bad(f"its {HEADER_NAME} is damaged ({exc})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise bad(f"its {HEADER_NAME} does not say it is a section space")
        version = header.get("version")
        if not isinstance(version, int) or version < 1:
            raise bad(f"its format version {version!r} is not one this program knows")
        if version > FORMAT_VERSION:
            raise SpaceFileError(f'"{path}" was saved by a newer Latent Studio (section space format '
                                 f"{version}; this one reads up to {FORMAT_VERSION}). Update to open it.")
        if WEIGHTS_NAME not in names:
            raise bad(f"it has no {WEIGHTS_NAME}")
        raw = member(z, WEIGHTS_NAME)
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: np.asarray(npz[k]) for k in npz.files}
    except Exception as exc:  # noqa: BLE001 - numpy's readers raise many kinds for damaged data
        raise bad(f"its weights are damaged ({type(exc).__name__}: {exc})") from None
    try:
        model = header["model"]
        record = {"name": str(model["name"]), "z_size": int(model["z_size"]), "kind": str(model["kind"]),
                  "config": str(model.get("config", ""))}
        label = str(header["label"])
        latent = int(header["latent"])
        hidden = tuple(int(h) for h in header["hidden"])
        scale = float(header["scale"])
        info = dict(header.get("info") or {})
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise bad(f"its {HEADER_NAME} lacks or garbles {exc}") from None
    lo, hi = LATENT_RANGE
    if not (lo <= latent <= hi and record["z_size"] > 0 and len(hidden) == 3 and all(h > 0 for h in hidden)
            and math.isfinite(scale) and scale > 0):
        raise bad("its sizes are out of range")
    def numbers(key: str, shape=None, ndim=None, optional=False) -> np.ndarray | None:
        arr = arrays.get(key)
        if arr is None and optional:
            return None
        if arr is None or arr.dtype.kind not in "fiu" or (shape is not None and arr.shape != shape) \
                or (ndim is not None and arr.ndim != ndim):
            raise bad(f"{key.replace('w|', 'layer ')} is missing, not numbers, or of the wrong shape")
        return arr.astype(np.float32)

    weights = {}
    for name, (n_in, n_out) in layer_shapes(record["z_size"], latent, hidden):
        weights[f"{name}/w"] = numbers(f"w|{name}/w", (n_in, n_out))
        weights[f"{name}/b"] = numbers(f"w|{name}/b", (n_out,))
    center = numbers("center", (record["z_size"],))
    recon = numbers("reconstruction", ndim=1, optional=True)
    kl = numbers("kl", ndim=1, optional=True)
    codes = numbers("codes", ndim=2, optional=True)
    if codes is not None and codes.shape[1] != record["z_size"]:
        raise bad("the training codes have the wrong size")
    if not all(np.all(np.isfinite(a)) for a in (*weights.values(), center)):
        raise bad("some of its numbers are not finite")
    recon = np.zeros(0, np.float32) if recon is None else recon
    kl = np.zeros(0, np.float32) if kl is None else kl
    if len(recon) != len(kl):
        raise bad("its loss history is garbled")
    return SectionSpace(record, label, latent, hidden, weights, center, scale, recon, kl, info, codes)
