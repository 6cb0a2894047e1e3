"""General MIDI SoundFont (.sf2) playback through the `tinysoundfont` package from PyPI.

tinysoundfont ships a compiled wheel with TinySoundFont inside, so no system library is needed.
(Its metadata asks for pyaudio, which it uses only for its own live output; we never call that.
Install it with `pip install --no-deps tinysoundfont` where pyaudio does not build.)

A SoundFont synth keeps voice state, so this renderer runs forward only: it sends the note-on
and note-off events of each block at their exact sample offsets and renders between them.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from core.audio import SAMPLE_RATE
from core.errors import UserError

DRUM_CHANNEL = 9
SEARCH_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
    "~/.local/share/soundfonts/default.sf2",
    "~/Library/Audio/Sounds/Banks/FluidR3_GM.sf2",
    "C:/soundfonts/FluidR3_GM.sf2",
)
GAIN_DB = 6.0  # General MIDI fonts are mastered quietly; the limiter catches the peaks

_pool: dict[str, list] = {}
_pool_lock = threading.Lock()


def find_soundfont() -> str | None:
    """The first General MIDI SoundFont found in a usual place, or None."""
    for p in SEARCH_PATHS:
        path = os.path.expanduser(p)
        if os.path.isfile(path):
            return os.path.realpath(path)
    return None


def _module():
    try:
        import tinysoundfont._tinysoundfont as tsf
    except ImportError as exc:
        raise UserError(
            "SoundFont playback needs the Python package 'tinysoundfont' "
            "(pip install --no-deps tinysoundfont). The built-in synthesizer still works.",
            detail=repr(exc)) from exc
    return tsf


def available() -> tuple[bool, str]:
    """Whether SoundFont playback can work here, and a sentence saying why not."""
    try:
        _module()
    except UserError as exc:
        return False, exc.message
    return True, ""


def _acquire(path: str):
    """A parsed SoundFont for `path`, reused from an idle renderer when possible."""
    path = os.path.realpath(path)
    with _pool_lock:
        idle = _pool.get(path)
        if idle:
            return idle.pop()
    tsf = _module()
    if not os.path.isfile(path):
        raise UserError(f"SoundFont not found: {path}")
    try:
        sf = tsf.SoundFont(path)
    except Exception as exc:  # the binding raises a bare RuntimeError/Exception on bad data
        raise UserError(f"Cannot read the SoundFont {path}: it is not a valid .sf2/.sf3 file.",
                        detail=repr(exc)) from exc
    sf.set_output(tsf.OutputMode.StereoInterleaved, SAMPLE_RATE, GAIN_DB)
    sf.set_max_voices(256)
    return sf


def _release(path: str, sf) -> None:
    sf.reset()
    sf.set_output(_module().OutputMode.StereoInterleaved, SAMPLE_RATE, GAIN_DB)
    with _pool_lock:
        _pool.setdefault(os.path.realpath(path), []).append(sf)


def preload(path: str) -> None:
    """Parse a SoundFont into the pool ahead of time (call it from a worker thread: a
    General MIDI font takes about half a second to read)."""
    _release(path, _acquire(path))


def preset_name(path: str, program: int, drums: bool = False) -> str | None:
    sf = _acquire(path)
    try:
        name = sf.get_preset_name(128 if drums else 0, program)
        return None if name == "<None>" else name
    finally:
        _release(path, sf)


class SoundFontRenderer:
    """Forward-only renderer with the same `render(x, y)` shape as SynthRenderer."""

    def __init__(self, path: str, parts, schedule):
        self.path = path
        self.sf = _acquire(path)
        self.schedule = schedule
        self._pos = 0
        self.parts = []
        self.channels: dict[str, int] = {}
        self._assign(parts)

    def _assign(self, parts) -> None:
        melodic = [c for c in range(16) if c != DRUM_CHANNEL]
        k = 0
        for part in parts:
            if part.is_drum:
                ch = DRUM_CHANNEL
                self._select(ch, 128, part.program, True)
            else:
                ch = melodic[k % len(melodic)]
                k += 1
                self._select(ch, 0, part.program, False)
            self.sf.channel_set_volume(ch, float(part.volume))
            self.sf.channel_set_pan(ch, float((part.pan + 1.0) / 2.0))
            self.channels[part.track_id] = ch
        self.parts = parts

    def _select(self, ch: int, bank: int, program: int, drums: bool) -> None:
        name = self.sf.get_preset_name(bank, program)
        if name == "<None>":  # not in this font: fall back to the first preset of the bank
            program = 0
        self.sf.channel_set_bank(ch, bank)
        self.sf.channel_set_preset_number(ch, program, drums)

    def set_parts(self, parts) -> None:
        self.parts = parts

    def close(self) -> None:
        sf, self.sf = self.sf, None
        if sf is not None:
            _release(self.path, sf)

    def _events(self, x: int, y: int):
        events = []
        for seg in self.schedule.segments(x, y, 0):
            if not seg.music:
                continue
            for part in self.parts:
                ch = self.channels.get(part.track_id)
                if ch is None:
                    continue
                i0, i1 = np.searchsorted(part.start, [seg.song_start, seg.song_end], side="left")
                if i0 >= i1:
                    continue
                on = seg.out_start + (part.start[i0:i1] - seg.song_start)
                off = seg.out_start + (np.minimum(part.end[i0:i1], seg.song_end) - seg.song_start)
                for k in np.nonzero((on >= x) & (on < y))[0]:
                    events.append((int(on[k]), 1, ch, int(part.pitch[i0 + k]),
                                   float(part.velocity[i0 + k]) / 127.0))
                for k in np.nonzero((off >= x) & (off < y))[0]:
                    events.append((int(off[k]), 0, ch, int(part.pitch[i0 + k]), 0.0))
        events.sort()  # by time; note-offs before note-ons at the same sample
        return events

    def render(self, x: int, y: int) -> np.ndarray:
        if x != self._pos:
            raise ValueError("the SoundFont renderer only runs forward")
        out = np.zeros((y - x, 2), dtype=np.float32)
        if self.sf is None:
            return out
        cursor = x
        for t, kind, ch, pitch, vel in self._events(x, y):
            if t > cursor:
                self.sf.render(memoryview(out[cursor - x:t - x]).cast("B"), False)
                cursor = t
            if kind:
                self.sf.channel_note_on(ch, pitch, vel)
            else:
                self.sf.channel_note_off(ch, pitch)
        if y > cursor:
            self.sf.render(memoryview(out[cursor - x:]).cast("B"), False)
        self._pos = y
        return out
