#!/usr/bin/env python3
"""How fast this CPU multiplies a decoder-sized weight matrix, per batch size and layout.

    .venv/bin/python benchmarks/bench_matmul.py

One [4096, 8192] float32 kernel (a cat-mel_2bar_big decoder layer: 2048 inputs + 2048 state
rows, 4 x 2048 gates), multiplied by [m, 4096] rows for m = 1, 2, 4, 8, 64, with numpy
(OpenBLAS) and TensorFlow (oneDNN) in the layouts the engine can choose from, in float32 and
bfloat16 (`--dtypes`), on all cores or one (`--threads 1`). Prints the best
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


def main(argv=None) -> int:
    import argparse

    from core.musicvae.lazy_tf import tf

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtypes", default="float32,bfloat16", help="kernel precisions (default both)")
    ap.add_argument("--rows", default="1,2,4,8,64", help="batch sizes m")
    ap.add_argument("--threads", type=int, default=None,
                    help="TensorFlow intra-op threads (default: one per core); 1 shows what one core does")
    args = ap.parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4096, 8192), dtype=np.float32)
    wt = np.ascontiguousarray(w.T)
    print(f"kernel [4096, 8192]; load average {os.getloadavg()[0]:.1f}; "
          f"intra-op threads {args.threads or 'default'}")
    for dtype in args.dtypes.split(","):
        dt = getattr(tf, dtype)
        tw, twt = tf.cast(tf.constant(w), dt), tf.cast(tf.constant(wt), dt)
        gb = w.size * dt.size / 1e9
        print(f"-- {dtype}: {gb * 1000:.0f} MB of weights")
        for m in (int(r) for r in args.rows.split(",")):
            x = rng.standard_normal((m, 4096), dtype=np.float32)
            tx = tf.constant(x)
            n = 40 if m <= 8 else 10

            def lowp(f):  # the engine casts the rows in and the product out
                return tf.function(lambda: tf.cast(f(tf.cast(tx, dt)), tf.float32))

            cases = {}
            if dtype == "float32":
                cases["numpy x @ W"] = lambda: x @ w
                cases["numpy (W^T x^T)^T"] = lambda: (wt @ x.T).T
            cases.update({
                "tf x @ W": lowp(lambda a: tf.matmul(a, tw)),
                "tf x @ (W^T)^T": lowp(lambda a: tf.matmul(a, twt, transpose_b=True)),
                "tf (W^T x^T)^T": lowp(lambda a: tf.transpose(tf.matmul(twt, a, transpose_b=True))),
                "tf einsum": lowp(lambda a: tf.einsum("ok,bk->bo", twt, a)),
                "tf W^T x (matvec)": lowp(lambda a: tf.transpose(tf.linalg.matvec(twt, a[0])[None])) if m == 1 else None,
                "tf 2 halves": lowp(lambda a: tf.concat([tf.matmul(a, h, transpose_b=True)
                                                         for h in tf.split(twt, 2, axis=0)], axis=1)),
            })
            for name, fn in cases.items():
                if fn is None:
                    continue
                run = fn if name.startswith("numpy") else (lambda f=fn: f().numpy())
                s = best(run, n)
                print(f"m={m:<3d} {name:20s} {s * 1000:7.2f} ms  {2 * m * w.size / 1e9 / s:6.1f} GFLOP/s  "
                      f"{gb / s:5.1f} GB/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
