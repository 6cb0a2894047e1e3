#!/usr/bin/env python3
"""How fast a fresh Latent Studio opens and writes its first clip (issue 16.4).

    .venv/bin/python benchmarks/bench_startup.py                  # 3 launches, Generate pressed at once
    .venv/bin/python benchmarks/bench_startup.py --runs 1 --press-after 5
    .venv/bin/python benchmarks/bench_startup.py --no-preload     # as before: load on the first Generate

Each run launches the app in a fresh process (offscreen, a throwaway settings file and data
folder, so the default model mel_2bar is chosen and no recovery is offered), the same way
main.py does, and prints:

- launch -> window shown: from just before the process is started to the window's first paint;
- press Generate -> first clip shown: Generate is clicked --press-after seconds after the window
  showed (default 0: the worst case, the model is still loading), until the new clips are in the
  library and that has been painted;
- the longest event-loop stall while the background loading runs: a 10 ms QTimer probe runs from
  the window's first paint until the model is loaded and the clips are shown; a stall is the gap
  between two ticks beyond 10 ms. The three longest are listed with when they happened.

Targets (issue 16.4, on a 2-core machine): window within 3 s, first clip within 8 s, no stall
over 50 ms.

A built program (the PyInstaller bundle) cannot host that probe, so it is timed from outside:

    .venv/bin/python benchmarks/bench_startup.py --command dist/latent-studio/latent-studio
    .venv/bin/python benchmarks/bench_startup.py --command ".venv/bin/python main.py"   # to compare

runs the command (fresh settings and data folder each time) on a private X server (Xvfb, with
its real xcb platform rather than offscreen) and prints launch -> window shown: from just
before the process starts until X reports the main window mapped and viewable (polled every
10 ms with xwininfo). The first run is the cold one (the program's files fresh from the build,
as far as the page cache allows without dropping it); the median of the rest is the warm start.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE_MS = 10


# ------------------------------------------------------------------ the app's side
def child(t0: float, press_after: float, preload: bool, timeout: float) -> int:
    sys.path.insert(0, ROOT)
    sys.argv = [os.path.join(ROOT, "main.py")]
    import main  # noqa: F401 - the same environment settings as a real launch

    from core.tf_setup import configure

    configure()
    from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer

    from gui.app import create_application, run_app

    app = create_application()
    settings = QSettings(os.path.join(os.environ["LATENT_STUDIO_DATA"], "settings.ini"),
                         QSettings.Format.IniFormat)
    settings.setValue("models/preload", preload)
    out: dict = {"preload": preload, "press_after": press_after}
    ticks: list[float] = []

    def now() -> float:
        return time.time() - t0

    def finish(error: str | None = None) -> None:
        if error:
            out["error"] = error
        gaps = [(ticks[i] - ticks[i - 1], ticks[i]) for i in range(1, len(ticks))]
        gaps.sort(reverse=True)
        out["stalls"] = [(round(max(g * 1000 - PROBE_MS, 0.0), 1), round(at, 2)) for g, at in gaps[:3]]
        # the same, counting only gaps that began once the model's load had started
        began = out.get("load_started", 0.0)
        late = [(g, at) for g, at in gaps if at - g >= began]
        out["stalls_loading"] = [(round(max(g * 1000 - PROBE_MS, 0.0), 1), round(at, 2)) for g, at in late[:3]]
        out["probe_from"] = round(ticks[0], 2) if ticks else None
        out["probe_to"] = round(ticks[-1], 2) if ticks else None
        print("RESULT " + json.dumps(out), flush=True)
        app.exit(0)

    def window():
        from gui.main_window import MainWindow

        for w in app.topLevelWidgets():
            if isinstance(w, MainWindow):
                return w
        return None

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(lambda: ticks.append(now()))

    def loaded_and_shown() -> None:
        w = window()
        if "first_clip" in out and w.models.is_loaded(w.generate_panel.model_name()) \
                and not w.runner.is_busy():
            probe.stop()
            finish()
        else:
            QTimer.singleShot(50, loaded_and_shown)

    def press() -> None:
        w = window()
        panel = w.generate_panel

        def shown(_ids) -> None:
            QTimer.singleShot(0, lambda: (out.setdefault("first_clip", round(now() - out["pressed"], 2)),
                                          out.setdefault("clips", len(w.song.clips)),
                                          loaded_and_shown()))

        panel.clips_added.connect(shown)
        phases = out.setdefault("phases", [])
        w.runner.progress.connect(lambda f, m: phases.append((round(now(), 2), m)))
        out["model"] = panel.model_name()
        out["pressed"] = round(now(), 2)
        panel.generate_button.click()

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if (event.type() == QEvent.Type.Paint and "window" not in out
                    and obj.isWidgetType() and obj.window().objectName() == "mainWindow"):
                out["window"] = round(now(), 2)
                ticks.append(now())
                w = window()
                w.runner.started.connect(lambda _d: out.setdefault("load_started", round(now(), 2)))
                probe.start()
                QTimer.singleShot(int(press_after * 1000), press)
            return False

    painted = FirstPaint()
    app.installEventFilter(painted)
    QTimer.singleShot(int(timeout * 1000), lambda: finish("timed out"))
    return run_app([], settings=settings)


# ------------------------------------------------------------------ the measuring side
def launch(press_after: float, preload: bool, timeout: float) -> dict:
    tmp = tempfile.mkdtemp(prefix="bench-startup-")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               LATENT_STUDIO_DATA=os.path.join(tmp, "data"), LATENT_STUDIO_CACHE=os.path.join(tmp, "cache"))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    os.makedirs(env["LATENT_STUDIO_DATA"], exist_ok=True)
    t0 = time.time()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", repr(t0),
                           "--press-after", str(press_after), "--timeout", str(timeout)]
                          + ([] if preload else ["--no-preload"]),
                          env=env, capture_output=True, text=True, timeout=timeout + 60)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"the app printed no result (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


# ------------------------------------------------------------------ a built program, from outside
@contextmanager
def private_display():
    """A throwaway Xvfb server; yields its DISPLAY name."""
    if shutil.which("Xvfb") is None or shutil.which("xwininfo") is None:
        raise SystemExit("--command needs Xvfb and xwininfo (apt-get install xvfb x11-utils)")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24",
                               "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()
    try:
        if not number:
            raise SystemExit("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def _window_viewable(display: str) -> bool:
    """True once a top-level window titled '... — Latent Studio' is mapped and viewable."""
    env = dict(os.environ, DISPLAY=display)
    tree = subprocess.run(["xwininfo", "-root", "-children"], env=env, capture_output=True,
                          text=True).stdout
    for line in tree.splitlines():
        if "— Latent Studio\"" in line:
            info = subprocess.run(["xwininfo", "-id", line.split()[0]], env=env,
                                  capture_output=True, text=True).stdout
            if "IsViewable" in info:
                return True
    return False


def launch_command(command: list[str], display: str, timeout: float) -> float:
    """Seconds from starting `command` to its main window being shown on `display`."""
    tmp = tempfile.mkdtemp(prefix="bench-startup-")
    env = dict(os.environ, DISPLAY=display, LATENT_STUDIO_DATA=os.path.join(tmp, "data"),
               LATENT_STUDIO_CACHE=os.path.join(tmp, "cache"))
    env.pop("QT_QPA_PLATFORM", None)
    os.makedirs(env["LATENT_STUDIO_DATA"], exist_ok=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, cwd=ROOT)
    try:
        while time.monotonic() - t0 < timeout:
            if _window_viewable(display):
                return time.monotonic() - t0
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} ended (exit {proc.returncode}) before its window "
                                 f"showed:\n{proc.stderr.read()[-3000:]}")
            time.sleep(PROBE_MS / 1000)
        raise SystemExit(f"no window after {timeout:g} s")
    finally:
        # the program and its model process: one session, ended together
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(5)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
        shutil.rmtree(tmp, ignore_errors=True)


def time_command(command: str, runs: int, timeout: float) -> int:
    argv = shlex.split(command)
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; {command} on a private "
          "X server (Xvfb)")
    times = []
    with private_display() as display:
        for i in range(runs):
            times.append(launch_command(argv, display, timeout))
            print(f"run {i + 1}{' (cold)' if i == 0 else ''}: launch -> window shown {times[-1]:.2f} s")
    if len(times) > 2:
        print(f"cold {times[0]:.2f} s; warm median of {len(times) - 1}: "
              f"{statistics.median(times[1:]):.2f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--press-after", type=float, default=0.0,
                        help="seconds between the window showing and pressing Generate (default 0)")
    parser.add_argument("--no-preload", action="store_true",
                        help="do not load the default model at start-up (the behaviour before issue 16.4)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--verbose", action="store_true", help="list the model jobs' messages with their times")
    parser.add_argument("--command", metavar="CMD",
                        help="time this program's start from outside instead (e.g. the built bundle "
                             "dist/latent-studio/latent-studio): launch -> window shown, under Xvfb")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child(float(args.child), args.press_after, not args.no_preload, args.timeout)
    if args.command:
        return time_command(args.command, args.runs, args.timeout)

    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; "
          f"preload {'off' if args.no_preload else 'on'}; Generate pressed {args.press_after:g} s "
          "after the window showed")
    results = []
    for i in range(args.runs):
        r = launch(args.press_after, not args.no_preload, args.timeout)
        if r.get("error"):
            print(f"run {i + 1}: {r['error']} {r}")
            return 1
        results.append(r)
        if args.verbose:
            print("  job messages (time after launch):", "; ".join(f"{t:.1f} s {m}" for t, m in r["phases"]))
        stalls = ", ".join(f"{ms:.0f} ms at {at:.1f} s" for ms, at in r["stalls_loading"])
        print(f"run {i + 1}: launch -> window shown {r['window']:.2f} s; press Generate -> first clip "
              f"shown {r['first_clip']:.2f} s ({r['clips']} clips of {r['model']}); longest stalls "
              f"once the load began ({r.get('load_started', 0):.1f} s): {stalls}; longest since the "
              f"first paint: {r['stalls'][0][0]:.0f} ms at {r['stalls'][0][1]:.1f} s")
    if len(results) > 1:
        med = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
        worst = max(r["stalls_loading"][0][0] for r in results)
        print(f"median of {len(results)}: launch -> window shown {med('window'):.2f} s; press Generate -> "
              f"first clip shown {med('first_clip'):.2f} s; longest stall while loading, over all runs: "
              f"{worst:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
