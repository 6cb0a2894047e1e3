"""Render speed of a 16-bar trio and underruns of real-time playback under CPU load.

    python benchmarks/bench_audio.py [--seconds 60] [--soundfont auto|FILE.sf2] [--no-load]

1. Renders a busy 16-bar trio (melody in eighths, bass, drums with sixteenth hats; 120 BPM,
   32 s of music) with the built-in synthesizer at 44.1 kHz, best of 5 runs, and prints the
   speed as a multiple of real time (target >= 100x). With --soundfont, the same for the font.
2. Plays the trio in a loop for --seconds on the silent output (a thread that takes one
   512-frame block every 11.6 ms, as a sound card would) while another thread runs a real
   generation job: the trio model samples batches of 8 in a loop through the MusicVAE engine
   (the embedded trio_16bar when it exists, else the Magenta-made fixture trio; --model picks
   another folder, --load synthetic uses GIL-holding Python loops and numpy products instead).
   Prints the number of underruns (target 0) and the lowest fill of the ring buffer seen.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_trio(bars: int = 16, seed: int = 7):
    import random

    from core.song import Clip, Note, Section, Song, Track

    rng = random.Random(seed)
    song = Song("bench trio", 120.0)
    mel = song.add_track(Track("Melody", "melody", program=0))
    bass = song.add_track(Track("Bass", "bass", program=33))
    drums = song.add_track(Track("Drums", "drums", is_drum=True))
    m, b, d = [], [], []
    pitch = 72
    for bar in range(bars):
        t0 = bar * 4.0
        root = (36, 33, 29, 31)[bar % 4]
        for i in range(8):
            pitch = max(60, min(88, pitch + rng.choice((-2, -1, 0, 1, 2))))
            m.append(Note(pitch, t0 + i * 0.5, t0 + i * 0.5 + 0.45, rng.randint(60, 115)))
            b.append(Note(root + (12 if i % 4 == 3 else 0), t0 + i * 0.5, t0 + i * 0.5 + 0.4, 95))
        for i in range(16):
            t = t0 + i * 0.25
            d.append(Note(42 if i % 8 else 46, t, t + 0.1, 60 + 20 * (i % 2 == 0)))
            if i % 8 == 0:
                d.append(Note(36, t, t + 0.1, 110))
            if i % 8 == 4:
                d.append(Note(38, t, t + 0.1, 105))
        if bar % 4 == 0:
            d.append(Note(49, t0, t0 + 1.0, 100))
    clip = song.add_clip(Clip("trio", bars * 4.0, {mel.id: m, bass.id: b, drums.id: d}))
    song.add_section(Section("verse", clip.id, 0.0, bars * 4.0))
    return song


def bench_render(song, soundfont=None, repeat: int = 5) -> tuple[float, float, float]:
    """Seconds of audio, best wall-clock time and best CPU time of this process (the CPU time
    is what a machine of its own would take; the build machines are shared)."""
    from core.audio import SAMPLE_RATE
    from core.audio.render import render_song

    render_song(song, soundfont=soundfont)  # warm the caches (wavetables, drums, font)
    best = best_cpu = float("inf")
    frames = 0
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        audio = render_song(song, soundfont=soundfont)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        frames = len(audio)
    seconds = frames / SAMPLE_RATE
    return seconds, best, best_cpu


def cpu_hog(stop: threading.Event, counter: list) -> None:
    """A stand-in for a generation job: GIL-holding Python loops and BLAS work, alternately."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((384, 384))
    while not stop.is_set():
        x = 0
        for i in range(200_000):  # about 10-20 ms of pure Python
            x += i * i % 7
        a = np.tanh(a @ a.T / 384.0)
        counter[0] += 1


def generation_job(model_dir: str):
    """A loop that samples 8 trios at a time with the engine, like the Generate panel's job."""
    from core import generation
    from core.jobs import run_job
    from core.musicvae import load_model

    config = None if os.path.exists(os.path.join(model_dir, "model.json")) else "hierdec-trio_16bar"
    model = load_model(config, model_dir)
    run_job(generation.sample, model, 1, 0.5, seed=0)  # trace the graphs before the clock starts

    def run(stop: threading.Event, counter: list) -> None:
        seed = 1
        while not stop.is_set():
            run_job(generation.sample, model, 8, 0.5, seed=seed)
            seed += 1
            counter[0] += 1

    return run


def default_trio_model() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    embedded = os.path.join(root, "resources", "models", "trio_16bar")
    if os.path.exists(os.path.join(embedded, "model.json")):
        return embedded
    return os.path.join(root, "tests", "fixtures", "magenta", "hierdec-trio_16bar")


def bench_playback(song, seconds: float, load: bool, job=cpu_hog) -> dict:
    from core.audio.player import Player
    from core.audio.render import make_source

    player = Player(output="null")
    stop = threading.Event()
    counter = [0]
    hog = threading.Thread(target=job, args=(stop, counter), daemon=True)
    if load:
        hog.start()
    player.start(make_source(song, loop=(0.0, song.length_beats())))
    lowest = player.buffer_frames
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        time.sleep(0.005)
        ring = player._ring
        if ring is not None:
            lowest = min(lowest, ring.available())
    heard = player.position_frames()
    underruns = player.underruns
    player.stop()
    stop.set()
    if load:
        hog.join()
    return {"underruns": underruns, "lowest_fill_ms": lowest / 44.1, "seconds_heard": heard / 44100,
            "hog_rounds": counter[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--soundfont", default=None, help="also time a SoundFont ('auto' to find one)")
    ap.add_argument("--no-load", action="store_true", help="play without a job running beside it")
    ap.add_argument("--load", choices=("generation", "synthetic"), default="generation",
                    help="what runs beside playback (default: a real trio generation job)")
    ap.add_argument("--model", default=None, help="model folder for the generation job")
    args = ap.parse_args()

    song = build_trio()
    notes = sum(len(ns) for ns in song.rendered_notes().values())
    seconds, took, cpu = bench_render(song)
    print(f"render, built-in synth: 16-bar trio ({notes} notes, {seconds:.1f} s of audio) "
          f"in {took * 1000:.0f} ms = {seconds / took:.0f}x real time (target >= 100x); "
          f"CPU time {cpu * 1000:.0f} ms = {seconds / cpu:.0f}x")
    if args.soundfont:
        from core.audio.soundfont import find_soundfont

        path = find_soundfont() if args.soundfont == "auto" else args.soundfont
        if path is None:
            print("render, SoundFont: no SoundFont found")
        else:
            seconds, took, cpu = bench_render(song, soundfont=path)
            print(f"render, SoundFont {os.path.basename(path)}: {seconds:.1f} s of audio in "
                  f"{took * 1000:.0f} ms = {seconds / took:.0f}x real time; "
                  f"CPU time {cpu * 1000:.0f} ms = {seconds / cpu:.0f}x")
    if args.load == "generation":
        model_dir = args.model or default_trio_model()
        job, what = generation_job(model_dir), f"a trio generation job ({os.path.basename(model_dir)}, batches of 8"
    else:
        job, what = cpu_hog, "a synthetic CPU-heavy thread ("
    r = bench_playback(song, args.seconds, load=not args.no_load, job=job)
    load = "without load" if args.no_load else f"while {what}: {r['hog_rounds']} rounds)"
    print(f"playback, silent output, {r['seconds_heard']:.1f} s {load}: "
          f"{r['underruns']} underruns (target 0), lowest buffer fill {r['lowest_fill_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
