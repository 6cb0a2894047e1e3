"""The music21 corpus reader and the implied-harmony bass (core/data/corpus.py, harmony.py)."""
import os
import time

import pytest

from core.data import corpus, harmony
from core.song import Note


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _files():
    ryans = corpus.corpus_files(("ryans",), limit=2)
    chorale = corpus.corpus_files(("chorales",), limit=1)
    return ryans + chorale


def test_corpus_files_take_turns_between_collections():
    files = corpus.corpus_files(("ryans", "chorales"), limit=4)
    assert len(files) == 4
    assert ["ryansMammoth" in f for f in files] == [True, False, True, False]
    assert all(os.path.exists(f) for f in files)
    with pytest.raises(ValueError):
        corpus.corpus_files(("nonesuch",))


def test_tunes_from_a_few_files_and_the_cache(cache):
    files = _files()
    t0 = time.perf_counter()
    tunes, skipped = corpus.load_tunes(files=files)
    first = time.perf_counter() - t0
    assert tunes, skipped
    for tune in tunes:
        assert tune.bar_beats in (2.0, 4.0)
        assert tune.length % 4 == 0 and tune.length >= max(n.end for n in tune.melody)
        assert all(n.start >= 0 and n.end > n.start for n in tune.melody)
        # the first full bar begins on a 4/4 bar line
        assert (tune.melody[0].start + (-tune.melody[0].start % 4)) % 4 == 0
    chorales = [t for t in tunes if t.source.startswith("bach/")]
    folk = [t for t in tunes if t.source.startswith("ryansMammoth/")]
    assert chorales and folk
    assert all(t.bass is None for t in folk)
    ch = chorales[0]
    assert ch.bass and sum(n.pitch for n in ch.bass) / len(ch.bass) < sum(n.pitch for n in ch.melody) / len(ch.melody) - 12
    cached = list(cache.joinpath("corpus").iterdir())
    assert len(cached) == len(files)
    t0 = time.perf_counter()
    again, skipped_again = corpus.load_tunes(files=files)
    assert time.perf_counter() - t0 < first
    assert [t.to_dict() for t in again] == [t.to_dict() for t in tunes]
    assert skipped_again == skipped


def test_key_detection_and_root_bass():
    c_major = [Note(p, i, i + 1) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60])]
    assert harmony.detect_key(c_major) == (0, "major")
    a_minor = [Note(p, i, i + 1) for i, p in enumerate([69, 71, 72, 74, 76, 72, 69, 64, 69, 68, 69])]
    assert harmony.detect_key(a_minor) == (9, "minor")
    assert harmony.share_in_key(c_major) == 1.0
    # a pickup of one beat, then C-major arpeggios over I and V
    tune = [Note(67, 3, 4)] + [Note(p, 4 + i, 5 + i) for i, p in enumerate([60, 64, 67, 72, 67, 71, 74, 79, 60, 64, 67, 72])]
    chords = harmony.implied_chords(tune, 16.0, (0, "major"))
    roots = {t: r for t, r, _ in chords}
    assert roots[4.0] == 0 and roots[8.0] == 7 and roots[12.0] == 0
    for seed in (0, 1):
        bass = harmony.root_bass(tune, 16.0, seed=seed)
        assert bass and min(n.start for n in bass) == 4.0  # nothing under the pickup
        assert all(28 <= n.pitch <= 55 for n in bass)
        assert bass[0].pitch % 12 == 0
    assert harmony.root_bass([], 8.0) == []


def test_measure_layout_keeps_downbeats_on_the_grid():
    full = (4.0, 4.0, 0.0)
    # a one-beat pickup ends on the first bar line; bars follow every 4 beats
    assert corpus.measure_layout([(4.0, 1.0, 3.0), full, full]) == (4.0, [3.0, 4.0, 8.0])
    # a repeat's short last bar plus the repeated pickup make one bar together
    bar, starts = corpus.measure_layout([(4.0, 1.0, 0.0), full, (4.0, 3.0, 0.0), (4.0, 1.0, 0.0), full])
    assert starts == [3.0, 4.0, 8.0, 11.0, 12.0]
    # an odd 1/8 bar inside a tune: the next full bar goes back onto the bar line
    bar, starts = corpus.measure_layout([full, (0.5, 0.5, 0.0), full, full])
    assert starts == [0.0, 4.0, 8.0, 12.0]
    # 2/4 tunes: a half-beat pickup ends on a 4/4 bar line
    assert corpus.measure_layout([(2.0, 0.5, 0.0), (2.0, 2.0, 0.0), (2.0, 2.0, 0.0)]) == (2.0, [3.5, 4.0, 6.0])
    assert corpus.measure_layout([(3.0, 3.0, 0.0)] * 8) == "bar of 3 beats (not 2 or 4)"
    mixed = [full] * 6 + [(3.0, 3.0, 0.0)] * 4
    assert corpus.measure_layout(mixed) == "changes time signature"
