"""Repaint and edit time of the song timeline with a long, busy arrangement, offscreen.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_timeline.py [--sections 60] [--repeat 20]

The song has a melody, bass and drum track and one 16-bar clip per label (about 40 notes a
bar), laid out as `--sections` sections of 8 or 16 bars. Prints the median and worst wall-clock
time and the median CPU time of: a repaint zoomed out as far as the song needs (first paint fills the
note-picture cache, the others reuse it), a repaint after a zoom (cache refilled), one scroll
step, and one edit (an undoable move of a section and the repaint after it).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def build_song(sections: int, seed: int = 1):
    from core import arrangement as arr
    from core.song import Clip, Note, Song, Track

    rng = random.Random(seed)
    song = Song("bench")
    mel = song.add_track(Track("Melody", "melody"))
    bass = song.add_track(Track("Bass", "bass", program=33))
    drums = song.add_track(Track("Drums", "drums", is_drum=True))
    clips = {}
    for label in arr.LABELS:
        notes = {mel.id: [], bass.id: [], drums.id: []}
        pitch = 72
        for bar in range(16):
            t0 = bar * 4.0
            for i in range(8):
                pitch = max(60, min(88, pitch + rng.choice([-2, -1, 1, 2, 0])))
                notes[mel.id].append(Note(pitch, t0 + i * 0.5, t0 + i * 0.5 + 0.45))
            for i in range(4):
                notes[bass.id].append(Note(36 + rng.choice([0, 5, 7]), t0 + i, t0 + i + 0.9))
            for i in range(16):
                notes[drums.id].append(Note(42, t0 + i * 0.25, t0 + i * 0.25 + 0.2))
            for i in range(8):
                notes[drums.id].append(Note(36 if i % 2 == 0 else 38, t0 + i * 0.5, t0 + i * 0.5 + 0.25))
        clips[label] = song.add_clip(Clip(label, 64.0, notes, label=label)).id
    form = [rng.choice(arr.LABELS) for _ in range(sections)]
    secs = arr.template_sections(form, 4.0, {label: rng.choice([8, 16]) for label in arr.LABELS})
    song.set_sections([arr.replace(s, clip_id=clips[s.label]) for s in secs])
    return song


def timed(fn, repeat: int) -> str:
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return (f"median {statistics.median(wall):6.2f} ms  worst {max(wall):6.2f} ms  "
            f"cpu {statistics.median(cpu):6.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sections", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from gui.timeline import Timeline

    song = build_song(args.sections)
    stack = QUndoStack()
    tl = Timeline(song, stack)
    tl.resize(1200, 300)
    tl.show()
    app.processEvents()
    canvas = tl.canvas
    canvas.zoom_to_fit()
    notes = sum(len(v) for v in song.rendered_notes().values())
    bars = song.length_bars()
    print(f"{len(song.sections)} sections, {bars:g} bars, {notes} notes in the song, "
          f"canvas {canvas.width()}x{canvas.height()}")

    def paint():
        canvas.repaint()

    def paint_cold():
        canvas._pixmaps.clear()
        canvas.repaint()

    zoom = [canvas.px_per_beat, canvas.px_per_beat * 4]

    def zoomed():
        zoom.reverse()
        canvas.set_zoom(zoom[0], 0)
        canvas.repaint()

    canvas.set_zoom(canvas.px_per_beat * 4, 0)
    steps = [0]

    def scroll():
        steps[0] += 1
        canvas.set_scroll(canvas.scroll_px + (40 if steps[0] % 40 else -1600))
        canvas.repaint()

    print(f"scroll step, zoomed in:     {timed(scroll, args.repeat)}")
    canvas.zoom_to_fit()
    print(f"repaint, zoomed out:        {timed(paint, args.repeat)}")
    print(f"repaint, pictures redrawn:  {timed(paint_cold, args.repeat)}")
    print(f"zoom x4 and back:           {timed(zoomed, args.repeat)}")
    ids = [s.id for s in song.sections]

    def edit():
        tl.move_section(ids[0], len(ids) - 1)
        canvas.repaint()
        stack.undo()

    print(f"move a section + undo:      {timed(edit, args.repeat)}")


if __name__ == "__main__":
    main()
