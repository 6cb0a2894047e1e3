"""Sequence models: relative attention's skewing, the KV cache, save and load (tiny sizes)."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import UserError
from core.seq import model as sm

TINY_TF = {"arch": "transformer", "d_model": 16, "layers": 2, "heads": 2, "d_ff": 32, "max_len": 48}
TINY_LSTM = {"arch": "lstm", "d_embed": 8, "units": 16, "max_len": 48}


def test_skewing_matches_the_naive_relative_logits():
    from core.musicvae.lazy_tf import tf
    from core.seq.transformer import SeqTransformer

    rng = np.random.default_rng(0)
    L, d = 7, 3
    q = rng.normal(size=(1, 1, L, d)).astype(np.float32)
    er = rng.normal(size=(1, L, d)).astype(np.float32)  # row r: distance r - (L - 1)
    rel = tf.einsum("bhid,hrd->bhir", q, er)
    skewed = SeqTransformer.skew(rel).numpy()[0, 0]
    for i in range(L):
        for j in range(i + 1):
            assert skewed[i, j] == pytest.approx(float(q[0, 0, i] @ er[0, (j - i) + L - 1]), abs=1e-5)


@pytest.mark.parametrize("cfg", [TINY_TF, TINY_LSTM], ids=["transformer", "lstm"])
def test_cached_generation_gives_the_full_recompute_logits(cfg):
    from core.musicvae.lazy_tf import tf

    model = sm.build(cfg, seed=4)
    rng = np.random.default_rng(1)
    seq = rng.integers(1, 150, size=(3, 40)).astype(np.int32)
    full = model.logits(tf.constant(seq)).numpy()
    logits, state = model.prime(seq[:, :9])
    first_state = state
    worst = np.abs(logits - full[:, 8]).max()
    for t in range(9, 40):
        logits, state = model.step(state, seq[:, t])
        worst = max(worst, np.abs(logits - full[:, t]).max())
    assert worst < 1e-3
    if cfg is TINY_TF:  # its cache is filled in place: an old state cannot be stepped from again
        with pytest.raises(ValueError):
            model.step(first_state, seq[:, 9])
    # and a different history gives different logits (the cache is really read)
    other = seq.copy()
    other[:, 3] = (other[:, 3] + 7) % 150 + 1
    assert np.abs(model.logits(tf.constant(other)).numpy()[:, -1] - full[:, -1]).max() > 1e-4


@pytest.mark.parametrize("cfg", [TINY_TF, TINY_LSTM], ids=["transformer", "lstm"])
def test_save_and_load_keep_the_model(tmp_path, cfg):
    from core.musicvae.lazy_tf import tf

    model = sm.build(cfg, seed=2)
    sm.save(model, str(tmp_path / "m"), "tiny")
    assert sm.is_seq_model(str(tmp_path / "m"))
    back = sm.load(str(tmp_path / "m"))
    ids = tf.constant(np.arange(1, 21, dtype=np.int32)[None])
    # weights are stored as float16
    assert np.allclose(back.logits(ids).numpy(), model.logits(ids).numpy(), atol=0.05)
    assert back.name == "tiny" and back.kind == "sequence"


def test_a_folder_without_a_sequence_model_is_refused(tmp_path):
    assert not sm.is_seq_model(str(tmp_path))
    with pytest.raises(UserError):
        sm.load(str(tmp_path))
    (tmp_path / "model.json").write_text('{"format": "latent-studio-seq", "version": 1, "config": {"arch": "gru"}}')
    with pytest.raises(UserError):
        sm.load(str(tmp_path))


def test_damaged_or_foreign_weights_are_refused_in_plain_words(tmp_path):
    """A cut-off weights file, one that is no archive at all, and the weights of a model of
    another size: each a UserError that says so (numpy's own words suggest unpickling)."""
    folder = tmp_path / "m"
    sm.save(sm.build(TINY_TF, seed=1), str(folder), "tiny")
    whole = (folder / "weights.npz").read_bytes()
    for damaged in (whole[: len(whole) // 2], b"not weights at all"):
        (folder / "weights.npz").write_bytes(damaged)
        with pytest.raises(UserError) as err:
            sm.load(str(folder))
        assert "damaged" in err.value.message and "pickle" not in err.value.message
    # a whole archive with one array's header garbled: numpy's header parser raises TokenError
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(whole)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    garbled = bytearray(members["emb.npy"])
    garbled[20:40] = b"{'descr': <f2', 'for"
    members["emb.npy"] = bytes(garbled)
    with zipfile.ZipFile(folder / "weights.npz", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(UserError):
        sm.load(str(folder))
    other = tmp_path / "other"
    sm.save(sm.build(dict(TINY_TF, d_model=8), seed=1), str(other), "small")
    (folder / "weights.npz").write_bytes((other / "weights.npz").read_bytes())
    with pytest.raises(UserError) as err:
        sm.load(str(folder))
    assert "shape" in err.value.message


def test_the_step_benchmark_runs_and_its_three_steps_agree(tmp_path, capsys):
    """benchmarks/bench_seq_step.py on a tiny Transformer: the NumPy step the model ships and
    the TensorFlow step it replaced (traced and XLA-compiled) give the same logits."""
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_seq_step

    folder = str(tmp_path / "tiny")
    sm.save(sm.build(dict(TINY_TF, max_len=64), seed=3), folder, "tiny")
    assert bench_seq_step.main(["--model", folder, "--steps", "4", "--batches", "2"]) == 0
    out = capsys.readouterr().out
    assert "batch 2: NumPy" in out
    diffs = [float(x) for x in re.findall(r"largest logit difference ([0-9.e+-]+)", out)]
    assert len(diffs) == 2 and max(diffs) < 1e-4
