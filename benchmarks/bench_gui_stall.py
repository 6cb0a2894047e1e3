#!/usr/bin/env python3
"""The longest stall of the GUI event loop while the explorer generates trio clips.

    .venv/bin/python benchmarks/bench_gui_stall.py                 # 64 samples, full-size random trio
    .venv/bin/python benchmarks/bench_gui_stall.py --samples 16
    .venv/bin/python benchmarks/bench_gui_stall.py --fixture       # the tiny test trio (quick check)
    .venv/bin/python benchmarks/bench_gui_stall.py --model trio_16bar   # an embedded / installed model
    .venv/bin/python benchmarks/bench_gui_stall.py --compare --samples 8 --verbose
        # generate twice in one process: worker at normal priority, then niced as the app runs it

With --verbose every long gap is explained from Linux's per-thread schedstat: the GUI thread's
own CPU time in the gap (GUI work: landing, map, paint), its time waiting for a free CPU
(the OS ran something else: TensorFlow's threads or other programs), the worker's CPU and
wait, and the whole process's CPU (near 0: other programs had the cores). What is left is the
GUI thread blocked, i.e. waiting for the GIL. The worker's phases (decode calls, building the
clips) and the GUI-side calls that ran in the gap, and garbage-collector passes over 20 ms,
are listed with it. --profile prints a cProfile of the GUI thread while the results land.

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
import threading
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py sets it for the app (before numpy)
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TMP = tempfile.mkdtemp(prefix="bench-gui-stall-")
os.environ.setdefault("LATENT_STUDIO_DATA", os.path.join(TMP, "data"))
os.environ.setdefault("LATENT_STUDIO_CACHE", os.path.join(TMP, "cache"))

PROBE_MS = 10
GC_LOG: list = []  # (when, took s, generation, thread) of long collections (--verbose)


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


def _schedstat(tid: int | None = None) -> tuple[int, int]:
    """(ns on a CPU, ns waiting for a CPU) of one thread (Linux /proc; zeros elsewhere)."""
    path = "/proc/thread-self/schedstat" if tid is None else f"/proc/self/task/{tid}/schedstat"
    try:
        with open(path) as f:
            ran, waited, _ = f.read().split()
        return int(ran), int(waited)
    except (OSError, ValueError):
        return 0, 0


class Probe:
    """Records every tick of a 10 ms timer, with the CPU time and run-queue wait of the GUI
    thread and of the job worker at that moment (Linux schedstat), so each stall can be put
    down to the GUI thread working, the machine having no free CPU, or the GUI thread being
    blocked (waiting for the GIL while the worker runs Python)."""

    def __init__(self, parent, worker_tid=None):
        from PySide6.QtCore import QTimer

        self.worker_tid = worker_tid
        self.ticks: list[float] = []
        self.stats: list[tuple[int, int, int, int, int]] = []
        self.timer = QTimer(parent)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())
        g = _schedstat()
        w = _schedstat(self.worker_tid) if self.worker_tid else (0, 0)
        self.stats.append(g + w + (time.process_time_ns(),))

    def longest_stall_ms(self, start: float, end: float) -> tuple[float, int]:
        t = [x for x in self.ticks if start <= x <= end]
        if len(t) < 2:
            return float("nan"), len(t)
        return max(0.0, (np.diff(t).max() * 1000.0) - PROBE_MS), len(t)

    def totals(self, start: float, end: float) -> tuple[float, int]:
        """(ms the GUI thread spent waiting for a free CPU, count of stalls over 50 ms)."""
        idx = [i for i, x in enumerate(self.ticks) if start <= x <= end]
        if len(idx) < 2:
            return float("nan"), 0
        wait = (self.stats[idx[-1]][1] - self.stats[idx[0]][1]) / 1e6
        gaps = np.diff([self.ticks[i] for i in idx]) * 1000.0 - PROBE_MS
        return wait, int((gaps > 50).sum())

    def gaps(self, start: float, end: float, top: int = 8):
        """The longest gaps: (t, gap ms, GUI cpu ms, GUI wait-for-CPU ms, worker cpu ms,
        worker wait-for-CPU ms, cpu ms of the whole process: all its threads, TensorFlow's too).

        Time in a gap that is neither GUI cpu nor GUI wait is the GUI thread blocked: on the
        GIL when the worker (or another Python thread) holds it."""
        idx = [i for i, x in enumerate(self.ticks) if start <= x <= end]
        if len(idx) < 2:
            return []
        rows = []
        for a, b in zip(idx, idx[1:]):
            gap = (self.ticks[b] - self.ticks[a]) * 1000.0
            d = [(self.stats[b][k] - self.stats[a][k]) / 1e6 for k in range(5)]
            rows.append((self.ticks[a], gap, d[0], d[1], d[2], d[3], d[4]))
        rows.sort(key=lambda r: -r[1])
        return rows[:top]


class Phases:
    """Start and end of the worker's phases (decode calls, clip building), from the worker."""

    def __init__(self):
        self.spans: list[tuple[str, float, float, float]] = []  # name, start, end, thread cpu s

    def wrap(self, name, fn):
        def timed(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spans.append((name, t0, time.perf_counter(), time.thread_time() - c0))
        return timed

    def at(self, t: float, t_end: float) -> str:
        hit = [f"{n} ({(e - s) * 1000:.0f} ms, {cpu * 1000:.0f} ms cpu)" for n, s, e, cpu in self.spans
               if s < t_end and e > t]
        return ", ".join(hit[:4]) or "nothing timed"

    def totals(self) -> dict[str, tuple[int, float, float]]:
        out: dict[str, tuple[int, float, float]] = {}
        for n, s, e, cpu in self.spans:
            k, w, c = out.get(n, (0, 0.0, 0.0))
            out[n] = (k + 1, w + e - s, c + cpu)
        return out


def generate_once(args, app, w, panel, service, probe, phases, pump_until):
    """One generation through the panel's path; prints its stalls. Returns
    (longest stall ms, GUI run-queue wait ms, stalls over 50 ms, decoding s)."""
    from core import generation

    pump_until(lambda: False, timeout=0.3)  # settle
    marks: dict[str, float] = {}
    before = len(w.song.clips)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()

    def landed(clips):
        marks["decoded"] = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        panel.add_clips(clips, f"Generate {len(clips)} clips")

    t0 = time.perf_counter()
    panel._job(generation.sample, args.samples, args.temperature, 0, on_done=landed,
               description=f"Generating {args.samples} clips")
    pump_until(lambda: not w.runner.is_busy())
    pump_until(lambda: not panel.is_landing())
    marks["landed"] = time.perf_counter()
    pump_until(lambda: False, timeout=0.3)  # the debounced map redraw and any repaint
    t_end = time.perf_counter()
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    if "decoded" not in marks:
        print("the generation did not finish")
        return float("nan"), float("nan"), 0, float("nan")
    made = len(w.song.clips) - before
    dec_stall, dec_ticks = probe.longest_stall_ms(t0, marks["decoded"])
    land_stall, _ = probe.longest_stall_ms(marks["decoded"] - 0.02, t_end)
    all_stall, _ = probe.longest_stall_ms(t0, t_end)
    wait_ms, over = probe.totals(t0, t_end)
    notes = sum(c.note_count() for c in list(w.song.clips.values())[-made:])
    print(f"generate {args.samples} samples: {made} clips, {notes} notes, "
          f"{marks['decoded'] - t0:.2f} s decoding, {(marks['landed'] - marks['decoded']) * 1000:.0f} ms "
          f"adding them to the song")
    print(f"longest stall while decoding: {dec_stall:.0f} ms ({dec_ticks} probe ticks)")
    print(f"longest stall while the results land: {land_stall:.0f} ms")
    print(f"GUI thread waiting for a free CPU: {wait_ms:.0f} ms in all; stalls over 50 ms: {over}")
    print(f"LONGEST STALL during the generation: {all_stall:.0f} ms (target < 50 ms) "
          f"on {service.device_text}")
    for name, (k, wall, cpu) in phases.totals().items():
        print(f"  {name}: {k} call(s), {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms cpu")
    if args.verbose:
        print(f"  (decoded at {marks['decoded'] - t0:.3f} s, landed at {marks['landed'] - t0:.3f} s; "
              f"per gap: GUI thread cpu / GUI waiting for a free CPU / worker thread cpu / worker "
              f"waiting for a CPU / whole process cpu)")
        for when, gap, gcpu, gwait, wcpu, wwait, pcpu in probe.gaps(t0, t_end):
            print(f"  gap {gap:.0f} ms at {when - t0:.3f} s: GUI {gcpu:.0f} / wait {gwait:.0f} / "
                  f"worker {wcpu:.0f} / wait {wwait:.0f} / process {pcpu:.0f} ms; running: {phases.at(when, when + gap / 1000)}")
        for when, took, gen, thread in GC_LOG:
            if t0 <= when <= t_end:
                print(f"  garbage collection (generation {gen}) took {took * 1000:.0f} ms at "
                      f"{when - t0:.3f} s on {thread}")
    return all_stall, wait_ms, over, marks["decoded"] - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=0.5)
    ap.add_argument("--model", help="an embedded or installed model name (default: random full-size trio)")
    ap.add_argument("--fixture", action="store_true", help="the tiny test trio model (quick check)")
    ap.add_argument("--device", default=None, help="cpu / gpu (default: the GPU when there is one)")
    ap.add_argument("--verbose", action="store_true", help="list the longest gaps and when they came")
    ap.add_argument("--compare", action="store_true",
                    help="generate twice in one run: the worker at normal priority, then niced "
                         "as the app runs it (the long stalls on a busy CPU, before and after)")
    ap.add_argument("--profile", action="store_true",
                    help="profile the GUI thread while the results land (cProfile, top functions)")
    args = ap.parse_args()

    if args.verbose:  # note the long garbage-collector passes (they hold the GIL)
        import gc

        gc_start = {}

        def on_gc(phase, info):
            if phase == "start":
                gc_start["t"] = time.perf_counter()
            elif "t" in gc_start:
                took = time.perf_counter() - gc_start["t"]
                if took > 0.02:
                    GC_LOG.append((gc_start["t"], took, info.get("generation"), threading.current_thread().name))

        gc.callbacks.append(on_gc)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from core import generation
    from gui import job_runner
    from gui.main_window import MainWindow

    nice = job_runner.WORKER_NICE
    if args.compare:
        job_runner.WORKER_NICE = 0  # the worker starts at normal priority; niced for the second run

    phases = Phases()
    if args.verbose:  # time the GUI-thread work a batch of new clips sets off, to name the stalls
        import pyqtgraph as pg

        from gui import clip_chooser, clip_library, latent_map, piano_roll, timeline_canvas

        for cls, attr in ((latent_map.LatentMap, "refresh"), (latent_map.LatentMap, "_restyle"),
                          (clip_library.ClipLibrary, "refresh"), (clip_library.ClipLibrary, "_on_session"),
                          (clip_chooser.ClipChooser, "refresh"),
                          (piano_roll.PianoRollEditor, "_clip_shown"),
                          (timeline_canvas.TimelineCanvas, "paintEvent"),
                          (pg.GraphicsView, "paintEvent")):
            if hasattr(cls, attr):
                setattr(cls, attr, phases.wrap(f"{cls.__name__}.{attr} (GUI)", getattr(cls, attr)))

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.path.join(TMP, "settings.ini"), QSettings.Format.IniFormat)
    if args.device == "cpu":
        settings.setValue("models/force_cpu", True)
    w = MainWindow(settings=settings)
    w.resize(1400, 900)
    w.show()
    probe = Probe(w, getattr(w.runner._worker._thread, "native_id", None))
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
    model.decode_tokens = phases.wrap("decode", model.decode_tokens)
    generation.clips_from_tokens = phases.wrap("clips", generation.clips_from_tokens)
    panel.add_clips = phases.wrap("add_clips (GUI)", panel.add_clips)
    from gui import commands
    commands.AddClipsCommand.land = phases.wrap("land slice (GUI)", commands.AddClipsCommand.land)

    runs = ["worker at normal priority", f"worker nice +{nice}"] if args.compare \
        else [f"worker nice +{nice}" if nice else "worker at normal priority"]
    results = []
    for r, label in enumerate(runs):
        if args.compare and r == 1:
            # Everything but the GUI thread (the worker and the TensorFlow threads it started)
            # gets the nice value the runner gives its worker from the start.
            gui_tid = threading.main_thread().native_id
            for tid in os.listdir("/proc/self/task"):
                if int(tid) != gui_tid:
                    job_runner.lower_thread_priority(nice, int(tid))
            job_runner.WORKER_NICE = nice
        print(f"\n== {label}")
        results.append((label, generate_once(args, app, w, panel, service, probe, phases, pump_until)))
        phases.spans.clear()
    if len(results) > 1:
        print("\nside by side (same process, same model, same seed):")
        for label, (stall, wait_ms, over, decode_s) in results:
            print(f"  {label:28s} longest stall {stall:4.0f} ms, stalls over 50 ms: {over:3d}, "
                  f"GUI thread waiting for a CPU {wait_ms:6.0f} ms in all, decoding {decode_s:.1f} s")
    w.undo_stack.setClean()
    w.runner.shutdown(3000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
