#!/usr/bin/env python3
"""How fast this CPU multiplies a decoder-sized weight matrix, per batch size and layout.

    .venv/bin/python benchmarks/bench_matmul.py

One [4096, 8192] float32 kernel (a cat-mel_2bar_big decoder layer: 2048 inputs + 2048 state
rows, 4 x 2048 gates), multiplied by [m, 4096] rows for m = 1, 2, 4, 8, 64, with numpy
(OpenBLAS) and TensorFlow (oneDNN) in the layouts the engine can choose from. Prints the best
of three timings, GFLOP/s and the weight bytes streamed per second: decoding reads every
weight once per step, so these bound what any decode loop can reach (docs/musicvae-engine.md).
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def best(fn, n: int) -> float:
    fn()
    out = 1e9
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        out = min(out, (time.perf_counter() - t) / n)
    return out


def main() -> int:
    from core.musicvae.lazy_tf import tf

    rng = np.random.default_rng(0)
    w = rng.standard_normal((4096, 8192), dtype=np.float32)
    wt = np.ascontiguousarray(w.T)
    tw, twt = tf.constant(w), tf.constant(wt)
    gb = w.nbytes / 1e9
    print(f"kernel [4096, 8192] float32, {gb * 1000:.0f} MB; load average {os.getloadavg()[0]:.1f}")
    for m in (1, 2, 4, 8, 64):
        x = rng.standard_normal((m, 4096), dtype=np.float32)
        tx = tf.constant(x)
        n = 40 if m <= 8 else 10
        cases = {
            "numpy x @ W": lambda: x @ w,
            "numpy (W^T x^T)^T": lambda: (wt @ x.T).T,
            "tf x @ W": tf.function(lambda: tf.matmul(tx, tw)),
            "tf x @ (W^T)^T": tf.function(lambda: tf.matmul(tx, twt, transpose_b=True)),
            "tf (W^T x^T)^T": tf.function(lambda: tf.transpose(tf.matmul(twt, tx, transpose_b=True))),
            "tf einsum": tf.function(lambda: tf.einsum("ok,bk->bo", twt, tx)),
        }
        for name, fn in cases.items():
            run = fn if name.startswith("numpy") else (lambda f=fn: f().numpy())
            s = best(run, n)
            print(f"m={m:<3d} {name:20s} {s * 1000:7.2f} ms  {2 * m * w.size / 1e9 / s:6.1f} GFLOP/s  "
                  f"{gb / s:5.1f} GB/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
