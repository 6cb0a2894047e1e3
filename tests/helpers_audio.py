"""Measuring rendered audio: onsets, pitch, level; and small songs to render."""
from __future__ import annotations

import numpy as np

from core.audio import SAMPLE_RATE
from core.song import Clip, Note, Section, Song, Track


def mono(audio: np.ndarray) -> np.ndarray:
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def onsets(audio: np.ndarray, threshold: float = 1e-3, gap: float = 0.05) -> list[int]:
    """Sample indices where the signal rises above `threshold` after at least `gap` s of quiet."""
    loud = np.abs(mono(audio)) > threshold
    idx = np.nonzero(loud)[0]
    if not len(idx):
        return []
    out = [int(idx[0])]
    jumps = np.nonzero(np.diff(idx) > gap * SAMPLE_RATE)[0]
    out += [int(idx[j + 1]) for j in jumps]
    return out


def pitch_hz(signal: np.ndarray, fmin: float = 30.0, fmax: float = 2000.0) -> float:
    """Frequency of the strongest spectral peak in [fmin, fmax]: Hann window, 8x zero padding,
    parabolic interpolation on the log magnitude."""
    x = mono(signal).astype(np.float64)
    x = x * np.hanning(len(x))
    n = 8 * len(x)
    spec = np.abs(np.fft.rfft(x, n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    band = (freqs >= fmin) & (freqs <= fmax)
    k = int(np.nonzero(band)[0][np.argmax(spec[band])])
    a, b, c = np.log(spec[k - 1:k + 2] + 1e-30)
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return float((k + shift) * SAMPLE_RATE / n)


def pitch_autocorr(signal: np.ndarray, fmin: float = 30.0, fmax: float = 2000.0) -> float:
    """Fundamental from the autocorrelation peak (parabolic interpolation of the lag). Unlike a
    spectral peak it measures the pitch heard from two slightly detuned oscillators: their mean."""
    x = mono(signal).astype(np.float64)
    x = x - x.mean()
    n = 2 * len(x)
    r = np.fft.irfft(np.abs(np.fft.rfft(x, n)) ** 2, n)[: len(x)]
    lo, hi = int(SAMPLE_RATE / fmax), int(SAMPLE_RATE / fmin) + 1
    k = lo + int(np.argmax(r[lo:hi]))
    a, b, c = r[k - 1:k + 2]
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return float(SAMPLE_RATE / (k + shift))


def cents(f: float, ref: float) -> float:
    return 1200.0 * np.log2(f / ref)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def song_with(notes_by_role: dict[str, list[Note]], tempo: float = 120.0, length: float | None = None,
              programs: dict[str, int] | None = None) -> Song:
    """A song with one clip holding the given notes (role -> notes), placed once."""
    song = Song("test", tempo)
    programs = programs or {}
    ids = {}
    for role in notes_by_role:
        t = Track(role.title(), role, program=programs.get(role, 0), is_drum=role == "drums")
        song.add_track(t)
        ids[role] = t.id
    end = max((n.end for ns in notes_by_role.values() for n in ns), default=4.0)
    length = length if length is not None else float(np.ceil(end))
    clip = song.add_clip(Clip("c", length, {ids[r]: ns for r, ns in notes_by_role.items() if ns}))
    song.add_section(Section("all", clip.id, 0.0, length))
    return song


def trio(bars: int = 16, tempo: float = 120.0, seed: int = 3) -> Song:
    """A 16-bar melody + bass + drums song (the benchmark and the listening check use it)."""
    song = Song("trio", tempo)
    mel = song.add_track(Track("Melody", "melody", program=0))
    bass = song.add_track(Track("Bass", "bass", program=33))
    drums = song.add_track(Track("Drums", "drums", is_drum=True))
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    rng = np.random.default_rng(seed)
    m, b, d = [], [], []
    for bar in range(bars):
        root = [48, 45, 41, 43][bar % 4]
        for q in range(4):
            t = bar * 4 + q
            b.append(Note(root - 12 + (7 if q == 2 else 0), t, t + 0.9, 90))
            d.append(Note(36 if q % 2 == 0 else 38, t, t + 0.25, 100))
            for e in (0.0, 0.5):
                d.append(Note(42, t + e, t + e + 0.1, 70))
                m.append(Note(int(rng.choice(scale)) + 12 * (bar % 2), t + e, t + e + 0.45,
                              int(rng.integers(60, 120))))
        if bar % 4 == 0:
            d.append(Note(49, bar * 4, bar * 4 + 1, 100))
    clip = song.add_clip(Clip("trio", bars * 4, {mel.id: m, bass.id: b, drums.id: d}))
    song.add_section(Section("verse", clip.id, 0, bars * 4))
    return song
