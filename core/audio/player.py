"""Real-time playback: a render thread fills a ring buffer; the output only copies from it.

    player = Player()                       # sound card if there is one, else a silent clock
    player.start(make_source(song, ...))    # render thread + output start
    player.position_beat()                  # the beat being heard now (poll it from a timer)
    player.stop()

The output callback (PortAudio's thread, or the null output's thread) copies the next frames
out of a preallocated ring buffer, scales them in place by the master volume and returns: no
rendering, no locks, no new buffers (slice views only). The ring's read and write counters
are plain integers that only one side each ever writes, which is safe under the GIL.

With no PortAudio library, no output device, or a stream that will not open, the player falls
back to the null output (a thread that consumes blocks at real-time pace) and says why in
`status`, so the transport and the playhead keep working without sound.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

from core.audio import SAMPLE_RATE

OUTPUTS = ("auto", "sounddevice", "null")
ENV_OUTPUT = "LATENT_STUDIO_AUDIO"  # set to "null" to never touch the sound card


class AudioUnavailable(Exception):
    """No sound output here; the message says why and what to do."""


class RingBuffer:
    """Single-producer single-consumer ring of stereo float32 frames."""

    def __init__(self, frames: int, channels: int = 2):
        self.size = int(frames)
        self.data = np.zeros((self.size, channels), dtype=np.float32)
        self.written = 0  # only the producer changes this
        self.read = 0  # only the consumer changes this
        self.eof = False  # the producer has nothing more to write

    def available(self) -> int:
        return self.written - self.read

    def free(self) -> int:
        return self.size - (self.written - self.read)

    def write(self, block: np.ndarray) -> None:
        n = len(block)
        if n > self.free():
            raise ValueError("ring buffer overflow")
        i = self.written % self.size
        first = min(n, self.size - i)
        self.data[i:i + first] = block[:first]
        if n > first:
            self.data[:n - first] = block[first:]
        self.written += n

    def read_into(self, out: np.ndarray, frames: int) -> int:
        n = min(frames, self.written - self.read)
        if n <= 0:
            return 0
        i = self.read % self.size
        first = min(n, self.size - i)
        out[:first] = self.data[i:i + first]
        if n > first:
            out[first:n] = self.data[:n - first]
        self.read += n
        return n


def _import_sounddevice():
    import sounddevice  # raises OSError when the PortAudio library is missing

    return sounddevice


class NullOutput:
    """A silent 'sound card': a thread that takes one block every block period."""

    name = "silent output (no sound card)"

    def __init__(self, fill, blocksize: int):
        self._fill = fill
        self.blocksize = blocksize
        self._stop = threading.Event()
        self._thread = None
        self._t0 = 0.0
        self.frames_done = 0

    def start(self) -> None:
        self._stop.clear()
        self.frames_done = 0
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="null-audio-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        B = self.blocksize
        buf = np.zeros((B, 2), dtype=np.float32)
        period = B / SAMPLE_RATE
        while not self._stop.is_set():
            due = (time.perf_counter() - self._t0) * SAMPLE_RATE
            while self.frames_done + B <= due:
                self._fill(buf, B)
                self.frames_done += B
            self._stop.wait(period / 2)

    def position(self) -> float:
        """Frames 'heard' so far: the clock, less the block being played."""
        clock = (time.perf_counter() - self._t0) * SAMPLE_RATE - self.blocksize
        return max(0.0, min(clock, float(self.frames_done)))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None


class SoundDeviceOutput:
    """A PortAudio output stream whose callback only copies from the ring buffer."""

    def __init__(self, sd, fill, blocksize: int, on_underflow):
        self.sd = sd
        self._fill = fill
        self._on_underflow = on_underflow
        self.blocksize = blocksize
        self.frames_done = 0
        self._cb_frames = 0
        self._cb_dac = 0.0
        self._cb_mono = 0.0
        info = sd.query_devices(kind="output")  # raises when there is no output device
        self.name = str(info.get("name", "sound card")) if isinstance(info, dict) else "sound card"
        self.stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=2, dtype="float32",
                                      blocksize=blocksize, latency="low", callback=self._callback)

    def _callback(self, outdata, frames, time_info, status):
        if status and status.output_underflow:
            self._on_underflow()
        self._cb_frames = self.frames_done
        self._cb_dac = time_info.outputBufferDacTime
        self._cb_mono = time.perf_counter()
        self._fill(outdata, frames)
        self.frames_done += frames

    def start(self) -> None:
        self.frames_done = 0
        self.stream.start()

    def position(self) -> float:
        try:
            if self._cb_dac > 0:
                pos = self._cb_frames + (self.stream.time - self._cb_dac) * SAMPLE_RATE
            else:
                pos = (self._cb_frames - self.stream.latency * SAMPLE_RATE
                       + (time.perf_counter() - self._cb_mono) * SAMPLE_RATE)
        except Exception:
            pos = self._cb_frames
        return max(0.0, min(pos, float(self.frames_done)))

    def stop(self) -> None:
        try:
            self.stream.stop()
            self.stream.close()
        except Exception:
            pass


def probe_sounddevice():
    """The sounddevice module if a default output device exists; raises AudioUnavailable."""
    try:
        sd = _import_sounddevice()
    except OSError as exc:
        raise AudioUnavailable(
            "No sound: the PortAudio library is missing (on Debian/Ubuntu: "
            "sudo apt-get install libportaudio2). Playback runs silently; WAV export still works."
        ) from exc
    except ImportError as exc:
        raise AudioUnavailable(
            "No sound: the Python package 'sounddevice' is not installed. "
            "Playback runs silently; WAV export still works.") from exc
    try:
        sd.query_devices(kind="output")
    except Exception as exc:
        raise AudioUnavailable(
            "No sound: no audio output device was found. Playback runs silently; "
            "WAV export still works.") from exc
    return sd


class Player:
    """Streams an AudioSource to the sound card (or the null output)."""

    def __init__(self, output: str = "auto", blocksize: int = 512, chunk: int = 1024,
                 buffer_frames: int = 65536):
        output = os.environ.get(ENV_OUTPUT, output) if output == "auto" else output
        if output not in OUTPUTS:
            raise ValueError(f"unknown audio output {output!r}; expected one of {OUTPUTS}")
        self.requested = output
        self.blocksize = blocksize
        self.chunk = chunk
        self.buffer_frames = max(buffer_frames, 4 * chunk)
        self.volume = 1.0
        self.underruns = 0
        self.status = ""  # why there is no sound, when there is none
        self.error = ""  # a render failure during playback
        self.source = None
        self._ring: RingBuffer | None = None
        self._output = None
        self._sd = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = False
        if output in ("auto", "sounddevice"):
            try:
                self._sd = probe_sounddevice()
            except AudioUnavailable as exc:
                self.status = str(exc)
        self.output_name = "sound card" if self._sd is not None else NullOutput.name

    @property
    def has_sound(self) -> bool:
        return self._sd is not None

    @property
    def playing(self) -> bool:
        return self._output is not None

    # ------------------------------------------------------------ audio thread side
    def _fill(self, outdata, frames: int) -> None:
        """Called by the output for every block: copy, scale in place, count underruns."""
        ring = self._ring
        n = ring.read_into(outdata, frames)
        if n < frames:
            outdata[n:] = 0.0
            if ring.eof:
                if ring.read >= ring.written:
                    self.finished = True
            else:
                self.underruns += 1
        vol = self.volume
        if vol != 1.0:
            np.multiply(outdata, vol, out=outdata)

    def _count_underflow(self) -> None:
        self.underruns += 1

    # ------------------------------------------------------------ render thread
    def _render_loop(self, source, ring: RingBuffer, stop: threading.Event) -> None:
        chunk = self.chunk
        wait = chunk / SAMPLE_RATE / 4
        try:
            while not stop.is_set():
                if source.finished:
                    break
                if ring.free() >= chunk:
                    ring.write(source.read(chunk))
                else:
                    stop.wait(wait)
        except Exception as exc:  # shown by the transport; playback ends cleanly
            self.error = f"Playback stopped: {exc}"
        finally:
            ring.eof = True

    # ------------------------------------------------------------ control (GUI thread)
    def start(self, source) -> None:
        """Stop what plays, then play `source` from its beginning."""
        self.stop()
        self.source = source
        self.finished = False
        self.error = ""
        self.underruns = 0
        ring = RingBuffer(self.buffer_frames)
        for _ in range(2):  # a little audio up front so the first blocks are never empty
            if not source.finished:
                ring.write(source.read(self.chunk))
        self._ring = ring
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._render_loop, args=(source, ring, self._stop),
                                        name="audio-render", daemon=True)
        self._thread.start()
        output = None
        if self._sd is not None:
            try:
                output = SoundDeviceOutput(self._sd, self._fill, self.blocksize, self._count_underflow)
                output.start()
            except Exception as exc:
                self.status = (f"No sound: the audio output could not be opened ({exc}). "
                               "Playback runs silently; WAV export still works.")
                self._sd = None
                self.output_name = NullOutput.name
                output = None
        if output is None:
            output = NullOutput(self._fill, self.blocksize)
            output.start()
        self._output = output

    def stop(self) -> None:
        self._stop.set()
        if self._output is not None:
            self._output.stop()
            self._output = None
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self.source is not None:
            self.source.close()

    def position_frames(self) -> float:
        """Output frames heard since start (includes the count-in)."""
        return self._output.position() if self._output is not None else 0.0

    def position_beat(self) -> float | None:
        if self.source is None:
            return None
        return self.source.beat_at(self.position_frames())

    def in_count_in(self) -> bool:
        return self.source is not None and self.source.schedule.in_count_in(self.position_frames())
