"""Killed saves and full disks (benchmarks/bench_kill_save.py, a few runs of each).

A child process writing a project, a MIDI or WAV export, a model install or an autosave in a loop
is killed with SIGKILL at random moments: what the next start reads is always the old or the new
version, whole. Every writer meeting a full disk (ENOSPC after a byte budget) keeps the previous
file, leaves no temporary file and raises a UserError that says so.
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_kill_save as bench  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill runs fork a child to kill")


@pytest.fixture(autouse=True)
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bench, "NOTES", 2_000)  # smaller songs than the benchmark's 20,000 notes


@pytest.mark.parametrize("target", bench.KILL_TARGETS)
def test_killed_writer_leaves_old_or_new(target):
    res = bench.kill_runs(target, kills=6, seed=7)
    c = res["counts"]
    assert c["old"] + c["new"] == 6, res
    assert c["child ended by itself"] == 0, res  # every kill landed while it was still writing


@pytest.mark.parametrize("target", bench.FULL_DISK_TARGETS)
def test_full_disk_keeps_the_previous_file_and_says_so(target):
    res = bench.full_disk_runs(target, budgets=5)
    c = res["counts"]
    assert c["told the user"] == 5, res  # budgets 0 .. 80% of one save all fail
    assert c["previous file lost"] == 0 and c["temporary files left"] == 0, res
    assert not res["problems"], res


def test_the_checks_can_fail(tmp_path):
    """A writer that writes in place (no temporary file) is caught losing the file."""
    class InPlace(bench.ProjectTarget):
        def write(self, version):
            from core.project import project_bytes

            with open(self.path, "wb") as f:
                f.write(project_bytes(self.songs[version]))

    bench.TARGETS["in-place"] = InPlace
    try:
        res = bench.full_disk_runs("in-place", budgets=3)
    finally:
        del bench.TARGETS["in-place"]
    assert res["counts"]["previous file lost"] == 3 and res["counts"]["uncaught OSError"] == 3, res


def test_install_killed_between_its_renames_gets_the_old_model_back(tmp_path):
    """The state a replacing install leaves when killed after moving the old model aside and before
    placing the new one: the model list (what the next start reads) puts the old one back."""
    from core.models import catalogue
    from core.models.install import install_from_path
    from core.jobs import JobToken

    src = bench.tiny_model(str(tmp_path / "src"), seed=3)
    installed = install_from_path(JobToken(), src, name="my-model.v2")
    digest = bench.weights_digest(installed.path)
    root = os.path.dirname(installed.path)
    aside = tmp_path / "data" / "models" / ".install-my-model.v2-k3j9x0aa"
    aside.mkdir()
    os.rename(installed.path, aside / "old")
    (aside / "model").mkdir()  # the new copy, never placed
    assert [e.name for e in catalogue.installed_models()] == ["my-model.v2"]
    assert bench.weights_digest(installed.path) == digest
    # an install of another model also restores first, before clearing old temporary folders
    os.rename(installed.path, aside / "old")
    install_from_path(JobToken(), src, name="other")
    assert sorted(n for n in os.listdir(root) if not n.startswith(".")) == ["my-model.v2", "other"]


def test_checkpoint_cut_off_by_a_kill_is_cleared_by_the_next_one(tmp_path):
    from core.musicvae.training import checkpoint_dirs

    target = bench.CheckpointTarget(str(tmp_path))
    target.write(0)
    cut = os.path.join(target.out, "checkpoints", "step-0000150.partial")
    os.makedirs(cut)
    open(os.path.join(cut, "weights.npz"), "wb").write(b"half")
    assert [s for s, _ in checkpoint_dirs(target.out)] == [100]  # not counted as a checkpoint
    target.write(1)
    assert [s for s, _ in checkpoint_dirs(target.out)] == [200]
    assert not os.path.exists(cut)
