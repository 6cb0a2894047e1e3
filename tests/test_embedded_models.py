"""The models that ship in resources/models load, sample music, and stay small.

These are the models a musician gets on first launch with no network, so the test uses the
real files: every embedded model must load with the engine, sample at the default temperature
and give clips of the model's length with notes in them; the ones the app relies on must exist.
"""
import json
import os

import pytest

from core import generation as g
from core.jobs import run_job
from core.models.catalogue import embedded_dir, embedded_models
from core.musicvae import load_model

SHIPPED = ("mel_2bar", "drums_2bar", "trio_16bar")
MAX_TOTAL_BYTES = 60 * 1024 * 1024


def test_the_shipped_models_are_there_with_model_cards():
    names = {m.name for m in embedded_models()}
    for name in SHIPPED:
        assert name in names, f"resources/models/{name} is missing"
        card = json.load(open(os.path.join(embedded_dir(), name, "model-card.json")))
        held_out = card["held_out"] if "held_out" in card else card
        assert held_out, "the model card records held-out numbers"
    total = sum(m.size_bytes for m in embedded_models())
    assert total <= MAX_TOTAL_BYTES, f"embedded models take {total / 2**20:.1f} MB (at most 60 MB)"


@pytest.mark.parametrize("entry", [e for e in embedded_models() if not e.is_sequence], ids=lambda e: e.name)
def test_each_embedded_model_loads_and_samples_music(entry):  # the sequence models: tests/test_seq_training.py
    assert entry.supported, entry.problem
    model = load_model(None, entry.path)
    clips = run_job(g.sample, model, 4, 0.5, seed=11, reproducible=True)
    assert len(clips) == 4
    beats = model.config.steps / 4
    for clip in clips:
        assert clip.length == pytest.approx(beats)
        assert clip.latent is not None and len(clip.latent) == model.z_size
        notes = [n for _, n in clip.all_notes()]
        assert notes, "a sample at temperature 0.5 holds notes"
        assert all(0 <= n.start < n.end <= beats + 1e-6 for n in notes)
    # the same seed gives the same music; another seed gives other music
    again = run_job(g.sample, model, 4, 0.5, seed=11, reproducible=True)
    assert [c.notes for c in again] == [c.notes for c in clips]
    other = run_job(g.sample, model, 4, 0.5, seed=12, reproducible=True)
    assert [c.notes for c in other] != [c.notes for c in clips]
