"""A loaded MusicVAE, the engine: encode clips and tensors, decode codes to tokens, draw random
codes. TensorFlow is imported on first use (lazy_tf), when a model is built.

Sampling, interpolating, finding similar clips and filling sections are not here: they live
in core.generation (chunked and cancellable), which every caller goes through.

Names follow Magenta's TrainedModel. Everything is batched; the encoder and the whole decode
loop each run as one compiled tf.function (temperature and seed are graph inputs, so changing
them does not retrace). Sampling is reproducible: the same seed gives the same notes.
"""
from __future__ import annotations

import numpy as np
from core.musicvae.lazy_tf import tf

from core.errors import UserError
from core.musicvae.configs import MusicVAEConfig
from core.musicvae.layers import BidirectionalEncoder, Decoder, Weights, small_batch_graph

SMALL_BATCH = 3  # up to this many sequences use the small-batch graph

DEFAULT_BATCH = 256  # sequences per graph call (bounds memory for big batches)


def pick_device(device: str | None = None) -> str:
    """"/GPU:0" when TensorFlow sees a GPU, else "/CPU:0"; "cpu", "gpu" or "/GPU:1" override."""
    if device:
        d = device.strip()
        if d.lower() in ("cpu", "gpu"):
            d = f"/{d.upper()}:0"
        return d
    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"


def _seed_pair(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2 ** 31 - 1, size=2, dtype=np.int64).astype(np.int32)


class MusicVAE:
    """A MusicVAE with its weights on a device (see load_model)."""

    def __init__(self, cfg: MusicVAEConfig, weights: dict[str, np.ndarray], device: str | None = None,
                 precision: str = "float32", name: str | None = None, source: str | None = None,
                 prior=None):
        self.config = cfg
        self.name = name or cfg.name
        self.source = source
        self.precision = precision
        self.prior = prior  # a CodePrior (code_prior.py) when the model folder names one; else N(0, I)
        self.device = pick_device(device)
        with tf.device(self.device):
            w = Weights(weights, precision)
            self.encoder = BidirectionalEncoder(cfg, w)
            self.decoder = Decoder(cfg, w)
        self._encode_fn = tf.function(self.encoder.__call__, input_signature=[
            tf.TensorSpec([None, None, cfg.input_depth], tf.float32), tf.TensorSpec([None], tf.int32)])
        signature = [tf.TensorSpec([None, cfg.z_size], tf.float32), tf.TensorSpec([], tf.float32),
                     tf.TensorSpec([2], tf.int32), tf.TensorSpec([], tf.int32)]
        self._decode_fn = tf.function(self.decoder.decode, input_signature=signature)

        def decode_small(*args):
            with small_batch_graph():
                return self.decoder.decode(*args)

        # the same loop traced with the matmul layout that is faster for 1..3 sequences
        self._decode_small_fn = tf.function(decode_small, input_signature=signature)

    # ------------------------------------------------------------ tensors
    @property
    def z_size(self) -> int:
        return self.config.z_size

    @property
    def kind(self) -> str:
        return self.config.data

    def encode_tensors(self, inputs, lengths=None, seed=None, batch_size: int = DEFAULT_BATCH):
        """(z, mu, sigma), each [n, z_size]: z = mu + sigma * noise (noise from `seed`)."""
        inputs = np.asarray(inputs, dtype=np.float32)
        if inputs.ndim != 3 or inputs.shape[-1] != self.config.input_depth:
            raise UserError(f"{self.name}: inputs must be [n, steps, {self.config.input_depth}], "
                            f"got {list(inputs.shape)}")
        n, steps = inputs.shape[:2]
        lengths = np.full(n, steps, np.int32) if lengths is None else np.asarray(lengths, np.int32)
        if lengths.shape != (n,) or (n and (lengths.min() < 1 or lengths.max() > steps)):
            raise UserError(f"{self.name}: lengths must be {n} values within 1..{steps}")
        mus, sigmas = [], []
        with tf.device(self.device):
            for a in range(0, n, batch_size):
                mu, sigma = self._encode_fn(tf.constant(inputs[a:a + batch_size]),
                                            tf.constant(lengths[a:a + batch_size]))
                mus.append(mu.numpy())
                sigmas.append(sigma.numpy())
        mu = np.concatenate(mus) if mus else np.zeros((0, self.z_size), np.float32)
        sigma = np.concatenate(sigmas) if sigmas else np.zeros((0, self.z_size), np.float32)
        rng = np.random.default_rng(seed)
        z = (mu + sigma * rng.standard_normal(mu.shape).astype(np.float32)).astype(np.float32)
        return z, mu, sigma

    def decode_tokens(self, z, length=None, temperature=None, seed=None, batch_size: int = DEFAULT_BATCH,
                      with_gaps: bool = False):
        """Tokens [n, steps] ([n, steps, 3] for the trio); temperature None or 0 means argmax.

        `with_gaps` also returns, per step, the gap between the two largest logits (same shape
        as the tokens): where it is tiny, argmax was nearly a tie.
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.z_size:
            raise UserError(f"{self.name}: z must be [n, {self.z_size}], got {list(z.shape)}")
        steps = self.config.steps
        length = steps if length is None else int(length)
        if not 1 <= length <= steps:
            raise UserError(f"{self.name}: length must be within 1..{steps}, got {length}")
        # a hierarchical decoder always runs every bar; the result is cut afterwards
        run_steps = steps if self.config.hierarchical else length
        temp = 0.0 if temperature is None else float(temperature)
        if temp < 0:
            raise UserError(f"temperature must be >= 0, got {temperature}")
        rng = np.random.default_rng(seed)
        outs, gaps = [], []
        with tf.device(self.device):
            for a in range(0, len(z), batch_size):
                chunk = z[a:a + batch_size]
                fn = self._decode_small_fn if len(chunk) <= SMALL_BATCH and self.precision == "float32" \
                    else self._decode_fn
                tokens, gap = fn(tf.constant(chunk), tf.constant(temp, tf.float32),
                                 tf.constant(_seed_pair(rng)), tf.constant(run_steps, tf.int32))
                outs.append(tokens.numpy()[:, :length])
                gaps.append(gap.numpy()[:, :length])
        cores = len(self.config.output_depths)
        tokens = np.concatenate(outs) if outs else np.zeros((0, length, cores), np.int32)
        gap = np.concatenate(gaps) if gaps else np.zeros((0, length, cores), np.float32)
        if cores == 1:
            tokens, gap = tokens[..., 0], gap[..., 0]
        return (tokens, gap) if with_gaps else tokens

    def tokens_to_tensors(self, tokens) -> np.ndarray:
        """One-hot decoder outputs [n, steps, output depth] (float32) from decoded tokens."""
        tokens = np.asarray(tokens)
        if tokens.ndim == 2:
            tokens = tokens[..., None]
        parts = []
        for i, depth in enumerate(self.config.output_depths):
            parts.append(np.eye(depth, dtype=np.float32)[tokens[..., i]])
        return np.concatenate(parts, axis=-1)

    def decode_to_tensors(self, z, length=None, temperature=None, seed=None):
        """One-hot outputs [n, steps, output depth]; temperature None means argmax."""
        return self.tokens_to_tensors(self.decode_tokens(z, length, temperature, seed))

    def random_z(self, n: int, seed=None) -> np.ndarray:
        """n random codes: from the model's code prior when it has one, else from N(0, I)."""
        rng = np.random.default_rng(seed)
        if self.prior is not None:
            return self.prior.sample(n, rng)
        return rng.standard_normal((n, self.z_size)).astype(np.float32)

    # ------------------------------------------------------------ clips
    def _converters(self):
        from core.musicvae import converters

        return converters

    def _parts(self):
        return self._converters().PARTS[self.kind]

    def clips_to_inputs(self, clips, tracks=None):
        """(inputs [n, steps, depth], lengths [n], reports) for clips, as the encoder reads them.

        `tracks` says which track plays which part: a Song, a mapping track id -> role (or Track),
        or a list with one of those per clip (clips from different songs). By default each
        clip's track ids are taken to be the part names.
        """
        conv = self._converters()
        clips = list(clips)
        if isinstance(tracks, (list, tuple)) and len(tracks) == len(clips) and clips and \
                not isinstance(tracks[0], str) and not hasattr(tracks[0], "role"):
            per_clip = list(tracks)
        else:
            per_clip = [tracks] * len(clips)
        inputs, lengths, reports = [], [], []
        for clip, tr in zip(clips, per_clip):
            tr = tr if tr is not None else {p: p for p in self._parts()}
            x, _, ln, rep = conv.clips_to_batch([clip], tr, self.kind, self.config.steps)
            inputs.append(x)
            lengths.append(ln)
            reports.extend(rep)
        if not clips:
            x, _, ln, _ = conv.clips_to_batch([], {}, self.kind, self.config.steps)
            return x, ln, []
        return np.concatenate(inputs), np.concatenate(lengths), reports

    def encode(self, clips, tracks=None, seed=None):
        """(z, mu, sigma) for clips; `tracks` (a Song, or track id -> role) says who plays what."""
        inputs, lengths, _ = self.clips_to_inputs(clips, tracks)
        return self.encode_tensors(inputs, lengths, seed=seed)

    def __repr__(self) -> str:
        c = self.config
        return (f"MusicVAE({self.name!r}, enc {list(c.enc_rnn_size)}, dec {list(c.dec_rnn_size)}, "
                f"z {c.z_size}, {c.steps} steps, {self.precision} on {self.device})")


def build_model(cfg: MusicVAEConfig, weights: dict[str, np.ndarray], device=None, precision="float32",
                name=None, source=None, prior=None) -> MusicVAE:
    return MusicVAE(cfg, weights, device=device, precision=precision, name=name, source=source, prior=prior)
