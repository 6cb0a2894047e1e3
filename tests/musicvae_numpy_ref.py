"""A plain numpy MusicVAE written straight from Magenta's description, for tests.

It works on the unsplit kernels ([x; h] @ W + b) and one-hot inputs exactly as Magenta's graph
does, so comparing it with the TensorFlow engine checks the engine's kernel splitting, token row
lookups, state layout and loops.
"""
import numpy as np

from core.musicvae.variables import CONDUCTOR, canonical, decoder_prefixes, encoder_cell


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_block_cell(x, state, kernel, bias, forget_bias=1.0):
    c, h = state
    gates = np.concatenate([x, h], axis=1) @ kernel + bias
    i, j, f, o = np.split(gates, 4, axis=1)
    c = sigmoid(f + forget_bias) * c + sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * sigmoid(o)
    return h, (c, h)


def _w(weights, name):
    return weights[canonical(name)].astype(np.float64)


def encode(cfg, weights, inputs, lengths):
    x = inputs.astype(np.float64)
    n, T, _ = x.shape
    for k, units in enumerate(cfg.enc_rnn_size):
        outs = {}
        finals = {}
        for d in ("fw", "bw"):
            kern = _w(weights, encoder_cell(k, d) + "/kernel")
            bias = _w(weights, encoder_cell(k, d) + "/bias")
            out = np.zeros((n, T, units))
            final = np.zeros((n, units))
            for b in range(n):
                L = int(lengths[b])
                order = range(L) if d == "fw" else range(L - 1, -1, -1)
                state = (np.zeros((1, units)), np.zeros((1, units)))
                for t in order:
                    h, state = lstm_block_cell(x[b:b + 1, t], state, kern, bias)
                    out[b, t] = h[0]
                final[b] = state[1][0]
            outs[d], finals[d] = out, final
        x = np.concatenate([outs["fw"], outs["bw"]], axis=2)
    code = np.concatenate([finals["fw"], finals["bw"]], axis=1)
    mu = code @ _w(weights, "encoder/mu/kernel") + _w(weights, "encoder/mu/bias")
    pre = code @ _w(weights, "encoder/sigma/kernel") + _w(weights, "encoder/sigma/bias")
    return mu, np.log1p(np.exp(pre))


def _initial(weights, scope, cond, sizes):
    flat = np.tanh(cond @ _w(weights, scope + "/kernel") + _w(weights, scope + "/bias"))
    states, a = [], 0
    for u in sizes:
        states.append((flat[:, a:a + u], flat[:, a + u:a + 2 * u]))
        a += 2 * u
    return states


def _core_run(weights, prefix, depth, cond, sizes, steps, start):
    """Argmax decode of one core decoder for `steps` steps; returns tokens and the last one-hot."""
    states = _initial(weights, prefix + "/z_to_initial_state", cond, sizes)
    prev = start
    tokens = []
    for _ in range(steps):
        x = np.concatenate([prev, cond], axis=1)
        new = []
        for l, st in enumerate(states):
            scope = f"{prefix}/multi_rnn_cell/cell_{l}/lstm_cell"
            x, st = lstm_block_cell(x, st, _w(weights, scope + "/kernel"), _w(weights, scope + "/bias"))
            new.append(st)
        states = new
        logits = x @ _w(weights, prefix + "/output_projection/kernel") + _w(weights, prefix + "/output_projection/bias")
        tok = logits.argmax(axis=1)
        tokens.append(tok)
        prev = np.eye(depth)[tok]
    return np.stack(tokens, axis=1), prev


def decode_argmax(cfg, weights, z):
    z = z.astype(np.float64)
    n = len(z)
    sizes = cfg.dec_rnn_size
    prefixes = decoder_prefixes(cfg)
    if not cfg.hierarchical:
        toks, _ = _core_run(weights, prefixes[0], cfg.output_depths[0], z, sizes, cfg.steps,
                            np.zeros((n, cfg.output_depths[0])))
        return toks
    bars, bar_len = cfg.level_lengths
    cstates = _initial(weights, CONDUCTOR + "/initial_state", z, sizes)
    starts = [np.zeros((n, d)) for d in cfg.output_depths]
    out = []
    for _ in range(bars):
        x = np.zeros((n, 1))
        new = []
        for l, st in enumerate(cstates):
            scope = f"{CONDUCTOR}/cell_{l}/lstm_cell"
            x, st = lstm_block_cell(x, st, _w(weights, scope + "/kernel"), _w(weights, scope + "/bias"))
            new.append(st)
        cstates = new
        cols = []
        for i, (prefix, depth) in enumerate(zip(prefixes, cfg.output_depths)):
            toks, starts[i] = _core_run(weights, prefix, depth, x, sizes, bar_len, starts[i])
            cols.append(toks)
        out.append(np.stack(cols, axis=-1))
    tokens = np.concatenate(out, axis=1)
    return tokens[..., 0] if tokens.shape[-1] == 1 else tokens
