"""Training examples from MIDI folders and the corpus (core/data/dataset.py)."""
import os
import shutil

import mido
import numpy as np
import pytest

from core.data import dataset as dsm
from core.errors import JobCancelled, UserError
from core.jobs import JobToken
from core.musicvae import converters as cv

TPB = 480


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def write_midi(path, bars, melody_pitches, numerator=4, with_bass=True, with_drums=True, gap_at=None):
    """A type 1 file: a piano melody of quarter notes, a bass (program 33) and a drum track."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=numerator, denominator=4, time=0)])
    mid.tracks.append(meta)

    def track(channel, program, notes):
        tr = mido.MidiTrack([mido.Message("program_change", channel=channel, program=program, time=0)])
        events = []
        for pitch, start, end in notes:
            events.append((start, 1, "note_on", pitch))
            events.append((end, 0, "note_off", pitch))
        now = 0
        for tick, _, kind, pitch in sorted(events):
            tr.append(mido.Message(kind, channel=channel, note=pitch, velocity=90 if kind == "note_on" else 0,
                                   time=tick - now))
            now = tick
        mid.tracks.append(tr)

    beats = bars * numerator
    mel = []
    for b in range(beats):
        if gap_at is not None and gap_at[0] * numerator <= b < gap_at[1] * numerator:
            continue
        mel.append((melody_pitches[b % len(melody_pitches)], b * TPB, (b + 1) * TPB))
    track(0, 0, mel)
    if with_bass:
        track(1, 33, [(36 + (b // 4) % 5, b * TPB, (b + 2) * TPB) for b in range(0, beats, 2)])
    if with_drums:
        drums = [(36, b * TPB, b * TPB + 120) for b in range(0, beats, 2)]
        drums += [(38, b * TPB, b * TPB + 120) for b in range(1, beats, 2)]
        drums += [(42, b * TPB // 2, b * TPB // 2 + 60) for b in range(beats * 2)]
        track(9, 0, drums)
    mid.save(str(path))


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "midi"
    d.mkdir()
    write_midi(d / "a.mid", 8, [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72])
    write_midi(d / "b.mid", 8, [57, 59, 60, 62, 64, 62, 60, 59, 57])
    shutil.copy(d / "a.mid", d / "a_copy.mid")  # the same music under another name
    write_midi(d / "waltz.mid", 8, [60, 64, 67], numerator=3)
    (d / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    sub = d / "more"
    sub.mkdir()
    write_midi(sub / "c.mid", 8, [48, 50, 52, 53, 55, 57, 59, 60, 62, 64, 65])
    return d


def test_melody_windows_split_dedup_and_skips(folder):
    ds = dsm.build_dataset(str(folder), "melody", held_out=0.5)
    s = ds.stats
    assert s["skipped"] == {"unreadable MIDI file": 1, "not in 4/4 or 2/4": 1}
    assert "broken.mid" in s["unreadable"][0]
    # 4 usable files, 8 bars each, one melody track: 7 two-bar windows per file
    assert s["windows_before_dedup"] == 4 * 7
    total = len(ds.train) + len(ds.held_out)
    assert s["duplicates_removed"] == 28 - total and s["duplicates_removed"] >= 7
    assert ds.train.shape[1:] == (32,) and ds.train.dtype == np.int16
    # split by source file: no file on both sides, and nothing shared between the sets
    train_src = {ds.sources[i] for i in ds.train_source}
    held_src = {ds.sources[i] for i in ds.held_out_source}
    assert held_src and train_src and not (train_src & held_src)
    assert held_src <= set(s["held_out_sources"])
    assert not (train_src & set(s["held_out_sources"]))
    train_rows = {r.tobytes() for r in ds.train}
    assert not any(r.tobytes() in train_rows for r in ds.held_out)
    assert len(train_rows) == len(ds.train)
    # one-hot arrays ready for training
    inputs, outputs, lengths = ds.arrays("train")
    assert inputs.shape == (len(ds.train), 32, 90) and np.all(outputs.sum(-1) == 1)
    assert np.all(lengths == 32)
    # the split is the same on a fresh build
    again = dsm.build_dataset(str(folder), "melody", held_out=0.5, use_cache=False)
    assert again.stats["held_out_sources"] == s["held_out_sources"]
    assert np.array_equal(again.train, ds.train)


def test_cache_hit_and_invalidation(folder):
    first = dsm.build_dataset(str(folder), "drums")
    assert first.stats["from_cache"] is False
    msgs = []
    second = dsm.build_dataset(str(folder), "drums", JobToken(lambda f, m: msgs.append(m)))
    assert second.stats["from_cache"] is True and "cache" in msgs[-1]
    assert np.array_equal(first.train, second.train) and np.array_equal(first.held_out, second.held_out)
    # other settings or a changed file make a new dataset
    assert dsm.build_dataset(str(folder), "drums", hop_bars=2).stats["from_cache"] is False
    write_midi(folder / "b.mid", 9, [50, 52, 53])
    third = dsm.build_dataset(str(folder), "drums")
    assert third.stats["from_cache"] is False


def test_drum_windows_map_to_classes(folder):
    ds = dsm.build_dataset(str(folder), "drums", held_out=0)
    assert len(ds.held_out) == 0
    # identical drum parts in every file: one window per distinct content
    assert len(ds.train) == 1
    w = ds.train[0]
    assert w[0] == 0b101 and w[2] == 0b100 and w[4] == 0b110  # kick+hat, hat, snare+hat
    inputs, outputs, _ = ds.arrays()
    assert inputs.shape == (1, 32, 10) and outputs.shape == (1, 32, 512)


def test_trio_windows_need_all_three_parts(tmp_path):
    d = tmp_path / "trio"
    d.mkdir()
    write_midi(d / "full.mid", 18, [72, 74, 76, 77, 79])
    write_midi(d / "nodrums.mid", 18, [72, 74, 76], with_drums=False)
    ds = dsm.build_dataset(str(d), "trio", held_out=0)
    assert ds.stats["skipped"] == {"no drums track": 1}
    assert ds.train.shape == (3, 256, 3)  # 18 bars: windows at bars 0, 1 and 2
    m = ds.train[0]
    assert m[0, 0] == 72 - 21 + 2 and m[0, 1] == 36 - 21 + 2 and m[0, 2] == 0b101
    inputs, outputs, lengths = ds.arrays()
    assert inputs.shape == (3, 256, 692) and np.all(outputs.sum(-1) == 3)


def test_gaps_split_melodies_like_magenta(tmp_path):
    d = tmp_path / "gap"
    d.mkdir()
    # 10 bars with bars 4 and 5 silent: melodies at bars 0-4 and 6-10
    write_midi(d / "g.mid", 10, [60, 62, 64], gap_at=(4, 6), with_bass=False, with_drums=False)
    ds = dsm.build_dataset(str(d), "melody", held_out=0, dedup=False)
    # windows [0,1] [1,2] [2,3] in the first part, [6,7] [7,8] [8,9] in the second
    assert len(ds.train) == 6
    assert all(not cv.window_is_silent(w, "melody") for w in ds.train)
    # without the gap rule, windows reach into the silence
    loose = dsm.build_dataset(str(d), "melody", held_out=0, dedup=False, gap_bars=99)
    assert len(loose.train) == 9 - 1


def test_batches_transpose_within_range(folder):
    ds = dsm.build_dataset(str(folder), "melody", held_out=0)
    seen = set()
    n = 0
    for inputs, outputs, lengths in ds.batches(4, seed=3, transpose=(-5, 5)):
        toks = cv.tensors_to_tokens(outputs, "melody")
        assert toks.max() < 90
        seen.update(toks[toks >= 2].tolist())
        n += len(toks)
    assert n == len(ds.train)
    plain = set(ds.train[ds.train >= 2].tolist())
    assert seen != plain  # pitches moved
    untouched = np.concatenate([cv.tensors_to_tokens(o, "melody") for _, o, _ in ds.batches(64, shuffle=False)])
    assert np.array_equal(untouched, ds.train)


def test_errors_and_cancel(tmp_path, folder):
    with pytest.raises(UserError, match="does not exist"):
        dsm.build_dataset(str(tmp_path / "nope"), "melody")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no MIDI files"):
        dsm.build_dataset(str(empty), "melody")
    only_waltz = tmp_path / "waltz"
    only_waltz.mkdir()
    shutil.copy(folder / "waltz.mid", only_waltz / "w.mid")
    with pytest.raises(UserError, match="No 2-bar melody windows.*4/4"):
        dsm.build_dataset(str(only_waltz), "melody")
    token = JobToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        dsm.build_dataset(str(folder), "melody", token, use_cache=False)
    with pytest.raises(UserError, match="Unknown corpus"):
        dsm.build_dataset("corpus:nonesuch", "melody")


def test_corpus_trio_pairs_melody_bass_and_generated_drums():
    ds = dsm.build_dataset("corpus:ryans,chorales", "trio", limit_files=3, held_out=0, hop_bars=2)
    assert len(ds.train) >= 1
    assert ds.stats["drum_genres"]
    for w in ds.train:
        assert (w[:, 0] >= 2).any() and (w[:, 1] >= 2).any() and (w[:, 2] > 0).any()
    drums = dsm.build_dataset("corpus", "drums", drum_sequences=2, drum_bars=8)
    assert drums.stats["generated_drum_sequences"] == 2 * 10
    assert len(drums.train) + len(drums.held_out) > 20


def test_fitting_grooves_for_corpus_tunes():
    from core.data.corpus import Tune
    from core.song import Note

    mel = [Note(60, 0, 1)]
    chorale = Tune("bach/x.mxl", 0, "x", 4.0, 16.0, mel, bass=[Note(40, 0, 1)])
    reel = Tune("ryansMammoth/r.abc", 0, "r", 2.0, 16.0, mel)
    hornpipe = Tune("ryansMammoth/h.abc", 0, "h", 4.0, 16.0, mel)
    assert dsm.fitting_groove(chorale)[0] in dsm.CHORALE_GROOVES and dsm.fitting_groove(chorale)[1] == 4
    assert dsm.fitting_groove(reel)[0] in dsm.TWO_FOUR_GROOVES and dsm.fitting_groove(reel)[1] == 4
    assert dsm.fitting_groove(hornpipe)[0] in dsm.FOUR_FOUR_GROOVES and dsm.fitting_groove(hornpipe)[1] == 8
    assert dsm.fitting_groove(reel) == dsm.fitting_groove(reel)


def test_window_stats():
    from core.data.stats import window_stats
    from core.song import Note

    c_major = [Note(p, i * 0.5, i * 0.5 + 0.5) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    mel = cv.melody_tokens(c_major, 32)
    drums = cv.drum_tokens([Note(36, 0, .25), Note(42, 0, .25), Note(38, 1, 1.25)], 32)
    s = window_stats(np.stack([mel, mel]), "melody")["melody"]
    assert s["notes_per_bar"] == 4.0 and s["lowest"] == 60 and s["highest"] == 72
    assert s["share_in_key"] == 1.0
    trio = window_stats(np.stack([mel, mel, drums], -1)[None], "trio")
    assert trio["drums"]["hits_per_bar"] == 1.5 and trio["bass"]["notes_per_bar"] == 4.0


@pytest.mark.parametrize("jobs", [1, 2])
def test_streamed_build_equals_the_in_memory_one(folder, cache, jobs):
    """--jobs N: files read in N processes, windows streamed to disk, the same dataset memory-mapped."""
    for kind, held, bars in (("melody", 0.5, 2), ("trio", 0.4, 4)):
        want = dsm.build_dataset(str(folder), kind, held_out=held, bars=bars, use_cache=False)
        msgs = []
        got = dsm.build_dataset(str(folder), kind, JobToken(lambda f, m: msgs.append(m)), held_out=held, bars=bars,
                                jobs=jobs)
        assert isinstance(got.train, np.memmap) and got.train.dtype == np.int16
        assert any(f"in {jobs} process" in m for m in msgs)
        for name in ("train", "held_out", "train_source", "held_out_source"):
            np.testing.assert_array_equal(np.asarray(getattr(got, name)), getattr(want, name), err_msg=name)
        assert got.sources == want.sources
        for key in ("skipped", "windows_before_dedup", "duplicates_removed", "held_out_sources", "sources_used",
                    "dropped_notes"):
            assert got.stats.get(key) == want.stats.get(key), key
        assert "broken.mid" in got.stats["unreadable"][0]
        # the cache holds the streamed dataset as a folder, mapped again on the next build
        again = dsm.build_dataset(str(folder), kind, held_out=held, bars=bars, jobs=jobs)
        assert again.stats["from_cache"] is True
        np.testing.assert_array_equal(np.asarray(again.train), want.train)
    assert not [p for p in os.listdir(cache / "datasets") if p.endswith(".partial")]


def test_streamed_build_errors(tmp_path):
    d = tmp_path / "only_waltz"
    d.mkdir()
    write_midi(d / "w.mid", 8, [60, 64, 67], numerator=3)
    with pytest.raises(UserError, match="No 2-bar melody windows"):
        dsm.build_dataset(str(d), "melody", jobs=2)
    assert not [p for p in os.listdir(tmp_path / "cache" / "datasets")]  # nothing half-written stays
