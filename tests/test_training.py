"""Training: a tiny model learns, saves in the engine's format and decodes the same tokens there;
resume, cancel, the hierarchical and trio graphs, schedules, batches and the model card."""
import dataclasses
import json
import os

import numpy as np
import pytest

from core.data.dataset import Dataset
from core.errors import UserError
from core.jobs import JobToken
from core.musicvae.configs import CONFIGS

import tensorflow as tf  # a hard dependency: a broken install must fail here, not skip

STEPS = 30


def tiny(name):
    cfg = CONFIGS[name]
    hier = cfg.hierarchical
    return cfg.with_sizes([32, 32] if hier else [32], [32, 32] if hier else [32], 8)


def melody_windows(n, seed):
    """Two-bar melodies that a small model can learn: a scale figure in a random key and rhythm."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 32), np.int64)
    for i in range(n):
        root = 60 + int(rng.integers(-5, 6))
        scale = [0, 2, 4, 5, 7, 9, 11, 12]
        every = int(rng.choice([2, 4]))
        up = rng.random() < 0.5
        for k, step in enumerate(range(0, 32, every)):
            degree = scale[k % 8] if up else scale[7 - k % 8]
            out[i, step] = 2 + root + degree - 21
    return out


def dataset(kind, train, held):
    return Dataset(kind, train.shape[1] // 16, train.astype(np.int16), held.astype(np.int16),
                   np.zeros(len(train), np.int32), np.zeros(len(held), np.int32), [], {})


def settings(**kw):
    from core.musicvae.training import TrainSettings

    base = dict(steps=STEPS, batch_size=16, learning_rate=1e-2, checkpoint_every=10, keep_checkpoints=2,
                eval_every=15, eval_examples=8, eval_samples=8, seed=1, device="cpu")
    base.update(kw)
    return TrainSettings(**base)


@pytest.fixture(scope="module")
def mel_run(tmp_path_factory):
    from core.musicvae.training import train

    out = str(tmp_path_factory.mktemp("mel"))
    cfg = tiny("cat-mel_2bar_small")
    ds = dataset("melody", melody_windows(48, 0), melody_windows(8, 1))
    messages = []
    token = JobToken(lambda f, m: messages.append((f, m)))
    result = train(token, cfg, ds, out, settings(), data_description="synthetic scales")
    return cfg, ds, out, result, messages


def test_tiny_model_learns_and_reports_progress(mel_run):
    cfg, ds, out, result, messages = mel_run
    assert result.step == STEPS and not result.cancelled
    assert len(result.losses) == STEPS
    first, last = np.mean(result.losses[:3]), np.mean(result.losses[-3:])
    assert last < 0.8 * first, (first, last)
    step_msgs = [m for _, m in messages if m.startswith("step ")]
    assert len(step_msgs) == STEPS
    assert "loss" in step_msgs[-1] and "acc" in step_msgs[-1] and "ETA" in step_msgs[-1]
    assert [h["step"] for h in result.history] == [15, 30]
    for h in result.history:
        assert 0 <= h["free_running_accuracy"] <= 1 and 0 <= h["teacher_forced_accuracy"] <= 1 and h["kl"] >= 0
        # samples at temperature 0.5 are followed too: notes per bar against the data's, notes in key
        assert h["samples"]["temperature"] == 0.5 and h["samples"]["count"] == 8
        assert 0 < h["samples"]["notes_per_bar_ratio"]["melody"] < 10
        assert 0 <= h["samples"]["share_in_key"] <= 1
    assert "notes/bar vs data melody" in [m for _, m in messages if m.startswith("step 30/")][0]
    log = json.load(open(os.path.join(out, "training.json")))
    assert log["step"] == STEPS and log["history"] == result.history


def test_saved_model_decodes_like_the_training_graph(mel_run):
    from core.musicvae import converters as cv
    from core.musicvae import load_model
    from core.musicvae.checkpoint import load_weights
    from core.musicvae.training import Trainer

    cfg, ds, out, result, _ = mel_run
    model = load_model(None, out, device="cpu")
    assert model.config.enc_rnn_size == cfg.enc_rnn_size and model.config.z_size == cfg.z_size
    tokens = ds.held_out.astype(np.int32)
    _, mu, _ = model.encode_tensors(cv.tokens_to_inputs(tokens, "melody"))
    _, weights, _ = load_weights(None, out)
    trainer = Trainer(cfg, settings(), weights)
    np.testing.assert_allclose(trainer.encode_mu(tokens), mu, rtol=1e-5, atol=1e-5)
    # after 30 steps codes near mu decode mostly to "no event"; wide codes give varied tokens
    z = 3 * np.random.default_rng(0).standard_normal((8, cfg.z_size)).astype(np.float32)
    mine = trainer.free_run_tokens(z)[..., 0]
    theirs = model.decode_tokens(z)
    assert len(np.unique(theirs)) > 3
    np.testing.assert_array_equal(mine, theirs)
    onehot = model.decode_to_tensors(z)
    np.testing.assert_array_equal(np.argmax(onehot, -1), mine)
    # the training graph's draws: a very low temperature gives the argmax, temperature 1 varies
    np.testing.assert_array_equal(trainer.sample_tokens(8, 1e-4, seed=5, z=z), mine)
    assert (trainer.sample_tokens(8, 1.0, seed=5, z=z) != mine).mean() > 0.05


def test_resume_continues_from_the_saved_step(mel_run, tmp_path):
    import shutil

    from core.musicvae.training import checkpoint_dirs, train

    cfg, ds, out, result, _ = mel_run
    run = str(tmp_path / "run")
    shutil.copytree(out, run)
    assert [s for s, _ in checkpoint_dirs(run)] == [20, 30]  # keep_checkpoints=2
    # a checkpoint cut off while being written does not count
    os.makedirs(os.path.join(run, "checkpoints", "step-0000040"))
    shutil.copytree(os.path.join(run, "checkpoints", "step-0000030"), os.path.join(run, "checkpoints", "step-0000050.partial"))
    assert [s for s, _ in checkpoint_dirs(run)] == [20, 30]
    with pytest.raises(UserError, match="--resume"):
        train(None, cfg, ds, run, settings())
    more = train(None, cfg, ds, run, settings(steps=STEPS + 6), resume=True)
    assert more.step == STEPS + 6 and len(more.losses) == 6
    assert more.losses[0] < result.losses[0]  # the optimizer went on from trained weights
    assert [s for s, _ in checkpoint_dirs(run)] == [30, 36]
    assert not os.path.exists(os.path.join(run, "checkpoints", "step-0000036.partial"))
    meta = json.load(open(os.path.join(run, "model.json")))
    assert meta["step"] == STEPS + 6
    bigger = dataclasses.replace(cfg, z_size=16)
    with pytest.raises(UserError, match="layer sizes"):
        train(None, bigger, ds, run, settings(steps=50), resume=True)


def test_init_from_goes_on_from_another_run_on_new_data(mel_run, tmp_path):
    from core.musicvae.training import checkpoint_dirs, load_checkpoint, train

    cfg, ds, out, result, _ = mel_run
    other = dataset("melody", melody_windows(40, 7), melody_windows(8, 8))
    run = str(tmp_path / "tuned")
    with pytest.raises(UserError, match="no training checkpoint"):
        train(None, cfg, other, run, settings(steps=STEPS + 4), init_from=str(tmp_path / "nothing"))
    more = train(None, cfg, other, run, settings(steps=STEPS + 4), data_description="more scales",
                 init_from=out)
    assert more.step == STEPS + 4 and len(more.losses) == 4  # the step count goes on, four new steps
    assert more.losses[0] < result.losses[0]
    assert [s for s, _ in checkpoint_dirs(out)] == [20, 30]  # the source run is untouched
    _, _, _, state = load_checkpoint(checkpoint_dirs(run)[-1][1])
    assert state["stages"] == [{"from": os.path.abspath(out), "step": STEPS, "data": "more scales"}]
    # a fresh pass over the 40 new windows (the source run had gone through its data ten times)
    assert (state["stream"]["epoch"], state["stream"]["offset"]) == divmod(4 * 16, 40)
    assert json.load(open(os.path.join(run, "model.json")))["training"]["stages"][0]["step"] == STEPS
    # resuming the new run goes on from its own checkpoint, not from the source
    again = train(None, cfg, other, run, settings(steps=STEPS + 6), resume=True, init_from=out)
    assert again.step == STEPS + 6 and len(again.losses) == 2


def test_held_out_pick_samples_every_source():
    ds = Dataset("melody", 2, np.zeros((4, 32), np.int16), np.arange(1000 * 32).reshape(1000, 32).astype(np.int16),
                 np.zeros(4, np.int32), np.repeat(np.arange(4), 250).astype(np.int32), ["a/1", "a/2", "b/1", "c/1"], {})
    pick = ds.held_out_pick(100, seed=3)
    assert len(pick) == 100 == len(set(pick.tolist())) and np.all(np.diff(pick) > 0)
    assert set(ds.held_out_source[pick].tolist()) == {0, 1, 2, 3}  # the first 100 would all be from "a/1"
    np.testing.assert_array_equal(pick, ds.held_out_pick(100, seed=3))
    np.testing.assert_array_equal(ds.held_out_pick(5000), np.arange(1000))


def test_cancel_saves_a_checkpoint_and_stops(tmp_path):
    from core.musicvae import load_model
    from core.musicvae.training import checkpoint_dirs, train

    cfg = tiny("cat-mel_2bar_small")
    ds = dataset("melody", melody_windows(24, 2), melody_windows(4, 3))

    def on_progress(fraction, message):
        if message.startswith("step 5/"):
            token.cancel()

    token = JobToken(on_progress)
    result = train(token, cfg, ds, str(tmp_path), settings(steps=1000))
    assert result.cancelled and result.step == 5
    assert [s for s, _ in checkpoint_dirs(str(tmp_path))] == [5]
    assert load_model(None, str(tmp_path), device="cpu").decode_tokens(np.zeros((1, 8), np.float32)).shape == (1, 32)


def test_schedules_follow_magenta():
    from core.musicvae.training import TrainSettings, beta_at

    cfg = dataclasses.replace(CONFIGS["cat-mel_2bar_small"], max_beta=0.2, beta_rate=0.99)
    assert beta_at(cfg, 0) == 0.0
    assert beta_at(cfg, 100) == pytest.approx(0.2 * (1 - 0.99 ** 100))
    s = TrainSettings(steps=10, learning_rate=1e-3, decay_rate=0.9, min_learning_rate=1e-5,
                      sampling_schedule="inverse_sigmoid", sampling_rate=100.0)
    assert s.learning_rate_at(0) == pytest.approx(1e-3)
    assert s.learning_rate_at(10) == pytest.approx((1e-3 - 1e-5) * 0.9 ** 10 + 1e-5)
    late = TrainSettings(steps=10, learning_rate=4e-4, decay_rate=0.99, min_learning_rate=1e-5, decay_from=9000)
    assert late.learning_rate_at(5000) == pytest.approx(4e-4)  # before the decay starts: the full rate
    assert late.learning_rate_at(9100) == pytest.approx((4e-4 - 1e-5) * 0.99 ** 100 + 1e-5)
    assert s.sampling_probability_at(0) == pytest.approx(1 - 100 / 101)
    assert s.sampling_probability_at(1000) == pytest.approx(1 - 100 / (100 + np.exp(10)))
    assert s.sampling_probability_at(10 ** 6) == pytest.approx(1.0)
    with pytest.raises(UserError):
        TrainSettings(steps=10, sampling_schedule="linear")


def test_batches_transpose_within_range_and_resume_in_place():
    from core.musicvae.training import BatchStream, transpose_batch

    rng = np.random.default_rng(0)
    trio = np.zeros((50, 32, 3), np.int64)
    trio[:, ::4, 0] = rng.integers(2, 90, (50, 8))
    trio[:, ::8, 1] = 2 + 106 - 21  # bass at 106: at most 2 semitones up keep it in range
    trio[:, ::2, 2] = rng.integers(0, 512, (50, 16))
    moved = transpose_batch(trio, "trio", (-5, 5), np.random.default_rng(1))
    assert moved[..., :2].max() <= 89 and moved[..., :2][trio[..., :2] >= 2].min() >= 2
    np.testing.assert_array_equal(moved[..., 2], trio[..., 2])  # drums stay
    shift = moved[:, 0, 1] - trio[:, 0, 1]
    np.testing.assert_array_equal(moved[..., 0][trio[..., 0] >= 2] - trio[..., 0][trio[..., 0] >= 2],
                                  np.repeat(shift, (trio[..., 0] >= 2).sum(1)))  # melody moves with the bass
    assert shift.max() <= 2 and shift.min() >= -5 and len(set(shift)) > 1
    a = BatchStream(trio, "trio", 16, seed=3, transpose=(-5, 5))
    for _ in range(4):
        a.next()
    b = BatchStream(trio, "trio", 16, seed=3, transpose=(-5, 5), **a.state())
    np.testing.assert_array_equal(a.next(), b.next())


@pytest.mark.parametrize("name", ["hierdec-mel_16bar", "hierdec-trio_16bar"])
def test_hierarchical_graphs_train_one_step(name):
    from core.musicvae.training import Trainer

    # 4 bars instead of 16: the same variables and graph, a quarter of the steps to run; the trio
    # (three cores) gets one layer per LSTM, the melody model two (upper decoder layers)
    cfg = tiny(name) if name == "hierdec-mel_16bar" else CONFIGS[name].with_sizes([32], [32], 8)
    cfg = dataclasses.replace(cfg, steps=64, level_lengths=(4, 16), bars=4)
    rng = np.random.default_rng(0)
    cols = [rng.integers(0, d, (4, cfg.steps)) for d in cfg.output_depths]
    tokens = (np.stack(cols, -1) if cfg.data == "trio" else cols[0]).astype(np.int32)
    trainer = Trainer(cfg, settings())
    before = trainer.graph.numpy_weights()
    out = trainer.train_step(tokens, 0, 0)
    assert np.isfinite(out["loss"]) and out["loss"] > 0
    after = trainer.graph.numpy_weights()
    for name_ in ("decoder/hierarchical_level_0/cell_0/lstm_cell/kernel", "encoder/mu/kernel"):
        assert not np.allclose(before[name_], after[name_]), name_
    if cfg.data == "trio":
        for i in range(3):
            k = f"core_decoder/core_decoder_{i}/decoder/output_projection/kernel"
            assert not np.allclose(before[k], after[k])
        # the evaluation's sample statistics cover each part of the trio
        from core.musicvae.evaluate import window_statistics

        drawn = trainer.sample_statistics(window_statistics(tokens, "trio"), 4)
        assert sorted(drawn["notes_per_bar_ratio"]) == ["bass", "drums", "melody"]
        assert all(r is not None and r >= 0 for r in drawn["notes_per_bar_ratio"].values())
    # the step-by-step decoder under teacher forcing gives the layer-by-layer logits
    g = trainer.graph
    z = tf.constant(rng.standard_normal((4, cfg.z_size)).astype(np.float32))
    want = g.teacher_forced_logits(z, tf.constant(tokens))
    got, _ = g.stepwise(z, tf.constant(tokens), sample_probability=0.0)
    for w, h in zip(want, got):
        np.testing.assert_allclose(h.numpy(), w.numpy(), rtol=1e-4, atol=1e-4)


def test_window_statistics_on_known_windows():
    from core.musicvae.evaluate import compare_statistics, window_statistics

    stats = window_statistics(melody_windows(10, 0), "melody")
    assert stats["share_in_key"] == pytest.approx(1.0)  # major scales
    notes = [int(np.sum(w >= 2)) / 2 for w in melody_windows(10, 0)]
    assert stats["notes_per_bar"]["melody"] == pytest.approx(np.mean(notes))
    assert stats["pitch_range"]["melody"] == pytest.approx(12.0)
    # every beat starts a note; in eighth-note windows the off-beat too, never the other sixteenths
    eighths = np.mean([w[2] >= 2 for w in melody_windows(10, 0)])
    assert 0 < eighths < 1
    assert stats["onsets_by_sixteenth"]["melody"] == pytest.approx([1.0, 0.0, eighths, 0.0])
    off = melody_windows(10, 0)
    off[:, 2] = 2 + 61 - 21  # a C# against each scale in C.. adds one outside note per window
    assert window_statistics(off, "melody")["share_in_key"] < 1.0
    drums = np.zeros((4, 32), np.int64)
    drums[:, ::4] = 1 | 4  # kick and closed hat on every beat: 2 notes x 4 beats per bar
    d = window_statistics(drums, "drums")
    assert d["notes_per_bar"]["drums"] == pytest.approx(8.0) and "share_in_key" not in d
    ratio = compare_statistics(d, {"notes_per_bar": {"drums": 4.0}})
    assert ratio["notes_per_bar_ratio"]["drums"] == pytest.approx(2.0)


def test_model_card_is_written(mel_run):
    from core.musicvae.evaluate import write_model_card

    cfg, ds, out, result, _ = mel_run
    card = write_model_card(out, ds, samples=16, data_description="synthetic scales")
    on_disk = json.load(open(os.path.join(out, "model-card.json")))
    assert on_disk == json.loads(json.dumps(card))
    assert card["held_out"]["examples"] == len(ds.held_out)
    assert card["held_out"]["free_running_accuracy"] == pytest.approx(result.history[-1]["free_running_accuracy"])
    assert card["samples"]["count"] == 16 and card["training"]["steps"] == STEPS
    assert card["training_data"]["windows"] == len(ds.train)  # the data's side: every window up to 4,096
    assert set(card["targets"]) == {"free_running_accuracy", "share_in_key", "notes_per_bar_melody"}
    assert card["decode_batch8_seconds"] > 0 and card["size_mb"] > 0
    assert "by_collection" not in card["held_out"]
    # held-out windows from two collections: one line each, and together they make the whole
    mixed = dataclasses.replace(ds, sources=["essen/a.abc", "ryans/b.abc"],
                                held_out_source=np.arange(len(ds.held_out), dtype=np.int32) % 2)
    card = write_model_card(out, mixed, samples=8)
    parts = card["held_out"]["by_collection"]
    assert set(parts) == {"essen", "ryans"} and sum(p["examples"] for p in parts.values()) == len(ds.held_out)
    assert sum(p["examples"] * p["free_running_accuracy"] for p in parts.values()) / len(ds.held_out) == \
        pytest.approx(card["held_out"]["free_running_accuracy"])


def test_train_and_model_card_commands(tmp_path, monkeypatch, capsys):
    from cli import run

    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    out = str(tmp_path / "drums")
    args = ["train", "--config", "cat-drums_2bar_small", "--data", "corpus:drums", "--drum-sequences", "1",
            "--sizes", "tiny", "--steps", "4", "--batch", "8", "--out", out, "--eval-every", "4",
            "--eval-examples", "8", "--float16", "--device", "cpu"]
    assert run(args) == 0
    captured = capsys.readouterr()
    assert "step 4/4" in captured.err and "ETA" in captured.err
    assert "finished at step 4" in captured.out and "free-running accuracy" in captured.out
    meta = json.load(open(os.path.join(out, "model.json")))
    assert meta["storage"] == "float16" and meta["config"]["enc_rnn_size"] == [32] and meta["step"] == 4
    assert run(args) == 2  # the folder holds a run: refused without --resume
    assert "--resume" in capsys.readouterr().err
    assert run(["train", "--config", "cat-mel_2bar_small", "--data", "corpus:drums", "--steps", "1",
                "--out", str(tmp_path / "x")]) == 2
    assert "drums material" in capsys.readouterr().err
    assert run(["model-card", out, "--data", "corpus:drums", "--drum-sequences", "1", "--samples", "8"]) == 0
    card = json.load(open(os.path.join(out, "model-card.json")))
    assert card["kind"] == "drums" and card["storage"] == "float16" and "notes_per_bar_drums" in card["targets"]
    assert card["code_prior"] is None and card["samples"]["codes_from"] == "N(0, I)"
    # fit the Gaussian of the codes: the model's samples and its card then use it
    assert run(["code-prior", out, "--data", "corpus:drums", "--drum-sequences", "1", "--windows", "64"]) == 0
    assert "fitted to the codes of 64 training windows" in capsys.readouterr().out
    meta = json.load(open(os.path.join(out, "model.json")))
    assert meta["code_prior"]["file"] == "prior.npz" and meta["code_prior"]["windows"] == 64
    assert run(["model-card", out, "--data", "corpus:drums", "--drum-sequences", "1", "--samples", "8"]) == 0
    card = json.load(open(os.path.join(out, "model-card.json")))
    assert card["samples"]["codes_from"].startswith("code prior") and card["code_prior"]["windows"] == 64
    assert "drums" in card["code_prior"]["samples_from_standard_normal"]["notes_per_bar_ratio"]


def test_scheduled_sampling_trains():
    from core.musicvae.training import Trainer

    cfg = tiny("cat-mel_2bar_small")
    tokens = melody_windows(8, 4).astype(np.int32)
    trainer = Trainer(cfg, settings(sampling_schedule="constant", sampling_rate=0.5))
    before = trainer.graph.numpy_weights()["decoder/cell_0/lstm_cell/kernel"]
    assert np.isfinite(trainer.train_step(tokens, 0, 0)["loss"])
    assert not np.allclose(before, trainer.graph.numpy_weights()["decoder/cell_0/lstm_cell/kernel"])
    # with every step reading the model's own argmax, the step-by-step decoder is free running
    g = trainer.graph
    z = tf.constant(np.random.default_rng(0).standard_normal((4, cfg.z_size)).astype(np.float32) * 3)
    _, fed_own = g.stepwise(z, tf.constant(tokens[:4]), sample_probability=1.0)
    np.testing.assert_array_equal(fed_own.numpy(), trainer.free_run_tokens(z.numpy()))
