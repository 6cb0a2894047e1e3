"""The built-in synthesizer: presets, band limiting, envelopes without clicks, drum sounds."""
import numpy as np
import pytest

from core.audio import SAMPLE_RATE, synth
from tests.helpers_audio import pitch_hz, rms

SR = SAMPLE_RATE


def test_every_gm_drum_key_maps_to_one_of_the_nine_classes():
    for cls, pitches in enumerate(synth.DRUM_CLASS_PITCHES):
        for p in pitches:
            assert synth.drum_class(p) == cls
    assert [synth.drum_class(p) for p in (36, 38, 42, 46, 45, 48, 50, 49, 51)] == list(range(9))
    # keys outside the GM percussion map take the class of the nearest mapped key
    assert synth.drum_class(0) == synth.drum_class(22)
    assert synth.drum_class(127) == synth.drum_class(87)
    assert {synth.drum_class(p) for p in range(128)} == set(range(9))


def test_program_families_pick_presets():
    assert synth.preset_for_program(0).name == "piano"
    assert synth.preset_for_program(25).name == "pluck"  # steel guitar
    assert synth.preset_for_program(33).name == "sub_bass"  # finger bass
    assert synth.preset_for_program(81).name == "saw_lead"  # saw lead
    assert synth.preset_for_program(89).name == "pad"  # warm pad
    assert synth.preset_for_program(48).name == "pad"  # strings
    assert synth.preset_for_program(56).name == "saw_lead"  # trumpet


@pytest.mark.parametrize("kind", ["saw", "piano_bright", "pad"])
def test_high_notes_have_no_energy_above_the_band_limit(kind):
    loop = synth.oscillator_loop(kind, 100)  # 2637 Hz: a naive saw would alias badly
    spec = np.abs(np.fft.rfft(loop * np.hanning(len(loop)))) ** 2
    freqs = np.fft.rfftfreq(len(loop), 1 / SR)
    above = spec[freqs > synth.MAX_HARMONIC_HZ + 500].sum()
    assert above / spec.sum() < 1e-6
    # and it is still a rich tone: several harmonics below the limit
    assert spec[(freqs > 7000) & (freqs < 17000)].sum() / spec.sum() > 1e-3


def test_oscillator_loop_is_seamless_and_in_tune():
    for pitch in (21, 60, 69, 108):
        loop = synth.oscillator_loop("saw", pitch)
        twice = np.concatenate([loop, loop])
        # the step across the loop point is no larger than steps inside the loop
        steps = np.abs(np.diff(twice))
        assert steps[len(loop) - 1] <= steps.max() + 1e-6
        cycles = round(synth.midi_to_hz(pitch) * len(loop) / SR)
        f = cycles * SR / len(loop)
        assert abs(1200 * np.log2(f / synth.midi_to_hz(pitch))) < 0.1


@pytest.mark.parametrize("name", list(synth.PRESETS))
def test_notes_start_and_end_without_clicks(name):
    preset = synth.PRESETS[name]
    length = int(0.3 * SR)
    total = length + synth.voice_tail(preset)
    v = synth.render_voice(preset, 57, 127, length, 0, total)
    peak = np.max(np.abs(v))
    assert peak > 0.05
    assert abs(v[0]) < 1e-3 and abs(v[-1]) < 2e-3 * peak
    # the first and last 2 ms never jump by more than a fraction of the peak per sample
    edge = int(0.002 * SR)
    assert np.max(np.abs(np.diff(v[:edge]))) < 0.25 * peak
    assert np.max(np.abs(np.diff(v[-edge:]))) < 0.02 * peak


def test_voice_windows_join_exactly():
    preset = synth.PRESETS["piano"]
    length = int(0.5 * SR)
    whole = synth.render_voice(preset, 64, 90, length, 0, 30000)
    parts = np.concatenate([synth.render_voice(preset, 64, 90, length, a, b)
                            for a, b in ((0, 777), (777, 22050), (22050, 30000))])
    assert np.allclose(whole, parts, atol=1e-6)


def test_envelope_shape():
    p = synth.PRESETS["saw_lead"]
    length = int(1.0 * SR)
    env = synth.envelope(0, length + synth.voice_tail(p), length, p)
    assert env[0] == 0.0
    assert env[int(p.attack * SR)] == pytest.approx(1.0, abs=0.01)
    assert env[length - 1] == pytest.approx(p.sustain, abs=0.02)
    assert env[-1] < 1e-4
    assert np.all(np.diff(env[length:]) <= 1e-7)  # the release only falls


def test_velocity_is_audible():
    p = synth.PRESETS["pluck"]
    soft = synth.render_voice(p, 60, 30, SR // 2, 0, SR // 2)
    loud = synth.render_voice(p, 60, 120, SR // 2, 0, SR // 2)
    assert rms(loud) > 4 * rms(soft)


def _centroid(x):
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float((spec * freqs).sum() / spec.sum())


def test_drum_sounds_are_distinct_clean_one_shots():
    centroids = {}
    for cls, name in enumerate(synth.DRUM_CLASSES):
        x = synth.drum_sound(cls)
        assert np.all(np.isfinite(x)) and 0.2 < np.max(np.abs(x)) <= 1.0, name
        assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-3, name
        centroids[name] = _centroid(x)
    assert centroids["kick"] < centroids["low_tom"] < centroids["snare"] < centroids["closed_hat"]
    toms = [pitch_hz(synth.drum_sound(c), 50, 400) for c in (4, 5, 6)]
    assert toms[0] < toms[1] < toms[2], toms
    assert len(synth.drum_sound(synth.drum_class(46))) > 3 * len(synth.drum_sound(synth.drum_class(42)))
    assert len(synth.drum_sound(7)) > SR  # the crash rings for more than a second


def test_pan_is_equal_power():
    for pan in (-1.0, -0.3, 0.0, 0.5, 1.0):
        left, right = synth.pan_gains(pan)
        assert left ** 2 + right ** 2 == pytest.approx(1.0)
    assert synth.pan_gains(-1.0)[1] == pytest.approx(0.0, abs=1e-9)


def test_long_notes_keep_a_smooth_envelope_past_the_cached_curve():
    p = synth.PRESETS["piano"]
    length = int(6.0 * SR)
    total = length + synth.voice_tail(p)
    env = synth.envelope(0, total, length, p)
    assert np.max(np.abs(np.diff(env[SR // 10:]))) < 1e-3  # no step anywhere after the attack
    k = int(synth.DECAY_CACHE_SECONDS * SR)
    assert env[k + 5] == pytest.approx(synth._level_at(k + 5, p), abs=1e-5)
    pieces = np.concatenate([synth.envelope(a, b, length, p)
                             for a, b in ((0, 1000), (1000, k - 7), (k - 7, length + 10), (length + 10, total))])
    assert np.allclose(env, pieces, atol=1e-6)
