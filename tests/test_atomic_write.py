"""core.atomic_write: whole files only, and the temporary files of killed writers are cleared."""
import os

import pytest

from core import atomic_write
from core.atomic_write import atomic_write_bytes


def test_temporary_files_of_dead_writers_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "song.lstudio"
    dead = tmp_path / ".song.lstudio.999999990-abc123.partial"
    alive = tmp_path / f".song.lstudio.{os.getppid()}-def456.partial"  # a running process: maybe writing
    other = tmp_path / ".other.lstudio.999999990-abc123.partial"  # another file's: not ours to touch
    for p in (dead, alive, other):
        p.write_bytes(b"half")
    atomic_write_bytes(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert not dead.exists() and alive.exists() and other.exists()


def test_a_failed_write_keeps_the_target_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "song.lstudio"
    target.write_bytes(b"before")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(target, b"after")
    assert target.read_bytes() == b"before"
    assert os.listdir(tmp_path) == ["song.lstudio"]
