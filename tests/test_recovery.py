"""Autosave recovery: a crash leaves a file the next start finds; a clean exit leaves none."""
import os
import signal
import subprocess
import sys

import pytest

from core import recovery
from core.recovery import clear_recovery, find_recovery, list_recoveries, load_recovery, write_recovery
from tests.helpers_song import rich_song

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SESSION = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
from core.recovery import write_recovery, clear_recovery
from tests.helpers_song import rich_song
write_recovery(rich_song(3, 20), sys.argv[2] if sys.argv[2] != "-" else None)
how = sys.argv[3]
if how == "clean":
    clear_recovery()
    sys.exit(0)
if how == "crash":
    os._exit(1)  # no clean-up at all
print("running", flush=True)
time.sleep(60)
"""


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def _session(project, how):
    return subprocess.run([sys.executable, "-c", SESSION, ROOT, project, how], timeout=60)


def test_data_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "x"))
    assert recovery.data_dir() == str(tmp_path / "x")
    monkeypatch.delenv("LATENT_STUDIO_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert recovery.data_dir() == str(tmp_path / "xdg" / "latent-studio")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if sys.platform.startswith("linux"):
        assert recovery.data_dir() == str(tmp_path / "home" / ".local" / "share" / "latent-studio")


def test_crash_leaves_a_recovery_the_next_start_finds(data, tmp_path):
    assert find_recovery() is None
    project = str(tmp_path / "mine.lstudio")
    assert _session(project, "crash").returncode == 1
    info = find_recovery()
    assert info is not None
    assert info.project_path == project and info.title == rich_song(3, 20).title
    assert project in info.describe()
    assert load_recovery(info).snapshot() == rich_song(3, 20).snapshot()
    clear_recovery(info)
    assert find_recovery() is None


def test_clean_exit_leaves_nothing(data):
    assert _session("-", "clean").returncode == 0
    assert find_recovery() is None
    assert list_recoveries(include_running=True) == []


def test_own_and_running_sessions_are_not_offered(data):
    path = write_recovery(rich_song(4, 5))
    assert os.path.exists(path)
    assert find_recovery() is None  # this process is alive
    mine = list_recoveries(include_running=True)
    assert [r.path for r in mine] == [path] and mine[0].project_path is None
    other = subprocess.Popen([sys.executable, "-c", SESSION, ROOT, "-", "run"], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert other.stdout.readline().strip() == "running"
        assert find_recovery() is None  # the other window is still open
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait(timeout=30)
    info = find_recovery()
    assert info is not None and info.pid == other.pid
    clear_recovery()
    assert not os.path.exists(path)


def test_damaged_recovery_is_skipped(data):
    folder = data / "recovery"
    folder.mkdir(parents=True)
    (folder / "recovery-999999999.lstudio").write_text('{"format": "latent-studio-project", "sche')
    (folder / "unrelated.txt").write_text("hello")
    assert find_recovery() is None


def test_recovery_folder_that_cannot_be_made(data, tmp_path):
    data.parent.mkdir(exist_ok=True)
    data.write_text("a file where the folder should be")
    from core.errors import ProjectFileError

    with pytest.raises(ProjectFileError, match="recovery folder"):
        write_recovery(rich_song(1, 2))


def test_killed_during_autosave_the_newest_good_copy_is_offered(data, monkeypatch):
    """An older crash left one copy; a later session autosaved twice and was killed while writing
    a third: its second copy is offered, and the temporary file of the killed write is cleared."""
    old, good = rich_song(4, 10), rich_song(5, 10)
    real_getpid = os.getpid
    monkeypatch.setattr(recovery.os, "getpid", lambda: 999999990)  # an earlier session, no longer running
    write_recovery(old, None)
    monkeypatch.setattr(recovery.os, "getpid", lambda: 999999991)  # the killed session
    write_recovery(rich_song(6, 10), None)
    write_recovery(good, None)
    monkeypatch.setattr(recovery.os, "getpid", real_getpid)
    folder = data / "recovery"
    partial = folder / ".recovery-999999991.lstudio.x1y2z3.partial"
    partial.write_bytes(b'{"format": "latent-studio-project", "schema": 1, "tit')  # cut off by the kill
    info = find_recovery()
    assert info.pid == 999999991
    assert load_recovery(info).snapshot() == good.snapshot()
    assert not partial.exists()
    assert [r.pid for r in list_recoveries()] == [999999991, 999999990]


def test_a_recovered_song_keeps_the_clip_library_order(data, tmp_path):
    from tests.test_project import order_song

    song = order_song()
    write_recovery(song, tmp_path / "order.lstudio")
    info = next(r for r in list_recoveries(include_running=True) if r.pid == os.getpid())
    back = load_recovery(info)
    assert list(back.clips) == ["clip-q7", "clip-m3", "clip-0b", "clip-zz", "clip-a1"]
    assert back.snapshot() == song.snapshot()
    clear_recovery(info)
