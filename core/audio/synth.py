"""The built-in synthesizer: melodic presets, drum sounds and metronome clicks.

Melodic voices read band-limited single-cycle wavetables (one per MIDI pitch, built by an inverse
FFT with only the harmonics that stay under about 18 kHz, so high notes do not alias). A voice
crossfades from a bright table to a mellow one over time, which is what makes the piano-like and
pluck presets sound struck rather than organ-like. Envelopes are ADSR with a few milliseconds of
ramp at both ends so that no note clicks.

Drum sounds are synthesized once per class (sine sweeps, filtered noise, clusters of detuned
square waves for the metal) and cached; a drum note adds a scaled copy of its one-shot.

Every function here renders any window of a note: sample n of a note is a pure function of n,
so the streaming renderer can cut the song into blocks anywhere and get identical audio.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from core.audio import SAMPLE_RATE

TABLE_SIZE = 4096
MAX_HARMONIC_HZ = 18000.0
MIN_ATTACK = 0.003  # seconds; shorter ramps click
MIN_RELEASE = 0.012


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


# --------------------------------------------------------------------------- presets
@dataclass(frozen=True)
class Preset:
    """A melodic voice. Times in seconds; `sustain` is a level 0..1."""

    name: str
    label: str
    bright: str  # spectrum of the start of the note (see _spectrum)
    mellow: str  # spectrum it fades to
    brightness_decay: float  # seconds for the bright part to fall by 1/e (0: bright only)
    attack: float
    decay: float
    sustain: float
    release: float
    detune_cents: float = 0.0  # > 0: two oscillators at +/- this detune
    gain: float = 1.0

    @property
    def tail_seconds(self) -> float:
        return max(self.release, MIN_RELEASE)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("piano", "Piano-like", "piano_bright", "piano_mellow", 0.35,
               attack=0.003, decay=1.6, sustain=0.12, release=0.18, gain=0.9),
        Preset("pluck", "Pluck", "saw", "soft", 0.09,
               attack=0.002, decay=0.45, sustain=0.0, release=0.08, gain=0.95),
        Preset("saw_lead", "Saw lead", "saw", "saw", 0.0,
               attack=0.01, decay=0.25, sustain=0.75, release=0.09, detune_cents=3.0, gain=0.55),
        Preset("sub_bass", "Sub bass", "sub", "sub", 0.0,
               attack=0.006, decay=0.3, sustain=0.85, release=0.07, gain=1.0),
        Preset("pad", "Pad", "pad", "pad", 0.0,
               attack=0.22, decay=0.6, sustain=0.8, release=0.5, detune_cents=4.0, gain=0.5),
    )
}


def preset_for_program(program: int) -> Preset:
    """Pick a preset from a General MIDI program number (by GM family)."""
    program = int(program) % 128
    family = program // 8
    if family == 0:  # pianos
        return PRESETS["piano"]
    if family in (1, 3, 13, 14):  # chromatic percussion, guitars, ethnic, percussive
        return PRESETS["pluck"]
    if family == 4:  # basses
        return PRESETS["sub_bass"]
    if family in (2, 5, 6, 11, 12, 15):  # organ, strings, ensemble, synth pad, synth fx, sfx
        return PRESETS["pad"]
    return PRESETS["saw_lead"]  # brass, reed, pipe, synth lead


def _spectrum(kind: str, n: int) -> np.ndarray:
    """Harmonic amplitudes 1..n of a named spectrum."""
    k = np.arange(1, n + 1, dtype=np.float64)
    if kind == "saw":
        return 1.0 / k
    if kind == "soft":
        return 1.0 / k ** 2.6
    if kind == "piano_bright":
        amp = 1.0 / k ** 1.15
        amp[1::2] *= 0.8
        return amp
    if kind == "piano_mellow":
        return 1.0 / k ** 3.0
    if kind == "sub":
        amp = np.zeros(n)
        base = [1.0, 0.32, 0.12, 0.05, 0.02]
        amp[: min(n, len(base))] = base[: min(n, len(base))]
        return amp
    if kind == "pad":
        amp = 1.0 / k ** 1.7
        amp[1::2] *= 0.55  # hollow: softer even harmonics
        return amp
    raise ValueError(f"unknown spectrum {kind!r}")


@functools.lru_cache(maxsize=2048)
def wavetable(kind: str, pitch: int) -> np.ndarray:
    """One band-limited cycle (TABLE_SIZE + 1 samples, last = first) for a MIDI pitch, peak 1."""
    f0 = midi_to_hz(pitch)
    n = int(min(TABLE_SIZE // 8, max(1, MAX_HARMONIC_HZ // f0)))
    spec = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
    spec[1 : n + 1] = -1j * _spectrum(kind, n)  # sine phase
    cycle = np.fft.irfft(spec, TABLE_SIZE)
    cycle /= np.max(np.abs(cycle))
    table = np.empty(TABLE_SIZE + 1, dtype=np.float32)
    table[:-1] = cycle
    table[-1] = cycle[0]
    table.setflags(write=False)
    return table


def _read_table(table: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Linear-interpolated lookup; `phase` in cycles (any real), float64."""
    pos = (phase - np.floor(phase)) * TABLE_SIZE
    idx = pos.astype(np.int32)
    frac = (pos - idx).astype(np.float32)
    a = table[idx]
    return a + (table[idx + 1] - a) * frac


LOOP_TARGET = SAMPLE_RATE // 2  # about half a second of oscillator per cached loop


@functools.lru_cache(maxsize=384)
def oscillator_loop(kind: str, pitch: int, cents: float = 0.0) -> np.ndarray:
    """A seamless loop of whole cycles of a wavetable at a pitch (float32, read-only).

    The loop holds k whole periods in L samples (L about half a second), so the pitch is
    k * 44100 / L: within 0.05 cents of the exact frequency. Reading a note is then a slice.
    """
    f = midi_to_hz(pitch) * 2.0 ** (cents / 1200.0)
    cycles = max(1, round(f * LOOP_TARGET / SAMPLE_RATE))
    length = max(1, round(cycles * SAMPLE_RATE / f))
    phase = np.arange(length, dtype=np.float64) * (cycles / length)
    loop = _read_table(wavetable(kind, int(pitch)), phase)
    loop.setflags(write=False)
    return loop


def _cyclic(loop: np.ndarray, start: int, count: int, offset: int = 0) -> np.ndarray:
    """loop[(start + offset + i) % len(loop)] for i < count, as slices."""
    L = len(loop)
    s = (start + offset) % L
    if s + count <= L:
        return loop[s:s + count]
    pieces = [loop[s:]]
    left = count - (L - s)
    while left > 0:
        pieces.append(loop[:min(left, L)])
        left -= L
    return np.concatenate(pieces)


DECAY_CACHE_SECONDS = 4.0


@functools.lru_cache(maxsize=32)
def _envelope_curves(p: Preset) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Precomputed attack ramp, decay curve (first seconds) and release curve of a preset."""
    a = max(p.attack, MIN_ATTACK) * SAMPLE_RATE
    d = max(p.decay, 1e-4) * SAMPLE_RATE
    r = p.tail_seconds * SAMPLE_RATE
    a_end = int(np.ceil(a))
    attack = (np.arange(a_end, dtype=np.float64) / a).astype(np.float32)
    k = np.arange(int(DECAY_CACHE_SECONDS * SAMPLE_RATE), dtype=np.float64) + (a_end - a)
    decay = (p.sustain + (1.0 - p.sustain) * np.exp(-k / d)).astype(np.float32)
    release = np.clip(1.0 - np.arange(int(np.ceil(r)) + 2, dtype=np.float64) / r, 0.0, 1.0) ** 2
    for arr in (attack, decay, release):
        arr.setflags(write=False)
    return a_end, attack, decay, release.astype(np.float32)


def _level_at(n: int, p: Preset) -> float:
    """Envelope level `n` samples into a held note."""
    a = max(p.attack, MIN_ATTACK) * SAMPLE_RATE
    if n < a:
        return n / a
    return p.sustain + (1.0 - p.sustain) * float(np.exp(-(n - a) / (max(p.decay, 1e-4) * SAMPLE_RATE)))


def envelope(lo: int, hi: int, length: int, p: Preset) -> np.ndarray:
    """ADSR level for samples lo..hi of a note held `length` samples (float32).

    A straight attack ramp, an exponential decay towards the sustain level while the key is
    held, and a release from wherever the level was at note-off that ends in a soft curve.
    """
    a_end, attack, decay, release = _envelope_curves(p)
    out = np.zeros(hi - lo, dtype=np.float32)
    e1 = min(hi, a_end, length)
    if e1 > lo:
        out[: e1 - lo] = attack[lo:e1]
    b0, b1 = max(lo, a_end), min(hi, length)
    if b1 > b0:
        k0, k1 = b0 - a_end, b1 - a_end
        cached = min(k1, len(decay))
        if cached > k0:
            out[b0 - lo: b0 - lo + cached - k0] = decay[k0:cached]
        if k1 > cached:  # a note held longer than the cached curve
            start = max(k0, cached)
            n = np.arange(start, k1, dtype=np.float64) + (a_end - max(p.attack, MIN_ATTACK) * SAMPLE_RATE)
            out[b1 - lo - (k1 - start): b1 - lo] = (
                p.sustain + (1.0 - p.sustain) * np.exp(-n / (max(p.decay, 1e-4) * SAMPLE_RATE)))
    c0 = max(lo, length)
    if hi > c0:
        k0, k1 = c0 - length, min(hi - length, len(release))
        if k1 > k0:
            out[c0 - lo: c0 - lo + k1 - k0] = release[k0:k1] * np.float32(_level_at(length, p))
    return out


def velocity_gain(velocity: float) -> float:
    """Loudness for a MIDI velocity: about 30 dB between velocity 10 and 127."""
    v = min(max(float(velocity), 1.0), 127.0) / 127.0
    return v ** 1.6


def render_voice(preset: Preset, pitch: int, velocity: float, length: int, lo: int, hi: int
                 ) -> np.ndarray:
    """Samples lo..hi (relative to note start) of a note held `length` samples, float32 mono.

    The note sounds for `length + voice_tail(preset)` samples; callers clip lo/hi to that span.
    """
    count = hi - lo
    pitch = int(pitch)
    if preset.detune_cents > 0:
        up = oscillator_loop(preset.bright, pitch, preset.detune_cents)
        down = oscillator_loop(preset.bright, pitch, -preset.detune_cents)
        wave = _cyclic(up, lo, count) + _cyclic(down, lo, count, len(down) // 3)
        wave *= np.float32(0.5)
    else:
        wave = _cyclic(oscillator_loop(preset.bright, pitch), lo, count).copy()
    if preset.brightness_decay > 0 and preset.mellow != preset.bright:
        mellow = _cyclic(oscillator_loop(preset.mellow, pitch), lo, count)
        # harder notes stay bright longer
        tau = preset.brightness_decay * (0.5 + velocity / 127.0) * SAMPLE_RATE
        w = np.exp(np.arange(lo, hi, dtype=np.float32) * np.float32(-1.0 / tau))
        wave -= mellow
        wave *= w
        wave += mellow
    wave *= envelope(lo, hi, length, preset)
    wave *= np.float32(preset.gain * velocity_gain(velocity))
    return wave


def voice_tail(preset: Preset) -> int:
    return int(preset.tail_seconds * SAMPLE_RATE) + 1


# --------------------------------------------------------------------------- drums
DRUM_CLASSES = ("kick", "snare", "closed_hat", "open_hat", "low_tom", "mid_tom", "high_tom",
                "crash", "ride")
# General MIDI percussion keys grouped into the 9 classes (the grouping Magenta's drum models use)
DRUM_CLASS_PITCHES = (
    (36, 35),
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),
    (46, 67, 72, 74, 79, 81, 26),
    (45, 29, 41, 43, 61, 64, 84),
    (48, 47, 60, 63, 77, 86, 87),
    (50, 30, 62, 76, 83),
    (49, 52, 55, 57, 58),
    (51, 53, 59, 82),
)
# stereo position of each class, -1 left .. +1 right (a drummer's view, gently)
DRUM_PAN = (0.0, 0.05, 0.3, 0.3, -0.35, -0.1, 0.15, -0.4, 0.4)
DRUM_GAIN = (1.0, 0.8, 0.35, 0.35, 0.75, 0.75, 0.75, 0.4, 0.35)
DRUM_SECONDS = (0.45, 0.3, 0.09, 0.5, 0.55, 0.45, 0.4, 1.8, 1.4)  # one-shot lengths


def _build_drum_map() -> np.ndarray:
    known = {p: c for c, pitches in enumerate(DRUM_CLASS_PITCHES) for p in pitches}
    keys = np.array(sorted(known))
    table = np.empty(128, dtype=np.int8)
    for p in range(128):
        if p in known:
            table[p] = known[p]
        else:  # not in the GM map: the class of the nearest mapped key
            table[p] = known[int(keys[np.argmin(np.abs(keys - p))])]
    return table


DRUM_MAP = _build_drum_map()


def drum_class(pitch: int) -> int:
    """Index into DRUM_CLASSES for a GM percussion key (any 0..127)."""
    return int(DRUM_MAP[int(pitch) % 128])


def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def _bandpass(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Brick-wall band filter in the frequency domain (fine for one-off sound design)."""
    spec = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / SAMPLE_RATE)
    spec[(freqs < low) | (freqs > high)] = 0.0
    return np.fft.irfft(spec, len(x))


def _sweep(t: np.ndarray, f_start: float, f_end: float, time_const: float) -> np.ndarray:
    """Sine whose frequency glides exponentially from f_start to f_end."""
    phase = 2 * np.pi * (f_end * t + (f_start - f_end) * time_const * (1 - np.exp(-t / time_const)))
    return np.sin(phase)


def _metal(t: np.ndarray, base: float) -> np.ndarray:
    """Six detuned square waves at inharmonic ratios (the classic drum-machine cymbal)."""
    ratios = (1.0, 1.4471, 1.6170, 1.9265, 2.5028, 2.6637)
    out = np.zeros_like(t)
    for r in ratios:
        out += np.sign(np.sin(2 * np.pi * base * r * t))
    return out / len(ratios)


def _fade_edges(x: np.ndarray) -> np.ndarray:
    """A 1 ms ramp in and a 5 ms ramp out, so a one-shot never clicks."""
    n_in = int(0.001 * SAMPLE_RATE)
    n_out = int(0.005 * SAMPLE_RATE)
    x[:n_in] *= np.linspace(0.0, 1.0, n_in, endpoint=False)
    x[-n_out:] *= np.linspace(1.0, 0.0, n_out) ** 2
    return x


@functools.lru_cache(maxsize=16)
def drum_sound(cls: int) -> np.ndarray:
    """The one-shot of a drum class at full velocity, float32 mono, peak about 1."""
    name = DRUM_CLASSES[cls]
    n = int(DRUM_SECONDS[cls] * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    if name == "kick":
        body = _sweep(t, 160.0, 48.0, 0.035) * np.exp(-t / 0.22)
        click = _bandpass(_noise(n, 1), 1500, 6000) * np.exp(-t / 0.004) * 0.6
        x = body + click
    elif name == "snare":
        tone = (np.sin(2 * np.pi * 185 * t) + 0.5 * np.sin(2 * np.pi * 330 * t)) * np.exp(-t / 0.05)
        rattle = _bandpass(_noise(n, 2), 1200, 11000) * np.exp(-t / 0.075)
        x = 0.55 * tone + rattle / np.std(rattle[: n // 8]) * 0.35
    elif name in ("closed_hat", "open_hat"):
        decay = 0.025 if name == "closed_hat" else 0.16
        metal = _bandpass(_metal(t, 410.0) + 0.5 * _noise(n, 3), 6500, 16000)
        x = metal / np.max(np.abs(metal)) * np.exp(-t / decay)
    elif name.endswith("_tom"):
        f = {"low_tom": 95.0, "mid_tom": 135.0, "high_tom": 185.0}[name]
        body = _sweep(t, f * 1.6, f, 0.05) * np.exp(-t / 0.16)
        skin = _bandpass(_noise(n, 4), 300, 3000) * np.exp(-t / 0.02)
        x = body + 0.25 * skin / np.std(skin[: n // 16])
    elif name == "crash":
        wash = _bandpass(_metal(t, 340.0) + 0.8 * _noise(n, 5), 3000, 16000)
        x = wash / np.max(np.abs(wash)) * (0.4 * np.exp(-t / 0.02) + 0.6 * np.exp(-t / 0.55))
    else:  # ride
        ping = _bandpass(_metal(t, 520.0), 2500, 12000)
        ping = ping / np.max(np.abs(ping))
        bell = np.sin(2 * np.pi * 2350 * t) * 0.3
        wash = _bandpass(_noise(n, 6), 5000, 15000)
        wash = wash / np.max(np.abs(wash))
        x = (0.7 * ping + bell) * np.exp(-t / 0.3) + 0.25 * wash * np.exp(-t / 0.5)
    x = _fade_edges(x / np.max(np.abs(x)))
    out = (x * DRUM_GAIN[cls]).astype(np.float32)
    out.setflags(write=False)
    return out


def drum_tail() -> int:
    """Samples of the longest one-shot (without building them all)."""
    return int(max(DRUM_SECONDS) * SAMPLE_RATE)


@functools.lru_cache(maxsize=4)
def click_sound(accent: bool) -> np.ndarray:
    """A short metronome click; the first beat of a bar is higher."""
    n = int(0.035 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f = 1760.0 if accent else 1320.0
    x = np.sin(2 * np.pi * f * t) * np.exp(-t / 0.008)
    out = (_fade_edges(x) * (0.6 if accent else 0.45)).astype(np.float32)
    out.setflags(write=False)
    return out


def pan_gains(pan: float) -> tuple[float, float]:
    """Equal-power stereo gains for pan -1 (left) .. +1 (right); centre gives 0.707 each side."""
    angle = (min(max(pan, -1.0), 1.0) + 1.0) * np.pi / 4
    return float(np.cos(angle)), float(np.sin(angle))
