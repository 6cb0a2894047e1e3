"""The genre drum-pattern generator (core/data/drum_patterns.py)."""
import pytest

from core.data import drum_patterns as dp
from core.musicvae import converters as cv

TOMS = {dp.HIGH_TOM, dp.MID_TOM, dp.LOW_TOM, dp.FLOOR_TOM}


def _bar_hits(notes, bar):
    return {(n.pitch, dp.steps_of([n], n.pitch, bar)[0]) for n in notes if bar * 4 <= n.start < bar * 4 + 4}


def test_same_seed_same_pattern_other_seed_other_pattern():
    a = dp.generate("funk", 16, seed=7)
    assert a == dp.generate("funk", 16, seed=7)
    assert a != dp.generate("funk", 16, seed=8)


@pytest.mark.parametrize("genre", dp.GENRE_NAMES)
def test_every_genre_gives_grid_aligned_gm_drums(genre):
    notes = dp.generate(genre, 16, seed=3)
    assert notes
    assert all(n.pitch in cv.DRUM_PITCH_TO_CLASS for n in notes)
    assert all(abs(n.start * 4 - round(n.start * 4)) < 1e-9 for n in notes)
    assert all(0 <= n.start < 64 and 1 <= n.velocity <= 127 for n in notes)
    # converts without losing anything but same-class doubles
    toks = cv.drum_tokens(notes, 256)
    assert toks.any()
    # bars differ: the grids are sampled per bar
    bars = [frozenset(_bar_hits(notes, b)) for b in range(16)]
    assert len(set(bars)) >= 3


def test_rock_backbeat_and_kick_on_one_outside_fills():
    notes = dp.generate("rock", 32, seed=11, phrase_bars=4)
    for bar in range(32):
        if bar % 4 == 3:
            continue  # the phrase's last bar ends in a fill
        assert 4 in dp.steps_of(notes, dp.SNARE, bar), bar
        assert 12 in dp.steps_of(notes, dp.SNARE, bar), bar
        assert 0 in dp.steps_of(notes, dp.KICK, bar), bar


def test_fills_on_phrase_ends_and_crashes_on_phrase_starts():
    for seed in range(5):
        notes = dp.generate("rock", 16, seed=seed, phrase_bars=4)
        for bar in (0, 4, 8, 12):
            assert dp.steps_of(notes, dp.CRASH, bar) == [0]
        for bar in (3, 7, 11, 15):
            tail = [n for n in notes if bar * 4 + 3 <= n.start < bar * 4 + 4]
            assert any(n.pitch in TOMS or n.pitch == dp.SNARE for n in tail)
            assert not any(n.pitch in (dp.CLOSED_HAT, dp.OPEN_HAT) for n in tail)  # the fill replaces the groove
        for bar in (1, 2, 5, 6):
            assert not any(n.pitch in TOMS for n in notes if bar * 4 <= n.start < bar * 4 + 4)
            assert dp.steps_of(notes, dp.CRASH, bar) == []
    # no fills when asked
    plain = dp.generate("rock", 8, seed=1, phrase_bars=4, fills=False)
    assert not any(n.pitch in TOMS for n in plain)


def test_ghost_notes_and_accents():
    notes = dp.generate("funk", 16, seed=2, phrase_bars=8, fills=False)
    snares = [n for n in notes if n.pitch == dp.SNARE]
    ghosts = [n for n in snares if n.velocity < 55]
    backbeats = [n for n in snares if round(n.start * 4) % 16 in (4, 12)]
    assert len(ghosts) >= 16
    assert min(n.velocity for n in backbeats) > max(n.velocity for n in ghosts)


def test_four_on_the_floor_and_one_drop():
    house = dp.generate("house", 8, seed=4, phrase_bars=8, fills=False)
    for bar in range(8):
        assert dp.steps_of(house, dp.KICK, bar) == [0, 4, 8, 12]
        assert {2, 6, 10, 14} <= set(dp.steps_of(house, dp.OPEN_HAT, bar))
    reggae = dp.generate("reggae", 8, seed=4, phrase_bars=8, fills=False)
    for bar in range(8):
        assert dp.steps_of(reggae, dp.KICK, bar) == [8]
        assert 8 in dp.steps_of(reggae, dp.RIM, bar)


def test_swung_genres_stay_on_the_triplet_approximation():
    notes = dp.generate("shuffle", 16, seed=5, phrase_bars=8, fills=False)
    ride_steps = {round(n.start * 4) % 4 for n in notes if n.pitch == dp.RIDE}
    assert ride_steps <= {0, 3}
    half = dp.generate("half-time", 8, seed=5, phrase_bars=8, fills=False)
    for bar in range(8):
        assert 8 in dp.steps_of(half, dp.SNARE, bar) and 4 not in dp.steps_of(half, dp.SNARE, bar)


def test_bossa_clave_alternates_bars():
    notes = dp.generate("bossa nova", 8, seed=6, phrase_bars=8, fills=False, crashes=False)
    assert dp.steps_of(notes, dp.RIM, 0) == [0, 6, 12]
    assert dp.steps_of(notes, dp.RIM, 1) == [4, 10]
    assert dp.steps_of(notes, dp.RIM, 2) == [0, 6, 12]


def test_unknown_genre_is_refused():
    with pytest.raises(ValueError):
        dp.generate("polka", 4)
