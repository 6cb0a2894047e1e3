"""Song or clip -> float32 stereo at 44.1 kHz, in blocks, and WAV files.

The pieces:

- `TempoMap`: beats <-> seconds <-> samples, vectorised, following every tempo change of the Song.
- `Schedule`: what plays when, in *output* samples. Playback is a list of segments (an optional
  one-bar count-in, then the song from the start beat, then loop passes); a segment maps a span
  of output samples to a span of song time. It also maps an output sample back to a song beat
  (that is how the playhead is found).
- `SynthRenderer`: renders any window of output samples with the built-in synthesizer.
- `AudioSource`: renderer + metronome + master gain + limiter, read block after block. The
  player and the WAV export both read from one, so what you export is what you hear.

A note plays when its start lies inside a segment; it is cut at the segment end (the loop
end), and its release tail may ring on into the next segment.
"""
from __future__ import annotations

import io
import math
import os
import wave
from dataclasses import dataclass
from typing import Callable

import numpy as np

from core import timemap
from core.audio import SAMPLE_RATE
from core.audio import synth
from core.atomic_write import atomic_write_with
from core.errors import UserError
from core.song import Note, Song

DEFAULT_MASTER = 0.7
LIMITER_CEILING = 0.98  # just under full scale
LIMITER_BLOCK = 256
MIN_LOOP_SAMPLES = SAMPLE_RATE // 20  # 50 ms
KEEP_SAMPLES = 5 * SAMPLE_RATE  # how far back played loop passes are remembered


# --------------------------------------------------------------------------- time
class TempoMap:
    """Beat <-> seconds for a Song, as piecewise-linear interpolation (fast on arrays)."""

    def __init__(self, song: Song):
        changes = sorted(song.tempos, key=lambda t: t.beat)
        exact = timemap.TempoMap(changes)  # seconds at every change in one pass, not one walk each
        beats, secs = exact.beats, exact.seconds
        far = 1e7
        self._beats = np.array([beats[0] - far] + beats + [beats[-1] + far], dtype=np.float64)
        self._secs = np.array([secs[0] - far * 60.0 / changes[0].bpm] + secs
                              + [secs[-1] + far * 60.0 / changes[-1].bpm], dtype=np.float64)
        ts = song.time_signatures[0]
        self.beats_per_bar = ts.beats_per_bar
        self.bar_origin = ts.beat

    def seconds(self, beats):
        return np.interp(beats, self._beats, self._secs)

    def beat_at_seconds(self, seconds):
        return np.interp(seconds, self._secs, self._beats)

    def sample(self, beats) -> np.ndarray:
        return np.rint(self.seconds(np.asarray(beats, dtype=np.float64)) * SAMPLE_RATE).astype(np.int64)

    def beat_at_sample(self, sample: float) -> float:
        return float(self.beat_at_seconds(sample / SAMPLE_RATE))


@dataclass
class Segment:
    out_start: int  # first output sample
    song_start: int  # song sample at out_start
    song_end: int
    beat_start: float
    beat_end: float
    music: bool = True  # False for the count-in (clicks only)
    clicks: bool = False

    @property
    def out_end(self) -> int:
        return self.out_start + self.song_end - self.song_start


class Schedule:
    """Segments of playback in output samples: count-in, the song from a beat, loop passes."""

    def __init__(self, tempo: TempoMap, start_beat: float, end_beat: float,
                 loop: tuple[float, float] | None = None, count_in: bool = False,
                 metronome: bool = False, tail_samples: int = 0):
        self.tempo = tempo
        self.metronome = metronome
        if loop is not None:
            a, b = float(loop[0]), float(loop[1])
            if not b > a:
                raise UserError(f"The loop region must end after it starts (got {a:g} to {b:g} beats).")
            if tempo.sample(b) - tempo.sample(a) < MIN_LOOP_SAMPLES:
                raise UserError(f"The loop region {a:g} to {b:g} beats is too short to play.")
            loop = (a, b) if start_beat < b else None
        self.loop = loop
        self.start_beat = float(start_beat)
        self.end_beat = float(loop[1] if loop else max(end_beat, start_beat))
        segments: list[Segment] = []
        out = 0
        if count_in:
            bpb = tempo.beats_per_bar
            seg = self._segment(out, self.start_beat - bpb, self.start_beat, music=False, clicks=True)
            segments.append(seg)
            out = seg.out_end
        seg = self._segment(out, self.start_beat, self.end_beat, music=True, clicks=metronome)
        segments.append(seg)
        self.music_out_start = seg.out_start
        self._segments = segments
        self.finished_at = None if loop else seg.out_end + tail_samples

    def _segment(self, out: int, b0: float, b1: float, music: bool, clicks: bool) -> Segment:
        s0, s1 = (int(v) for v in self.tempo.sample([b0, b1]))
        return Segment(out, s0, s1, b0, b1, music, clicks)

    def segments(self, x: int, y: int, reach: int = 0) -> list[Segment]:
        """Segments whose span, extended by `reach` samples of ringing, touches [x, y)."""
        segs = self._segments
        while self.loop is not None and segs[-1].out_end < y:
            last = segs[-1]
            segs = segs + [self._segment(last.out_end, self.loop[0], self.loop[1], True, self.metronome)]
        # drop passes that can no longer sound or be heard (the playhead looks back a while)
        if len(segs) > 2 and segs[1].out_end + KEEP_SAMPLES < x:
            segs = [s for s in segs if s.out_end + KEEP_SAMPLES >= x] or segs[-1:]
        self._segments = segs  # one rebinding: readers on other threads see old or new list
        return [s for s in segs if s.out_start < y and s.out_end + reach >= x]

    def beat_at(self, out_sample: float) -> float:
        """The song beat heard at an output sample (negative offsets during the count-in)."""
        segs = self._segments
        seg = segs[0]
        for s in segs:
            if s.out_start <= out_sample:
                seg = s
        song_sample = seg.song_start + min(out_sample - seg.out_start, seg.song_end - seg.song_start)
        return self.tempo.beat_at_sample(song_sample)

    def in_count_in(self, out_sample: float) -> bool:
        return out_sample < self.music_out_start


# --------------------------------------------------------------------------- tracks
@dataclass
class Part:
    """One audible track's notes in song samples, sorted by start, plus how to voice them."""

    track_id: str
    name: str
    is_drum: bool
    program: int
    volume: float
    pan: float
    preset: synth.Preset | None
    start: np.ndarray  # int64 song samples
    end: np.ndarray
    pitch: np.ndarray  # int32
    velocity: np.ndarray  # float32

    @property
    def tail(self) -> int:
        return synth.drum_tail() if self.is_drum else synth.voice_tail(self.preset)


def audible_tracks(song: Song):
    """Tracks that sound: not muted, and soloed when any track is soloed."""
    soloing = any(t.solo for t in song.tracks)
    return [t for t in song.tracks if not t.mute and (t.solo or not soloing)]


def resolve_preset(track, presets: dict[str, str] | None) -> synth.Preset:
    """The built-in preset of a track: an override by track id, role or '*', else its GM program."""
    presets = presets or {}
    for key in (track.id, track.role, "*"):
        name = presets.get(key)
        if name:
            if name not in synth.PRESETS:
                raise UserError(f"Unknown preset {name!r}; choose one of: {', '.join(synth.PRESETS)}.")
            return synth.PRESETS[name]
    return synth.preset_for_program(track.program)


def build_parts(song: Song, notes: dict[str, list[Note]], tempo: TempoMap,
                presets: dict[str, str] | None = None) -> list[Part]:
    parts = []
    for track in audible_tracks(song):
        ns = notes.get(track.id) or []
        if not ns:
            continue
        ns = sorted(ns, key=lambda n: n.start)
        starts = tempo.sample([n.start for n in ns])
        ends = np.maximum(tempo.sample([n.end for n in ns]), starts + 1)
        parts.append(Part(
            track.id, track.name, track.is_drum, track.program,
            float(min(max(track.volume, 0.0), 1.0)), float(getattr(track, "pan", 0.0) or 0.0),
            None if track.is_drum else resolve_preset(track, presets),
            starts, ends,
            np.array([n.pitch for n in ns], dtype=np.int32),
            np.array([n.velocity for n in ns], dtype=np.float32)))
    return parts


def notes_end_beat(notes: dict[str, list[Note]]) -> float:
    return max((n.end for ns in notes.values() for n in ns), default=0.0)


# --------------------------------------------------------------------------- renderers
def _note_windows(part: Part, seg: Segment, x: int, y: int, tail: int):
    """Indices and output spans of the part's notes that start in `seg` and sound inside [x, y)."""
    i0, i1 = np.searchsorted(part.start, [seg.song_start, seg.song_end], side="left")
    if i0 >= i1:
        return ()
    on = seg.out_start + (part.start[i0:i1] - seg.song_start)
    off = seg.out_start + (np.minimum(part.end[i0:i1], seg.song_end) - seg.song_start)
    hit = np.nonzero((on < y) & (off + tail > x))[0]
    return [(i0 + int(k), int(on[k]), int(off[k])) for k in hit]


class SynthRenderer:
    """Renders any window of output samples with the built-in synthesizer (stateless)."""

    def __init__(self, parts: list[Part], schedule: Schedule):
        self.parts = parts
        self.schedule = schedule
        self.set_parts(parts)

    def set_parts(self, parts: list[Part]) -> None:
        # one rebinding each; the next block uses the new notes
        self.reach = max([p.tail for p in parts], default=0)
        self.parts = parts

    def render(self, x: int, y: int) -> np.ndarray:
        out = np.zeros((y - x, 2), dtype=np.float32)
        parts = self.parts
        for seg in self.schedule.segments(x, y, self.reach):
            if not seg.music:
                continue
            for part in parts:
                if part.is_drum:
                    self._drums(out, part, seg, x, y)
                else:
                    self._voices(out, part, seg, x, y)
        return out

    @staticmethod
    def _voices(out, part: Part, seg: Segment, x: int, y: int) -> None:
        preset = part.preset
        tail = synth.voice_tail(preset)
        mono = None
        for i, on, off in _note_windows(part, seg, x, y, tail):
            lo = max(x, on) - on
            hi = min(y, off + tail) - on
            if hi <= lo:
                continue
            if mono is None:
                mono = np.zeros(y - x, dtype=np.float32)
            v = synth.render_voice(preset, int(part.pitch[i]), float(part.velocity[i]), off - on, lo, hi)
            a = on + lo - x
            mono[a:a + len(v)] += v
        if mono is not None:
            gl, gr = synth.pan_gains(part.pan)
            out[:, 0] += mono * np.float32(gl * part.volume)
            out[:, 1] += mono * np.float32(gr * part.volume)

    @staticmethod
    def _drums(out, part: Part, seg: Segment, x: int, y: int) -> None:
        for i, on, _off in _note_windows(part, seg, x, y, synth.drum_tail()):
            cls = synth.drum_class(int(part.pitch[i]))
            sound = synth.drum_sound(cls)
            lo = max(x, on) - on
            hi = min(y, on + len(sound)) - on
            if hi <= lo:
                continue
            g = part.volume * synth.velocity_gain(float(part.velocity[i]))
            gl, gr = synth.pan_gains(part.pan * 0.5 + synth.DRUM_PAN[cls])
            a = on + lo - x
            out[a:a + hi - lo, 0] += sound[lo:hi] * np.float32(g * gl)
            out[a:a + hi - lo, 1] += sound[lo:hi] * np.float32(g * gr)


def add_clicks(out: np.ndarray, schedule: Schedule, x: int, y: int) -> None:
    """Mix metronome clicks (count-in and, when enabled, every beat) into out[x:y]."""
    tempo = schedule.tempo
    reach = len(synth.click_sound(True))
    for seg in schedule.segments(x, y, reach):
        if not seg.clicks:
            continue
        if seg.music:
            first = math.ceil(seg.beat_start - 1e-9)
            beats = np.arange(first, seg.beat_end - 1e-9, 1.0)
            accents = np.isclose(np.mod(beats - tempo.bar_origin, tempo.beats_per_bar), 0.0)
        else:  # count-in: one bar counted back from the start beat
            beats = seg.beat_start + np.arange(0, round(seg.beat_end - seg.beat_start))
            accents = np.arange(len(beats)) == 0
        if not len(beats):
            continue
        ons = seg.out_start + tempo.sample(beats) - seg.song_start
        for on, accent in zip(ons, accents):
            sound = synth.click_sound(bool(accent))
            lo = max(x, on) - on
            hi = min(y, on + len(sound)) - on
            if hi > lo:
                a = on + lo - x
                out[a:a + hi - lo] += sound[lo:hi, None]


class Limiter:
    """Look-ahead peak limiter, streaming: output = input delayed by one block, never above ceiling.

    Block j gets a gain that ramps from the previous block's gain to its own; each block gain is
    at most what this block and the next one need, so every sample stays under the ceiling.
    """

    def __init__(self, ceiling: float = LIMITER_CEILING, block: int = LIMITER_BLOCK,
                 release_seconds: float = 0.2):
        self.ceiling = ceiling
        self.block = block
        self.step = block / (release_seconds * SAMPLE_RATE)
        self.pending = np.zeros((block, 2), dtype=np.float32)
        self.gain = 1.0
        self.ramp = (np.arange(1, block + 1, dtype=np.float32) / block)

    @property
    def latency(self) -> int:
        return self.block

    def process(self, x: np.ndarray) -> np.ndarray:
        B = self.block
        n = len(x)
        if n % B:
            raise ValueError(f"limiter input must be a multiple of {B} samples")
        buf = np.concatenate([self.pending, x])
        peaks = np.abs(buf).reshape(-1, B * 2).max(axis=1)
        need = np.minimum(1.0, self.ceiling / np.maximum(peaks, 1e-12))
        self.pending = buf[n:]
        if self.gain >= 1.0 and need.min() >= 1.0:
            return buf[:n]
        nb = n // B
        gains = np.empty(nb + 1)
        gains[0] = self.gain
        g = self.gain
        for j in range(nb):
            g = min(need[j], need[j + 1], g + self.step)
            gains[j + 1] = g
        self.gain = g
        start = gains[:-1, None].astype(np.float32)
        stop = gains[1:, None].astype(np.float32)
        per_sample = (start + (stop - start) * self.ramp[None, :]).reshape(-1)
        y = buf[:n] * per_sample[:, None]
        np.clip(y, -self.ceiling, self.ceiling, out=y)
        return y


class AudioSource:
    """Renderer + clicks + master gain + limiter, read sequentially in blocks of output samples."""

    def __init__(self, renderer, schedule: Schedule, master: float = DEFAULT_MASTER):
        self.renderer = renderer
        self.schedule = schedule
        self.master = float(master)
        self.limiter = Limiter()
        self.pos = 0  # next output sample to hand out
        self._cursor = 0  # next output sample to render (ahead by the limiter latency)

    @property
    def finished(self) -> bool:
        end = self.schedule.finished_at
        return end is not None and self.pos >= end

    def _render(self, n: int) -> np.ndarray:
        x, y = self._cursor, self._cursor + n
        out = self.renderer.render(x, y)
        add_clicks(out, self.schedule, x, y)
        if self.master != 1.0:
            out *= np.float32(self.master)
        self._cursor = y
        return out

    def read(self, n: int) -> np.ndarray:
        if self._cursor == 0:
            self.limiter.process(self._render(self.limiter.latency))  # prime the look-ahead
        out = self.limiter.process(self._render(n))
        self.pos += n
        return out

    def beat_at(self, out_sample: float) -> float:
        return self.schedule.beat_at(out_sample)

    def close(self) -> None:
        """Give back what the renderer holds (a SoundFont synth goes back to its pool)."""
        close = getattr(self.renderer, "close", None)
        if close is not None:
            close()


# --------------------------------------------------------------------------- high level
def make_source(song: Song, *, clip_id: str | None = None, start_beat: float = 0.0,
                end_beat: float | None = None, loop: tuple[float, float] | None = None,
                count_in: bool = False, metronome: bool = False, soundfont: str | None = None,
                presets: dict[str, str] | None = None, master: float = DEFAULT_MASTER) -> AudioSource:
    """An AudioSource for the arrangement (or one clip, in clip time from beat 0)."""
    if clip_id is not None:
        clip = song.clip(clip_id)
        notes = {tid: list(ns) for tid, ns in clip.notes.items()}
        length = clip.length
    else:
        notes = song.rendered_notes()
        length = song.length_beats() if song.sections else notes_end_beat(notes)
    if end_beat is None:
        end_beat = length
    tempo = TempoMap(song)
    parts = build_parts(song, notes, tempo, presets)
    if soundfont:
        from core.audio.soundfont import SoundFontRenderer

        renderer = SoundFontRenderer(soundfont, parts, None)
        tail = int(2.0 * SAMPLE_RATE)
    else:
        renderer = SynthRenderer(parts, None)
        tail = max(renderer.reach, len(synth.click_sound(True)) if (metronome or count_in) else 0)
    schedule = Schedule(tempo, start_beat, end_beat, loop=loop, count_in=count_in,
                        metronome=metronome, tail_samples=tail)
    renderer.schedule = schedule
    return AudioSource(renderer, schedule, master)


def render_source(source: AudioSource, progress: Callable[[float], None] | None = None,
                  chunk: int = 128 * LIMITER_BLOCK) -> np.ndarray:
    """Read a (non-looping) source to its end; float32 array of shape (frames, 2)."""
    total = source.schedule.finished_at
    if total is None:
        raise ValueError("cannot render a looping source to the end")
    blocks = []
    done = 0
    while done < total:
        blocks.append(source.read(chunk))
        done += chunk
        if progress is not None:
            progress(min(done / max(total, 1), 1.0))
    audio = np.concatenate(blocks) if blocks else np.zeros((0, 2), np.float32)
    return audio[:total]


def render_song(song: Song, *, token=None, **options) -> np.ndarray:
    """The whole arrangement (or `clip_id=...`) as float32 stereo at 44.1 kHz.

    Options are those of make_source (soundfont, presets, master, metronome, start_beat,
    end_beat). `token` is an optional JobToken for progress and cancel.
    """
    source = make_source(song, **options)
    progress = None
    if token is not None:
        def progress(f):
            token.progress(f, "Rendering audio")
    try:
        return render_source(source, progress)
    finally:
        source.close()


def render_clip(song: Song, clip_id: str, **options) -> np.ndarray:
    return render_song(song, clip_id=clip_id, **options)


# --------------------------------------------------------------------------- WAV
def to_pcm16(audio: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")


WAV_BLOCK = 1 << 18  # frames converted and written at a time (1 MB of 16-bit stereo)


def _write_wav_to(f, audio: np.ndarray, samplerate: int) -> None:
    """16-bit PCM WAV of float audio (frames, channels) or mono (frames,) into the binary file `f`,
    converted block by block so that a long song never needs a second whole copy in memory."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[:, None]
        channels = 2
    else:
        channels = audio.shape[1]
    with wave.open(f, "wb") as w:  # a file object given: wave leaves it open for the caller
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(samplerate)
        for a in range(0, len(audio), WAV_BLOCK):
            block = audio[a:a + WAV_BLOCK]
            if block.shape[1] != channels:
                block = np.repeat(block, channels, axis=1)
            w.writeframes(to_pcm16(block).tobytes())


def wav_bytes(audio: np.ndarray, samplerate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV file content for float audio (frames, channels) or mono (frames,)."""
    buf = io.BytesIO()
    _write_wav_to(buf, audio, samplerate)
    return buf.getvalue()


def write_wav(path: str | os.PathLike, audio: np.ndarray, samplerate: int = SAMPLE_RATE) -> None:
    """Write 16-bit stereo PCM atomically: a failed write leaves no half file behind."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"Cannot write {path}: the folder {folder} does not exist.")
    try:
        atomic_write_with(path, lambda f: _write_wav_to(f, audio, samplerate))
    except OSError as exc:
        raise UserError(f"Cannot write {path}: {exc.strerror or exc}.", detail=repr(exc)) from exc


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV as float32 (frames, channels) and its sample rate (used by tests)."""
    try:
        with wave.open(path, "rb") as w:
            if w.getsampwidth() != 2:
                raise UserError(f"{path} is not 16-bit PCM.")
            raw = w.readframes(w.getnframes())
            data = np.frombuffer(raw, dtype="<i2").reshape(-1, w.getnchannels())
            return data.astype(np.float32) / 32767.0, w.getframerate()
    except (OSError, wave.Error, EOFError) as exc:
        raise UserError(f"Cannot read {path}: {exc}.") from exc
