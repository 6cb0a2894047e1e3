"""Open and save a Song from any file the program understands, chosen by extension.

.mid / .midi go through core.midi_io, .lstudio through core.project. A file with another
extension is recognised by its first bytes (a MIDI header or a JSON document).
"""
from __future__ import annotations

import os

from core.errors import UserError
from core.song import Song

MIDI_EXTENSIONS = (".mid", ".midi", ".smf", ".kar", ".rmi")
PROJECT_EXTENSIONS = (".lstudio",)


def kind_of(path: str | os.PathLike) -> str:
    """'midi' or 'project' (by extension, else by content); raises UserError when neither."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext in MIDI_EXTENSIONS:
        return "midi"
    if ext in PROJECT_EXTENSIONS:
        return "project"
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        head = b""
    if head.startswith((b"MThd", b"RIFF")):
        return "midi"
    if head.lstrip()[:1] == b"{":
        return "project"
    raise UserError(f'Cannot open "{path}": expected a MIDI file (.mid) or a Latent Studio '
                    f"project ({PROJECT_EXTENSIONS[0]}).")


def load_song(path: str | os.PathLike) -> Song:
    """A new Song from a MIDI file or a project. Raises a UserError subclass naming the file."""
    if kind_of(path) == "midi":
        from core.midi_io import import_midi

        return import_midi(path)
    from core.project import load_project

    return load_project(path)


def save_song(song: Song, path: str | os.PathLike) -> str:
    """Write the song as MIDI or as a project, by the target's extension (project otherwise)."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext in MIDI_EXTENSIONS:
        from core.midi_io import export_midi

        return export_midi(song, path)
    from core.project import save_project

    return save_project(song, path)
