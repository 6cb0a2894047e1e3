"""The LSTM baseline: an embedding, two LSTM layers and a softmax over the same event stream.

MelodyRNN's shape (Magenta's Continue) on this project's events (core/seq/events.py), so the
benchmark compares the two families on identical data. Plain tf.Variables, the same interface
as core/seq/transformer.py: `logits(ids)` for training and scoring, `prime` then `step` for
generation (the LSTM's state is its cache). TensorFlow is imported on first use.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from core.musicvae.lazy_tf import tf
from core.seq import events as ev


@dataclass
class LSTMConfig:
    vocab_size: int = ev.VOCAB_SIZE
    d_embed: int = 128
    units: int = 256
    layers: int = 2
    max_len: int = 512  # the training window; generation slides a window of this size too
    dropout: float = 0.1

    @property
    def arch(self) -> str:
        return "lstm"

    def to_dict(self) -> dict:
        return {"arch": "lstm", **asdict(self)}


class SeqLSTM:
    def __init__(self, config: LSTMConfig, seed: int = 0):
        self.config = c = config
        rng = np.random.default_rng(seed)
        self.named: dict = {}

        def var(name, value):
            v = tf.Variable(np.asarray(value, np.float32), name=name)
            self.named[name] = v
            return v

        self.emb = var("emb", rng.normal(0, c.d_embed ** -0.5, (c.vocab_size, c.d_embed)))
        self.cells = []
        width = c.d_embed
        for i in range(c.layers):
            w = rng.normal(0, 1 / math.sqrt(width + c.units), (width + c.units, 4 * c.units))
            b = np.zeros(4 * c.units)
            b[c.units:2 * c.units] = 1.0  # forget-gate bias
            self.cells.append((var(f"l{i}/w", w), var(f"l{i}/b", b)))
            width = c.units
        self.out_w = var("out_w", rng.normal(0, c.units ** -0.5, (c.units, c.vocab_size)))
        self.out_b = var("out_b", np.zeros(c.vocab_size))
        self._step_fn = None

    @property
    def variables(self) -> list:
        return list(self.named.values())

    def get_weights(self) -> dict[str, np.ndarray]:
        return {k: v.numpy() for k, v in self.named.items()}

    def set_weights(self, arrays: dict) -> None:
        for k, v in self.named.items():
            if k not in arrays:
                raise ValueError(f"weights file lacks {k}")
            a = np.asarray(arrays[k], np.float32)
            if a.shape != tuple(v.shape):
                raise ValueError(f"weight {k} has shape {a.shape}, the model needs {tuple(v.shape)}")
            v.assign(a)

    def parameter_count(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.named.values()))

    @property
    def max_len(self) -> int:
        return self.config.max_len

    # ------------------------------------------------------------
    def _cell(self, i, x, h, c):
        w, b = self.cells[i]
        gates = tf.matmul(tf.concat([x, h], -1), w) + b
        ig, fg, gg, og = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(fg) * c + tf.sigmoid(ig) * tf.tanh(gg)
        h = tf.sigmoid(og) * tf.tanh(c)
        return h, c

    def _zero_state(self, batch):
        z = tf.zeros([batch, self.config.units])
        return [(z, z) for _ in range(self.config.layers)]

    def logits(self, ids, training: bool = False):
        """Logits (B, L, V) for every position of ids (B, L)."""
        c = self.config
        x = tf.gather(self.emb, ids)  # (B, L, E)
        if training and c.dropout > 0:
            x = tf.nn.dropout(x, c.dropout)
        batch = tf.shape(ids)[0]
        xs = tf.transpose(x, [1, 0, 2])  # time major
        for i in range(c.layers):
            z = tf.zeros([batch, c.units])

            def fn(carry, xt, i=i):
                h, cc = carry
                return self._cell(i, xt, h, cc)

            hs, _ = tf.scan(fn, xs, initializer=(z, z))
            xs = hs
            if training and c.dropout > 0:
                xs = tf.nn.dropout(xs, c.dropout)
        out = tf.transpose(xs, [1, 0, 2])
        return tf.matmul(out, self.out_w) + self.out_b

    def _step_impl(self, ids, state):
        x = tf.gather(self.emb, ids)
        new = []
        for i, (h, cc) in enumerate(state):
            h, cc = self._cell(i, x, h, cc)
            new.append((h, cc))
            x = h
        return tf.matmul(x, self.out_w) + self.out_b, new

    def prime(self, prompt: np.ndarray):
        prompt = np.asarray(prompt, np.int32)
        if self._step_fn is None:
            self._step_fn = tf.function(self._step_impl, reduce_retracing=True)
        state = self._zero_state(prompt.shape[0])
        logits = None
        for t in range(prompt.shape[1]):
            logits, state = self._step_fn(tf.constant(prompt[:, t]), state)
        return logits.numpy(), {"t": prompt.shape[1], "rnn": state}

    def step(self, state, ids: np.ndarray):
        logits, rnn = self._step_fn(tf.constant(np.asarray(ids, np.int32)), state["rnn"])
        return logits.numpy(), {"t": state["t"] + 1, "rnn": rnn}

    def full_logits_last(self, seqs: np.ndarray) -> np.ndarray:
        """Without a cache: read the whole sequence again."""
        if getattr(self, "_full_fn", None) is None:
            self._full_fn = tf.function(lambda ids: self.logits(ids)[:, -1, :], reduce_retracing=True)
        return self._full_fn(tf.constant(np.asarray(seqs, np.int32))).numpy()
