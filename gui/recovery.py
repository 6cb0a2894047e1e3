"""The window's side of crash recovery: find, offer, restore and clear a recovered project.

core.recovery writes and finds the files; this module only asks the user and loads the song.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

from core.song import Song


@dataclass
class Recovered:
    """A recovered project: the song, the project file it belonged to (if any), when it was saved."""

    song: Song
    project_path: str | None
    saved_at: float | None

    def describe(self) -> str:
        where = os.path.basename(self.project_path) if self.project_path else "an unsaved song"
        when = ""
        if self.saved_at:
            stamp = datetime.datetime.fromtimestamp(self.saved_at)
            when = f", autosaved {stamp:%Y-%m-%d %H:%M}"
        return f"“{self.song.title}” ({where}{when})"


def _field(found, *names):
    for name in names:
        if isinstance(found, dict) and name in found:
            return found[name]
        if hasattr(found, name):
            return getattr(found, name)
    return None


def find() -> Recovered | None:
    """The recovered project, or None. A damaged recovery file counts as none."""
    try:
        from core import recovery  # noqa: PLC0415 - written alongside this module
    except ImportError:
        return None
    found = recovery.find_recovery()
    if not found:
        return None
    song = found if isinstance(found, Song) else _field(found, "song")
    if song is None:
        path = found if isinstance(found, (str, os.PathLike)) else _field(found, "path", "recovery_path")
        if path is None:
            return None
        from core.project import load_project  # noqa: PLC0415

        song = load_project(path)
    project = _field(found, "project_path", "original_path")
    saved = _field(found, "saved_at", "mtime", "timestamp")
    return Recovered(song, str(project) if project else None, saved)


def write(song: Song, project_path: str | None) -> None:
    from core import recovery  # noqa: PLC0415

    recovery.write_recovery(song, project_path)


def clear() -> None:
    try:
        from core import recovery  # noqa: PLC0415
    except ImportError:
        return
    recovery.clear_recovery()
