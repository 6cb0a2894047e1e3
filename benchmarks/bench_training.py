"""Training speed of the embedded model sizes, beside Magenta's own training loop.

    .venv/bin/python benchmarks/bench_training.py                  # all three, batch 32, 20 timed steps
    .venv/bin/python benchmarks/bench_training.py --models trio_16bar --steps 5 --xla
    .venv/bin/python benchmarks/bench_training.py --sampling inverse_sigmoid   # both sides with scheduled sampling

Prints the CPU (model, cores, the instruction-set flags TensorFlow's kernels use), then per model:
parameters, the first (traced) step, the median and mean seconds of the later steps, steps per
second, seconds per 1,000 windows, the hours that the step count in scripts/train_embedded.sh
would take at that rate, and the engine's decode time for a batch of 8 (float16 weights).

Where the Magenta reference environment exists (--magenta-python, default
/work/magenta-ref/bin/python; docs/magenta-reference.md), the same config with the same layer
sizes and batch is trained by Magenta's own `music_vae_train.train` (tools/magenta_train_bench.py)
on the very batch timed here (as Magenta's converters encode it: one-hot, drum roll), and the
ratio is printed: Magenta's seconds per step / ours (above 1: we are faster). Both sides use
teacher forcing unless --sampling inverse_sigmoid (Magenta's configs' own schedule, rate 1000).
The load average is printed beside the numbers, because the machine is shared.
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

# name: (config, enc, dec, z, steps in scripts/train_embedded.sh)
MODELS = {
    "mel_2bar": ("cat-mel_2bar_small", (256,), (256, 256), 128, 20000),
    "drums_2bar": ("cat-drums_2bar_small", (256,), (256, 256), 128, 20000),
    "trio_16bar": ("hierdec-trio_16bar", (128, 128), (128, 128), 128, 15000),
}
MAGENTA_PYTHON = "/work/magenta-ref/bin/python"
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
             "avx_vnni", "amx_tile", "amx_bf16")


def cpu_line() -> str:
    model, flags = "?", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    have = [f for f in CPU_FLAGS if f in flags]
    return f"CPU: {model}, {os.cpu_count()} cores; flags {' '.join(have) or '(unknown)'}"


def random_tokens(cfg, n, rng):
    cols = [rng.integers(0, d, (n, cfg.steps)) for d in cfg.output_depths]
    return (np.stack(cols, -1) if cfg.data == "trio" else cols[0]).astype(np.int32)


def magenta_seconds(python: str, cfg, enc, dec, z, tokens, steps: int, sampling: str) -> dict:
    """Magenta's music_vae_train on `tokens` (tools/magenta_train_bench.py in its environment)."""
    from core.musicvae import converters as cv

    hp = (f"enc_rnn_size=[{','.join(map(str, enc))}],dec_rnn_size=[{','.join(map(str, dec))}],z_size={z},"
          + ("sampling_schedule=inverse_sigmoid,sampling_rate=1000" if sampling == "inverse_sigmoid"
             else "sampling_schedule=constant,sampling_rate=0"))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "batch.npz")
        np.savez(data, inputs=cv.tokens_to_inputs(tokens, cfg.data, "roll", np.uint8),
                 outputs=cv.tokens_to_outputs(tokens, cfg.data, np.uint8))
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
        done = subprocess.run([python, os.path.join(ROOT, "tools", "magenta_train_bench.py"), "--config", cfg.name,
                               "--hparams", hp, "--data", data, "--steps", str(steps)],
                              capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--steps", type=int, default=20, help="timed steps after the first")
    ap.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    ap.add_argument("--sampling", default="none", choices=["none", "inverse_sigmoid"])
    ap.add_argument("--xla", action="store_true")
    ap.add_argument("--device", default=None)
    ap.add_argument("--magenta-python", default=MAGENTA_PYTHON,
                    help="the Magenta reference environment's python ('' to skip the comparison)")
    args = ap.parse_args()

    from core.tf_setup import configure

    configure()  # TensorFlow's start-up chatter stays out of the numbers
    from core.musicvae import load_model
    from core.musicvae.checkpoint import save_model
    from core.musicvae.configs import get_config
    from core.musicvae.evaluate import decode_seconds
    from core.musicvae.lazy_tf import tf
    from core.musicvae.training import Trainer, TrainSettings

    print(cpu_line(), flush=True)
    print(f"TensorFlow {tf.__version__}; batch {args.batch}; "
          f"{'scheduled sampling (inverse sigmoid, 1000)' if args.sampling != 'none' else 'teacher forcing'}",
          flush=True)
    magenta = args.magenta_python if args.magenta_python and os.path.exists(args.magenta_python) else None
    if not magenta:
        print(f"Magenta reference environment not found ({args.magenta_python or 'skipped'}): "
              "no comparison (docs/magenta-reference.md builds it)", flush=True)
    rng = np.random.default_rng(0)
    for name in args.models.split(","):
        config, enc, dec, z, planned = MODELS[name]
        batch = args.batch
        cfg = get_config(config).with_sizes(enc, dec, z)
        settings = TrainSettings(steps=1, batch_size=batch, xla=args.xla, device=args.device,
                                 sampling_schedule=args.sampling,
                                 sampling_rate=1000.0 if args.sampling != "none" else 0.0)
        trainer = Trainer(cfg, settings)
        tokens = random_tokens(cfg, batch, rng)
        t = time.perf_counter()
        trainer.train_step(tokens, 0, 0)
        first = time.perf_counter() - t
        times = []
        for s in range(args.steps):
            t = time.perf_counter()
            trainer.train_step(tokens, s + 1, 0)
            times.append(time.perf_counter() - t)
        per_step, mean = float(np.median(times)), float(np.mean(times))
        with tempfile.TemporaryDirectory() as d:
            save_model(d, cfg, trainer.graph.numpy_weights(), storage="float16")
            decode = decode_seconds(load_model(None, d, device=args.device))
        print(f"{name}: enc {list(enc)} dec {list(dec)} z {z} batch {batch} "
              f"({trainer.graph.parameter_count() / 1e6:.2f} M parameters{', XLA' if args.xla else ''}, "
              f"{trainer.device}): first step {first:.1f} s, {per_step:.3f} s/step (median; mean {mean:.3f}) "
              f"= {1 / per_step:.2f} steps/s = {per_step * 1000 / batch:.1f} s per 1,000 windows, "
              f"{planned} steps = {planned * per_step / 3600:.1f} h; decode batch 8 {decode:.3f} s; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        if magenta:
            try:
                m = magenta_seconds(magenta, cfg, enc, dec, z, tokens, args.steps, args.sampling)
            except RuntimeError as exc:
                print(f"  Magenta music_vae_train: failed: {exc}", flush=True)
                continue
            theirs = m["median_step_seconds"]
            print(f"  Magenta music_vae_train (TF {m['tensorflow_version']}), same config, sizes and batch: "
                  f"first step {m['first_step_seconds']:.1f} s, {theirs:.3f} s/step (median; mean "
                  f"{m['mean_step_seconds']:.3f}) = {1 / theirs:.2f} steps/s = {theirs * 1000 / batch:.1f} s per "
                  f"1,000 windows; Magenta / ours = {theirs / per_step:.2f} per step (median), "
                  f"{m['mean_step_seconds'] / mean:.2f} (mean); load average {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
