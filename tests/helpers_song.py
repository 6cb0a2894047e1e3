"""Songs with fixed ids for the project tests (the same content in every process)."""
from __future__ import annotations

import random

from core.song import Clip, Note, Section, Song, TempoChange, TimeSignature, Track


def rich_song(seed: int = 1, notes_per_track: int = 50) -> Song:
    """A song that uses every field: all track attributes, latent codes, several sections."""
    rng = random.Random(seed)
    song = Song(title=f"Rich song {seed} – ünïcode ♪", tempo=96.5, numerator=3, denominator=4)
    song.tempos.append(TempoChange(12.0, 140.25))
    song.time_signatures.append(TimeSignature(24.0, 7, 8))
    tracks = [Track("Lead", "melody", program=73, volume=0.8, id=f"trk-lead{seed}"),
              Track("Bass", "bass", program=33, mute=True, id=f"trk-bass{seed}"),
              Track("Kit", "drums", is_drum=True, solo=True, id=f"trk-kit{seed}"),
              Track("Pad", "other", program=89, volume=0.25, id=f"trk-pad{seed}")]
    for t in tracks:
        song.add_track(t)
    for k in range(3):
        notes = {}
        for t in tracks:
            ns = []
            for _ in range(notes_per_track):
                s = rng.randrange(0, 64) / 4 + rng.random() * 0.01
                ns.append(Note(rng.randrange(24, 100), s, s + rng.randrange(1, 9) / 4, rng.randrange(1, 128)))
            notes[t.id] = ns
        clip = Clip(f"Idea {k}", 16.0, notes, id=f"clip-{seed}-{k}",
                    latent=[rng.gauss(0, 1) for _ in range(8)] if k != 1 else None,
                    model="cat-mel_2bar_big" if k != 1 else None,
                    origin=("sampled", "drawn", "interpolated")[k], label=("verse", None, "chorus")[k])
        song.add_clip(clip)
    song.set_sections([Section("intro", f"clip-{seed}-1", 0.0, 8.0, id=f"sec-{seed}-a"),
                       Section("verse", f"clip-{seed}-0", 8.0, 16.0, id=f"sec-{seed}-b"),
                       Section("chorus", f"clip-{seed}-2", 24.0, 32.0, id=f"sec-{seed}-c"),
                       Section("break", None, 56.0, 4.0, id=f"sec-{seed}-d")])
    return song
