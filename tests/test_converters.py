"""Clips <-> MusicVAE tensors (core/musicvae/converters.py)."""
import json
import os

import numpy as np
import pytest

from core.musicvae import converters as cv
from core.song import Clip, Note, Song, Track


def _song():
    song = Song()
    mel = song.ensure_track("melody")
    bass = song.ensure_track("bass")
    drums = song.ensure_track("drums")
    return song, mel.id, bass.id, drums.id


def _tok(pitch):
    return pitch - 21 + 2


# ----------------------------------------------------------------- melody
def test_melody_round_trip_keeps_every_quantized_note():
    song, mel, _, _ = _song()
    notes = [Note(60, 0.0, 0.5), Note(62, 0.5, 1.0), Note(64, 1.25, 3.0), Note(67, 3.0, 3.25),
             Note(72, 4.0, 8.0)]
    clip = Clip("m", 8.0, {mel: notes})
    inputs, outputs, report = cv.clip_to_tensors(clip, song, "melody", 32)
    assert inputs.shape == (32, 90) and outputs.shape == (32, 90)
    assert np.all(inputs.sum(-1) == 1)
    assert report.clean, report.summary()
    back = cv.tensors_to_clip(outputs, "melody", {"melody": mel})
    assert back.length == 8.0
    assert back.notes[mel] == [Note(n.pitch, n.start, n.end, 80) for n in notes]


def test_melody_tokens_follow_magenta_event_rules():
    # note on at the start, holds as "no event", a note off where a gap begins
    toks = cv.melody_tokens([Note(60, 0, 1), Note(62, 2, 2.5)], 16)
    expected = [_tok(60), 0, 0, 0, 1, 0, 0, 0, _tok(62), 0, 1, 0, 0, 0, 0, 0]
    assert toks.tolist() == expected
    # a note that runs past the end keeps sounding: no note off inside the window
    toks = cv.melody_tokens([Note(60, 3, 9)], 16)
    assert toks[12] == _tok(60) and np.all(toks[13:] == 0)
    # legato: the next onset replaces the note off
    toks = cv.melody_tokens([Note(60, 0, 1), Note(62, 1, 2)], 16)
    assert toks[:9].tolist() == [_tok(60), 0, 0, 0, _tok(62), 0, 0, 0, 1]


def test_melody_decoding_holds_until_next_event_like_melody_to_sequence():
    toks = [_tok(60), 0, 0, 1, 0, _tok(61), 0, 0]
    assert cv.melody_notes(toks) == [Note(60, 0.0, 0.75, 80), Note(61, 1.25, 2.0, 80)]
    # a note off with nothing sounding does nothing; a repeated pitch starts a new note
    toks = [1, 0, _tok(70), _tok(70), 0, 1]
    assert cv.melody_notes(toks) == [Note(70, 0.5, 0.75, 80), Note(70, 0.75, 1.25, 80)]


def test_polyphony_keeps_highest_onset_and_later_onset_cuts():
    report = cv.ConversionReport()
    chord = [Note(60, 0, 2), Note(64, 0, 2), Note(67, 0, 2), Note(72, 1, 3)]
    toks = cv.melody_tokens(chord, 16, report)
    notes = cv.melody_notes(toks)
    assert notes == [Note(67, 0.0, 1.0, 80), Note(72, 1.0, 3.0, 80)]
    assert report.counts() == {"polyphony": 2}
    assert sorted(d.note.pitch for d in report.dropped) == [60, 64]
    assert len(report.shortened) == 1 and report.shortened[0][1].pitch == 67
    assert "polyphony" not in report.summary() and "highest" in report.summary()


def test_out_of_range_notes_are_transposed_or_dropped_and_reported():
    notes = [Note(110, 0, 1), Note(15, 1, 2), Note(60, 2, 3)]
    report = cv.ConversionReport()
    toks = cv.melody_tokens(notes, 16, report, out_of_range="transpose")
    assert [n.pitch for n in cv.melody_notes(toks)] == [98, 27, 60]
    assert sorted(s for _, _, s in report.transposed) == [-12, 12]
    report = cv.ConversionReport()
    toks = cv.melody_tokens(notes, 16, report, out_of_range="drop")
    assert [n.pitch for n in cv.melody_notes(toks)] == [60]
    assert report.counts() == {"out_of_range": 2}


def test_notes_beyond_the_window_and_silent_notes_are_reported():
    song, mel, _, _ = _song()
    clip = Clip("long", 16.0, {mel: [Note(60, 0, 1), Note(62, 9, 10), Note(64, 1, 2, 0)]})
    _, outputs, report = cv.clip_to_tensors(clip, song, "melody", 32)
    assert report.counts() == {"outside_window": 1, "zero_velocity": 1}
    assert any("longer" in w for w in report.warnings)
    assert [n.pitch for n in cv.tensors_to_notes(outputs, "melody")["melody"]] == [60]


def test_melody_model_reads_a_bass_clip_and_drops_unused_tracks():
    song, mel, bass, drums = _song()
    clip = Clip("b", 8.0, {bass: [Note(40, 0, 1)], drums: [Note(36, 0, 0.25)]})
    toks, report = cv.clip_to_tokens(clip, song, "melody", 32)
    assert toks[0] == _tok(40)
    assert report.counts() == {"unused_track": 1}
    assert any("bass" in w for w in report.warnings)


# ----------------------------------------------------------------- drums
def test_every_gm_drum_pitch_maps_to_its_class():
    expected_first = (36, 38, 42, 46, 45, 48, 50, 49, 51)
    assert cv.DRUM_CLASS_PITCHES == expected_first
    all_pitches = [p for ps in cv.DRUM_TYPE_PITCHES for p in ps]
    assert len(all_pitches) == len(set(all_pitches)) == 63
    assert set(range(35, 82)) <= set(all_pitches)  # every General MIDI 1 drum sound
    for k, pitches in enumerate(cv.DRUM_TYPE_PITCHES):
        for p in pitches:
            toks = cv.drum_tokens([Note(p, 0, 0.25)], 4)
            assert toks[0] == 1 << k, (p, k)
            assert cv.drum_notes(toks)[0].pitch == expected_first[k]


def test_drum_round_trip_roll_input_and_512_outputs():
    song, _, _, drums = _song()
    notes = [Note(36, 0, 0.25), Note(42, 0, 0.25), Note(38, 1, 1.25), Note(42, 0.5, 0.75),
             Note(46, 1.5, 1.75), Note(49, 4, 4.25), Note(51, 4.5, 4.75), Note(45, 7, 7.25),
             Note(48, 7.25, 7.5), Note(50, 7.5, 7.75)]
    clip = Clip("d", 8.0, {drums: notes})
    inputs, outputs, report = cv.clip_to_tensors(clip, song, "drums", 32)
    assert report.clean
    assert inputs.shape == (32, 10) and outputs.shape == (32, 512)
    assert inputs[0].tolist() == [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]  # kick + closed hat
    assert inputs[1].tolist() == [0] * 9 + [1]  # nothing: the "no hit" bit
    assert np.argmax(outputs[0]) == 0b101 and np.argmax(outputs[1]) == 0
    back = cv.tensors_to_clip(outputs, "drums", {"drums": drums})
    assert back.notes[drums] == [Note(n.pitch, n.start, n.end, 80) for n in sorted(notes, key=lambda n: (n.start, n.pitch))]
    # the roll reads back to the same masks
    assert np.array_equal(cv.tensors_to_tokens(inputs, "drums"), cv.tensors_to_tokens(outputs, "drums"))


def test_drum_mapping_merges_same_class_and_reports_unknown_pitches():
    report = cv.ConversionReport()
    toks = cv.drum_tokens([Note(42, 0, .25), Note(44, 0, .25), Note(20, 1, 1.25), Note(35, 2, 2.25)],
                          16, report)
    assert toks[0] == 0b100 and toks[8] == 0b1
    assert report.counts() == {"same_drum_class": 1, "unknown_drum_pitch": 1}


# ----------------------------------------------------------------- trio
def test_trio_round_trip_and_layout():
    song, mel, bass, drums = _song()
    song.add_track(Track("Pad", "other"))
    other = song.tracks[-1].id
    m = [Note(72, 0, 2), Note(74, 2, 4), Note(76, 60, 64)]
    b = [Note(36, 0, 4), Note(43, 32, 36)]
    d = [Note(36, i, i + 0.25) for i in range(0, 64, 2)] + [Note(38, i, i + .25) for i in range(1, 64, 2)]
    clip = Clip("t", 64.0, {mel: m, bass: b, drums: d, other: [Note(50, 0, 1)]})
    inputs, outputs, report = cv.clip_to_tensors(clip, song, "trio", 256)
    assert inputs.shape == outputs.shape == (256, 692)
    assert np.array_equal(inputs, outputs)
    assert np.all(outputs.sum(-1) == 3)
    assert np.argmax(outputs[0, 0:90]) == _tok(72)
    assert np.argmax(outputs[0, 90:180]) == _tok(36)
    assert np.argmax(outputs[0, 180:]) == 1  # kick
    assert np.argmax(outputs[4, 180:]) == 2  # snare
    assert report.counts() == {"unused_track": 1}
    back = cv.tensors_to_clip(outputs, "trio", {"melody": mel, "bass": bass, "drums": drums},
                              name="x", latent=np.zeros(4))
    assert back.length == 64.0 and back.latent == [0.0] * 4
    assert back.notes[mel] == [n._replace(velocity=80) for n in m]
    assert back.notes[bass] == [n._replace(velocity=80) for n in b]
    assert len(back.notes[drums]) == len(d)
    assert {n.pitch for n in back.notes[drums]} == {36, 38}


def test_batch_helpers_stack_and_unstack():
    song, mel, _, _ = _song()
    clips = [Clip(str(i), 8.0, {mel: [Note(60 + i, 0, 1)]}) for i in range(3)]
    inputs, outputs, lengths, reports = cv.clips_to_batch(clips, song, "melody", 32)
    assert inputs.shape == (3, 32, 90) and lengths.tolist() == [32, 32, 32]
    back = cv.batch_to_clips(outputs, "melody", {"melody": mel}, name="S")
    assert [c.notes[mel][0].pitch for c in back] == [60, 61, 62]
    assert [c.name for c in back] == ["S 1", "S 2", "S 3"]


# ----------------------------------------------------------------- windows
@pytest.mark.parametrize("total_bars,bars,hop,expected", [(5, 2, 1, 4), (5, 2, 2, 2), (2, 2, 1, 1),
                                                           (1, 2, 1, 0), (20, 16, 1, 5), (32, 16, 16, 2)])
def test_window_counts(total_bars, bars, hop, expected):
    assert cv.window_count(total_bars, bars, hop) == expected
    tokens = np.zeros(total_bars * 16, np.int64)
    assert len(cv.slice_windows(tokens, bars, hop)) == expected


def test_clip_windows_slice_the_encoded_clip():
    song, mel, _, _ = _song()
    # a note held across the bar line between window 0 and window 1
    clip = Clip("w", 20.0, {mel: [Note(60, 0, 1), Note(62, 3, 6), Note(64, 8, 9), Note(65, 16, 17)]})
    windows, report = cv.clip_windows(clip, song, "melody", bars=2, hop_bars=1)
    assert report.clean
    assert [w.start_bar for w in windows] == [0, 1, 2, 3]
    assert [w.start_beat for w in windows] == [0.0, 4.0, 8.0, 12.0]
    w1 = windows[1].tokens
    assert w1[0] == 0 and w1[8] == 1  # the held note is "no event" at the start, off at beat 6
    assert w1[16] == _tok(64)
    short = Clip("s", 4.0, {mel: [Note(60, 0, 1)]})
    assert cv.clip_windows(short, song, "melody", 2)[0] == []
    padded, _ = cv.clip_windows(short, song, "melody", 2, pad_short=True)
    assert len(padded) == 1 and padded[0].tokens.shape == (32,)
    silent = Clip("q", 16.0, {mel: [Note(60, 0, 1)]})
    assert len(cv.clip_windows(silent, song, "melody", 2, skip_silent=True)[0]) == 1


def test_transpose_tokens_stays_in_range():
    toks = cv.melody_tokens([Note(100, 0, 1), Note(60, 1, 2)], 16)
    up = cv.transpose_tokens(toks, "melody", 5)
    assert [n.pitch for n in cv.melody_notes(up)] == [105, 65]
    assert cv.transpose_tokens(toks, "melody", 9) is None
    trio = np.stack([toks, toks, np.ones(16, np.int64)], -1)
    down = cv.transpose_tokens(trio, "trio", -2)
    assert down[0, 0] == toks[0] - 2 and down[0, 1] == toks[0] - 2 and down[0, 2] == 1
    assert toks[0] == _tok(100)  # the input is not changed


# ----------------------------------------------------------------- against Magenta's own converters
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "magenta_converters.json")


@pytest.fixture(scope="module")
def magenta():
    with open(FIXTURE) as f:
        return json.load(f)


def test_melody_encoding_matches_magenta(magenta):
    for case in magenta["melody_encode"]:
        notes = [Note(p, s, e, v) for p, s, e, v in case["notes"]]
        toks = cv.melody_tokens(notes, case["steps"], out_of_range="drop")
        assert toks.tolist() == case["tokens"], case["notes"]


def test_melody_decoding_matches_magenta(magenta):
    for case in magenta["melody_decode"]:
        got = sorted([n.pitch, n.start, n.end, n.velocity] for n in cv.melody_notes(case["tokens"]))
        want = [[p, s, e, v] for p, s, e, v, _, _ in case["notes"]]
        assert got == want, case["tokens"]


def test_drum_encoding_matches_magenta(magenta):
    for case in magenta["drums_encode"]:
        notes = [Note(p, s, e, v) for p, s, e, v in case["notes"]]
        toks = cv.drum_tokens(notes, case["steps"])
        assert toks.tolist() == case["classes"], case["notes"]
        assert cv.drum_roll(toks).astype(int).tolist() == case["roll"]


def test_drum_decoding_matches_magenta(magenta):
    for case in magenta["drums_decode"]:
        got = sorted([n.pitch, n.start, n.end, n.velocity] for n in cv.drum_notes(case["tokens"]))
        want = [[p, s, e, v] for p, s, e, v, _, is_drum in case["notes"]]
        assert got == want
        assert all(is_drum for *_, is_drum in case["notes"])


def test_trio_matches_magenta(magenta):
    assert magenta["trio"]
    for case in magenta["trio"]:
        mel = [Note(*n) for n in case["melody"]]
        bass = [Note(*n) for n in case["bass"]]
        drums = [Note(*n) for n in case["drums"]]
        clip = Clip("t", 8.0, {"m": mel, "b": bass, "d": drums})
        toks, _ = cv.clip_to_tokens(clip, {"m": "melody", "b": "bass", "d": "drums"}, "trio", 32,
                                    out_of_range="drop")
        assert toks.tolist() == case["tokens"]
        parts = cv.tokens_to_notes(toks, "trio")
        want = {(p, s, e, v, prog, d) for p, s, e, v, prog, d in case["decoded"]}
        got = ({(n.pitch, n.start, n.end, n.velocity, 0, False) for n in parts["melody"]}
               | {(n.pitch, n.start, n.end, n.velocity, cv.BASS_PROGRAM, False) for n in parts["bass"]}
               | {(n.pitch, n.start, n.end, n.velocity, 0, True) for n in parts["drums"]})
        assert got == want
