"""`./latent-studio self-test`: check that this installation works, one line per step.

    ./latent-studio self-test            (the bundle: dist/latent-studio/latent-studio self-test)

Steps: each embedded model is loaded, samples two clips, encodes one and decodes the code
again; a second of audio is rendered with the built-in synthesizer; a MIDI file and a project
are written and read back; the window is opened offscreen. Every step prints PASS or FAIL with
its time (a FAIL says why); the exit code is 0 only when every step passed. Nothing is written
outside a temporary folder, and the user's settings are not touched.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import traceback


def register(subparsers) -> None:
    p = subparsers.add_parser("self-test", help="check this installation: models, audio, files, window",
                              description=__doc__.splitlines()[0])
    p.add_argument("--skip-window", action="store_true", help="leave out opening the window")
    p.add_argument("--verbose", action="store_true", help="print the traceback of a failed step")
    p.set_defaults(func=run)


class Steps:
    """Runs steps, prints a PASS/FAIL line for each, remembers whether all passed."""

    def __init__(self, verbose: bool = False, stream=None):
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.failed: list[str] = []
        self.passed = 0

    def run(self, name: str, fn, *args):
        t0 = time.perf_counter()
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001 - a failed step is reported, the others still run
            reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self._line(f"FAIL  {name} ({time.perf_counter() - t0:.1f} s): {reason}")
            if self.verbose:
                self.stream.write(traceback.format_exc())
            self.failed.append(name)
            return None
        note = f": {result}" if isinstance(result, str) and result else ""
        self._line(f"PASS  {name} ({time.perf_counter() - t0:.1f} s){note}")
        self.passed += 1
        return result

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


# ------------------------------------------------------------------ the steps
def check_model(entry, folder: str) -> str:
    """Load, sample, encode and decode one embedded model."""
    import numpy as np

    from core.jobs import run_job
    from core import generation

    model = run_job(generation.load, None, entry.path, entry.name)
    clips = run_job(generation.sample, model, 2, 0.5, 7)
    if len(clips) != 2:
        raise AssertionError(f"asked for 2 samples, got {len(clips)}")
    notes = [c.note_count() for c in clips]
    if not any(notes):
        raise AssertionError("both samples are silent")
    clip = clips[int(np.argmax(notes))]
    _z, mu, _sigma = model.encode([clip])
    if mu.shape != (1, model.z_size) or not np.all(np.isfinite(mu)):
        raise AssertionError(f"encoding gave a code of shape {mu.shape} (expected (1, {model.z_size}))")
    decoded = run_job(generation.decode_codes, model, mu)
    if len(decoded) != 1 or decoded[0].note_count() == 0:
        raise AssertionError("decoding the sample's code gave no notes")
    return (f"{model.kind}, samples of {notes[0]} and {notes[1]} notes, "
            f"decoded back to {decoded[0].note_count()} notes on {model.device}")


def check_seq_model(entry) -> str:
    """Load a sequence model, continue a short melody by a bar and rewrite one of its bars."""
    from core import generation
    from core.jobs import run_job
    from core.song import Clip, Note

    model = run_job(generation.load_seq, entry.path, entry.name)
    clip = Clip("Self-test", 8.0, {"melody": [Note(60 + (i % 5) * 2, i * 0.5, i * 0.5 + 0.5, 90) for i in range(16)]})
    (cont,) = run_job(generation.continue_clip, model, clip, 1, 1, 1.0, seed=3)
    if cont.notes["melody"][:16] != clip.notes["melody"] or cont.length != 12.0:
        raise AssertionError("the continuation does not start with the clip unchanged")
    (fill,) = run_job(generation.infill_clip, model, clip, (2, 2), 1, 1.0, seed=3)
    if [n for n in fill.notes["melody"] if n.start < 4] != clip.notes["melody"][:8]:
        raise AssertionError("infilling bar 2 changed bar 1")
    return f"continued by {len(cont.notes['melody']) - 16} notes, bar 2 rewritten with {len(fill.notes['melody']) - 8}"


def demo_song():
    from core.song import Clip, Note, Song

    song = Song(title="Self-test", tempo=120.0)
    track = song.ensure_track("melody")
    clip = Clip(name="Self-test clip", length=4.0, notes={track.id: [Note(60 + 2 * i, i * 0.5, i * 0.5 + 0.45, 90)
                                                         for i in range(8)]})
    song.add_clip(clip)
    return song, clip


def check_audio() -> str:
    import numpy as np

    from core.audio import render

    song, clip = demo_song()
    audio = render.render_clip(song, clip.id)
    second = audio[: render.SAMPLE_RATE]
    if len(second) < render.SAMPLE_RATE:
        raise AssertionError(f"rendered {len(audio)} samples, less than a second")
    peak = float(np.max(np.abs(second)))
    if not np.all(np.isfinite(second)) or peak <= 0.01:
        raise AssertionError(f"the first second is silent or broken (peak {peak:.4f})")
    return f"peak {peak:.2f} at {render.SAMPLE_RATE} Hz"


def check_midi(folder: str) -> str:
    from core.midi_io import export_midi, import_midi

    song, clip = demo_song()
    path = os.path.join(folder, "self-test.mid")
    export_midi(song, path, clip=clip)
    back = import_midi(path)
    wanted = sorted((n.pitch, round(n.start, 3)) for ns in clip.notes.values() for n in ns)
    got = sorted((n.pitch, round(n.start, 3)) for c in back.clips.values() for ns in c.notes.values() for n in ns)
    if got != wanted:
        raise AssertionError(f"wrote {len(wanted)} notes, read back {len(got)} different ones")
    return f"{len(got)} notes back from {os.path.getsize(path)} bytes"


def check_project(folder: str) -> str:
    from core.project import load_project, save_project

    song, _clip = demo_song()
    path = os.path.join(folder, "self-test.lstudio")
    save_project(song, path)
    back = load_project(path)
    if back.snapshot() != song.snapshot():
        raise AssertionError("the project read back differs from the one written")
    return f"{len(back.clips)} clip, {os.path.getsize(path)} bytes"


def check_window(folder: str) -> str:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never on the user's screen (no QApplication exists yet)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from cli.screenshot import _quiet_offscreen_warnings
    from gui.app import create_application
    from gui.main_window import MainWindow

    _quiet_offscreen_warnings()  # "This plugin does not support ..." is expected offscreen
    app = create_application()
    settings = QSettings(os.path.join(folder, "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    try:
        window.resize(1280, 720)
        window.show()
        for _ in range(5):
            QApplication.processEvents()
        image = window.grab()
        if image.isNull() or image.width() < 200:
            raise AssertionError("the window drew nothing")
        return f"{image.width()}x{image.height()} on Qt's {app.platformName()} platform"
    finally:
        window.files.autosave_timer.stop()
        window.runner.shutdown(3000)
        window.hide()
        window.deleteLater()
        app.processEvents()


def run(args) -> int:
    from core.models.catalogue import embedded_models

    steps = Steps(verbose=args.verbose)
    folder = tempfile.mkdtemp(prefix="latent-studio-self-test-")
    # keep the user's data and cache (recovery files, attribute caches) out of it
    for key, sub in (("LATENT_STUDIO_DATA", "data"), ("LATENT_STUDIO_CACHE", "cache")):
        os.environ[key] = os.path.join(folder, sub)
    t0 = time.perf_counter()
    try:
        models = steps.run("find the embedded models", lambda: embedded_models() or _none())
        for entry in models or []:
            if entry.problem:
                steps.run(f"model {entry.name}", _raise, entry.problem)
                continue
            if getattr(entry, "is_sequence", False):
                steps.run(f"model {entry.name}: load, continue, infill", check_seq_model, entry)
            else:
                steps.run(f"model {entry.name}: load, sample, encode, decode", check_model, entry, folder)
        steps.run("render a second of audio", check_audio)
        steps.run("write and read a MIDI file", check_midi, folder)
        steps.run("write and read a project", check_project, folder)
        if not args.skip_window:
            steps.run("open the window (offscreen)", check_window, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    total = steps.passed + len(steps.failed)
    if steps.failed:
        print(f"self-test FAILED: {len(steps.failed)} of {total} steps ({', '.join(steps.failed)}) "
              f"in {time.perf_counter() - t0:.0f} s")
        return 1
    print(f"self-test passed: all {total} steps in {time.perf_counter() - t0:.0f} s")
    return 0


def _none():
    raise AssertionError("no embedded models found (resources/models is missing or empty)")


def _raise(problem: str):
    raise AssertionError(problem)
