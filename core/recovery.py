"""Autosave recovery files (Qt-free).

While the program runs, the GUI calls `write_recovery(song, project_path)` every few minutes
(a QTimer) and `clear_recovery()` on a clean exit. After a crash the file stays behind, and at
the next start `find_recovery()` returns it so the window can offer the recovered song
(`load_recovery(info)`), then remove it with `clear_recovery(info)`.

Each running process writes its own file, `recovery-<pid>.lstudio`, in the user data folder
($LATENT_STUDIO_DATA if set, which the tests use; otherwise $XDG_DATA_HOME/latent-studio or
~/.local/share/latent-studio on Linux, the platform's application data folder elsewhere), so
two open windows never overwrite each other's recovery. `find_recovery` ignores the files of
processes that are still running. A recovery file is an ordinary project document (written
atomically) with a "recovery" entry saying which project it belongs to and when it was saved.
"""
from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass

from core.errors import ProjectFileError
from core.project import read_project_document, save_project, song_from_dict
from core.song import Song

_NAME = re.compile(r"^recovery-(\d+)\.lstudio$")
_PARTIAL = re.compile(r"^\.recovery-(\d+)\.lstudio\..*\.partial$")  # core.atomic_write's temporary files


@dataclass
class RecoveryInfo:
    path: str  # the recovery file
    project_path: str | None  # the project it was autosaved from (None: never saved)
    saved_at: float  # seconds since the epoch
    title: str
    pid: int  # the process that wrote it

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = self.project_path or "a song that was never saved"
        return f'"{self.title}" ({where}), autosaved {when}'


def data_dir() -> str:
    """The user data folder of Latent Studio (not created here)."""
    override = os.environ.get("LATENT_STUDIO_DATA")
    if override:
        return override
    if sys.platform.startswith("win"):
        base = os.environ.get("APPDATA") or os.path.expanduser("~\\AppData\\Roaming")
        return os.path.join(base, "Latent Studio")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/Latent Studio")
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(base, "latent-studio")


def recovery_dir() -> str:
    return os.path.join(data_dir(), "recovery")


def recovery_path(pid: int | None = None) -> str:
    return os.path.join(recovery_dir(), f"recovery-{os.getpid() if pid is None else pid}.lstudio")


def write_recovery(song: Song, project_path: str | os.PathLike | None = None) -> str:
    """Autosave the song for this process; returns the file written. Raises ProjectFileError."""
    folder = recovery_dir()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ProjectFileError(f'Cannot create the recovery folder "{folder}": '
                               f"{exc.strerror or exc}.") from None
    meta = {"project_path": os.path.abspath(os.fspath(project_path)) if project_path else None,
            "saved_at": time.time(), "pid": os.getpid()}
    return save_project(song, recovery_path(), extra={"recovery": meta})


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return False  # no cheap, safe check there: treat other processes' files as left over
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    except OSError:
        return False
    return True


def list_recoveries(include_running: bool = False) -> list[RecoveryInfo]:
    """Readable recovery files, newest first; by default only those of finished processes."""
    folder = recovery_dir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        m = _NAME.match(name)
        if not m:
            p = _PARTIAL.match(name)
            if p and not _alive(int(p.group(1))):  # an autosave killed while writing: the copy before it stays
                try:
                    os.unlink(os.path.join(folder, name))
                except OSError:
                    pass
            continue
        pid = int(m.group(1))
        if not include_running and _alive(pid):
            continue
        path = os.path.join(folder, name)
        try:
            doc = read_project_document(path)
            meta = doc.get("recovery") if isinstance(doc, dict) else None
            meta = meta if isinstance(meta, dict) else {}
            saved_at = meta.get("saved_at")
            if not isinstance(saved_at, (int, float)):
                saved_at = os.path.getmtime(path)
            project = meta.get("project_path")
            title = doc.get("title") if isinstance(doc.get("title"), str) else "Untitled"
        except (ProjectFileError, OSError):
            continue  # damaged: nothing to offer
        found.append(RecoveryInfo(path, project if isinstance(project, str) else None,
                                  float(saved_at), title, pid))
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found


def find_recovery() -> RecoveryInfo | None:
    """The newest recovery file left by a process that is no longer running, or None."""
    found = list_recoveries()
    return found[0] if found else None


def load_recovery(info: RecoveryInfo) -> Song:
    """The song saved in a recovery file. Raises ProjectFileError naming the file."""
    doc = read_project_document(info.path)
    try:
        return song_from_dict(doc)
    except ProjectFileError as exc:
        raise ProjectFileError(f'Cannot read the recovery file "{info.path}". {exc.message}',
                               exc.detail) from None


def clear_recovery(info: RecoveryInfo | None = None) -> None:
    """Remove this process's recovery file (clean exit), or the given one (after offering it)."""
    path = recovery_path() if info is None else info.path
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass  # a leftover recovery file is harmless; it is offered again next time
