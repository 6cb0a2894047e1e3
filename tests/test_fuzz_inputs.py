"""The fuzzing suite's quick mode: a few hundred hostile MIDI files, projects, model folders and
archives, each read in a forked child with CPU and memory limits (benchmarks/fuzz_inputs.py).

Every input must give a loaded file or a clean UserError: no other exception, no input over its
time or memory limit, no loaded song that cannot be saved and read back, no install that writes
outside its folder or leaves half a model behind.
"""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import fuzz_inputs  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fuzzer forks a child per input")


def test_quick_fuzz_has_no_crash_hang_or_blowup(monkeypatch):
    monkeypatch.delenv("LATENT_STUDIO_DATA", raising=False)
    result = fuzz_inputs.fuzz(300, seed=20261203, jobs=2, quiet=True)
    report = fuzz_inputs.report(result, 20261203)
    print(report)
    bad = [{k: v for k, v in f.items() if k != "trace"} for f in result["failures"]]
    c = result["counts"]
    assert (c["uncaught"], c["time"], c["memory"], c["broken"]) == (0, 0, 0, 0), (report, bad,
                                                                                [f.get("trace") for f in bad])
    # the inputs were hostile and reached every loader
    assert c["clean"] > 150 and c["ok"] > 0
    assert set(result["by_kind"]) == {"midi", "project", "model", "archive"}


def _maker(call):
    return lambda rng, work: ("planted", call)


def _unsavable_song():
    from core.song import Song, TempoChange

    song = Song(title="planted")
    song.tempos = [TempoChange(0.0, float("nan"))]
    return song


@pytest.mark.parametrize("call, outcome, kind", [
    (lambda: {}["missing"], "uncaught", "KeyError"),
    (lambda: next(x for x in iter(int, 1) if x), "time", None),  # spins for ever
    (lambda: np.ones(6 << 30, np.uint8), "memory", None),  # 6 GB, over the 2 GB margin
    (_unsavable_song, "broken", None),  # a "loaded" song whose tempo is NaN
])
def test_the_harness_counts_what_it_claims(monkeypatch, call, outcome, kind):
    """A loader that raises, spins or blows its memory is counted as such (the suite can fail)."""
    monkeypatch.setattr(fuzz_inputs, "CPU_SECONDS", 1)
    monkeypatch.setattr(fuzz_inputs, "MAKERS", {k: _maker(call) for k in fuzz_inputs.MAKERS})
    monkeypatch.setattr(fuzz_inputs, "pick_kind", lambda rng: "midi")
    result = fuzz_inputs.fuzz(1, seed=1, jobs=1, quiet=True)
    assert result["counts"][outcome] == 1, result
    if kind:
        assert result["uncaught"][kind] == 1
