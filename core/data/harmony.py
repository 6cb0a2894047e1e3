"""Key finding and a simple bass line from a melody's implied harmony.

Folk tunes in the music21 corpus are single melodies. To pair them with a bass line for the
trio model, the harmony a fiddler's accompanist would play is guessed from the tune itself:

1. The key: Krumhansl-Kessler key profiles correlated with the tune's pitch-class durations
   (the usual key-finding method, as in music21's analysis, done here in numpy).
2. The chords: every half bar (two beats) gets one of the key's common triads (major key:
   I, ii, IV, V, vi; minor key: i, iv, V, VI, III, VII), the one whose tones cover most of the
   melody there (notes on the beat and long notes weigh more), with a bonus for keeping the
   previous chord and for the tonic and dominant.
3. The bass: the chord root in the bass register (E1..E3) played as a half note, or root and
   fifth as two quarter notes (chosen once per tune), as a simple accompaniment would.
"""
from __future__ import annotations

import math

import numpy as np

from core.song import Note, sort_notes

MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; V is taken major (raised 7th)

# (root offset from the tonic, quality, prior bonus)
_MAJOR_CHORDS = ((0, "maj", 0.3), (2, "min", 0.0), (5, "maj", 0.15), (7, "maj", 0.25), (9, "min", 0.05))
_MINOR_CHORDS = ((0, "min", 0.3), (5, "min", 0.15), (7, "maj", 0.25), (8, "maj", 0.05), (3, "maj", 0.05),
                 (10, "maj", 0.05))
_TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7)}
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def pitch_class_histogram(notes) -> np.ndarray:
    h = np.zeros(12)
    for n in notes:
        h[int(n.pitch) % 12] += max(n.end - n.start, 0.0)
    return h


def detect_key(notes) -> tuple[int, str]:
    """(tonic pitch class, "major" or "minor") of a note list; (0, "major") when empty."""
    h = pitch_class_histogram(notes)
    if h.sum() <= 0:
        return 0, "major"
    best = (-2.0, 0, "major")
    for tonic in range(12):
        for mode, prof in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
            r = np.corrcoef(h, np.roll(prof, tonic))[0, 1]
            if np.isfinite(r) and r > best[0]:
                best = (r, tonic, mode)
    return best[1], best[2]


def key_name(tonic: int, mode: str) -> str:
    return f"{NOTE_NAMES[tonic % 12]} {mode}"


def scale_pitch_classes(tonic: int, mode: str) -> set[int]:
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    pcs = {(tonic + s) % 12 for s in scale}
    if mode == "minor":
        pcs.add((tonic + 11) % 12)  # harmonic minor's leading tone is common in tunes
    return pcs


def share_in_key(notes, key: tuple[int, str] | None = None) -> float:
    """Fraction of notes whose pitch class is in the (detected) key's scale."""
    notes = list(notes)
    if not notes:
        return 1.0
    tonic, mode = key or detect_key(notes)
    pcs = scale_pitch_classes(tonic, mode) - ({(tonic + 11) % 12} if mode == "minor" else set())
    return sum(1 for n in notes if int(n.pitch) % 12 in pcs) / len(notes)


def implied_chords(notes, length: float, key: tuple[int, str] | None = None,
                   span: float = 2.0) -> list[tuple[float, int, str]]:
    """(start beat, root pitch class, quality) for every `span` beats of the melody."""
    notes = list(notes)
    tonic, mode = key or detect_key(notes)
    table = _MAJOR_CHORDS if mode == "major" else _MINOR_CHORDS
    chords = []
    prev = None
    t = 0.0
    while t < length - 1e-9:
        weights = np.zeros(12)
        for n in notes:
            overlap = min(n.end, t + span) - max(n.start, t)
            if overlap <= 0:
                continue
            w = overlap * (1.5 if abs(n.start - t) < 1e-6 or abs(n.start - t - 1.0) < 1e-6 else 1.0)
            weights[int(n.pitch) % 12] += w
        best = None
        for off, quality, prior in table:
            root = (tonic + off) % 12
            tones = {(root + i) % 12 for i in _TRIADS[quality]}
            fit = sum(weights[pc] for pc in tones) - 0.6 * sum(weights[pc] for pc in range(12) if pc not in tones)
            score = fit + prior * max(weights.sum(), 1.0) + (0.35 * weights.sum() if prev == (root, quality) else 0.0)
            if best is None or score > best[0]:
                best = (score, root, quality)
        if weights.sum() == 0 and prev is not None:
            root, quality = prev
        else:
            root, quality = best[1], best[2]
        chords.append((t, root, quality))
        prev = (root, quality)
        t += span
    return chords


def _bass_pitch(pc: int, low: int = 40) -> int:
    """The pitch of a pitch class at or above `low` (E2 = 40 by default), within an octave."""
    return low + (pc - low) % 12


def root_bass(notes, length: float, seed: int = 0, key: tuple[int, str] | None = None,
              velocity: int = 90) -> list[Note]:
    """A bass line on the implied chord roots (see the module notes)."""
    notes = list(notes)
    if not notes:
        return []
    chords = implied_chords(notes, length, key)
    first = min(n.start for n in notes)
    begin = math.ceil(first / 4.0 - 1e-9) * 4.0  # a pickup is left to the melody alone
    last = max(n.end for n in notes)
    style = seed % 2  # 0: half notes on the root; 1: root then fifth in quarters
    out = []
    for start, root, quality in chords:
        end = min(start + 2.0, length)
        if start < begin - 1e-9 or start >= last - 1e-9 or end <= start:
            continue
        r = _bass_pitch(root, 33)  # A1..G#2
        if style == 0 or end - start < 2.0:
            out.append(Note(r, start, end, velocity))
        else:
            fifth = r + 7 if r + 7 <= 52 else r - 5
            out.append(Note(r, start, start + 1.0, velocity))
            out.append(Note(fifth, start + 1.0, end, velocity - 10))
    return sort_notes(out)
