#!/usr/bin/env python3
"""What the status bar's note count costs per song change (it runs after every note edit).

    .venv/bin/python benchmarks/bench_song_summary.py

A song of 1,000 clips of 16 notes with 64 eight-bar sections over 32 of them: the notes the
arrangement plays counted by Song.arranged_note_count, against counting rendered_notes(), and
the clip library's sum the tooltip also shows.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def per_call_ms(fn, n: int = 200) -> tuple[object, float]:
    start = time.perf_counter()
    for _ in range(n):
        result = fn()
    return result, (time.perf_counter() - start) / n * 1e3


def main() -> int:
    from core.song import Clip, Note, Section, Song, Track

    song = Song("big")
    track = song.add_track(Track("Melody", "melody"))
    clips = [song.add_clip(Clip(f"c{i}", 8.0, {track.id: [Note(60 + j % 12, j * 0.5, j * 0.5 + 0.5)
                                                          for j in range(16)]}))
             for i in range(1000)]
    song.set_sections([Section("verse", clips[i % 32].id, i * 32.0, 32.0) for i in range(64)])
    count, fast = per_call_ms(song.arranged_note_count)
    rendered, slow = per_call_ms(lambda: sum(len(v) for v in song.rendered_notes().values()))
    library, lib_ms = per_call_ms(lambda: sum(c.note_count() for c in song.clips.values()))
    assert count == rendered
    print(f"arranged_note_count: {count} notes in {fast:.3f} ms per call")
    print(f"counting rendered_notes(): {rendered} notes in {slow:.3f} ms per call")
    print(f"library sum (tooltip): {library} notes in {lib_ms:.3f} ms per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
