"""The trainable MusicVAE: Magenta's variables (names and shapes) and a TF2 forward pass.

TensorFlow is imported on first use (lazy_tf). One `tf.Variable` is kept per Magenta variable,
keyed by its canonical name (variables.canonical), so the weights can be written with
checkpoint.save_model and read back by the inference engine (core/musicvae/model.py) unchanged.

The cell is LSTMBlockCell's: gates i, j, f, o in the kernel's columns, kernel rows [x; h], the
forget bias 1.0 added at run time (layers.lstm_update is shared with the engine).

Two ways through the decoder:
- teacher forcing, layer by layer: every step's input is [previous target one-hot, z] (or the
  bar embedding of a hierarchical decoder), known in advance, so each layer's input projection
  is one big matrix product and only h @ W_h stays inside the recurrence. A hierarchical decoder
  restarts its core state every bar, so the bars are folded into the batch.
- step by step (`stepwise`): every layer advances one step at a time and the next input is chosen
  from the logits (argmax, or a draw), or, with scheduled sampling, from the target or the model's
  own draw per sequence and step. Free-running reconstruction uses it with argmax.

Inputs are token arrays ([B, T] for melody and drums, [B, T, 3] for trios), turned into the
encoder's input and the decoder's previous-token rows inside the graph.
"""
from __future__ import annotations

import math

import numpy as np
from core.musicvae.lazy_tf import tf

from core.musicvae.configs import MusicVAEConfig
from core.musicvae.layers import lstm_update
from core.musicvae.variables import CONDUCTOR, canonical, decoder_prefixes, encoder_cell, expected_variables

DRUM_BITS = 9


def initial_weights(cfg: MusicVAEConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """TF1's defaults for a new model: Glorot-uniform kernels, zero biases."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in expected_variables(cfg).items():
        if name.endswith("/bias"):
            out[canonical(name)] = np.zeros(shape, np.float32)
        else:
            limit = math.sqrt(6.0 / (shape[0] + shape[1]))
            out[canonical(name)] = rng.uniform(-limit, limit, shape).astype(np.float32)
    return out


def scan_lstm(proj, wh, c, h):
    """Run one LSTM layer over precomputed input gates proj [T, B, 4u] (time-major).

    Returns outputs [T, B, u] and the final (c, h). A while loop, not an unrolled graph: unrolling
    32 steps made the first (traced) training step about 7 times slower and later steps no faster.
    """
    static = proj.shape[0]
    n = static if static is not None else tf.shape(proj)[0]
    inputs = tf.TensorArray(proj.dtype, size=n).unstack(proj)
    outs = tf.TensorArray(proj.dtype, size=n)

    def body(t, c, h, outs):
        h, c = lstm_update(inputs.read(t) + tf.matmul(h, wh), c)
        return t + 1, c, h, outs.write(t, h)

    _, c, h, outs = tf.while_loop(lambda t, *_: t < n, body, (tf.constant(0), c, h, outs),
                                  maximum_iterations=static)  # static when known (XLA needs it)
    out = outs.stack()
    out.set_shape([static, proj.shape[1], wh.shape[0]])
    return out, (c, h)


class TrainGraph:
    """Variables and forward pass of one MusicVAE config (see the module docstring)."""

    def __init__(self, cfg: MusicVAEConfig, weights: dict[str, np.ndarray] | None = None, seed: int = 0):
        self.cfg = cfg
        weights = initial_weights(cfg, seed) if weights is None else weights
        self.names = [canonical(n) for n in expected_variables(cfg)]
        self.vars = {n: tf.Variable(np.asarray(weights[n], np.float32), name=n.replace("/", "__"))
                     for n in self.names}
        self.variables = [self.vars[n] for n in self.names]
        if cfg.hierarchical:
            self.segments, self.segment_length = cfg.level_lengths
            self.cond_width = cfg.dec_rnn_size[-1]
        else:
            self.segments, self.segment_length = 1, cfg.steps
            self.cond_width = cfg.z_size
        self.prefixes = decoder_prefixes(cfg)

    # ------------------------------------------------------------ weights
    def v(self, name: str):
        return self.vars[canonical(name)]

    def numpy_weights(self) -> dict[str, np.ndarray]:
        return {n: v.numpy() for n, v in self.vars.items()}

    def assign(self, weights: dict[str, np.ndarray]) -> None:
        for n, v in self.vars.items():
            v.assign(np.asarray(weights[n], np.float32))

    def parameter_count(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.variables))

    # ------------------------------------------------------------ helpers
    def _columns(self, tokens):
        """One [B, T] token column per core decoder."""
        if self.cfg.data == "trio":
            return [tokens[..., i] for i in range(len(self.cfg.output_depths))]
        return [tokens]

    def _dense(self, scope, x):
        return tf.matmul(x, self.v(f"{scope}/kernel")) + self.v(f"{scope}/bias")

    def _initial_state(self, scope, cond):
        """tanh(dense(cond)) split [c0, h0, c1, h1, ...] -> [(c0, h0), ...]; cond [..., w]."""
        sizes = self.cfg.dec_rnn_size
        x = tf.tanh(tf.tensordot(cond, self.v(f"{scope}/kernel"), 1) + self.v(f"{scope}/bias"))
        parts = tf.split(x, [s for u in sizes for s in (u, u)], axis=-1)
        return [(parts[2 * l], parts[2 * l + 1]) for l in range(len(sizes))]

    def _encoder_projection(self, tokens_tm, wx):
        """Layer 0's input gates [T, B, 4u] from time-major tokens."""
        kind = self.cfg.data
        if kind == "melody":
            return tf.gather(wx, tokens_tm)
        if kind == "drums":
            bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(tokens_tm[..., None], tf.range(DRUM_BITS)), 1)
            roll = tf.concat([tf.cast(bits, tf.float32), tf.cast(tokens_tm == 0, tf.float32)[..., None]], -1)
            return tf.tensordot(roll, wx, 1)
        out, offset = 0.0, 0
        for i, depth in enumerate(self.cfg.output_depths):
            out = out + tf.gather(wx, tokens_tm[..., i] + offset)
            offset += depth
        return out

    # ------------------------------------------------------------ encoder
    def encode(self, tokens):
        """(mu, sigma) [B, z] of full-length token sequences."""
        cfg = self.cfg
        batch = tf.shape(tokens)[0]
        tokens_tm = tf.transpose(tokens, [1, 0, 2] if cfg.data == "trio" else [1, 0])
        x = None
        width = cfg.input_depth
        lasts = []
        for k, units in enumerate(cfg.enc_rnn_size):
            outs, lasts = [], []
            for d in ("fw", "bw"):
                scope = encoder_cell(k, d)
                kernel, bias = self.v(f"{scope}/kernel"), self.v(f"{scope}/bias")
                proj = (self._encoder_projection(tokens_tm, kernel[:width]) if x is None
                        else tf.tensordot(x, kernel[:width], 1)) + bias
                if d == "bw":
                    proj = tf.reverse(proj, [0])
                zeros = tf.zeros([batch, units])
                out, (_, h) = scan_lstm(proj, kernel[width:], zeros, zeros)
                outs.append(tf.reverse(out, [0]) if d == "bw" else out)
                lasts.append(h)
            x = tf.concat(outs, -1)
            width = 2 * units
        code = tf.concat(lasts, -1)
        mu = self._dense("encoder/mu", code)
        sigma = tf.nn.softplus(self._dense("encoder/sigma", code))
        return mu, sigma

    # ------------------------------------------------------------ conductor
    def conductor(self, z):
        """Bar embeddings [S, B, u] (time-major) of a hierarchical decoder."""
        state = self._initial_state(f"{CONDUCTOR}/initial_state", z)
        x = None
        width = 1
        for l, units in enumerate(self.cfg.dec_rnn_size):
            scope = f"{CONDUCTOR}/cell_{l}/lstm_cell"
            kernel, bias = self.v(f"{scope}/kernel"), self.v(f"{scope}/bias")
            if x is None:  # a zero input of width 1: only the bias remains
                proj = tf.broadcast_to(bias, [self.segments, tf.shape(z)[0], 4 * units])
            else:
                proj = tf.tensordot(x, kernel[:width], 1) + bias
            c, h = state[l]
            x, _ = scan_lstm(proj, kernel[width:], c, h)
            width = units
        return x

    def _conditions(self, z):
        """The vector each decoder segment is conditioned on: [S, B, w]."""
        return self.conductor(z) if self.cfg.hierarchical else z[None]

    # ------------------------------------------------------------ decoders
    def _core_layers(self, prefix, depth):
        """Layer 0 split into (token rows + a zero row, conditioning rows, h rows, bias) and the
        upper layers as (kernel, bias)."""
        sizes = self.cfg.dec_rnn_size
        k0 = self.v(f"{prefix}/cell_0/lstm_cell/kernel")
        tok = tf.concat([k0[:depth], tf.zeros([1, 4 * sizes[0]])], 0)  # index depth: no previous token
        first = (tok, k0[depth:depth + self.cond_width], k0[depth + self.cond_width:],
                 self.v(f"{prefix}/cell_0/lstm_cell/bias"))
        upper = [(self.v(f"{prefix}/cell_{l}/lstm_cell/kernel"), self.v(f"{prefix}/cell_{l}/lstm_cell/bias"))
                 for l in range(1, len(sizes))]
        return first, upper

    def teacher_forced_logits(self, z, tokens):
        """Logits [B, T, depth] per core decoder, each step reading the previous target."""
        batch = tf.shape(z)[0]
        seg, seg_len = self.segments, self.segment_length
        cond = self._conditions(z)  # [S, B, w]
        cond = tf.reshape(tf.transpose(cond, [1, 0, 2]), [-1, cond.shape[-1]])  # [B*S, w], bar-major per seq
        sizes = self.cfg.dec_rnn_size
        result = []
        for prefix, depth, target in zip(self.prefixes, self.cfg.output_depths, self._columns(tokens)):
            (tok, wc, wh, b0), upper = self._core_layers(prefix, depth)
            prev = tf.concat([tf.fill([batch, 1], depth), target[:, :-1]], 1)
            prev = tf.transpose(tf.reshape(prev, [batch * seg, seg_len]))  # [L, B*S]
            state = self._initial_state(f"{prefix}/z_to_initial_state", cond)
            proj = tf.gather(tok, prev) + (tf.matmul(cond, wc) + b0)[None]
            x, _ = scan_lstm(proj, wh, *state[0])
            for l, (kernel, bias) in enumerate(upper, start=1):
                proj = tf.tensordot(x, kernel[:sizes[l - 1]], 1) + bias
                x, _ = scan_lstm(proj, kernel[sizes[l - 1]:], *state[l])
            logits = tf.tensordot(x, self.v(f"{prefix}/output_projection/kernel"), 1) \
                + self.v(f"{prefix}/output_projection/bias")  # [L, B*S, depth]
            logits = tf.reshape(tf.transpose(logits, [1, 0, 2]), [batch, seg * seg_len, depth])
            result.append(logits)
        return result

    def stepwise(self, z, tokens=None, sample_probability=0.0, greedy=True, seed=None, temperature=1.0):
        """Decode step by step: (logits per core [B, T, depth], chosen tokens [B, T, cores]).

        Each step's choice is the argmax (`greedy`) or a draw from softmax(logits / temperature). Without
        `tokens` the choice is fed back (free running); with `tokens` each sequence reads the
        target, or its own choice with probability `sample_probability` (scheduled sampling).
        """
        batch = tf.shape(z)[0]
        sizes = self.cfg.dec_rnn_size
        seed = tf.zeros([2], tf.int32) if seed is None else seed
        conds = self._conditions(z)
        cores = []
        for prefix, depth in zip(self.prefixes, self.cfg.output_depths):
            first, upper = self._core_layers(prefix, depth)
            out = (self.v(f"{prefix}/output_projection/kernel"), self.v(f"{prefix}/output_projection/bias"))
            cores.append((prefix, depth, first, upper, out))
        n_cores = len(cores)
        segs, seg_len = self.segments, self.segment_length
        # per segment (bar): each core's initial state and the conditioning part of its gates,
        # read once per segment by the outer loop
        seg_inputs = []
        for prefix, depth, (tok, wc, wh, b0), upper, out in cores:
            state = self._initial_state(f"{prefix}/z_to_initial_state", conds)
            seg_inputs.append(([(c, h) for c, h in state], tf.tensordot(conds, wc, 1) + b0))
        seg_inputs = tf.nest.map_structure(lambda x: tf.TensorArray(x.dtype, size=segs).unstack(x), seg_inputs)
        if tokens is not None:
            seg_targets = [tf.TensorArray(tf.int32, size=segs).unstack(
                tf.transpose(tf.reshape(col, [batch, segs, seg_len]), [1, 2, 0])) for col in self._columns(tokens)]

        def step(s, t, prev, states, cond_gates, targets):
            step_seed = tf.random.experimental.stateless_fold_in(seed, s * seg_len + t)
            new_prev, new_states, logits_all, choices = [], [], [], []
            for i, (prefix, depth, (tok, wc, wh, b0), upper, (wo, bo)) in enumerate(cores):
                c, h = states[i][0]
                h, c = lstm_update(tf.gather(tok, prev[i]) + cond_gates[i] + tf.matmul(h, wh), c)
                st = [(c, h)]
                x = h
                for l, (kernel, bias) in enumerate(upper, start=1):
                    c, h_prev = states[i][l]
                    h, c = lstm_update(tf.matmul(tf.concat([x, h_prev], -1), kernel) + bias, c)
                    st.append((c, h))
                    x = h
                logits = tf.matmul(x, wo) + bo
                core_seed = tf.random.experimental.stateless_fold_in(step_seed, i)
                if greedy:
                    choice = tf.argmax(logits, -1, output_type=tf.int32)
                else:
                    choice = tf.random.stateless_categorical(logits / temperature, 1, core_seed,
                                                             dtype=tf.int32)[:, 0]
                nxt = choice
                if targets is not None:
                    mix_seed = tf.random.experimental.stateless_fold_in(core_seed, 7)
                    use_own = tf.random.stateless_uniform([batch], mix_seed) < sample_probability
                    nxt = tf.where(use_own, choice, targets[i].read(t))
                new_prev.append(nxt)
                new_states.append(st)
                logits_all.append(logits)
                choices.append(choice)
            return new_prev, new_states, logits_all, choices

        def segment(s, prev, logit_tas, choice_tas):
            states = [[(c.read(s), h.read(s)) for c, h in layers] for layers, _ in seg_inputs]
            cond_gates = [g.read(s) for _, g in seg_inputs]
            targets = None
            if tokens is not None:
                targets = [tf.TensorArray(tf.int32, size=seg_len).unstack(ta.read(s)) for ta in seg_targets]

            def inner(t, prev, states, l_tas, c_tas):
                prev, states, logits, choices = step(s, t, prev, states, cond_gates, targets)
                return (t + 1, prev, states, [ta.write(t, x) for ta, x in zip(l_tas, logits)],
                        [ta.write(t, x) for ta, x in zip(c_tas, choices)])

            l_tas = [tf.TensorArray(tf.float32, size=seg_len) for _ in range(n_cores)]
            c_tas = [tf.TensorArray(tf.int32, size=seg_len) for _ in range(n_cores)]
            _, prev, _, l_tas, c_tas = tf.while_loop(lambda t, *_: t < seg_len, inner,
                                                     (tf.constant(0), prev, states, l_tas, c_tas),
                                                     maximum_iterations=seg_len)
            return (s + 1, prev, [ta.write(s, x.stack()) for ta, x in zip(logit_tas, l_tas)],
                    [ta.write(s, x.stack()) for ta, x in zip(choice_tas, c_tas)])

        prev = [tf.fill([batch], depth) for _, depth, *_ in cores]
        logit_tas = [tf.TensorArray(tf.float32, size=segs) for _ in range(n_cores)]
        choice_tas = [tf.TensorArray(tf.int32, size=segs) for _ in range(n_cores)]
        _, _, logit_tas, choice_tas = tf.while_loop(lambda s, *_: s < segs, segment,
                                                    (tf.constant(0), prev, logit_tas, choice_tas),
                                                    maximum_iterations=segs)
        steps = segs * seg_len
        # [S, L, B, d] -> [B, S * L, d]
        logits = [tf.reshape(tf.transpose(ta.stack(), [2, 0, 1, 3]), [batch, steps, depth])
                  for ta, (_, depth, *_) in zip(logit_tas, cores)]
        chosen = tf.stack([tf.reshape(tf.transpose(ta.stack(), [2, 0, 1]), [batch, steps]) for ta in choice_tas], -1)
        return logits, chosen

    # ------------------------------------------------------------ losses
    def reconstruction(self, logits, tokens):
        """(loss per sequence [B]: cross-entropy summed over steps and cores, correct count,
        token count) as Magenta sums it."""
        loss, correct, count = 0.0, 0.0, 0.0
        for lg, target in zip(logits, self._columns(tokens)):
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=lg)
            loss = loss + tf.reduce_sum(ce, 1)
            hit = tf.equal(tf.argmax(lg, -1, output_type=tf.int32), target)
            correct = correct + tf.reduce_sum(tf.cast(hit, tf.float32))
            count = count + tf.cast(tf.size(target), tf.float32)
        return loss, correct, count


def kl_divergence(mu, sigma):
    """KL(N(mu, sigma) || N(0, I)) per sequence, summed over the latent dimensions."""
    return tf.reduce_sum(-tf.math.log(sigma + 1e-12) + 0.5 * (tf.square(sigma) + tf.square(mu)) - 0.5, -1)
