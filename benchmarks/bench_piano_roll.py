"""Repaint time of the piano roll with a 20,000-note clip, offscreen.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_piano_roll.py [--notes 20000] [--repeat 30]

Prints the median and worst wall-clock time and the median CPU time of: a full repaint of the note view, one scroll step
(scroll then repaint), a repaint of the whole editor (ruler, keyboard, velocity lane too),
a zoomed-to-fit repaint where every note is on screen, and one edit (undo command, Song
change, index rebuild and repaint). The target is under 10 ms for the first two.
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


def build_song(total: int, seed: int = 1):
    """A long trio: melody 8, bass 4 and drums 28 notes a bar, until `total` notes."""
    from core.song import Clip, Note, Song, Track

    rng = random.Random(seed)
    song = Song("bench")
    mel = song.add_track(Track("Melody", "melody"))
    bass = song.add_track(Track("Bass", "bass", program=33))
    drums = song.add_track(Track("Drums", "drums", is_drum=True))
    notes = {mel.id: [], bass.id: [], drums.id: []}
    bars = total // 40
    pitch = 72
    for bar in range(bars):
        t0 = bar * 4.0
        for i in range(8):
            pitch = max(60, min(88, pitch + rng.choice([-2, -1, 1, 2, 0])))
            notes[mel.id].append(Note(pitch, t0 + i * 0.5, t0 + i * 0.5 + 0.45, rng.randint(60, 110)))
        for i in range(4):
            notes[bass.id].append(Note(36 + rng.choice([0, 5, 7]), t0 + i, t0 + i + 0.9, 90))
        for i in range(16):
            notes[drums.id].append(Note(42, t0 + i * 0.25, t0 + i * 0.25 + 0.2, 70 + (i % 2) * 30))
        for i in range(8):
            notes[drums.id].append(Note(36 if i % 2 == 0 else 38, t0 + i * 0.5, t0 + i * 0.5 + 0.25, 100))
        for i in range(4):
            notes[drums.id].append(Note(51, t0 + i, t0 + i + 0.25, 80))
    clip = song.add_clip(Clip("long", bars * 4.0, notes))
    return song, clip, mel


def timed(fn, repeat: int) -> str:
    """Median and worst wall-clock time, and the median CPU time of this process (which leaves
    out time spent waiting for a core on a shared machine), in milliseconds."""
    fn()  # warm caches once
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return (f"median {statistics.median(wall):6.2f} ms   worst {max(wall):6.2f} ms   "
            f"cpu median {statistics.median(cpu):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from core.song import Note
    from gui.piano_roll import PianoRollEditor

    app = QApplication.instance() or QApplication([])
    song, clip, mel = build_song(args.notes)
    editor = PianoRollEditor(song, QUndoStack())
    editor.resize(1400, 800)
    editor.show()
    app.processEvents()
    editor.set_clip(clip.id)
    editor.set_edit_track(mel.id)
    st, view = editor.state, editor.view
    st.set_view(px_per_beat=48.0, row_h=12.0, scroll_x=400.0)
    st.set_view(scroll_y=st.y_of(90) + st.scroll_y)
    app.processEvents()
    print(f"{clip.note_count()} notes in the clip; view {view.width()}x{view.height()} px, "
          f"{view.width() / st.px_per_beat:.0f} beats and {view.height() / st.row_h:.0f} rows visible")

    def visible_count() -> int:
        b0, b1 = st.beat_at(0), st.beat_at(view.width())
        lo, hi = st.pitch_at(view.height() - 1), st.pitch_at(0)
        return sum(len(st.arrays(t).visible(b0, b1, lo, hi)) for t in st.visible_tracks)

    print(f"notes on screen: {visible_count()}")
    print(f"full view repaint:      {timed(view.repaint, args.repeat)}")

    step = 60.0 / st.px_per_beat  # one wheel notch

    def scroll() -> None:
        st.set_view(scroll_x=st.scroll_x + step)
        view.repaint()

    print(f"scroll step + repaint:  {timed(scroll, args.repeat)}")
    print(f"whole editor repaint:   {timed(editor.repaint, args.repeat)}")

    st.zoom_to_fit()
    app.processEvents()
    print(f"zoom to fit: notes on screen: {visible_count()}")
    print(f"fitted view repaint:    {timed(view.repaint, max(5, args.repeat // 3))}")

    st.set_view(px_per_beat=48.0, scroll_x=400.0)
    first = [n for n in st.edit_notes() if n.start >= 400.0][:1]

    def edit() -> None:
        moved = st.edits.move(clip.id, mel.id, first, 0.5, 1)
        first[:] = moved
        view.repaint()

    print(f"one edit (move a note): {timed(edit, max(5, args.repeat // 3))}  "
          f"({len(st.edit_notes())} notes on the edited track)")
    assert isinstance(first[0], Note)


if __name__ == "__main__":
    main()
