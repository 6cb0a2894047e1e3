"""Installing from a local .tar or folder: safe extraction, the check against the config,
atomic placement, and refusals that leave the installed folder unchanged."""
import json
import os

import numpy as np
import pytest

from core.errors import CheckpointError, JobCancelled, UserError
from core.jobs import JobToken
from core.models import catalogue
from core.models.install import install_from_path, remove_model
from helpers_models import FIXTURE, fixture_files, official_style_tar, snapshot, tar_with

NAME = "cat-mel_2bar_big"


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "data"


def write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def models_of(data) -> list[str]:
    folder = data / "models"
    return snapshot(str(folder)) if folder.exists() else []


def test_tar_with_a_folder_installs_under_its_name(data, tmp_path):
    from core.musicvae.checkpoint import load_weights

    tar = write(tmp_path / f"{NAME}.tar", official_style_tar(NAME, folder=True))
    result = install_from_path(JobToken(), tar)
    assert result.name == NAME and result.path == str(data / "models" / NAME)
    assert sorted(os.listdir(result.path)) == ["install.json", "model.json", "weights.npz"]
    cfg, got, _ = load_weights(None, result.path)
    _, want, _ = load_weights(NAME, FIXTURE)
    assert (cfg.enc_rnn_size, cfg.dec_rnn_size, cfg.z_size) == ((64,), (48, 48, 48), 16)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    info = json.loads((data / "models" / NAME / "install.json").read_text())
    assert info["config"] == NAME and info["source"] == tar
    # what is placed is findable by name, the way `sample --model NAME` looks models up
    from core.musicvae.model_paths import resolve_model

    assert resolve_model(NAME) == (None, result.path)


def test_folder_with_another_name_needs_and_takes_a_config(data, tmp_path):
    folder = tmp_path / "my checkpoint"
    folder.mkdir()
    for name, blob in fixture_files().items():
        (folder / name).write_bytes(blob)
    with pytest.raises(CheckpointError, match="say which config"):
        install_from_path(JobToken(), str(folder))
    assert models_of(data) == []
    result = install_from_path(JobToken(), str(folder), config=NAME, name="my-melodies")
    assert result.name == "my-melodies" and result.config == NAME
    entry = catalogue.find_model("my-melodies")
    assert entry.origin == "installed" and entry.config == NAME


def test_checkpoint_that_does_not_fit_the_config_is_refused(data, tmp_path):
    tar = write(tmp_path / "drums.tar", official_style_tar(NAME))
    with pytest.raises(CheckpointError, match="does not fit|expects"):
        install_from_path(JobToken(), tar, config="cat-drums_2bar_small")
    assert models_of(data) == []


@pytest.mark.parametrize("case", ["garbage", "truncated", "traversal", "absolute", "link_out", "no_checkpoint",
                                  "flipped_bytes"])
def test_bad_archives_are_refused_and_nothing_is_installed(data, tmp_path, case):
    # an installed model must survive a failed install of another one untouched
    good = install_from_path(JobToken(), write(tmp_path / "good.tar", official_style_tar(NAME)), config=NAME)
    before = models_of(data)
    weights_before = open(os.path.join(good.path, "weights.npz"), "rb").read()
    files = fixture_files()
    if case == "garbage":
        blob, match = os.urandom(4096), "not a readable .tar archive"
    elif case == "truncated":
        blob, match = official_style_tar(NAME)[:300_000], "incomplete|not a readable"
    elif case == "traversal":
        blob, match = tar_with({"ok/model.ckpt.index": files["model.ckpt.index"], "../../evil.txt": b"x"}), \
            "points outside"
    elif case == "absolute":
        blob, match = tar_with({"/tmp/evil.txt": b"x"}), "absolute path"
    elif case == "link_out":
        blob, match = tar_with(files, links={"escape": "../../../etc"}), "points outside"
    elif case == "no_checkpoint":
        blob, match = tar_with({"readme.txt": b"hello"}), "holds no MusicVAE checkpoint"
    else:  # the tar is fine but a weight inside the checkpoint data is damaged
        data_file = bytearray(files["model.ckpt.data-00000-of-00001"])
        data_file[len(data_file) // 2: len(data_file) // 2 + 16] = bytes(16)
        blob, match = tar_with({**files, "model.ckpt.data-00000-of-00001": bytes(data_file)}), \
            "cannot be read|[Cc]hecksum"
    tar = write(tmp_path / "other.tar", blob)
    with pytest.raises(CheckpointError, match=match):
        install_from_path(JobToken(), tar, config=NAME, name="other")
    assert models_of(data) == before
    assert open(os.path.join(good.path, "weights.npz"), "rb").read() == weights_before
    assert not (tmp_path / "evil.txt").exists() and not os.path.exists(str(data / "evil.txt"))


def test_installed_name_is_not_replaced_without_asking(data, tmp_path):
    tar = write(tmp_path / f"{NAME}.tar", official_style_tar(NAME))
    first = install_from_path(JobToken(), tar)
    with pytest.raises(UserError, match="installed already"):
        install_from_path(JobToken(), tar)
    stamp = json.loads(open(os.path.join(first.path, "install.json")).read())["installed_at"]
    again = install_from_path(JobToken(), tar, replace=True)
    assert again.path == first.path and os.path.isfile(os.path.join(again.path, "weights.npz"))
    assert json.loads(open(os.path.join(again.path, "install.json")).read())["installed_at"] >= stamp
    assert [n for n in os.listdir(data / "models")] == [NAME]  # no temporary folder left


def test_cancel_installs_nothing(data, tmp_path):
    tar = write(tmp_path / f"{NAME}.tar", official_style_tar(NAME))
    tokens = []
    token = JobToken(lambda f, m: tokens[0].cancel() if m.startswith("checking weights") else None)
    tokens.append(token)
    with pytest.raises(JobCancelled):
        install_from_path(token, tar)
    assert models_of(data) == []


def test_latent_studio_model_folder_installs_with_its_card(data, tmp_path):
    from core.musicvae.checkpoint import random_weights, save_model
    from core.musicvae.configs import CONFIGS

    cfg = CONFIGS["cat-drums_2bar_small"].with_sizes([8], [8, 8], 4)
    src = save_model(str(tmp_path / "trained"), cfg, random_weights(cfg, seed=3))
    (tmp_path / "trained" / "model-card.json").write_text(json.dumps({"summary": "tiny drums"}))
    result = install_from_path(JobToken(), src, name="tiny-drums")
    assert result.config == "cat-drums_2bar_small"
    assert sorted(os.listdir(result.path)) == ["install.json", "model-card.json", "model.json", "weights.npz"]
    assert "tiny drums" in catalogue.find_model("tiny-drums").summary


def test_remove(data, tmp_path, monkeypatch):
    install_from_path(JobToken(), write(tmp_path / f"{NAME}.tar", official_style_tar(NAME)))
    assert remove_model(NAME) == str(data / "models" / NAME)
    assert os.listdir(data / "models") == []
    with pytest.raises(UserError, match="no installed model named 'cat-mel_2bar_big'"):
        remove_model(NAME)
    with pytest.raises(UserError, match="no installed model"):
        remove_model("../data")
    embedded = tmp_path / "res" / "models" / "mel_2bar"
    embedded.mkdir(parents=True)
    monkeypatch.setattr("core.paths.resources_dir", lambda: tmp_path / "res")
    with pytest.raises(UserError, match="embedded in the program and cannot be removed"):
        remove_model("mel_2bar")
    assert embedded.exists()


def test_bad_names_and_missing_paths(data, tmp_path):
    tar = write(tmp_path / f"{NAME}.tar", official_style_tar(NAME))
    for bad in (".hidden", "a/b", "", "x" * 101):
        with pytest.raises(UserError, match="cannot be a model name"):
            install_from_path(JobToken(), tar, name=bad)
    with pytest.raises(UserError, match="does not exist"):
        install_from_path(JobToken(), str(tmp_path / "nothing.tar"))
    with pytest.raises(UserError, match="unknown model config"):
        install_from_path(JobToken(), tar, config="cat-mel_3bar")
    assert models_of(data) == []
