"""MusicVAE building blocks in TensorFlow 2 on Magenta's unmodified weights.

TensorFlow is imported on first use (lazy_tf), when a model is built.

The cell is Magenta's LSTMBlockCell: kernel rows are [x; h], columns are the gates i, j, f, o,
the forget bias 1.0 is added at run time:
    i, j, f, o = split([x, h] @ W + b, 4)
    c' = sigmoid(f + 1) * c + sigmoid(i) * tanh(j);   h' = tanh(c') * sigmoid(o)
For speed the kernel is split by rows where part of the input is known in advance: the encoder
projects the whole input sequence at once, a decoder projects its conditioning vector (z or the
bar embedding) once per segment and looks up the previous token's row instead of multiplying a
one-hot vector. Weights that are read every step may be kept in bfloat16 (`precision`).
"""
from __future__ import annotations

import contextlib

import numpy as np

from core.musicvae.lazy_tf import tf

from core.musicvae.configs import MusicVAEConfig
from core.musicvae.variables import CONDUCTOR, canonical, decoder_prefixes, encoder_cell

FORGET_BIAS = 1.0
PRECISIONS = ("float32", "bfloat16")


def lstm_update(gates, c):
    """New (h, c) from pre-activation gates [B, 4u] in the order i, j, f, o."""
    i, j, f, o = tf.split(gates, 4, axis=-1)
    c = tf.sigmoid(f + FORGET_BIAS) * c + tf.sigmoid(i) * tf.tanh(j)
    return tf.tanh(c) * tf.sigmoid(o), c


class Weights:
    """Creates variables from a dict of numpy arrays keyed by canonical Magenta names."""

    def __init__(self, arrays: dict[str, np.ndarray], precision: str = "float32"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, not {precision!r}")
        self.arrays = arrays
        self.dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32

    def get(self, name: str) -> np.ndarray:
        return self.arrays[canonical(name)]

    def var(self, value: np.ndarray, name: str, heavy: bool = False) -> tf.Variable:
        """A variable. `heavy` kernels (read every step) are stored transposed, [out, in], which
        oneDNN streams faster for small batches, and in the reduced precision if one was chosen;
        use `matmul` with them."""
        value = np.asarray(value, dtype=np.float32)
        if heavy:
            value = value.T
        t = tf.constant(np.ascontiguousarray(value))
        if heavy and self.dtype != tf.float32:
            t = tf.cast(t, self.dtype)
        return HeavyVariable(t, name) if heavy else tf.Variable(t, trainable=False, name=_var_name(name))


def _var_name(name: str) -> str:
    return canonical(name).replace("/", "__")


class HeavyVariable:
    """A transposed kernel [out, in] (maybe bfloat16); `matmul(x, it)` computes x @ kernel."""

    def __init__(self, value, name: str):
        self.variable = tf.Variable(value, trainable=False, name=_var_name(name))
        self.dtype = self.variable.dtype


_SMALL_BATCH = [False]  # read while a graph is traced; see small_batch_graph


@contextlib.contextmanager
def small_batch_graph(on: bool = True):
    """Graphs traced inside use the float32 product that is fastest for 1..3 rows."""
    old = _SMALL_BATCH[0]
    _SMALL_BATCH[0] = on
    try:
        yield
    finally:
        _SMALL_BATCH[0] = old


def matmul(x, w):
    """x @ kernel in float32 out; `w` is a plain [in, out] variable or a HeavyVariable."""
    if isinstance(w, HeavyVariable):
        v = w.variable
        if v.dtype != tf.float32:
            # oneDNN's bfloat16 kernels (AMX where the CPU has it) are fastest as x @ v^T
            return tf.cast(tf.matmul(tf.cast(x, v.dtype), v, transpose_b=True), tf.float32)
        if _SMALL_BATCH[0]:
            return tf.matmul(x, v, transpose_b=True)
        # from 4 rows on, einsum over the [out, in] kernel is the fastest product measured
        # (benchmarks/bench_matmul.py: 47 GFLOP/s at 8 rows and 152 at 64, against 39 and 114
        # for (v @ x^T)^T, the layout used before, and 30 and 80 for x @ v^T); for 2..3 rows
        # x @ v^T is about twice as fast
        return tf.einsum("ok,bk->bo", v, x)
    return tf.matmul(x, w)


class Dense:
    def __init__(self, weights: Weights, scope: str, heavy: bool = False):
        self.kernel = weights.var(weights.get(f"{scope}/kernel"), f"{scope}/kernel", heavy)
        self.bias = weights.var(weights.get(f"{scope}/bias"), f"{scope}/bias")

    def __call__(self, x):
        return matmul(x, self.kernel) + self.bias


def initial_state(dense: Dense, cond, sizes) -> list:
    """tanh(dense(cond)) split as [c0, h0, c1, h1, ...] -> [(c0, h0), (c1, h1), ...]."""
    parts = tf.split(tf.tanh(dense(cond)), [s for u in sizes for s in (u, u)], axis=-1)
    return [(parts[2 * l], parts[2 * l + 1]) for l in range(len(sizes))]


# ------------------------------------------------------------------ encoder
class BidirectionalEncoder:
    """Stacked bidirectional LSTM; the code is [last forward h, last backward h] of the top layer."""

    def __init__(self, cfg: MusicVAEConfig, weights: Weights):
        self.layers = []
        width = cfg.input_depth
        for k, units in enumerate(cfg.enc_rnn_size):
            dirs = []
            for d in ("fw", "bw"):
                scope = encoder_cell(k, d)
                kernel = weights.get(f"{scope}/kernel")
                dirs.append((weights.var(kernel[:width], f"{scope}/kernel_x"),
                             weights.var(kernel[width:], f"{scope}/kernel_h", heavy=True),
                             weights.var(weights.get(f"{scope}/bias"), f"{scope}/bias"), units))
            self.layers.append(dirs)
            width = 2 * units
        self.mu = Dense(weights, "encoder/mu")
        self.sigma = Dense(weights, "encoder/sigma")

    @staticmethod
    def _run(x, lengths, wx, wh, b, units, reverse):
        """One direction over [B, T, in]; returns outputs [B, T, u] (zero past the length) and last h."""
        if reverse:
            x = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0)
        proj = tf.transpose(tf.einsum("bti,ig->btg", x, wx) + b, [1, 0, 2])  # [T, B, 4u]
        steps = tf.shape(proj)[0]
        batch = tf.shape(proj)[1]
        h = tf.zeros([batch, units])
        c = tf.zeros([batch, units])
        outs = tf.TensorArray(tf.float32, size=steps)
        for t in tf.range(steps):
            h_new, c_new = lstm_update(proj[t] + matmul(h, wh), c)
            live = tf.expand_dims(t < lengths, 1)
            h = tf.where(live, h_new, h)
            c = tf.where(live, c_new, c)
            outs = outs.write(t, tf.where(live, h_new, tf.zeros_like(h_new)))
        out = tf.transpose(outs.stack(), [1, 0, 2])
        if reverse:
            out = tf.reverse_sequence(out, lengths, seq_axis=1, batch_axis=0)
        return out, h

    def __call__(self, x, lengths):
        last_fw = last_bw = None
        for (fw, bw) in self.layers:
            out_fw, last_fw = self._run(x, lengths, *fw, reverse=False)
            out_bw, last_bw = self._run(x, lengths, *bw, reverse=True)
            x = tf.concat([out_fw, out_bw], axis=-1)
        code = tf.concat([last_fw, last_bw], axis=-1)
        return self.mu(code), tf.nn.softplus(self.sigma(code))


# ------------------------------------------------------------------ decoders
class CoreDecoder:
    """Magenta's categorical LSTM decoder: input [previous one-hot, conditioning vector]."""

    def __init__(self, weights: Weights, prefix: str, depth: int, cond_width: int, sizes):
        self.depth = depth
        self.sizes = tuple(sizes)
        self.z_to_initial_state = Dense(weights, f"{prefix}/z_to_initial_state")
        scope0 = f"{prefix}/multi_rnn_cell/cell_0/lstm_cell"
        k0 = weights.get(f"{scope0}/kernel")
        # one row per previous token plus a zero row for "no previous token" (index depth)
        tok = np.concatenate([k0[:depth], np.zeros((1, k0.shape[1]), np.float32)])
        self.token_rows = weights.var(tok, f"{scope0}/kernel_tokens")
        self.cond_kernel = weights.var(k0[depth:depth + cond_width], f"{scope0}/kernel_cond")
        self.h_kernel0 = weights.var(k0[depth + cond_width:], f"{scope0}/kernel_h", heavy=True)
        self.bias0 = weights.var(weights.get(f"{scope0}/bias"), f"{scope0}/bias")
        self.upper = []
        for l in range(1, len(sizes)):
            scope = f"{prefix}/multi_rnn_cell/cell_{l}/lstm_cell"
            self.upper.append((weights.var(weights.get(f"{scope}/kernel"), f"{scope}/kernel", heavy=True),
                               weights.var(weights.get(f"{scope}/bias"), f"{scope}/bias")))
        self.output = Dense(weights, f"{prefix}/output_projection", heavy=True)

    def start(self, cond):
        """Initial state and the conditioning part of layer 0's gates (with its bias)."""
        return initial_state(self.z_to_initial_state, cond, self.sizes), matmul(cond, self.cond_kernel) + self.bias0

    def step(self, prev_token, state, cond_gates):
        """One step: logits [B, depth] and the new state."""
        c, h = state[0]
        gates = tf.gather(self.token_rows, prev_token) + cond_gates + matmul(h, self.h_kernel0)
        h, c = lstm_update(gates, c)
        new_state = [(c, h)]
        x = h
        for l, (kernel, bias) in enumerate(self.upper, start=1):
            c, h_prev = state[l]
            h, c = lstm_update(matmul(tf.concat([x, h_prev], axis=-1), kernel) + bias, c)
            new_state.append((c, h))
            x = h
        return self.output(x), new_state


class Conductor:
    """The hierarchical decoder's top level: one step per bar on a zero input of width 1."""

    def __init__(self, weights: Weights, sizes):
        self.sizes = tuple(sizes)
        self.initial = Dense(weights, f"{CONDUCTOR}/initial_state")
        self.cells = []
        for l in range(len(sizes)):
            scope = f"{CONDUCTOR}/cell_{l}/lstm_cell"
            kernel = weights.get(f"{scope}/kernel")
            # layer 0 reads [0; h]: the zero input's row adds nothing, so it is left out
            kernel = kernel[1:] if l == 0 else kernel
            self.cells.append((weights.var(kernel, f"{scope}/kernel", heavy=True),
                               weights.var(weights.get(f"{scope}/bias"), f"{scope}/bias")))

    def start(self, z):
        return initial_state(self.initial, z, self.sizes)

    def step(self, state):
        new_state = []
        x = None
        for l, (kernel, bias) in enumerate(self.cells):
            c, h = state[l]
            inp = h if x is None else tf.concat([x, h], axis=-1)
            h, c = lstm_update(matmul(inp, kernel) + bias, c)
            new_state.append((c, h))
            x = h
        return x, new_state


def choose_tokens(logits, temperature, seed):
    """argmax when temperature <= 0, else a draw from softmax(logits / temperature)."""
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    drawn = tf.random.stateless_categorical(logits / tf.maximum(temperature, 1e-8), 1, seed,
                                            dtype=tf.int32)[:, 0]
    return tf.where(temperature > 0, drawn, greedy)


class Decoder:
    """Flat, hierarchical or trio decoder; `decode` runs the whole loop in one graph."""

    def __init__(self, cfg: MusicVAEConfig, weights: Weights):
        self.cfg = cfg
        dec = cfg.dec_rnn_size
        if cfg.hierarchical:
            self.conductor = Conductor(weights, dec)
            cond_width = dec[-1]
            self.segments, self.segment_length = cfg.level_lengths
        else:
            self.conductor = None
            cond_width = cfg.z_size
            self.segments, self.segment_length = 1, cfg.steps
        self.cores = [CoreDecoder(weights, prefix, depth, cond_width, dec)
                      for prefix, depth in zip(decoder_prefixes(cfg), cfg.output_depths)]

    def decode(self, z, temperature, seed, steps):
        """Tokens [B, steps, cores] (int32), and the gap between the two largest logits at each
        step [B, steps, cores] (how close argmax was to a tie). `steps` only shortens a flat decoder."""
        batch = tf.shape(z)[0]
        if self.conductor is not None:
            segments, seg_len = self.segments, self.segment_length
            cond_state = self.conductor.start(z)
        else:
            segments, seg_len = 1, steps
            cond_state = []
        prev = [tf.fill([batch], core.depth) for core in self.cores]
        out = tf.TensorArray(tf.int32, size=segments * seg_len)
        gaps = tf.TensorArray(tf.float32, size=segments * seg_len)
        t = tf.constant(0)
        for _ in tf.range(segments):
            if self.conductor is not None:
                emb, cond_state = self.conductor.step(cond_state)
            else:
                emb = z
            starts = [core.start(emb) for core in self.cores]
            states = [s for s, _ in starts]
            cond_gates = [g for _, g in starts]
            for _ in tf.range(seg_len):
                step_seed = tf.random.experimental.stateless_fold_in(seed, t)
                tokens = []
                step_gaps = []
                new_states = []
                for i, core in enumerate(self.cores):
                    logits, st = core.step(prev[i], states[i], cond_gates[i])
                    core_seed = tf.random.experimental.stateless_fold_in(step_seed, i)
                    tokens.append(choose_tokens(logits, temperature, core_seed))
                    top2 = tf.math.top_k(logits, 2).values
                    step_gaps.append(top2[:, 0] - top2[:, 1])
                    new_states.append(st)
                states = new_states
                prev = tokens
                out = out.write(t, tf.stack(tokens, axis=-1))
                gaps = gaps.write(t, tf.stack(step_gaps, axis=-1))
                t += 1
        return tf.transpose(out.stack(), [1, 0, 2]), tf.transpose(gaps.stack(), [1, 0, 2])
