#!/usr/bin/env python3
"""Decode speed of our MusicVAE engine per config and batch size, against Magenta's own code.

    .venv/bin/python benchmarks/bench_decode.py                      # mel big + trio, batches 1 8 64
    MAGENTA_PYTHON=/path/to/venv/bin/python .venv/bin/python benchmarks/bench_decode.py
    .venv/bin/python benchmarks/bench_decode.py --configs cat-mel_2bar_big --batches 8
    .venv/bin/python benchmarks/bench_decode.py --no-magenta         # our engine only

Full-size models with seeded random weights (no download), written once as a TF1 checkpoint in
Magenta's variable names. Our engine loads it; when Magenta's reference environment exists
(/work/magenta-ref, or the interpreter named by $MAGENTA_PYTHON), tools/magenta_bench.py times
Magenta's TrainedModel.decode_to_tensors on the very same checkpoint and z, so the speed ratio and
token identity (argmax; temperature 1e-5 on Magenta's side) are measured on the same weights in
the same run. Both float32 (exact) and bfloat16 weights are timed; bfloat16's token agreement with
float32 and with Magenta is printed.

The machine is shared, so the load changes while the benchmark runs: our engine is timed before
and after Magenta's run, and each side reports its fastest call after a warm-up call (graph
tracing). Read the ratios rather than absolute seconds, and run it more than once.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_CONFIGS = ["cat-mel_2bar_big", "hierdec-trio_16bar"]
MAGENTA_ENV = "/work/magenta-ref"


def magenta_python() -> str | None:
    env = os.environ.get("MAGENTA_PYTHON")
    if env:
        return env if os.path.exists(env) else None
    exe = os.path.join(MAGENTA_ENV, "bin", "python")
    if os.path.exists(exe) and os.path.isdir(os.path.join(
            MAGENTA_ENV, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
            "site-packages", "magenta")):
        return exe
    return exe if os.path.exists(exe) else None


def fan_in_weights(cfg, seed: int) -> dict:
    """Seeded random weights with magenta_bench's default spread (1.5/sqrt(rows), at most 0.35)."""
    from core.musicvae.variables import canonical, expected_variables

    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in expected_variables(cfg).items():
        scale = min(0.35, 1.5 / np.sqrt(shape[0])) if len(shape) == 2 else 0.35
        out[canonical(name)] = rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)
    return out


def run_magenta(py: str, config: str, batches, z_file: str, ckpt_dir: str, out_npz: str, repeats: int):
    cmd = [py, os.path.join(ROOT, "tools", "magenta_bench.py"), "--config", config, "--checkpoint", ckpt_dir,
           "--batches", *map(str, batches), "--z-file", z_file, "--out", out_npz, "--repeats", str(repeats)]
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"  Magenta run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        return None
    rows = {}
    for line in proc.stdout.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if "batch" in rec:
            rows[rec["batch"]] = rec
    return rows


def time_decode(model, z, repeats: int, warm: bool = True):
    """Times of `repeats` calls of decode + one-hot (what Magenta's decode_to_tensors returns)."""
    if warm:
        model.decode_to_tensors(z)  # traces the graph
    times, tokens = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        tokens = model.decode_tokens(z)
        model.tokens_to_tensors(tokens)
        times.append(time.perf_counter() - t0)
    return times, tokens


def divergence(model, z, ours, theirs) -> str:
    """Where the token streams part: Magenta samples at temperature 1e-5, so a step whose two
    largest logits are closer than about 1e-4 is a coin flip on its side; after the first
    differing token the two streams are fed different inputs and part further."""
    _, gaps = model.decode_tokens(z, with_gaps=True)
    gaps = gaps.reshape(ours.shape)
    notes = []
    for row in range(len(ours)):
        diff = np.argwhere(ours[row] != theirs[row])
        if len(diff):
            first = tuple(diff[0])
            notes.append(f"row {row} from step {first[0]} (our top-2 logit gap there {gaps[row][first]:.1e})")
    return "; differs in " + ", ".join(notes)


def bench_config(name, args, py):
    from core.musicvae import load_model
    from core.musicvae.checkpoint import magenta_names, write_tf1_checkpoint
    from core.musicvae.configs import CONFIGS

    cfg = CONFIGS[name]
    print(f"\n== {name}: enc {list(cfg.enc_rnn_size)} dec {list(cfg.dec_rnn_size)} z {cfg.z_size}, "
          f"{cfg.steps} steps, batches {args.batches}", flush=True)
    z = np.random.default_rng(args.seed).standard_normal((max(args.batches), cfg.z_size)).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as tmp:
        # one random full-size checkpoint, in Magenta's names and format, read by both programs
        ckpt = os.path.join(tmp, "ckpt")
        arrays = magenta_names(cfg, fan_in_weights(cfg, args.seed))
        arrays["global_step"] = np.array(0, np.int64)
        t0 = time.perf_counter()
        write_tf1_checkpoint(os.path.join(ckpt, "model.ckpt"), arrays)
        del arrays
        print(f"  wrote a random full-size TF1 checkpoint in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        models = {p: load_model(name, ckpt, device=args.device, precision=p) for p in args.precisions}
        print(f"  our load of it: {(time.perf_counter() - t0) / len(models):.1f} s per model", flush=True)
        ours = {}
        for b in args.batches:  # first pass, before Magenta
            for p, model in models.items():
                ours[(p, b)] = time_decode(model, z[:b], args.repeats)
        mag_rows, mag_tokens = None, {}
        if py and not args.no_magenta:
            z_file = os.path.join(tmp, "z.npz")
            np.savez(z_file, z=z)
            out_npz = os.path.join(tmp, "magenta.npz")
            t0 = time.perf_counter()
            mag_rows = run_magenta(py, name, args.batches, z_file, ckpt, out_npz, args.repeats)
            print(f"  Magenta run took {time.perf_counter() - t0:.0f} s in all", flush=True)
            if mag_rows:
                data = np.load(out_npz)
                mag_tokens = {b: data[f"tokens_b{b}"] for b in args.batches if f"tokens_b{b}" in data}
            for b in args.batches:  # second pass, after Magenta: the machine is shared
                for p, model in models.items():
                    times, tok = time_decode(model, z[:b], args.repeats, warm=False)
                    ours[(p, b)] = (ours[(p, b)][0] + times, tok)
        if mag_rows:
            print(f"  times: the fastest of {2 * args.repeats} calls for ours, of {args.repeats} for Magenta "
                  f"(after one warm-up call each)")
        else:
            print(f"  times: the fastest of {args.repeats} calls (after one warm-up call)")
        for b in args.batches:
            zb = z[:b]
            line = f"  batch {b:3d}:"
            for p in models:
                line += f"  ours {p} {min(ours[(p, b)][0]):7.3f} s"
            mag = mag_rows.get(b) if mag_rows else None
            if mag:
                line += f"  | Magenta {mag['seconds_min']:7.3f} s"
                for p in models:
                    line += f"  x{mag['seconds_min'] / min(ours[(p, b)][0]):.2f} ({p})"
                mt = mag_tokens.get(b)
                if mt is not None and "float32" in models:
                    mine = np.asarray(ours[("float32", b)][1]).reshape(mt.shape)
                    same = np.array_equal(mine, mt)
                    line += f"  float32 tokens identical to Magenta: {'yes' if same else 'NO'} ({(mine == mt).mean():.2%})"
                    if not same:
                        line += divergence(models["float32"], zb, mine, mt)
                if mt is not None and "bfloat16" in models:
                    agree = (np.asarray(ours[("bfloat16", b)][1]).reshape(mt.shape) == mt).mean()
                    line += f"  bfloat16 agreement with Magenta {agree:.2%}"
            if "float32" in models and "bfloat16" in models:
                agree = (ours[("bfloat16", b)][1] == ours[("float32", b)][1]).mean()
                line += f"  bfloat16 vs float32 token agreement {agree:.2%}"
            print(line, flush=True)
        del models


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 8, 64])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"],
                    choices=["float32", "bfloat16"])
    ap.add_argument("--device", default=None, help="cpu / gpu (default: GPU when TensorFlow sees one)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-magenta", action="store_true", help="time our engine only")
    args = ap.parse_args(argv)
    py = None if args.no_magenta else magenta_python()
    print(f"Magenta reference: {py or 'not used'}")
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}, devices: {[d.name for d in tf.config.list_physical_devices()]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for name in args.configs:
        bench_config(name, args, py)
    return 0


if __name__ == "__main__":
    sys.exit(main())
