"""Downloading official checkpoints: a local server on 127.0.0.1 stands in for Magenta's storage.

Covers a whole download + install, a connection cut mid-way and resumed (by a second call, and
within one call), a checksum mismatch, a corrupt archive, cancel, HTTP 404 and being offline.
"""
import hashlib
import json
import os

import numpy as np
import pytest

from core.errors import CheckpointError, JobCancelled
from core.jobs import JobToken
from core.models import catalogue
from core.models.download import DownloadError, download
from core.models.install import install_official
from helpers_models import closed_port, official_style_tar, serving, snapshot

NAME = "cat-mel_2bar_big"
TAR_PATH = f"/checkpoints/{NAME}.tar"


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LATENT_STUDIO_MODEL_URL", raising=False)
    return tmp_path / "data"


@pytest.fixture(scope="module")
def archive():
    return official_style_tar(NAME)


def test_whole_download_and_install_by_name(data, archive):
    seen = []
    with serving({TAR_PATH: archive}) as server:
        result = install_official(JobToken(lambda f, m: seen.append((f, m))), NAME, base_url=server.base_url)
    assert [r["path"] for r in server.requests] == [TAR_PATH]
    assert "range" not in server.requests[0]
    assert result.path == str(data / "models" / NAME) and result.config == NAME
    assert result.sizes == "enc 64 / dec 48x3 / z 16"
    info = json.loads((data / "models" / NAME / "install.json").read_text())
    assert info["source"] == server.base_url + f"/{NAME}.tar"
    assert info["archive_md5"] == hashlib.md5(archive).hexdigest()
    # progress went from 0 to 1 without going backwards, with download messages on the way
    fractions = [f for f, _ in seen]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert any(m.startswith(f"downloading {NAME}:") for _, m in seen)
    # the archive was removed after installing, no partial files are left
    assert os.listdir(data / "downloads") == []
    assert [e.name for e in catalogue.installed_models()] == [NAME]


def test_installed_weights_equal_the_served_checkpoint(data, archive):
    from core.musicvae.checkpoint import load_weights
    from helpers_models import FIXTURE

    with serving({TAR_PATH: archive}) as server:
        install_official(JobToken(), NAME, base_url=server.base_url)
    cfg, got, _ = load_weights(None, str(data / "models" / NAME))
    _, want, _ = load_weights(NAME, FIXTURE)
    assert cfg.name == NAME and set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


def test_cut_connection_is_resumed_by_the_next_call(tmp_path, archive):
    dest = str(tmp_path / "dl" / f"{NAME}.tar")
    cut = len(archive) // 3
    with serving({TAR_PATH: archive}, cut_after=cut) as server:
        url = server.base_url + f"/{NAME}.tar"
        with pytest.raises(DownloadError, match="broke during the download.*run the same command again to resume"):
            download(JobToken(), url, dest, retries=0, retry_wait=0)
        assert os.path.getsize(dest + ".part") == cut
        assert not os.path.exists(dest)
        result = download(JobToken(), url, dest, retries=0, retry_wait=0)
    assert server.requests[1]["range"] == f"bytes={cut}-"
    assert server.requests[1]["if-range"] == '"' + hashlib.md5(archive).hexdigest() + '"'
    assert result.resumed and result.size == len(archive)
    with open(dest, "rb") as f:
        assert f.read() == archive
    assert not os.path.exists(dest + ".part") and not os.path.exists(dest + ".part.json")


def test_cut_connection_is_resumed_within_one_call(data, archive):
    with serving({TAR_PATH: archive}, cut_after=100_000) as server:
        result = install_official(JobToken(), NAME, base_url=server.base_url, retries=2)
    assert len(server.requests) == 2
    assert server.requests[1]["range"] == "bytes=100000-"
    assert os.path.isfile(os.path.join(result.path, "weights.npz"))


def test_checksum_mismatch_is_refused_and_nothing_is_installed(data, archive):
    wrong = "AAAAAAAAAAAAAAAAAAAAAA=="  # an MD5 that is not the archive's
    with serving({TAR_PATH: archive}, announce_md5=wrong) as server:
        with pytest.raises(DownloadError, match="is corrupt: MD5"):
            install_official(JobToken(), NAME, base_url=server.base_url)
    assert snapshot(str(data / "models")) == []
    assert os.listdir(data / "downloads") == []  # the bad file is not kept for a resume


def test_corrupt_archive_is_refused_and_nothing_is_installed(data, archive):
    broken = archive[: len(archive) // 2]  # the server itself holds a truncated archive
    with serving({TAR_PATH: broken}) as server:
        with pytest.raises(CheckpointError, match="incomplete|not a readable"):
            install_official(JobToken(), NAME, base_url=server.base_url)
    assert snapshot(str(data / "models")) == []
    assert os.listdir(data / "downloads") == []


def test_failed_install_leaves_an_installed_model_as_it_was(data, archive):
    with serving({TAR_PATH: archive}) as server:
        install_official(JobToken(), NAME, base_url=server.base_url)
    before = snapshot(str(data / "models"))
    weights = (data / "models" / NAME / "weights.npz").read_bytes()
    with serving({TAR_PATH: b"not a tar archive at all" * 100}) as server:
        with pytest.raises(CheckpointError, match="not a readable .tar archive"):
            install_official(JobToken(), NAME, base_url=server.base_url, replace=True)
    assert snapshot(str(data / "models")) == before
    assert (data / "models" / NAME / "weights.npz").read_bytes() == weights


def test_offline_gives_a_clear_error(data):
    base = f"http://127.0.0.1:{closed_port()}/checkpoints"
    with pytest.raises(DownloadError) as err:
        install_official(JobToken(), NAME, base_url=base)
    msg = str(err.value)
    assert msg.startswith("could not reach 127.0.0.1: ")
    assert "refused" in msg.lower() and "check your connection" in msg
    assert "kept" not in msg  # nothing had been downloaded, so nothing is promised
    assert snapshot(str(data / "models")) == []


def test_offline_through_the_cli_uses_the_url_from_the_environment(data, monkeypatch, capsys):
    from cli import run

    monkeypatch.setenv("LATENT_STUDIO_MODEL_URL", f"http://127.0.0.1:{closed_port()}/x")
    assert run(["models", "install", NAME]) == 2
    err = capsys.readouterr().err
    assert "error: could not reach 127.0.0.1:" in err and "check your connection" in err
    assert "Traceback" not in err


def test_missing_file_on_the_server_names_the_http_status(data):
    with serving({}) as server:
        with pytest.raises(DownloadError, match="HTTP 404"):
            install_official(JobToken(), NAME, base_url=server.base_url)


def test_cancel_keeps_the_partial_file_for_a_resume(tmp_path, archive):
    dest = str(tmp_path / f"{NAME}.tar")
    tokens = []
    token = JobToken(lambda f, m: tokens[0].cancel() if f > 0 else None)  # cancel at the first block
    tokens.append(token)
    with serving({TAR_PATH: archive}) as server:
        url = server.base_url + f"/{NAME}.tar"
        with pytest.raises(JobCancelled):
            download(token, url, dest)
        kept = os.path.getsize(dest + ".part")
        assert 0 < kept < len(archive)
        result = download(JobToken(), url, dest)
    assert server.requests[-1]["range"] == f"bytes={kept}-"
    assert result.md5 == hashlib.md5(archive).hexdigest()


def test_cli_install_by_name_prints_progress_and_lists_the_model(data, archive, capsys):
    from cli import run

    with serving({TAR_PATH: archive}) as server:
        assert run(["models", "install", NAME, "--url", server.base_url]) == 0
    out, err = capsys.readouterr()
    assert f"installed {NAME} (config {NAME}, enc 64 / dec 48x3 / z 16" in out
    assert "downloading" in err and "100.0%" in err
    assert run(["models", "--no-device"]) == 0
    listing = capsys.readouterr().out
    installed = listing.split("Installed models")[1].split("Official")[0]
    assert f"  {NAME}  [{NAME}] enc 64 / dec 48x3 / z 16" in installed
    assert f"{NAME} " in listing.split("Official")[1] and "[installed]" in listing.split("Official")[1]
