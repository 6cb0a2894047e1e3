"""Write a file so that a crash or a full disk never leaves a half-written file behind.

The data goes to a temporary file in the same folder, is flushed and fsynced, and then
replaces the target with `os.replace` (atomic on POSIX and Windows); the folder is fsynced
afterwards so that the rename itself survives a power cut. If anything fails the temporary
file is removed and the target is untouched. Errors are plain OSError: callers turn them
into a UserError that names the file.

A process killed while writing leaves its temporary file (`.<name>.<pid>-<random>.partial`)
behind; the next successful write of the same file removes those whose process is gone.
"""
from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, Callable


def _umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_folder(folder: str) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder for fsync; os.replace is durable enough there
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace `path` with `data` atomically (see the module docstring)."""
    atomic_write_with(path, lambda f: f.write(data))


def atomic_write_with(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Replace `path` atomically with what `write` puts into the binary file it is handed.

    For data written in pieces (np.savez, json.dump on a wrapper) without first holding it all
    in memory; the guarantees are those of the module docstring.
    """
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    base = os.path.basename(path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, "a folder has that name", path)
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.{os.getpid()}-", suffix=".partial", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, mode)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)
    _remove_orphans(folder, base)


def _remove_orphans(folder: str, base: str) -> None:
    """Delete temporary files of `base` left by writers that were killed (their process is gone)."""
    if os.name != "posix":
        return
    head = f".{base}."
    try:
        names = [n for n in os.listdir(folder) if n.startswith(head) and n.endswith(".partial")]
    except OSError:
        return
    for n in names:
        pid = n[len(head):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: perhaps writing the same file right now
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            os.unlink(os.path.join(folder, n))
        except OSError:
            pass
