"""The window's side of crash recovery: find, offer, restore and clear a recovered project.

core.recovery writes, finds and reads the files (one per running process); this module only
adapts it for the window, which asks the user.
"""
from __future__ import annotations

from dataclasses import dataclass

from core import recovery
from core.song import Song


@dataclass
class Recovered:
    """A recovered song, the project file it belonged to (if any), and where it came from."""

    song: Song
    project_path: str | None
    info: recovery.RecoveryInfo

    def describe(self) -> str:
        return self.info.describe()


def find() -> Recovered | None:
    """The newest project left behind by a process that ended without closing cleanly.

    Raises ProjectFileError when the file is found but cannot be read."""
    info = recovery.find_recovery()
    if info is None:
        return None
    return Recovered(recovery.load_recovery(info), info.project_path, info)


def adopt(found: Recovered, song: Song, project_path: str | None) -> None:
    """After restoring: keep the work safe in this process's own file, drop the old one."""
    recovery.write_recovery(song, project_path)
    recovery.clear_recovery(found.info)


def discard(found: Recovered) -> None:
    recovery.clear_recovery(found.info)


def write(song: Song, project_path: str | None) -> str:
    """Autosave this process's recovery file; returns its path."""
    return recovery.write_recovery(song, project_path)


def clear() -> None:
    """Remove this process's recovery file (a clean close, or a save)."""
    recovery.clear_recovery()
