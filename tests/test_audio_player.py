"""The player: ring buffer, null output clock, sound-card callback, missing PortAudio or device."""
import time
import types

import numpy as np
import pytest

from core.audio import SAMPLE_RATE, player as player_mod, render
from core.audio.player import Player, RingBuffer
from core.song import Note
from tests.helpers_audio import song_with, trio


def wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_ring_buffer_wraps_and_keeps_order():
    ring = RingBuffer(10)
    data = np.arange(60, dtype=np.float32).reshape(-1, 2)
    out = np.zeros((30, 2), np.float32)
    ring.write(data[:7])
    assert ring.read_into(out, 5) == 5
    ring.write(data[7:15])  # wraps around the end
    assert ring.free() == 0
    with pytest.raises(ValueError):
        ring.write(data[15:16])
    got = ring.read_into(out[5:], 30)
    assert got == 10
    assert np.array_equal(out[:15], data[:15])
    assert ring.read_into(out, 4) == 0


def test_null_player_advances_the_playhead_and_finishes():
    song = song_with({"melody": [Note(60, 0.0, 0.5, 90), Note(64, 1.0, 1.5, 90)]}, length=2.0)
    p = Player(output="null")
    assert p.status == "" and not p.has_sound
    p.start(render.make_source(song))
    assert p.playing
    t0 = time.monotonic()
    time.sleep(0.4)
    beat = p.position_beat()
    elapsed = time.monotonic() - t0
    # 120 BPM: two beats a second; allow for the block granularity and a busy machine
    assert 0.3 < beat <= elapsed * 2 + 0.05, (beat, elapsed)
    assert wait_for(lambda: p.finished, timeout=5.0)
    assert p.underruns == 0
    p.stop()
    assert not p.playing


def test_loop_playback_keeps_going_and_wraps():
    song = trio(bars=1)
    p = Player(output="null")
    p.start(render.make_source(song, loop=(0.0, 1.0)))  # a half-second loop
    time.sleep(1.2)
    beat = p.position_beat()
    assert 0.0 <= beat < 1.0
    assert p.position_frames() > SAMPLE_RATE
    assert not p.finished
    p.stop()


def test_callback_copies_scales_and_counts_underruns():
    """Drive the audio-thread function directly, as PortAudio would."""
    song = trio(bars=1)
    p = Player(output="null")
    src = render.make_source(song)
    expected = render.make_source(song).read(p.chunk * 2)
    p._ring = RingBuffer(4096)
    p._ring.write(src.read(p.chunk * 2))
    out = np.empty((512, 2), np.float32)
    p.volume = 0.5
    p._fill(out, 512)
    assert np.allclose(out, expected[:512] * 0.5)
    p.volume = 1.0
    for _ in range(3):
        p._fill(out, 512)
    assert p.underruns == 0
    p._fill(out, 512)  # the render thread fell behind: silence, and it is counted
    assert p.underruns == 1 and not out.any()
    p._ring.eof = True
    p._fill(out, 512)  # the end of the song is not an underrun
    assert p.underruns == 1 and p.finished


class FakeStream:
    def __init__(self, callback, **kwargs):
        self.callback = callback
        self.kwargs = kwargs
        self.time = 0.0
        self.latency = 0.01
        self.started = self.closed = False

    def start(self):
        self.started = True

    def stop(self):
        pass

    def close(self):
        self.closed = True


def fake_sounddevice(devices=True, stream_fails=False):
    sd = types.SimpleNamespace()
    streams = []

    def query_devices(kind=None):
        if not devices:
            raise ValueError("No output device matching ''")
        return {"name": "Fake card"}

    def output_stream(**kwargs):
        if stream_fails:
            raise RuntimeError("Error opening OutputStream: Device unavailable")
        s = FakeStream(**kwargs)
        streams.append(s)
        return s

    sd.query_devices = query_devices
    sd.OutputStream = output_stream
    sd.streams = streams
    return sd


def test_missing_portaudio_gives_a_clear_message_and_silent_playback(monkeypatch):
    def no_portaudio():
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(player_mod, "_import_sounddevice", no_portaudio)
    p = Player(output="auto")
    assert "PortAudio" in p.status and "libportaudio2" in p.status and "WAV export" in p.status
    assert not p.has_sound
    p.start(render.make_source(trio(bars=1)))
    assert wait_for(lambda: p.position_frames() > 0)
    p.stop()


def test_no_output_device_gives_a_clear_message(monkeypatch):
    monkeypatch.setattr(player_mod, "_import_sounddevice", lambda: fake_sounddevice(devices=False))
    p = Player(output="auto")
    assert "no audio output device" in p.status
    assert not p.has_sound


def test_missing_sounddevice_package(monkeypatch):
    def missing():
        raise ImportError("No module named 'sounddevice'")

    monkeypatch.setattr(player_mod, "_import_sounddevice", missing)
    assert "sounddevice" in Player(output="auto").status


def test_sound_card_stream_is_fed_by_its_callback(monkeypatch):
    sd = fake_sounddevice()
    monkeypatch.setattr(player_mod, "_import_sounddevice", lambda: sd)
    p = Player(output="auto")
    assert p.status == "" and p.has_sound
    p.start(render.make_source(trio(bars=1)))
    stream = sd.streams[0]
    assert stream.started and stream.kwargs["channels"] == 2
    assert stream.kwargs["samplerate"] == SAMPLE_RATE and stream.kwargs["dtype"] == "float32"
    out = np.zeros((512, 2), np.float32)
    info = types.SimpleNamespace(outputBufferDacTime=1.0)
    stream.callback(out, 512, info, types.SimpleNamespace(output_underflow=False))
    assert np.abs(out).max() > 0.01  # the kick and the first notes
    stream.time = 1.0 + 256 / SAMPLE_RATE  # half a block later the DAC is in the middle
    assert p.position_frames() == pytest.approx(256, abs=1)
    stream.callback(out, 512, info, types.SimpleNamespace(output_underflow=True))
    assert p.underruns == 1  # PortAudio's own underflow flag is counted too
    p.stop()
    assert stream.closed


def test_stream_that_will_not_open_falls_back_to_silent_playback(monkeypatch):
    monkeypatch.setattr(player_mod, "_import_sounddevice", lambda: fake_sounddevice(stream_fails=True))
    p = Player(output="auto")
    p.start(render.make_source(trio(bars=1)))
    assert "could not be opened" in p.status and "Device unavailable" in p.status
    assert wait_for(lambda: p.position_frames() > 0)
    p.stop()


def test_render_errors_end_playback_with_a_message():
    class Broken:
        finished = False
        schedule = None

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 2:
                raise RuntimeError("boom")
            return np.zeros((n, 2), np.float32)

        def close(self):
            pass

    p = Player(output="null")
    p.start(Broken())
    assert wait_for(lambda: p.finished)
    assert "boom" in p.error
    p.stop()


def test_environment_can_force_the_silent_output(monkeypatch):
    monkeypatch.setenv(player_mod.ENV_OUTPUT, "null")
    monkeypatch.setattr(player_mod, "_import_sounddevice", lambda: pytest.fail("must not probe"))
    p = Player()
    assert p.requested == "null" and not p.has_sound
