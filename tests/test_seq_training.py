"""train-seq on the generated drums with a tiny model: a loadable folder, resume, the catalogue."""
from __future__ import annotations

import json
import os

import pytest

from core.seq import model as sm

TINY_ARGS = ["--collections", "drums", "--drum-sequences", "2", "--batch", "2", "--checkpoint-every", "2",
             "--eval-every", "2"]


def test_train_resume_list_and_install(tmp_path, monkeypatch, capsys):
    from cli import run
    from core.models import catalogue

    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    out = str(tmp_path / "run")
    sizes = ["--size", "d_model=16,layers=1,heads=2,d_ff=32,max_len=64"]
    assert run(["train-seq", "--arch", "transformer", "--out", out, "--steps", "2"] + TINY_ARGS + sizes) == 0
    meta = json.load(open(os.path.join(out, "model.json")))
    assert meta["format"] == "latent-studio-seq" and meta["training"]["steps"] == 2
    # a second run without --resume refuses to mix runs; with it, it goes on from step 2
    assert run(["train-seq", "--arch", "transformer", "--out", out, "--steps", "4"] + TINY_ARGS + sizes) == 2
    assert run(["train-seq", "--arch", "transformer", "--out", out, "--steps", "4", "--resume"] + TINY_ARGS + sizes) == 0
    meta = json.load(open(os.path.join(out, "model.json")))
    assert meta["training"]["steps"] == 4
    log = [json.loads(line) for line in open(os.path.join(out, "log.jsonl"))]
    assert [r["step"] for r in log if "held_out_nll" in r] == [2, 4]
    model = sm.load(out)
    assert model.kind == "sequence" and model.config.d_model == 16
    capsys.readouterr()
    # install the folder; the catalogue lists it as a sequence model
    assert run(["models", "install", out, "--name", "my_seq"]) == 0
    assert "sequence model" in capsys.readouterr().out
    (entry,) = [e for e in catalogue.installed_models() if e.name == "my_seq"]
    assert entry.is_sequence and not entry.problem and entry.sizes.startswith("transformer 1x16")


def test_lstm_trains_and_bad_sizes_are_refused(tmp_path):
    from cli import run

    out = str(tmp_path / "lstm")
    assert run(["train-seq", "--arch", "lstm", "--out", out, "--steps", "2", "--size", "units=16,d_embed=8,max_len=64"]
               + TINY_ARGS) == 0
    assert sm.load(out).config.units == 16
    assert run(["train-seq", "--arch", "lstm", "--out", str(tmp_path / "x"), "--steps", "2",
                "--size", "d_model=16"] + TINY_ARGS) == 2


def test_the_embedded_sequence_models_are_listed():
    from core.models import catalogue

    seq = {e.name: e for e in catalogue.embedded_models() if e.is_sequence}
    if not seq:
        pytest.fail("no embedded sequence model in resources/models")
    for e in seq.values():
        assert not e.problem and e.size_bytes < 12e6


def test_a_cancelled_training_leaves_a_checkpoint_to_resume(tmp_path):
    from core.errors import JobCancelled
    from core.jobs import JobToken
    from core.seq.training import SeqTrainSettings, _checkpoints, train

    token = JobToken()

    def progress(fraction, message):
        if message.startswith("step 10/"):
            token.cancel()

    token.report_to(progress)
    s = SeqTrainSettings(arch="lstm", out=str(tmp_path / "run"), steps=100, batch=2, collections=("drums",),
                         drum_sequences=2, checkpoint_every=1000, eval_every=1000,
                         sizes={"units": 8, "d_embed": 4, "max_len": 32})
    with pytest.raises(JobCancelled):
        train(token, s)
    assert [step for step, _ in _checkpoints(s.out)] == [10]
    assert sm.load(s.out).meta["training"]["steps"] == 10
