"""Finding and checking checkpoints: TF1 prefixes, folders, .tar archives, the own format, errors."""
import os
import tarfile

import numpy as np
import pytest

from core.errors import CheckpointError
from core.musicvae.checkpoint import (load_weights, locate, magenta_names, random_weights, save_model,
                                      write_tf1_checkpoint)
from core.musicvae.configs import CONFIGS
from core.musicvae.variables import expected_variables

import tensorflow  # noqa: F401  (a hard dependency: a broken install must fail here, not skip)

CFG = CONFIGS["cat-drums_2bar_small"].with_sizes([12], [10, 14], 6)


@pytest.fixture()
def weights():
    return random_weights(CFG, seed=7, std=0.5)


@pytest.fixture()
def ckpt(tmp_path, weights):
    arrays = magenta_names(CFG, weights)
    arrays["global_step"] = np.array(1234, np.int64)
    arrays["encoder/mu/kernel/Adam"] = np.zeros((24, 6), np.float32)
    return write_tf1_checkpoint(str(tmp_path / "train" / "model.ckpt-1234"), arrays)


def test_tf1_prefix_folder_and_index_file_all_load_with_inferred_sizes(ckpt, weights):
    base = CONFIGS["cat-drums_2bar_small"]  # full sizes: the checkpoint's shapes win
    for path in (ckpt, os.path.dirname(ckpt), ckpt + ".index"):
        cfg, got, source = load_weights(base, path)
        assert (cfg.enc_rnn_size, cfg.dec_rnn_size, cfg.z_size) == ((12,), (10, 14), 6)
        assert source.path == ckpt
        assert set(got) == set(weights)
        for k in weights:
            np.testing.assert_array_equal(got[k], weights[k])


def test_magenta_tar_is_extracted_to_the_cache(tmp_path, ckpt, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    tar_path = tmp_path / "cat-drums_2bar_small.tar"
    with tarfile.open(tar_path, "w") as t:
        for name in os.listdir(os.path.dirname(ckpt)):
            t.add(os.path.join(os.path.dirname(ckpt), name), arcname=f"cat-drums_2bar_small/{name}")
    kind, where = locate(str(tar_path))
    assert kind == "tf1" and where.startswith(str(tmp_path / "cache"))
    assert os.path.basename(where) == "model.ckpt-1234"
    cfg, _, _ = load_weights("cat-drums_2bar_small", str(tar_path))
    assert cfg.z_size == 6


def test_own_format_round_trip_float32_and_float16(tmp_path, weights):
    from core.musicvae.model import build_model
    from core import musicvae

    folder = save_model(str(tmp_path / "own32"), CFG, weights)
    cfg, got, _ = load_weights(None, folder)  # the config comes from model.json
    assert cfg == CFG
    for k in weights:
        np.testing.assert_array_equal(got[k], weights[k])
    half = save_model(str(tmp_path / "own16"), CFG, weights, storage="float16")
    assert os.path.getsize(os.path.join(half, "weights.npz")) < 0.6 * os.path.getsize(
        os.path.join(folder, "weights.npz"))
    _, got16, _ = load_weights("cat-drums_2bar_small", half)
    assert got16["encoder/mu/kernel"].dtype == np.float32
    np.testing.assert_allclose(got16["encoder/mu/kernel"], weights["encoder/mu/kernel"], atol=2e-3)
    z = np.random.default_rng(0).standard_normal((4, CFG.z_size)).astype(np.float32)
    a = musicvae.load_model(None, folder, device="cpu").decode_tokens(z)
    b = build_model(CFG, weights, device="cpu").decode_tokens(z)
    np.testing.assert_array_equal(a, b)


def test_wrong_shape_names_the_variable_and_both_shapes(tmp_path, weights):
    arrays = magenta_names(CFG, weights)
    name = "decoder/output_projection/kernel"
    arrays[name] = np.zeros((14, 300), np.float32)
    prefix = write_tf1_checkpoint(str(tmp_path / "bad" / "model.ckpt"), arrays)
    with pytest.raises(CheckpointError) as err:
        load_weights("cat-drums_2bar_small", prefix)
    msg = str(err.value)
    assert name in msg and "[14, 512]" in msg and "[14, 300]" in msg and prefix in msg


def test_missing_variable_is_named(tmp_path, weights):
    arrays = magenta_names(CFG, weights)
    gone = "decoder/multi_rnn_cell/cell_1/lstm_cell/bias"
    del arrays[gone]
    prefix = write_tf1_checkpoint(str(tmp_path / "miss" / "model.ckpt"), arrays)
    with pytest.raises(CheckpointError, match="cell_1/lstm_cell/bias is missing"):
        load_weights("cat-drums_2bar_small", prefix)


def test_checkpoint_of_another_config_is_refused(ckpt):
    with pytest.raises(CheckpointError, match="encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel"):
        load_weights("cat-mel_2bar_small", ckpt)  # melody input is 90 wide, drums 10
    with pytest.raises(CheckpointError, match="hierarchical_level_0.* is missing"):
        load_weights("hierdec-mel_16bar", ckpt)


def test_files_that_are_no_checkpoint(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.txt is not a MusicVAE checkpoint"):
        load_weights("cat-mel_2bar_big", str(text))
    with pytest.raises(CheckpointError, match="not found"):
        load_weights("cat-mel_2bar_big", str(tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="holds no MusicVAE checkpoint"):
        load_weights("cat-mel_2bar_big", str(empty))
    broken = tmp_path / "broken" / "model.ckpt"
    broken.parent.mkdir()
    (tmp_path / "broken" / "model.ckpt.index").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="could not be read as a TensorFlow checkpoint"):
        load_weights("cat-mel_2bar_big", str(broken))
    bad_tar = tmp_path / "model.tar"
    bad_tar.write_bytes(b"not a tar at all")
    with pytest.raises(CheckpointError, match="model.tar"):
        load_weights("cat-mel_2bar_big", str(bad_tar))


def test_expected_variables_use_magenta_names():
    names = expected_variables(CONFIGS["hierdec-trio_16bar"])
    assert "core_decoder/core_decoder_2/decoder/output_projection/kernel" in names
    assert names["core_decoder/core_decoder_2/decoder/output_projection/kernel"] == (1024, 512)
    assert names["decoder/hierarchical_level_0/cell_0/lstm_cell/kernel"] == (1025, 4096)
    assert names["encoder/cell_1/bidirectional_rnn/bw/multi_rnn_cell/cell_0/lstm_cell/kernel"] == (6144, 8192)
    assert names["core_decoder/core_decoder_0/decoder/multi_rnn_cell/cell_0/lstm_cell/kernel"] == (90 + 1024 + 1024, 4096)
