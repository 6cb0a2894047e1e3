"""SoundFont playback through tinysoundfont, with a tiny sine SoundFont written by the test."""
import sys

import numpy as np
import pytest

from core.audio import SAMPLE_RATE, render, soundfont
from core.errors import UserError
from core.song import Note
from tests.helpers_audio import cents, onsets, pitch_hz, rms, song_with
from tests.helpers_sf2 import write_sine_soundfont

pytest.importorskip("tinysoundfont", reason="SoundFont playback needs tinysoundfont (see docs/audio.md)")

SR = SAMPLE_RATE
TOL = int(0.005 * SR)


def at(seconds):
    return int(round(seconds * SR))


@pytest.fixture(scope="module")
def sine_sf2(tmp_path_factory):
    return write_sine_soundfont(tmp_path_factory.mktemp("sf2") / "sine.sf2")


def test_notes_play_at_their_time_and_pitch(sine_sf2):
    song = song_with({"melody": [Note(69, 0.0, 2.0, 100), Note(72, 4.0, 5.0, 100)],
                      "drums": [Note(60, 7.0, 7.5, 100)]}, length=8.0)
    audio = render.render_song(song, soundfont=sine_sf2)
    found = onsets(audio, threshold=2e-3, gap=0.3)
    expected = [at(0.0), at(2.0), at(3.5)]
    assert len(found) == 3, found
    for f, e in zip(found, expected):
        assert abs(f - e) <= TOL, (f, e)
    assert abs(cents(pitch_hz(audio[at(0.1):at(0.9)]), 440.0)) < 5
    assert abs(cents(pitch_hz(audio[at(2.1):at(2.4)]), 440.0 * 2 ** 0.25)) < 5
    # the sine font's release is instant: silence between the notes
    assert np.max(np.abs(audio[at(1.1):at(1.9)])) < 1e-3
    assert np.max(np.abs(audio)) <= render.LIMITER_CEILING + 1e-6


def test_velocity_volume_and_mute_reach_the_soundfont(sine_sf2):
    def level(vel, volume=1.0, mute=False):
        song = song_with({"melody": [Note(69, 0.0, 1.0, vel)]}, length=2.0)
        song.update_track(song.tracks[0].id, volume=volume, mute=mute)
        return rms(render.render_song(song, soundfont=sine_sf2)[at(0.1):at(0.4)])

    assert level(120) > 2 * level(40)
    assert level(100, volume=0.3) < 0.5 * level(100)
    assert level(100, mute=True) == 0.0


def test_soundfont_loop_playback_runs_forward(sine_sf2):
    song = song_with({"melody": [Note(69, 0.5, 0.75, 100)]}, length=2.0)
    src = render.make_source(song, soundfont=sine_sf2, loop=(0.0, 2.0))
    audio = np.concatenate([src.read(1024) for _ in range(int(3.2 * SR / 1024))])
    src.close()
    found = onsets(audio, threshold=2e-3, gap=0.3)
    assert [abs(f - e) <= TOL for f, e in zip(found, (at(0.25), at(1.25), at(2.25)))] == [True] * 3


def test_find_soundfont_looks_in_usual_places(tmp_path, monkeypatch, sine_sf2):
    monkeypatch.setattr(soundfont, "SEARCH_PATHS", (str(tmp_path / "none.sf2"), sine_sf2))
    assert soundfont.find_soundfont() is not None
    monkeypatch.setattr(soundfont, "SEARCH_PATHS", (str(tmp_path / "none.sf2"),))
    assert soundfont.find_soundfont() is None


def test_bad_or_missing_soundfont_files_are_user_errors(tmp_path):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"RIFF\x04\x00\x00\x00junk and more junk")
    song = song_with({"melody": [Note(60, 0.0, 1.0)]})
    with pytest.raises(UserError, match="broken.sf2"):
        render.render_song(song, soundfont=str(bad))
    with pytest.raises(UserError, match="not found"):
        render.render_song(song, soundfont=str(tmp_path / "absent.sf2"))


def test_missing_library_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "tinysoundfont._tinysoundfont", None)
    monkeypatch.setitem(sys.modules, "tinysoundfont", None)
    ok, why = soundfont.available()
    assert not ok and "tinysoundfont" in why and "built-in synthesizer" in why
