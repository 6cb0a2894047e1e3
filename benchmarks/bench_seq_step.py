"""One cached generation step of the Transformer, three ways, side by side in one run.

    python benchmarks/bench_seq_step.py                     # the embedded seq_transformer
    python benchmarks/bench_seq_step.py --model runs/m --steps 200 --batches 1 4 8

The model's own `step` (core/seq/transformer.py) is NumPy. This script keeps the TensorFlow step
it replaced (the same arithmetic as a tf.function: every layer's new key and value blended into a
full-size cache, attention over all slots with a mask) and runs it traced and XLA-compiled, to
show why: milliseconds per step after a 41-token prompt (best of 3 runs of --steps steps), the
first call (tracing or compiling) separately, and the largest logit difference from NumPy's.
The CPU's model and flags are printed since the ratios depend on them.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.bench_training import cpu_line  # noqa: E402


def tf_step(model, tf):
    """The TensorFlow step: ids (B,), t, ks and vs (layers, B, H, max_len, dh) -> logits, ks, vs."""
    from core.seq.transformer import _layer_norm

    c = model.config

    def step(ids, t, ks, vs):
        x = tf.gather(model.emb, ids)[:, None, :] * math.sqrt(c.d_model)
        slots = tf.range(c.max_len)
        here = tf.cast(tf.equal(slots, t), tf.float32)[None, None, :, None]
        neg = (1.0 - tf.cast(slots <= t, tf.float32)) * -1e9
        er_idx = tf.clip_by_value(c.max_len - 1 + slots - t, 0, c.max_len - 1)
        new_ks, new_vs = [], []
        for i, blk in enumerate(model.blocks):
            h = _layer_norm(x, blk["ln1g"], blk["ln1b"])
            q, k, v = tf.split(tf.matmul(h, blk["wqkv"]), 3, axis=-1)
            q, k, v = model._split_heads(q), model._split_heads(k), model._split_heads(v)
            kc = ks[i] * (1.0 - here) + k * here
            vc = vs[i] * (1.0 - here) + v * here
            new_ks.append(kc)
            new_vs.append(vc)
            rel = tf.einsum("bhqd,hjd->bhqj", q, tf.gather(blk["er"], er_idx, axis=1))
            w = tf.nn.softmax((tf.matmul(q, kc, transpose_b=True) + rel) / math.sqrt(model.dh) + neg, axis=-1)
            x = model._ffn(blk, x + tf.matmul(model._merge_heads(tf.matmul(w, vc)), blk["wo"]), False)
        return model._logits_out(x)[:, 0, :], tf.stack(new_ks), tf.stack(new_vs)

    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "resources", "models", "seq_transformer"))
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    args = ap.parse_args(argv)
    from core.tf_setup import configure

    configure()
    from core.musicvae.lazy_tf import tf
    from core.seq import events as ev
    from core.seq import model as sm

    model = sm.load(args.model)
    if model.config.arch != "transformer":
        raise SystemExit("--model must be a Transformer")
    print(cpu_line())
    print(f"{model.name}: {model.parameter_count()} parameters; load average {os.getloadavg()[0]:.1f}")
    step = tf_step(model, tf)
    ways = {"tf.function": tf.function(step, reduce_retracing=True),
            "XLA": tf.function(step, jit_compile=True, reduce_retracing=True)}
    prompt = np.asarray([ev.BOS] + [ev.BAR, ev.trk("melody")] * 20, np.int32)
    rng = np.random.default_rng(0)
    for batch in args.batches:
        ids = rng.integers(1, ev.VOCAB_SIZE, size=(args.steps, batch)).astype(np.int32)
        prompts = np.tile(prompt, (batch, 1))
        # NumPy: the model's own step
        ref = []
        _, state = model.prime(prompts)
        t0 = time.perf_counter()
        logits, state = model.step(state, ids[0])
        first = time.perf_counter() - t0
        ref.append(logits)
        for j in range(1, args.steps):
            logits, state = model.step(state, ids[j])
            ref.append(logits)
        best = float("inf")
        for _ in range(3):
            _, state = model.prime(prompts)
            t0 = time.perf_counter()
            for j in range(args.steps):
                _, state = model.step(state, ids[j])
            best = min(best, time.perf_counter() - t0)
        numpy_ms = best / args.steps * 1000
        print(f"batch {batch}: NumPy       {numpy_ms:6.2f} ms per step, first call {first * 1000:7.1f} ms")
        for name, fn in ways.items():
            _, state = model.prime(prompts)
            # the TensorFlow step wants a full-size cache as tensors
            ks0, vs0 = tf.constant(state["ks"]), tf.constant(state["vs"])
            t = len(prompt)
            ks, vs = ks0, vs0
            t0 = time.perf_counter()
            logits, ks, vs = fn(tf.constant(ids[0]), tf.constant(t, tf.int32), ks, vs)
            first = time.perf_counter() - t0
            worst = float(np.abs(logits.numpy() - ref[0]).max())
            for j in range(1, args.steps):
                logits, ks, vs = fn(tf.constant(ids[j]), tf.constant(t + j, tf.int32), ks, vs)
                worst = max(worst, float(np.abs(logits.numpy() - ref[j]).max()))
            best = float("inf")
            for _ in range(3):
                ks, vs = ks0, vs0
                t0 = time.perf_counter()
                for j in range(args.steps):
                    logits, ks, vs = fn(tf.constant(ids[j]), tf.constant(t + j, tf.int32), ks, vs)
                    logits.numpy()
                best = min(best, time.perf_counter() - t0)
            ms = best / args.steps * 1000
            print(f"batch {batch}: {name:11s} {ms:6.2f} ms per step, first call {first * 1000:7.1f} ms, "
                  f"{ms / numpy_ms:5.1f}x NumPy's time; largest logit difference {worst:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
