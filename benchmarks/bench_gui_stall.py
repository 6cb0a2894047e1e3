#!/usr/bin/env python3
"""The longest stall of the GUI event loop while the explorer generates trio clips.

    .venv/bin/python benchmarks/bench_gui_stall.py                 # 64 samples, full-size random trio
    .venv/bin/python benchmarks/bench_gui_stall.py --samples 16
    .venv/bin/python benchmarks/bench_gui_stall.py --fixture       # the tiny test trio (quick check)
    .venv/bin/python benchmarks/bench_gui_stall.py --model trio_16bar   # an embedded / installed model

A 10 ms QTimer probe runs in the main window's event loop the whole time; a stall is the gap
between two probe ticks beyond the 10 ms interval. The generation goes through the same path as
the Generate button (ModelService -> JobRunner worker -> GeneratePanel.add_clips -> undo
command -> library, map, piano roll), only with more samples than the panel offers (32).

Printed per phase: the model load (includes importing TensorFlow, which holds the GIL),
the decoding (the worker runs compiled TF graphs in chunks), and the results landing on the
GUI thread (64 clips into the song, the library and the map). Target: under 50 ms while
generating. Without --model the model is Magenta's hierdec-trio_16bar at full size with
seeded random weights (the notes are noise; the work is the real amount).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TMP = tempfile.mkdtemp(prefix="bench-gui-stall-")
os.environ.setdefault("LATENT_STUDIO_DATA", os.path.join(TMP, "data"))
os.environ.setdefault("LATENT_STUDIO_CACHE", os.path.join(TMP, "cache"))

PROBE_MS = 10


def random_trio(token, device, seed=0):
    """A job: Magenta's full-size hierdec-trio_16bar with seeded random weights (fan-in scaled)."""
    from core.musicvae.configs import CONFIGS
    from core.musicvae.model import build_model
    from core.musicvae.variables import canonical, expected_variables

    token.progress(0.1, "Building a full-size random trio model")
    cfg = CONFIGS["hierdec-trio_16bar"]
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in expected_variables(cfg).items():
        scale = min(0.35, 1.5 / np.sqrt(shape[0])) if len(shape) == 2 else 0.35
        weights[canonical(name)] = rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)
    model = build_model(cfg, weights, device=device, name="random trio (full size)")
    token.progress(0.6, "Tracing the decoder")
    model.decode_tokens(np.zeros((1, cfg.z_size), np.float32))
    return model


class Probe:
    """Records the time of every tick of a 10 ms timer."""

    def __init__(self, parent):
        from PySide6.QtCore import QTimer

        self.ticks: list[float] = []
        self.timer = QTimer(parent)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start()

    def longest_stall_ms(self, start: float, end: float) -> tuple[float, int]:
        t = [x for x in self.ticks if start <= x <= end]
        if len(t) < 2:
            return float("nan"), len(t)
        return max(0.0, (np.diff(t).max() * 1000.0) - PROBE_MS), len(t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=0.5)
    ap.add_argument("--model", help="an embedded or installed model name (default: random full-size trio)")
    ap.add_argument("--fixture", action="store_true", help="the tiny test trio model (quick check)")
    ap.add_argument("--device", default=None, help="cpu / gpu (default: the GPU when there is one)")
    ap.add_argument("--verbose", action="store_true", help="list the longest gaps and when they came")
    args = ap.parse_args()

    gc_log = []
    if args.verbose:  # note the long garbage-collector passes (they hold the GIL)
        import gc
        import threading

        gc_start = {}

        def on_gc(phase, info):
            if phase == "start":
                gc_start["t"] = time.perf_counter()
            elif "t" in gc_start:
                took = time.perf_counter() - gc_start["t"]
                if took > 0.02:
                    gc_log.append((gc_start["t"], took, info.get("generation"), threading.current_thread().name))

        gc.callbacks.append(on_gc)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from core import generation
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.path.join(TMP, "settings.ini"), QSettings.Format.IniFormat)
    if args.device == "cpu":
        settings.setValue("models/force_cpu", True)
    w = MainWindow(settings=settings)
    w.resize(1400, 900)
    w.show()
    probe = Probe(w)
    panel, service = w.generate_panel, w.models

    def pump_until(cond, timeout=3600.0):
        end = time.perf_counter() + timeout
        while not cond() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    # ---------------------------------------------------------------- load
    t_load = time.perf_counter()
    if args.model or args.fixture:
        if args.fixture:
            name = "trio fixture"
            service.register(name, "hierdec-trio_16bar", os.path.join(ROOT, "tests", "fixtures", "magenta",
                                                                       "hierdec-trio_16bar"))
        else:
            name = args.model
        panel.set_model(name)
        loaded = []
        service.with_model(name, loaded.append)
        pump_until(lambda: loaded or not w.runner.is_busy())
        if not loaded:
            print("the model did not load; see the messages above")
            return 1
        model = loaded[0]
    else:
        holder = []
        w.runner.submit(random_trio, args.device, on_done=holder.append, description="Building the model")
        pump_until(lambda: holder or not w.runner.is_busy())
        if not holder:
            print("building the random model failed")
            return 1
        model = holder[0]
        name = model.name
        service.register(name, None, "", kind="trio", model=model)
        panel.set_model(name)
    t_loaded = time.perf_counter()
    load_stall, _ = probe.longest_stall_ms(t_load, t_loaded)
    print(f"model: {model!r}")
    print(f"load: {t_loaded - t_load:.1f} s, longest stall {load_stall:.0f} ms "
          f"(importing TensorFlow and building the model)")

    # ---------------------------------------------------------------- generate
    pump_until(lambda: False, timeout=0.3)  # settle
    marks: dict[str, float] = {}
    before = len(w.song.clips)

    def landed(clips):
        marks["decoded"] = time.perf_counter()
        panel.add_clips(clips, f"Generate {len(clips)} clips")

    t0 = time.perf_counter()
    panel._job(generation.sample, args.samples, args.temperature, 0, on_done=landed,
               description=f"Generating {args.samples} clips")
    pump_until(lambda: not w.runner.is_busy())
    pump_until(lambda: not panel.is_landing())
    marks["landed"] = time.perf_counter()
    pump_until(lambda: False, timeout=0.3)  # the debounced map redraw and any repaint
    t_end = time.perf_counter()
    if "landed" not in marks:
        print("the generation did not finish")
        return 1
    made = len(w.song.clips) - before
    dec_stall, dec_ticks = probe.longest_stall_ms(t0, marks["decoded"])
    land_stall, _ = probe.longest_stall_ms(marks["decoded"] - 0.02, t_end)
    all_stall, _ = probe.longest_stall_ms(t0, t_end)
    notes = sum(c.note_count() for c in list(w.song.clips.values())[-made:])
    print(f"generate {args.samples} samples: {made} clips, {notes} notes, "
          f"{marks['decoded'] - t0:.2f} s decoding, {(marks['landed'] - marks['decoded']) * 1000:.0f} ms "
          f"adding them to the song")
    print(f"longest stall while decoding: {dec_stall:.0f} ms ({dec_ticks} probe ticks)")
    print(f"longest stall while the results land: {land_stall:.0f} ms")
    print(f"LONGEST STALL during the generation: {all_stall:.0f} ms (target < 50 ms) "
          f"on {service.device_text}")
    if args.verbose:
        t = np.array([x for x in probe.ticks if t0 <= x <= t_end])
        gaps = np.diff(t)
        for i in np.argsort(gaps)[::-1][:8]:
            print(f"  gap {gaps[i] * 1000:.0f} ms at {t[i] - t0:.3f} s "
                  f"(decoded at {marks['decoded'] - t0:.3f} s, landed at {marks['landed'] - t0:.3f} s)")
        for when, took, gen, thread in gc_log:
            if when >= t0:
                print(f"  garbage collection (generation {gen}) took {took * 1000:.0f} ms at "
                      f"{when - t0:.3f} s on {thread}")
    w.undo_stack.setClean()
    w.runner.shutdown(3000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
