"""The folder scan on many files: files per second, memory, cancel delay (prints numbers).

    nice -n 19 .venv/bin/python benchmarks/bench_scan.py [--files 10000]

Writes --files small MIDI files into a throw-away folder: copies, under their own names, of 40
pieces made here with mido (a third are 32-bar band arrangements with two melody tracks, a
bass and drums, the rest 8-bar tunes, and one in 20 is damaged), then scans the folder with
core/data/scan.py as the dialog does. Printed: the scan's time and files per second, the process's
peak memory before and after it, the peak of Python's own allocations while scanning a tenth of
the files (tracemalloc, which slows the scan, so it is measured apart: the scan keeps counts
and window hashes, not windows), and how long a cancel takes to stop a scan (a second in).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TPB = 480


def _track(mido, notes, channel, program):
    events = []
    for pitch, start, length in notes:
        events += [(int(start * TPB), 1, pitch), (int((start + length) * TPB), 0, pitch)]
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.Message("program_change", program=program, channel=channel, time=0)])
    now = 0
    for tick, on, pitch in events:
        track.append(mido.Message("note_on" if on else "note_off", note=pitch, velocity=90 if on else 0,
                                  channel=channel, time=tick - now))
        now = tick
    return track


def templates(folder: str, n: int = 40) -> list[str]:
    import mido
    import numpy as np

    out = []
    for i in range(n):
        rng = np.random.default_rng(i)
        path = os.path.join(folder, f"template{i:02d}.mid")
        if i % 20 == 19:
            with open(path, "wb") as f:
                f.write(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x40\x00\x90\x3c")
            out.append(path)
            continue
        bars = 32 if i % 3 == 0 else 8

        def line(low, every):
            return [(low + int(rng.integers(0, 12)), k * every, every * 0.9) for k in range(int(bars * 4 / every))]

        mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
        mid.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0)]))
        mid.tracks.append(_track(mido, line(64, 0.5), 0, 0))
        if bars == 32:
            mid.tracks.append(_track(mido, line(55, 1.0), 1, 25))
            mid.tracks.append(_track(mido, line(36, 1.0), 2, 33))
            kit = [(36 if k % 2 == 0 else 38, k * 1.0, 0.25) for k in range(bars * 4)]
            mid.tracks.append(_track(mido, kit + [(42, k * 0.5, 0.2) for k in range(bars * 8)], 9, 0))
        mid.save(path)
        out.append(path)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    args = ap.parse_args()
    from core.data.scan import scan_folder
    from core.errors import JobCancelled
    from core.jobs import JobToken, run_job

    tmp = tempfile.mkdtemp(prefix="ls-scan-")
    try:
        src = os.path.join(tmp, "templates")
        os.makedirs(src)
        temps = templates(src)
        folder = os.path.join(tmp, "collection")
        t0 = time.perf_counter()
        for i in range(args.files):
            sub = os.path.join(folder, f"artist{i // 500:03d}")
            if i % 500 == 0:
                os.makedirs(sub, exist_ok=True)
            shutil.copyfile(temps[i % len(temps)], os.path.join(sub, f"song{i:05d}.mid"))
        print(f"wrote {args.files} files in {time.perf_counter() - t0:.1f} s")

        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        last = [t0]

        def report(fraction, message):
            if time.perf_counter() - last[0] > 60:
                last[0] = time.perf_counter()
                print(f"  {fraction:.0%} after {last[0] - t0:.0f} s", flush=True)

        result = run_job(scan_folder, folder, on_progress=report)
        dt = time.perf_counter() - t0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"scan: {dt:.1f} s, {args.files / dt:.1f} files/s; the process's peak memory "
              f"{rss0 / 1e3:.0f} MB before the scan, {rss1 / 1e3:.0f} MB after")
        for line in result.lines():
            print("  " + line)
        # what the scan holds beside its counts (window hashes, the refused list), on a tenth of the files
        tracemalloc.start()
        run_job(scan_folder, folder, limit_files=max(args.files // 10, 1))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python allocations scanning {max(args.files // 10, 1)} files: {peak / 1e6:.1f} MB")

        token = JobToken()
        threading.Timer(1.0, token.cancel).start()
        t0 = time.perf_counter()
        try:
            scan_folder(token, folder)
            print("the scan ended before the cancel")
        except JobCancelled:
            print(f"cancelled a second in: stopped {time.perf_counter() - t0 - 1.0:.3f} s after the cancel")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
