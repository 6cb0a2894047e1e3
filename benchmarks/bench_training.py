"""Training speed of the embedded model sizes, on random tokens (no corpus needed).

    .venv/bin/python benchmarks/bench_training.py                  # all three, 20 timed steps each
    .venv/bin/python benchmarks/bench_training.py --models trio_16bar --steps 5 --xla

Prints, per model: parameters, the first (traced) step, seconds per later step, steps per second,
the hours that the step count in scripts/train_embedded.sh would take at that rate, and the
engine's decode time for a batch of 8 (float16 weights). The load average is printed beside
the numbers, because the machine is shared.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# name: (config, enc, dec, z, batch, steps in scripts/train_embedded.sh)
MODELS = {
    "mel_2bar": ("cat-mel_2bar_small", (256,), (256, 256), 128, 64, 20000),
    "drums_2bar": ("cat-drums_2bar_small", (256,), (256, 256), 128, 64, 20000),
    "trio_16bar": ("hierdec-trio_16bar", (128, 128), (128, 128), 128, 32, 15000),
}


def random_tokens(cfg, n, rng):
    cols = [rng.integers(0, d, (n, cfg.steps)) for d in cfg.output_depths]
    return (np.stack(cols, -1) if cfg.data == "trio" else cols[0]).astype(np.int32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--steps", type=int, default=20, help="timed steps after the first")
    ap.add_argument("--batch", type=int, default=None, help="override the batch size")
    ap.add_argument("--xla", action="store_true")
    ap.add_argument("--device", default=None)
    args = ap.parse_args()

    from core.musicvae import load_model
    from core.musicvae.checkpoint import save_model
    from core.musicvae.configs import get_config
    from core.musicvae.evaluate import decode_seconds
    from core.musicvae.training import Trainer, TrainSettings

    rng = np.random.default_rng(0)
    for name in args.models.split(","):
        config, enc, dec, z, batch, planned = MODELS[name]
        batch = args.batch or batch
        cfg = get_config(config).with_sizes(enc, dec, z)
        trainer = Trainer(cfg, TrainSettings(steps=1, batch_size=batch, xla=args.xla, device=args.device))
        tokens = random_tokens(cfg, batch, rng)
        t = time.perf_counter()
        trainer.train_step(tokens, 0, 0)
        first = time.perf_counter() - t
        t = time.perf_counter()
        for s in range(args.steps):
            trainer.train_step(tokens, s + 1, 0)
        per_step = (time.perf_counter() - t) / args.steps
        with tempfile.TemporaryDirectory() as d:
            save_model(d, cfg, trainer.graph.numpy_weights(), storage="float16")
            decode = decode_seconds(load_model(None, d, device=args.device))
        load = os.getloadavg()[0]
        print(f"{name}: enc {list(enc)} dec {list(dec)} z {z} batch {batch} "
              f"({trainer.graph.parameter_count() / 1e6:.2f} M parameters{', XLA' if args.xla else ''}, "
              f"{trainer.device}): first step {first:.1f} s, {per_step:.3f} s/step = {1 / per_step:.2f} steps/s, "
              f"{planned} steps = {planned * per_step / 3600:.1f} h; decode batch 8 {decode:.3f} s; "
              f"load average {load:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
