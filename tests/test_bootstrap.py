"""scripts/bootstrap.sh (issue 16.2): the first install says how long it takes and shows progress
per step; a later start skips it; a failed pip stops it without marking .venv as done.

pip is not run: a stand-in .venv/bin/python records its arguments and prints pip-like lines.
"""
import os
import shutil
import stat
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$@" >> "$(dirname "$0")/../calls.txt"
echo "Requirement already satisfied: numpy"
echo "Collecting tensorflow"
echo "Installing collected packages: tensorflow"
exit ${FAKE_PIP_RC:-0}
"""


def checkout(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(os.path.join(ROOT, "scripts", "bootstrap.sh"), tmp_path / "scripts")
    shutil.copy(os.path.join(ROOT, "pyproject.toml"), tmp_path)
    py = tmp_path / ".venv" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.write_text(FAKE_PYTHON)
    py.chmod(py.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def bootstrap(root, extras="test", **env):
    return subprocess.run(["bash", str(root / "scripts" / "bootstrap.sh"), extras], cwd=root,
                          env=dict(os.environ, **env), capture_output=True, text=True, timeout=60)


def test_first_install_says_how_long_and_shows_each_step(tmp_path):
    root = checkout(tmp_path)
    first = bootstrap(root)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "takes about 2 to 3 minutes" in out
    for step in ("[bootstrap 1/3", "[bootstrap 2/3", "[bootstrap 3/3", "[bootstrap done in"):
        assert step in out
    assert "Collecting tensorflow" in out  # pip's own progress comes through ...
    assert "Installing collected packages" in out
    calls = (root / ".venv" / "calls.txt").read_text().splitlines()
    main_install = [c for c in calls if "-e" in c.split()]
    assert main_install and "-q" not in main_install[0].split()  # ... because it is not quietened
    assert (root / ".venv" / ".installed-test").is_file()

    again = bootstrap(root)  # nothing changed: no pip at all
    assert again.returncode == 0 and again.stdout == ""
    assert (root / ".venv" / "calls.txt").read_text().splitlines() == calls


def test_a_failed_install_stops_and_is_tried_again_next_time(tmp_path):
    root = checkout(tmp_path)
    failed = bootstrap(root, FAKE_PIP_RC="1")
    assert failed.returncode != 0
    assert not (root / ".venv" / ".installed-test").exists()
    assert "[bootstrap done" not in failed.stdout
    assert bootstrap(root).returncode == 0
