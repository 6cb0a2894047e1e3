"""A small decoder-only Transformer over the event stream (core/seq/events.py), TensorFlow 2.

Music Transformer's relative position self-attention (Huang et al. 2018): each head adds to the
content logits q_i . k_j a term q_i . E[j - i] from a learned embedding per relative distance
(0, -1, ..., -(max_len - 1)). The full-sequence pass computes it with the memory-efficient
"skewing": Q E^T (L x L) is padded by one column on the left, reshaped to (L + 1) x L and its
first row dropped, which moves entry (i, r) to (i, r - (L - 1) + i), i.e. relative distance
j - i at column j, with no L x L x d tensor. There are no absolute position embeddings.

Generation keeps a key/value cache of max_len slots per layer. `prime` runs the full pass on the
prompt (TensorFlow) and copies its keys and values into the cache; `step` embeds one token per
sequence, attends over the cached keys up to its position (the relative term for distances
0..-t) and writes its key and value into slot t. `step` after `prime` gives the logits of a full
recompute (tests/test_seq_models.py).

The step is written in NumPy on a snapshot of the weights taken by `prime`, not in TensorFlow:
one step is about 2 MFLOP at batch 1, and as a traced tf.function it ran about 180 small ops whose
dispatch, not their arithmetic, took the time. benchmarks/bench_seq_step.py times the three
ways side by side on the shipped model; on 2 quiet cores (AMD EPYC, AVX-512): tf.function 2.8 ms
per step at batch 1 and 9.7 ms at batch 8, XLA (jit_compile) 1.3 and 6.2 ms after 1.3-1.8 s of
compiling for every new batch size, NumPy 0.36 and 0.77 ms with nothing to trace; the logits
agree within 1.1e-5.

Plain tf.Variables in a tf.Module (the project does not use Keras); weights are saved by name.
TensorFlow is imported on first use (core.musicvae.lazy_tf).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from core.musicvae.lazy_tf import tf
from core.seq import events as ev


@dataclass
class TransformerConfig:
    vocab_size: int = ev.VOCAB_SIZE
    d_model: int = 128
    layers: int = 4
    heads: int = 4
    d_ff: int = 512
    max_len: int = 512
    dropout: float = 0.1

    @property
    def arch(self) -> str:
        return "transformer"

    def to_dict(self) -> dict:
        return {"arch": "transformer", **asdict(self)}


def _layer_norm(x, g, b, eps=1e-5):
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + eps) * g + b


def _np_layer_norm(x, g, b, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * g + b


def _np_gelu(x):
    """GELU with erf, as tf.nn.gelu(approximate=False). NumPy has no erf and the project does not
    depend on SciPy: Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7)."""
    z = x * np.float32(1.0 / math.sqrt(2.0))
    a = np.abs(z)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = ((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t + np.float32(1.421413741)) * t
             - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t
    erf = np.sign(z) * (1.0 - poly * np.exp(-a * a))
    return 0.5 * x * (1.0 + erf)


class SeqTransformer:
    """Call `logits(ids)` for training and scoring, `prime` then `step` for generation."""

    def __init__(self, config: TransformerConfig, seed: int = 0):
        self.config = c = config
        if c.d_model % c.heads:
            raise ValueError("d_model must be a multiple of heads")
        self.dh = c.d_model // c.heads
        rng = np.random.default_rng(seed)

        def var(name, shape, scale=None, value=None):
            if value is None:
                s = scale if scale is not None else 1.0 / math.sqrt(shape[0])
                value = rng.normal(0.0, s, size=shape)
            v = tf.Variable(np.asarray(value, np.float32), name=name)
            self.named[name] = v
            return v

        self.named: dict = {}
        d, f = c.d_model, c.d_ff
        self.emb = var("emb", (c.vocab_size, d), scale=d ** -0.5)
        self.blocks = []
        for i in range(c.layers):
            p = f"l{i}/"
            self.blocks.append(dict(
                ln1g=var(p + "ln1g", (d,), value=np.ones(d)), ln1b=var(p + "ln1b", (d,), value=np.zeros(d)),
                wqkv=var(p + "wqkv", (d, 3 * d)), wo=var(p + "wo", (d, d), scale=(d * 2 * c.layers) ** -0.5),
                er=var(p + "er", (c.heads, c.max_len, self.dh), scale=self.dh ** -0.5),
                ln2g=var(p + "ln2g", (d,), value=np.ones(d)), ln2b=var(p + "ln2b", (d,), value=np.zeros(d)),
                w1=var(p + "w1", (d, f)), b1=var(p + "b1", (f,), value=np.zeros(f)),
                w2=var(p + "w2", (f, d), scale=(f * 2 * c.layers) ** -0.5), b2=var(p + "b2", (d,), value=np.zeros(d)),
            ))
        self.lnfg = var("lnfg", (d,), value=np.ones(d))
        self.lnfb = var("lnfb", (d,), value=np.zeros(d))
        # A separate output matrix: tied to the input embedding, a fresh model predicts the token
        # it has just read (logit |e|^2), which made its first loss twice the uniform one.
        self.out_w = var("out_w", (d, c.vocab_size), scale=0.02)
        self.out_b = var("out_b", (c.vocab_size,), value=np.zeros(c.vocab_size))
        self._forward_traced = None

    # ------------------------------------------------------------ weights
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

    # ------------------------------------------------------------ pieces
    def _split_heads(self, x):  # (B, L, d) -> (B, H, L, dh)
        b = tf.shape(x)[0]
        x = tf.reshape(x, [b, -1, self.config.heads, self.dh])
        return tf.transpose(x, [0, 2, 1, 3])

    def _merge_heads(self, x):  # (B, H, L, dh) -> (B, L, d)
        b = tf.shape(x)[0]
        x = tf.transpose(x, [0, 2, 1, 3])
        return tf.reshape(x, [b, -1, self.config.d_model])

    def _ffn(self, blk, x, training):
        h = _layer_norm(x, blk["ln2g"], blk["ln2b"])
        h = tf.nn.gelu(tf.matmul(h, blk["w1"]) + blk["b1"])
        h = tf.matmul(h, blk["w2"]) + blk["b2"]
        if training and self.config.dropout > 0:
            h = tf.nn.dropout(h, self.config.dropout)
        return x + h

    def _logits_out(self, x):
        x = _layer_norm(x, self.lnfg, self.lnfb)
        return tf.matmul(x, self.out_w) + self.out_b

    @staticmethod
    def skew(rel):
        """(B, H, L, L) of q_i . E_r (r = 0 for distance -(L-1) ... L-1 for 0) -> S[i, j] = q_i . E[j - i]."""
        shape = tf.shape(rel)
        b, h, length = shape[0], shape[1], shape[2]
        padded = tf.pad(rel, [[0, 0], [0, 0], [0, 0], [1, 0]])
        padded = tf.reshape(padded, [b, h, length + 1, length])
        return padded[:, :, 1:, :]

    # ------------------------------------------------------------ full pass
    def forward(self, ids, training: bool = False, return_kv: bool = False):
        """Logits (B, L, V) for every position of `ids` (B, L), L <= max_len."""
        c = self.config
        length = tf.shape(ids)[1]
        x = tf.gather(self.emb, ids) * math.sqrt(c.d_model)
        causal = tf.linalg.band_part(tf.ones([length, length]), -1, 0)
        neg = (1.0 - causal) * -1e9
        kvs = []
        for blk in self.blocks:
            h = _layer_norm(x, blk["ln1g"], blk["ln1b"])
            q, k, v = tf.split(tf.matmul(h, blk["wqkv"]), 3, axis=-1)
            q, k, v = self._split_heads(q), self._split_heads(k), self._split_heads(v)
            if return_kv:
                kvs.append((k, v))
            er = blk["er"][:, c.max_len - length:, :]  # distances -(L-1) .. 0
            rel = self.skew(tf.einsum("bhid,hrd->bhir", q, er))
            att = (tf.matmul(q, k, transpose_b=True) + rel) / math.sqrt(self.dh) + neg
            w = tf.nn.softmax(att, axis=-1)
            if training and c.dropout > 0:
                w = tf.nn.dropout(w, c.dropout)
            o = tf.matmul(self._merge_heads(tf.matmul(w, v)), blk["wo"])
            if training and c.dropout > 0:
                o = tf.nn.dropout(o, c.dropout)
            x = self._ffn(blk, x + o, training)
        logits = self._logits_out(x)
        return (logits, kvs) if return_kv else logits

    def logits(self, ids, training: bool = False):
        return self.forward(ids, training=training)

    # ------------------------------------------------------------ generation
    def _forward_kv(self, ids):
        logits, kvs = self.forward(ids, return_kv=True)
        return logits, tf.stack([k for k, _ in kvs]), tf.stack([v for _, v in kvs])

    def _forward_fn(self):
        if self._forward_traced is None:
            # one trace for every batch size and length
            self._forward_traced = tf.function(self._forward_kv,
                                         input_signature=[tf.TensorSpec([None, None], tf.int32)])
        return self._forward_traced

    def prime(self, prompt: np.ndarray):
        """prompt (B, P) int, P >= 1: (logits after the last prompt token, state).

        The state holds the cache as NumPy arrays that `step` fills in place: a state is used
        once (step returns the one to go on with)."""
        c = self.config
        prompt = np.asarray(prompt, np.int32)
        b, p = prompt.shape
        if not 1 <= p <= c.max_len:
            raise ValueError(f"prompt of {p} tokens; this model reads 1 to {c.max_len}")
        logits, ks, vs = self._forward_fn()(tf.constant(prompt))
        cache_k = np.zeros((c.layers, b, c.heads, c.max_len, self.dh), np.float32)
        cache_v = np.zeros_like(cache_k)
        cache_k[:, :, :, :p] = ks.numpy()
        cache_v[:, :, :, :p] = vs.numpy()
        return logits[:, p - 1, :].numpy(), {"t": p, "ks": cache_k, "vs": cache_v,
                                             "w": self.get_weights()}

    def step(self, state, ids: np.ndarray):
        """Feed one token per sequence at the next position: (logits, state)."""
        c = self.config
        t = state["t"]
        if t >= c.max_len:
            raise ValueError("the cache is full")
        if state.get("spent"):
            # its cache has been written past t: stepping from it again would read a wrong history
            raise ValueError("this state was already stepped from; go on with the one step returned")
        state["spent"] = True
        w, ks, vs = state["w"], state["ks"], state["vs"]
        ids = np.asarray(ids, np.int32)
        b, d, h, dh = ids.shape[0], c.d_model, c.heads, self.dh
        scale = np.float32(1.0 / math.sqrt(dh))
        x = w["emb"][ids] * np.float32(math.sqrt(d))  # (B, d)
        for i in range(c.layers):
            p = f"l{i}/"
            qkv = _np_layer_norm(x, w[p + "ln1g"], w[p + "ln1b"]) @ w[p + "wqkv"]
            q = qkv[:, :d].reshape(b, h, 1, dh)
            ks[i, :, :, t] = qkv[:, d:2 * d].reshape(b, h, dh)
            vs[i, :, :, t] = qkv[:, 2 * d:].reshape(b, h, dh)
            er = w[p + "er"][:, c.max_len - 1 - t:]  # (H, t + 1, dh): distances -t .. 0
            att = (q @ ks[i, :, :, :t + 1].transpose(0, 1, 3, 2) + q @ er.transpose(0, 2, 1)) * scale
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att /= att.sum(axis=-1, keepdims=True)
            x = x + (att @ vs[i, :, :, :t + 1]).reshape(b, d) @ w[p + "wo"]
            hid = _np_gelu(_np_layer_norm(x, w[p + "ln2g"], w[p + "ln2b"]) @ w[p + "w1"] + w[p + "b1"])
            x = x + hid @ w[p + "w2"] + w[p + "b2"]
        logits = _np_layer_norm(x, w["lnfg"], w["lnfb"]) @ w["out_w"] + w["out_b"]
        return logits, {"t": t + 1, "ks": ks, "vs": vs, "w": w}

    def full_logits_last(self, seqs: np.ndarray) -> np.ndarray:
        """Logits after the last token of each sequence by a full recompute (no cache)."""
        seqs = np.asarray(seqs, np.int32)
        logits, _, _ = self._forward_fn()(tf.constant(seqs))
        return logits[:, -1, :].numpy()

    @property
    def max_len(self) -> int:
        return self.config.max_len
