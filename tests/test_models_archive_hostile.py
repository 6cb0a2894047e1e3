"""Model archives are untrusted input: each hostile kind is refused with a clear message, nothing
is written outside the models folder and no partial install is left behind."""
import io
import os
import tarfile

import pytest

from core.errors import CheckpointError, UserError
from core.jobs import JobToken
from core.models import archive
from core.models.install import install_from_path
from core.musicvae.checkpoint import random_weights, save_model
from core.musicvae.configs import CONFIGS
from helpers_models import snapshot

TINY = CONFIGS["cat-mel_2bar_small"].with_sizes([8], [8], 4)


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "data"


def model_tar(tmp_path, extra) -> bytes:
    """A valid tiny model archive with `extra(tar)` adding hostile members after the model's files."""
    src = save_model(str(tmp_path / "src"), TINY, random_weights(TINY))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for n in sorted(os.listdir(src)):
            tar.add(os.path.join(src, n), arcname=n)
        extra(tar)
    return buf.getvalue()


def member(tar, name, kind=tarfile.REGTYPE, data=b"", link=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


def everything(tmp_path) -> list[str]:
    return [p for p in snapshot(str(tmp_path)) if not p.startswith(("src", "data" + os.sep + "models" + os.sep + "good",
                                                                     "cache"))]


def install_refused(tmp_path, data, blob: bytes, match: str, suffix=".tar"):
    good = install_from_path(JobToken(), save_model(str(tmp_path / "good-src"), TINY, random_weights(TINY, seed=5)),
                             name="good")
    weights = open(os.path.join(good.path, "weights.npz"), "rb").read()
    path = tmp_path / f"hostile{suffix}"
    path.write_bytes(blob)
    before = sorted(set(everything(tmp_path)))
    with pytest.raises(UserError, match=match):
        install_from_path(JobToken(), str(path), name="hostile")
    assert sorted(os.listdir(data / "models")) == ["good"]  # no partial install, no hidden folder left
    assert sorted(set(everything(tmp_path))) == before  # nothing written anywhere else under the test folder
    assert open(os.path.join(good.path, "weights.npz"), "rb").read() == weights


def test_a_valid_tiny_archive_installs(data, tmp_path):
    path = tmp_path / "tiny.tar"
    path.write_bytes(model_tar(tmp_path, lambda tar: None))
    result = install_from_path(JobToken(), str(path), name="tiny")
    assert sorted(os.listdir(result.path)) == ["install.json", "model.json", "weights.npz"]


@pytest.mark.parametrize("name", ["../x", "sub/../../x", "..", "./../x"])
def test_dot_dot_members_are_refused(data, tmp_path, name):
    install_refused(tmp_path, data, model_tar(tmp_path, lambda tar: member(tar, name, data=b"escaped")),
                    "points outside")
    assert not (tmp_path / "x").exists() and not (data / "x").exists()


def test_absolute_members_are_refused(data, tmp_path):
    target = tmp_path / "absolute-escape.txt"
    install_refused(tmp_path, data, model_tar(tmp_path, lambda tar: member(tar, str(target), data=b"x")),
                    "absolute path")
    assert not target.exists()


@pytest.mark.parametrize("link, match", [("/etc", "points outside"), ("../../..", "points outside"),
                                         ("weights.npz", "is a link")])
def test_symbolic_links_are_refused(data, tmp_path, link, match):
    install_refused(tmp_path, data, model_tar(tmp_path, lambda tar: member(tar, "ln", tarfile.SYMTYPE, link=link)),
                    match)


def test_hard_links_outside_are_refused(data, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("mine")
    install_refused(tmp_path, data, model_tar(tmp_path, lambda tar: member(tar, "hl", tarfile.LNKTYPE,
                                                                          link=str(secret))), "points outside")
    assert secret.read_text() == "mine"


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_devices_and_pipes_are_refused(data, tmp_path, kind):
    install_refused(tmp_path, data, model_tar(tmp_path, lambda tar: member(tar, "dev", kind)), "not a file or folder")


def test_a_member_declaring_100_gb_is_refused_before_writing(data, tmp_path):
    def huge(tar):
        info = tarfile.TarInfo("huge.bin")
        info.size = 100 * 10 ** 9
        tar.fileobj.write(info.tobuf(tarfile.PAX_FORMAT) + b"\0" * 512)  # the header, then one block
        tar.offset += len(info.tobuf(tarfile.PAX_FORMAT)) + 512
    blob = model_tar(tmp_path, huge)
    install_refused(tmp_path, data, blob, "declares 100 GB")


def test_100000_members_are_refused(data, tmp_path):
    def flood(tar):
        for i in range(100_000):
            member(tar, f"m/{i}")
    install_refused(tmp_path, data, model_tar(tmp_path, flood), "more than 10,000 members")


def test_member_count_is_checked_while_reading(tmp_path, monkeypatch):
    """The count stops the listing early: headers after the limit are never read."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i in range(50):
            member(tar, f"m{i}")
    (tmp_path / "a.tar").write_bytes(buf.getvalue())
    monkeypatch.setattr(archive, "MAX_MEMBERS", 10)
    read = []
    with tarfile.open(tmp_path / "a.tar") as tar:
        real_next = tar.next
        monkeypatch.setattr(tar, "next", lambda: read.append(1) or real_next())
        with pytest.raises(CheckpointError, match="more than 10 members"):
            archive.list_members("a.tar", tar)
    assert len(read) == 11


@pytest.mark.parametrize("blob, suffix, match", [
    (os.urandom(5000), ".tar", "not a readable .tar archive"),
    (b"", ".tar", "not a readable .tar archive|holds no files"),
    (b"just some text\n" * 100, ".tar.gz", "not a readable .tar archive"),
    (os.urandom(5000), ".bin", "not a MusicVAE checkpoint"),
])
def test_files_that_are_not_archives_are_refused(data, tmp_path, blob, suffix, match):
    install_refused(tmp_path, data, blob, match, suffix=suffix)
