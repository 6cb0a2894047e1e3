#!/usr/bin/env python3
"""How long a timeline Fill takes to stop after Cancel, with a shipped model on this machine.

    .venv/bin/python benchmarks/bench_fill_cancel.py                   # trio_16bar, 6 labels
    .venv/bin/python benchmarks/bench_fill_cancel.py --model resources/models/mel_2bar --labels 8

It times the fill job uncancelled (after a warm-up fill that traces the graphs), then starts it
again on a worker thread, presses Cancel after `--after` seconds and reports how long the job
ran on after Cancel before it raised JobCancelled, over `--repeats` runs. The fill job is the one
the timeline runs (core.generation.fill_job, or core.arrangement.fill_job on an older tree, so
the same command measures before and after a change). The machine is shared: read the spread,
not one number.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def the_fill_job():
    from core import generation

    if hasattr(generation, "fill_job"):
        return generation.fill_job
    from core import arrangement  # a tree from before fills moved to core.generation

    return arrangement.fill_job


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=os.path.join(ROOT, "resources", "models", "trio_16bar"))
    p.add_argument("--labels", type=int, default=6, help="distinct section labels to fill")
    p.add_argument("--after", type=float, default=0.3, help="seconds before Cancel is pressed")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)

    from core.errors import JobCancelled
    from core.jobs import JobToken
    from core.musicvae import load_model

    model = load_model(None, args.model, device="cpu")
    fill_job = the_fill_job()
    requests = {f"part {i + 1}": int(model.config.bars) for i in range(args.labels)}
    fill_job(JobToken(), model, {"warm-up": int(model.config.bars)}, 0.5, 0)
    t0 = time.perf_counter()
    fill_job(JobToken(), model, requests, 0.5, 1)
    whole = time.perf_counter() - t0
    print(f"{model.name}: a fill of {args.labels} labels takes {whole:.2f} s uncancelled "
          f"({fill_job.__module__}.fill_job)")
    lags = []
    for r in range(args.repeats):
        token = JobToken()
        done = {}

        def work():
            try:
                fill_job(token, model, requests, 0.5, 2 + r)
            except JobCancelled:
                done["at"] = time.perf_counter()

        worker = threading.Thread(target=work)
        worker.start()
        time.sleep(args.after)
        pressed = time.perf_counter()
        token.cancel()
        worker.join()
        if "at" not in done:
            print(f"  run {r + 1}: finished before Cancel landed")
            continue
        lags.append(done["at"] - pressed)
        print(f"  run {r + 1}: stopped {lags[-1]:.3f} s after Cancel")
    if lags:
        print(f"cancel lag: median {sorted(lags)[len(lags) // 2]:.3f} s, worst {max(lags):.3f} s "
              f"over {len(lags)} runs (Cancel pressed {args.after:g} s into the fill)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
