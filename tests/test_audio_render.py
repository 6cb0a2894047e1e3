"""Rendering songs and clips: timing, pitch, silence, level, limiter, tempo changes, WAV files."""
import numpy as np
import pytest

from core.audio import SAMPLE_RATE, render
from core.errors import UserError
from core.song import Clip, Note, TempoChange, Track
from tests.helpers_audio import cents, onsets, pitch_autocorr, pitch_hz, rms, song_with, trio

SR = SAMPLE_RATE
TOL = int(0.005 * SR)  # 5 ms


def at(seconds: float) -> int:
    return int(round(seconds * SR))


def test_onsets_land_on_their_beats_for_melody_bass_and_drums():
    # 120 BPM: one beat = 0.5 s. Notes separated by rests so each onset stands alone.
    song = song_with({
        "melody": [Note(72, 0.0, 0.5, 100), Note(76, 3.0, 3.25, 100)],
        "bass": [Note(40, 6.0, 6.5, 100)],
        "drums": [Note(36, 9.0, 9.1, 110), Note(38, 12.0, 12.1, 110)],
    }, length=16.0, programs={"bass": 33})
    audio = render.render_song(song)
    found = onsets(audio, threshold=2e-3, gap=0.3)
    expected = [at(b * 0.5) for b in (0.0, 3.0, 6.0, 9.0, 12.0)]
    assert len(found) == len(expected), found
    for f, e in zip(found, expected):
        assert abs(f - e) <= TOL, (f, e)


@pytest.mark.parametrize("pitch,preset", [(69, "piano"), (61, "saw_lead"), (33, "sub_bass"),
                                          (57, "pad"), (76, "pluck")])
def test_held_note_pitch_within_five_cents(pitch, preset):
    song = song_with({"melody": [Note(pitch, 0.0, 4.0, 100)]}, length=4.0)
    audio = render.render_song(song, presets={"*": preset})
    steady = audio[at(0.3):at(1.8)]
    ref = 440.0 * 2 ** ((pitch - 69) / 12)
    f = pitch_autocorr(steady)
    assert abs(cents(f, ref)) < 5.0, (f, ref, cents(f, ref))
    if preset in ("piano", "sub_bass", "pluck"):  # one oscillator: the spectral peak agrees
        f = pitch_hz(steady)
        assert abs(cents(f, ref)) < 5.0, (f, ref, cents(f, ref))


def test_silence_where_there_are_no_notes_and_sound_where_there_are():
    song = song_with({"melody": [Note(64, 0.0, 1.0, 90), Note(64, 8.0, 9.0, 90)],
                      "drums": [Note(42, 0.0, 0.1, 90), Note(42, 8.0, 8.1, 90)]}, length=10.0)
    audio = render.render_song(song)
    gap = audio[at(1.5):at(3.95)]  # after the releases (piano 0.18 s, hat 0.09 s), before beat 8
    assert np.max(np.abs(gap)) == 0.0
    assert rms(audio[at(0.0):at(0.4)]) > 0.01
    assert rms(audio[at(4.0):at(4.4)]) > 0.01


def test_no_sample_above_full_scale_even_for_a_loud_dense_chord():
    chord = [Note(p, 0.0, 2.0, 127) for p in range(36, 96, 3)]
    kicks = [Note(36, b * 0.25, b * 0.25 + 0.1, 127) for b in range(8)]
    song = song_with({"melody": chord, "drums": kicks}, length=2.0)
    audio = render.render_song(song, master=1.0, presets={"*": "saw_lead"})
    peak = float(np.max(np.abs(audio)))
    assert peak <= render.LIMITER_CEILING + 1e-6
    assert peak > 0.5  # it is loud, only limited
    pcm = render.to_pcm16(audio)
    assert np.max(np.abs(pcm.astype(np.int32))) < 32767


def test_velocity_changes_the_level():
    levels = []
    for vel in (30, 70, 120):
        song = song_with({"melody": [Note(60, 0.0, 1.0, vel)], "drums": [Note(38, 2.0, 2.1, vel)]},
                         length=3.0)
        audio = render.render_song(song)
        levels.append((rms(audio[:at(0.5)]), rms(audio[at(1.0):at(1.2)])))
    for part in (0, 1):
        a, b, c = (lv[part] for lv in levels)
        assert a * 2 < b and b * 1.5 < c, levels


def test_tempo_change_moves_onsets():
    notes = {"melody": [Note(67, b, b + 0.25, 100) for b in (0.0, 2.0, 6.0, 10.0)]}
    song = song_with(notes, length=12.0)
    song.tempos.append(TempoChange(4.0, 60.0))  # beats 0-4 at 120 BPM, then 60 BPM
    audio = render.render_song(song)
    found = onsets(audio, threshold=2e-3, gap=0.3)
    expected = [at(s) for s in (0.0, 1.0, 2.0 + 2.0, 2.0 + 6.0)]
    assert len(found) == 4, found
    for f, e in zip(found, expected):
        assert abs(f - e) <= TOL, (f, e)
    assert len(audio) >= at(2.0 + 8.0)


def test_clip_renders_in_clip_time_and_mute_solo_apply():
    song = song_with({"melody": [Note(60, 0.0, 1.0)], "bass": [Note(36, 0.0, 1.0)]}, length=4.0)
    lone = Clip("lone", 2.0, {song.tracks[0].id: [Note(72, 1.0, 1.5, 100)]})
    song.add_clip(lone)
    audio = render.render_clip(song, lone.id)
    assert abs(len(audio) - at(1.0)) < at(0.3)  # 2 beats plus a short release tail
    assert abs(onsets(audio)[0] - at(0.5)) <= TOL
    mel, bass = song.tracks
    full = render.render_song(song)
    song.update_track(mel.id, mute=True)
    no_mel = render.render_song(song)
    song.update_track(mel.id, mute=False)
    song.update_track(bass.id, solo=True)
    solo_bass = render.render_song(song)
    assert np.allclose(no_mel, solo_bass, atol=1e-6)  # both are the bass alone
    assert rms(full - no_mel) > 0.01
    song.update_track(bass.id, volume=0.0)
    assert np.max(np.abs(render.render_song(song))) == 0.0


def test_block_size_does_not_change_the_audio():
    song = trio(bars=2)
    whole = render.render_source(render.make_source(song), chunk=256 * 128)
    small = render.render_source(render.make_source(song), chunk=256 * 3)
    assert whole.shape == small.shape
    assert np.allclose(whole, small, atol=1e-5)


def test_loop_repeats_the_region_and_the_playhead_wraps():
    song = song_with({"melody": [Note(64, 0.5, 0.75, 100), Note(67, 2.5, 2.75, 100)]}, length=4.0)
    src = render.make_source(song, start_beat=0.0, loop=(2.0, 4.0))
    audio = np.concatenate([src.read(1024) for _ in range(int(4.2 * SR / 1024))])
    found = onsets(audio, threshold=2e-3, gap=0.3)
    # first pass plays 0..4 (onsets 0.25 s, 1.25 s), then 2..4 again every second
    expected = [at(0.25), at(1.25), at(2.25), at(3.25)]
    assert [abs(f - e) <= TOL for f, e in zip(found, expected)] == [True] * 4, found
    assert src.beat_at(at(2.5)) == pytest.approx(3.0, abs=1e-3)
    assert src.beat_at(at(3.75)) == pytest.approx(3.5, abs=1e-3)


def test_count_in_and_metronome_clicks():
    song = song_with({"melody": [Note(60, 0.0, 0.5, 100)]}, length=4.0)
    src = render.make_source(song, count_in=True, metronome=False)
    audio = render.render_source(src)
    found = onsets(audio, threshold=2e-3, gap=0.2)
    # four count-in clicks half a second apart, then the note at 2.0 s
    assert len(found) == 5
    for f, e in zip(found, [at(0.5 * k) for k in range(5)]):
        assert abs(f - e) <= TOL
    assert src.beat_at(at(0.5)) == pytest.approx(-3.0, abs=1e-3)
    accent = pitch_hz(audio[:at(0.03)], 500, 3000)
    plain = pitch_hz(audio[at(0.5):at(0.53)], 500, 3000)
    assert accent > plain * 1.2
    with_click = render.render_song(song, metronome=True)
    assert len(onsets(with_click[at(0.6):], threshold=2e-3, gap=0.2)) >= 2  # beats 2 and 3


def test_wav_round_trip_and_unwritable_path(tmp_path):
    song = trio(bars=1)
    audio = render.render_song(song)
    path = tmp_path / "out.wav"
    render.write_wav(path, audio)
    back, sr = render.read_wav(str(path))
    assert sr == SR and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) < 1.0 / 16000
    with pytest.raises(UserError, match="does not exist"):
        render.write_wav(tmp_path / "missing" / "x.wav", audio)
    with pytest.raises(UserError, match="Cannot write"):
        render.write_wav(tmp_path, audio)  # a folder, not a file


def test_bad_loop_and_unknown_preset_are_user_errors():
    song = trio(bars=1)
    with pytest.raises(UserError, match="loop"):
        render.make_source(song, loop=(3.0, 3.0))
    with pytest.raises(UserError, match="preset"):
        render.make_source(song, presets={"*": "theremin"})


def test_tracks_without_notes_and_an_empty_song_render_silence():
    song = song_with({"melody": []}, length=2.0)
    song.add_track(Track("Extra", "other"))
    audio = render.render_song(song)
    assert len(audio) == at(1.0) and np.max(np.abs(audio)) == 0.0


def test_limiter_delays_quiet_audio_unchanged_and_caps_loud_bursts():
    rng = np.random.default_rng(5)
    B = render.LIMITER_BLOCK
    quiet = (rng.uniform(-0.9, 0.9, (B * 40, 2))).astype(np.float32)
    lim = render.Limiter()
    out = np.concatenate([lim.process(quiet[i:i + B * 8]) for i in range(0, len(quiet), B * 8)])
    assert np.array_equal(out[B:], quiet[:-B])  # one block of look-ahead, otherwise untouched
    loud = quiet.copy()
    for k in rng.integers(0, len(loud) - 50, 30):
        loud[k:k + 50] *= rng.uniform(1.5, 20.0)  # short bursts far over full scale
    lim = render.Limiter()
    out = np.concatenate([lim.process(loud[i:i + B * 4]) for i in range(0, len(loud), B * 4)])
    assert np.max(np.abs(out)) <= render.LIMITER_CEILING + 1e-6
    # away from the bursts (0.2 s release later) the gain is back to 1
    lim = render.Limiter()
    burst = np.zeros((B * 200, 2), np.float32)
    burst[B * 10:B * 10 + 10] = 5.0
    burst[B * 150:B * 151] = 0.5
    out = lim.process(burst)
    assert np.allclose(out[B * 151:B * 152], 0.5)
