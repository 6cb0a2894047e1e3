"""Every kind of file the program reads or writes, and the one way to read, write and render them.

This module is the only place that knows which extensions mean what: projects, MIDI files,
WAV audio, model archives, SoundFonts. Other modules ask it (the window's dialogs build their file
filters from FILE_KINDS, the data set lists MIDI files by MIDI.extensions).

    load_song(path, token)      a new Song and what was repaired while reading (LoadedSong)
    save_song(song, path, kind) a project or a MIDI file, atomically
    render_wav_file(token, ...) a job: render a song snapshot (or one clip) to a WAV file
    check_writable(path)        a clear UserError before any work when a path cannot be written

.mid / .midi (and the other MIDI extensions) go through core.midi_io, .lstudio through
core.project. A file with another extension is recognised by its first bytes (a MIDI header
or a JSON document). The readers are imported when first used, to keep start-up light.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from core.errors import UserError
from core.jobs import JobToken
from core.song import Song


@dataclass(frozen=True)
class FileKind:
    """A kind of file: its name, how a file dialog calls it, its extensions (the first is the
    one added to a name typed without one)."""

    name: str
    label: str
    extensions: tuple[str, ...]

    @property
    def suffix(self) -> str:
        return self.extensions[0]

    def matches(self, path: str | os.PathLike) -> bool:
        """True when the path's name ends in one of this kind's extensions (any case)."""
        return os.fspath(path).lower().endswith(self.extensions)

    def filter(self) -> str:
        """A file dialog filter, e.g. 'MIDI files (*.mid *.midi)'."""
        return file_filter(self.label, self)


PROJECT = FileKind("project", "Latent Studio projects", (".lstudio",))
MIDI = FileKind("midi", "MIDI files", (".mid", ".midi", ".smf", ".kar", ".rmi"))
WAV = FileKind("wav", "WAV audio", (".wav",))
MODEL_ARCHIVE = FileKind("model archive", "Model archives", (".tar", ".tar.gz", ".tgz"))
SOUNDFONT = FileKind("soundfont", "SoundFonts", (".sf2", ".sf3"))
FILE_KINDS = (PROJECT, MIDI, WAV, MODEL_ARCHIVE, SOUNDFONT)
OPENABLE = (PROJECT, MIDI)  # what Open (and a drop on the window) reads into a song
OPENABLE_EXTENSIONS = tuple(ext for kind in OPENABLE for ext in kind.extensions)


def file_filter(label: str, *kinds: FileKind) -> str:
    """One file dialog filter naming every extension of `kinds`."""
    patterns = " ".join(f"*{ext}" for kind in kinds for ext in kind.extensions)
    return f"{label} ({patterns})"


def kind_by_extension(path: str | os.PathLike) -> FileKind | None:
    """The kind the file's extension names, or None."""
    for kind in FILE_KINDS:
        if kind.matches(path):
            return kind
    return None


def is_openable(path: str | os.PathLike) -> bool:
    """True when the extension names a file Open reads (a project or a MIDI file)."""
    return os.fspath(path).lower().endswith(OPENABLE_EXTENSIONS)


def kind_of(path: str | os.PathLike) -> str:
    """'midi' or 'project' (by extension, else by content); raises UserError when neither."""
    path = os.fspath(path)
    kind = kind_by_extension(path)
    if kind in OPENABLE:
        return kind.name
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        head = b""
    if head.startswith((b"MThd", b"RIFF")):
        return MIDI.name
    if head.lstrip()[:1] == b"{":
        return PROJECT.name
    raise UserError(f'Cannot open "{path}": expected a MIDI file ({MIDI.suffix}) or a Latent Studio '
                    f"project ({PROJECT.suffix}).")


# ====================================================================== reading
@dataclass
class LoadedSong:
    """What load_song read: the new song, what kind of file it came from ('project' or
    'midi'), and the repairs made while reading (for the user to see; empty when none)."""

    song: Song
    kind: str
    warnings: list[str] = field(default_factory=list)


def load_song(path: str | os.PathLike, token: JobToken | None = None) -> LoadedSong:
    """A new Song from a MIDI file or a project, with its load warnings. Nothing else changes.

    Raises a UserError subclass naming the file. Usable as a job: the token reports progress,
    and a cancel raises JobCancelled instead of returning the song."""
    token = token if token is not None else JobToken()
    path = os.fspath(path)
    name = os.path.basename(path)
    kind = kind_of(path)
    token.progress(0.0, f"Reading {name}")  # raises JobCancelled once cancelled
    warnings: list[str] = []
    if kind == MIDI.name:
        from core.midi_io import import_midi

        song = import_midi(path, token=token)
    else:
        from core.project import load_project

        song = load_project(path, warnings)
    token.progress(1.0, f"Read {name}")  # a cancel while reading drops the song here
    return LoadedSong(song, kind, warnings)


# ====================================================================== writing
def check_writable(path: str | os.PathLike) -> None:
    """A UserError naming the file when it cannot be written (call it before any long work)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"Cannot write {path}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise UserError(f"Cannot write {path}: the folder {folder} is not writable.")
    if os.path.isdir(path):
        raise UserError(f"Cannot write {path}: it is a folder.")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UserError(f"Cannot write {path}: the file is read-only.")


def save_song(song: Song, path: str | os.PathLike, kind: FileKind | None = None) -> str:
    """Write the song as a project or a MIDI file, atomically; returns the path written.

    `kind` (PROJECT or MIDI) says which; without it the target's extension decides (a
    project unless it is a MIDI extension)."""
    if kind is None:
        kind = MIDI if MIDI.matches(path) else PROJECT
    if kind is MIDI:
        from core.midi_io import export_midi

        return export_midi(song, path)
    if kind is not PROJECT:
        raise ValueError(f"save_song writes projects and MIDI files, not {kind.name} files")
    from core.project import save_project

    return save_project(song, path)


def render_wav_file(token: JobToken, document: dict, path: str, clip_id: str | None = None) -> str:
    """A job: render a song (given as its snapshot, so the worker owns its copy) or one of its
    clips with the built-in synth, and write it to a WAV file. Returns the path, or '' when
    cancelled."""
    from core.audio.render import render_song, write_wav
    from core.project import song_from_dict

    check_writable(path)
    song = song_from_dict(document)
    audio = render_song(song, token=token, clip_id=clip_id)
    if token.cancelled:
        return ""
    if not len(audio):
        raise UserError(f"Nothing to write to {path}: the "
                        f"{'clip' if clip_id else 'arrangement'} is empty.")
    write_wav(path, audio)
    return path


# ====================================================================== a folder of clips
MAX_FOLDER_FILES = 5000  # more MIDI files than this in one import is a mistake (a whole disk)


def midi_files_in(folder: str | os.PathLike) -> list[str]:
    """The MIDI files under a folder (its subfolders too), sorted; a UserError when there are none."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise UserError(f"Cannot import {folder}: it is not a folder.")
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found.extend(os.path.join(root, f) for f in sorted(files) if MIDI.matches(f))
        if len(found) > MAX_FOLDER_FILES:
            raise UserError(f"{folder} holds more than {MAX_FOLDER_FILES} MIDI files; "
                            "import a smaller folder.")
    if not found:
        raise UserError(f"There are no MIDI files ({', '.join(MIDI.extensions)}) in {folder}.")
    return found


def read_midi_clips(token: JobToken | None, paths, label: str | None = None):
    """A job: (one clip per MIDI file, the files that could not be read as [(name, reason)]).

    Each file goes through the same reader as Import (core.midi_io). Its notes become one clip
    named after the file, keyed by the part each track plays (melody, bass, drums, other), as
    generated clips are, so core.arrangement.part_tracks and assign_tracks put them on the
    song's tracks. Clips carry `label`. A cancel raises JobCancelled; nothing is changed."""
    from core.errors import MidiFileError
    from core.midi_io import import_midi
    from core.song import Clip

    token = token if token is not None else JobToken()
    paths = [os.fspath(p) for p in paths]
    clips, bad = [], []
    for i, path in enumerate(paths):
        name = os.path.basename(path)
        token.progress(i / max(len(paths), 1), f"Reading {name} ({i + 1} of {len(paths)})")
        try:
            song = import_midi(path, token=None)
        except MidiFileError as exc:
            bad.append((name, exc.message))
            continue
        roles = {t.id: t.role for t in song.tracks}
        notes: dict = {}
        for clip in song.clips.values():
            for tid, ns in clip.notes.items():
                notes.setdefault(roles.get(tid, "other"), []).extend(ns)
        if not any(notes.values()):
            bad.append((name, "it has no notes"))
            continue
        length = max((c.length for c in song.clips.values()), default=0.0)
        stem = os.path.splitext(name)[0]
        clips.append(Clip(name=stem, length=length, notes=notes, origin="imported", label=label or None))
    token.progress(1.0, f"Read {len(clips)} of {len(paths)} MIDI files")
    return clips, bad
