"""The sequence models' event vocabulary: exact round trips on the grid, the infill layout."""
from __future__ import annotations

import numpy as np

from core.seq import data as sd
from core.seq import events as ev
from core.song import Note


def _random_parts(rng, bars):
    parts = {"melody": [], "bass": [], "drums": []}
    for part, (lo, hi) in (("melody", (55, 90)), ("bass", (30, 55))):
        t = 0
        while t < bars * 16:
            dur = int(rng.integers(1, 12))
            if rng.random() < 0.8:
                parts[part].append(Note(int(rng.integers(lo, hi)), t / 4, (t + dur) / 4, ev.DEFAULT_VELOCITY[part]))
            t += dur
    for step in range(bars * 16):
        for pitch in (36, 38, 42):
            if rng.random() < 0.3:
                parts["drums"].append(Note(pitch, step / 4, (step + 1) / 4, ev.DEFAULT_VELOCITY["drums"]))
    # polyphony in the melody: a chord tone under some notes
    parts["melody"] += [Note(n.pitch - 4, n.start, n.end, n.velocity) for n in parts["melody"][::3]]
    return {k: sorted(v, key=lambda n: (n.start, n.pitch)) for k, v in parts.items()}


def test_round_trip_is_exact_on_the_grid():
    rng = np.random.default_rng(3)
    for trial in range(5):
        parts = _random_parts(rng, bars=4)
        # notes that run past the last bar still start inside it
        ids = ev.encode(parts, bars=4)
        back, bars = ev.decode(ids)
        assert bars == 4
        for p in parts:
            assert back[p] == parts[p], p
        assert ids.count(ev.BAR) == 4
        assert all(0 <= t < ev.VOCAB_SIZE for t in ids)


def test_parts_are_named_even_when_silent_and_subsets_stay_subsets():
    parts = {"melody": [Note(60, 0.0, 1.0, 90)], "bass": []}
    ids = ev.encode(parts, bars=2)
    back, _ = ev.decode(ids)
    assert set(back) == {"melody", "bass"}
    assert ids.count(ev.trk("bass")) == 2 and ev.trk("drums") not in ids


def test_off_grid_and_long_notes_are_rounded_and_cut():
    parts = {"melody": [Note(60, 0.13, 0.6, 90), Note(62, 1.0, 20.0, 90)]}
    back, _ = ev.decode(ev.encode(parts, bars=5))
    assert back["melody"][0] == Note(60, 0.25, 0.5, 90)
    assert back["melody"][1].end - back["melody"][1].start == ev.MAX_DUR / 4


def test_infill_layout_and_reading_back():
    rng = np.random.default_rng(1)
    parts = _random_parts(rng, bars=6)
    bars = ev.bar_tokens(parts, 6)
    prompt = ev.infill_prompt(bars, 2, 4)
    assert prompt[0] == ev.BOS and prompt[-1] == ev.FILL
    assert prompt.count(ev.HOLE) == 2 and prompt.count(ev.BAR) == 4
    full = ev.infill_example(bars, 2, 4)
    assert full[:len(prompt)] == prompt and full[-1] == ev.EOS
    filled = ev.read_fill(full, start_bar=2, bars=2)
    for p in parts:
        want = [n for n in parts[p] if 8.0 <= n.start < 16.0]
        assert filled[p] == want, p


def test_read_fill_stops_after_the_asked_bars():
    one = ev.bar_tokens({"melody": [Note(60, 0.0, 1.0, 90)]}, 1)[0]
    ids = [ev.FILL] + one + one + one
    got = ev.read_fill(ids, start_bar=5, bars=2)
    assert [n.start for n in got["melody"]] == [20.0, 24.0]


def test_transpose_moves_pitched_parts_only():
    parts = {"melody": [Note(60, 0, 1, 90)], "drums": [Note(36, 0, 0.25, 90)]}
    ids = sd.transpose_tokens(ev.encode(parts, bars=1), 3)
    back, _ = ev.decode(ids)
    assert back["melody"][0].pitch == 63 and back["drums"][0].pitch == 36


def test_sampler_examples_fit_the_window():
    rng = np.random.default_rng(0)
    pieces = [sd.SeqPiece(f"p{i}", "t", 8, _random_parts(rng, 8)) for i in range(3)]
    s = sd.ExampleSampler(pieces, max_len=128, seed=2, infill_share=0.5)
    batch = s.batch(32)
    assert batch.shape == (32, 129)
    assert (batch[:, 0] == ev.BOS).all()
    assert any(ev.FILL in row for row in batch.tolist()) and any(ev.FILL not in row for row in batch.tolist())
