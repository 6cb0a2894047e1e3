"""Project files (.lstudio): the whole Song as a versioned JSON document, written atomically.

    {"format": "latent-studio-project", "schema": 1, "title": ..., "tempos": [[beat, bpm]],
     "time_signatures": [[beat, num, den]], "tracks": [{...}], "clips": [{..., "notes":
     {track_id: [[pitch, start, end, velocity], ...]}}], "sections": [{...}], "loop": [start, end]}

"loop" (the loop region in beats) is present only when the song has one, and "spaces" (section
spaces: [{"model", "label", "data": the .space file's bytes in base64}], core.section_space) only
when it has some. Older files have neither and load as before; a damaged space is reported and
kept, the rest of the project loads.
"clips" are in the library's order, the order the musician sees them in, and come back in it.

The plain-data form itself (`song_to_dict`, the header FORMAT and SCHEMA) is defined with the
document in core.song, where it doubles as `Song.snapshot()`; this module checks it on the way
back in (`song_from_dict`) and handles the bytes on disk.

Saving writes a temporary file next to the target, fsyncs it and renames it over the target
(core.atomic_write), so a killed save leaves the previous file whole. Loading never writes.
A file from a newer schema, or one that is not a valid project, raises ProjectFileError.
"""
from __future__ import annotations

import json
import math
import os
import traceback

from core.atomic_write import atomic_write_bytes
from core.errors import ProjectFileError
# song_to_dict is used here and re-exported, so core.project still offers both directions
from core.song import (FORMAT, ORIGINS, ROLES, SCHEMA, Clip, Note, Section, Song, TempoChange,
                       TimeSignature, Track, new_id, song_to_dict, sort_notes)

# Limits that no real song reaches; beyond them a file is refused before it can stall the program.
MAX_SECTIONS = 20_000  # 20,000 one-bar sections of 4/4 at 120 BPM last 11 hours
MAX_FILE_BYTES = 128 * 1024 * 1024  # a project of a million notes is about 45 MB and takes ~0.5 GB loaded


# ====================================================================== from dict
class _Bad(Exception):
    """Internal: the document's structure is wrong; the message says where."""


def _get(d: dict, key: str, kind, where: str, optional: bool = False):
    if not isinstance(d, dict):
        raise _Bad(f"{where} is not an object")
    if key not in d:
        if optional:
            return None
        raise _Bad(f"{where} has no '{key}'")
    value = d[key]
    if value is None and optional:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:  # an integer with hundreds of digits
            raise _Bad(f"{where}: '{key}' is not a finite number") from None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise _Bad(f"{where}: '{key}' has the wrong type")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(f"{where}: '{key}' is not a finite number")
    return value


def _list(d, key, where):
    return _get(d, key, list, where)


def song_from_dict(d: dict, warnings: list[str] | None = None) -> Song:
    """A Song from `song_to_dict` output. Raises ProjectFileError when it is not one.

    Small damage that loses nothing else is repaired (a section naming a missing clip keeps
    its place with an empty slot); each repair is described in `warnings` when a list is given."""
    try:
        return _song_from_dict(d, [] if warnings is None else warnings)
    except ProjectFileError:
        raise
    except _Bad as exc:
        raise ProjectFileError(f"The project is damaged: {exc}.") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        raise ProjectFileError(f"The project is damaged: {exc}.", traceback.format_exc()) from None


def _check_header(d) -> None:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ProjectFileError("This is not a Latent Studio project.")
    schema = d.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise _Bad("the schema version is missing or invalid")
    if schema > SCHEMA:
        raise ProjectFileError(
            f"The project was made by a newer Latent Studio (project schema {schema}; this "
            f"version reads schema {SCHEMA} and older). Update Latent Studio to open it.")


def _song_from_dict(d, warnings: list[str]) -> Song:
    _check_header(d)
    song = Song(title=_get(d, "title", str, "the song"))

    tempos = []
    for i, row in enumerate(_list(d, "tempos", "the song")):
        if not (isinstance(row, list) and len(row) == 2):
            raise _Bad(f"tempo change {i + 1} is not [beat, bpm]")
        beat, bpm = (_num(x, f"tempo change {i + 1}") for x in row)
        if not 1.0 <= bpm <= 999.0 or beat < 0:
            raise _Bad(f"tempo change {i + 1} ({bpm} BPM at beat {beat}) is out of range")
        tempos.append(TempoChange(beat, bpm))
    sigs = []
    for i, row in enumerate(_list(d, "time_signatures", "the song")):
        if not (isinstance(row, list) and len(row) == 3):
            raise _Bad(f"time signature {i + 1} is not [beat, numerator, denominator]")
        beat = _num(row[0], f"time signature {i + 1}")
        num, den = row[1], row[2]
        if not (_is_int(num) and _is_int(den) and num >= 1 and den in (1, 2, 4, 8, 16, 32)) or beat < 0:
            raise _Bad(f"time signature {i + 1} is invalid")
        sigs.append(TimeSignature(beat, num, den))
    if not tempos or tempos[0].beat != 0 or not sigs or sigs[0].beat != 0:
        raise _Bad("the song needs a tempo and a time signature at beat 0")
    song.tempos = tempos
    song.time_signatures = sigs

    seen = set()
    for i, t in enumerate(_list(d, "tracks", "the song")):
        where = f"track {i + 1}"
        role = _get(t, "role", str, where)
        if role not in ROLES:
            raise _Bad(f"{where} has an unknown role '{role}'")
        program = _get(t, "program", int, where)
        if not 0 <= program <= 127:
            raise _Bad(f"{where} has program {program}, outside 0..127")
        volume = _get(t, "volume", float, where)
        tid = _get(t, "id", str, where)
        if tid in seen:
            raise _Bad(f"{where} repeats the id '{tid}'")
        seen.add(tid)
        song.tracks.append(Track(
            name=_get(t, "name", str, where), role=role, program=program,
            is_drum=_get(t, "is_drum", bool, where), volume=min(max(volume, 0.0), 1.0),
            mute=_get(t, "mute", bool, where), solo=_get(t, "solo", bool, where), id=tid))

    for i, c in enumerate(_list(d, "clips", "the song")):
        where = f"clip {i + 1}"
        cid = _get(c, "id", str, where)
        if cid in song.clips:
            raise _Bad(f"{where} repeats the id '{cid}'")
        origin = _get(c, "origin", str, where)
        if origin not in ORIGINS:
            raise _Bad(f"{where} has an unknown origin '{origin}'")
        latent = _get(c, "latent", list, where, optional=True)
        if latent is not None:
            latent = [_num(x, f"{where} latent code") for x in latent]
        notes = {}
        raw_notes = _get(c, "notes", dict, where)
        for tid, rows in raw_notes.items():
            if tid not in seen:
                raise _Bad(f"{where} has notes for a track that does not exist ('{tid}')")
            if not isinstance(rows, list):
                raise _Bad(f"{where}: the notes of track '{tid}' are not a list")
            notes[tid] = sort_notes(_note(row, where) for row in rows)
        length = _get(c, "length", float, where)
        if length < 0:
            raise _Bad(f"{where} has a negative length")
        song.clips[cid] = Clip(
            name=_get(c, "name", str, where), length=length, notes=notes, latent=latent,
            model=_get(c, "model", str, where, optional=True), origin=origin,
            label=_get(c, "label", str, where, optional=True), id=cid)

    sections = []
    raw_sections = _list(d, "sections", "the song")
    if len(raw_sections) > MAX_SECTIONS:
        raise _Bad(f"it has {len(raw_sections):,} sections, more than the {MAX_SECTIONS:,} a song can hold")
    section_ids = set()
    for i, s in enumerate(raw_sections):
        where = f"section {i + 1}"
        clip_id = _get(s, "clip_id", str, where, optional=True)
        if clip_id is not None and clip_id not in song.clips:
            # A clip removed while a section used it (older versions saved that): keep the
            # section with an empty slot rather than refuse the whole project.
            label = _get(s, "label", str, where)
            warnings.append(f"{where} ('{label}') named a clip that is not in the project "
                            f"('{clip_id}'); its slot is now empty")
            clip_id = None
        start, length = _get(s, "start", float, where), _get(s, "length", float, where)
        if start < 0 or length < 0:
            raise _Bad(f"{where} has a negative start or length")
        label, sid = _get(s, "label", str, where), _get(s, "id", str, where)
        if sid in section_ids:  # two sections with one id would edit each other: the second gets its own
            warnings.append(f"{where} ('{label}') repeated the id of another section; it has a new one")
            sid = new_id("sec")
        section_ids.add(sid)
        sections.append(Section(label, clip_id, start, length, id=sid))
    song.sections = sorted(sections, key=lambda s: s.start)
    loop = _get(d, "loop", list, "the song", optional=True)
    if loop is not None:
        if len(loop) != 2:
            raise _Bad("the loop region is not [start, end]")
        start, end = (_num(x, "the loop region") for x in loop)
        if not 0 <= start < end:
            raise _Bad(f"the loop region {start} to {end} is invalid")
        song.loop = (start, end)
    raw_spaces = _get(d, "spaces", list, "the song", optional=True)
    if raw_spaces:
        song.spaces = _spaces_from_list(raw_spaces, warnings)
    return song


def _spaces_from_list(rows: list, warnings: list[str]) -> dict:
    """The section spaces of a project: {(model, label): StoredSpace}.

    A space that is damaged still loads as an entry (unusable, its bytes written back as they
    were), with a warning naming it; one whose entry is not even readable as bytes is left out
    with a warning. Either way the rest of the project and the other spaces load."""
    import base64
    import binascii

    from core.section_space import StoredSpace
    from core.song import space_key

    spaces = {}
    for i, row in enumerate(rows):
        where = f"section space {i + 1}"
        try:
            model = _get(row, "model", str, where)
            label = _get(row, "label", str, where)
            data = base64.b64decode(_get(row, "data", str, where).encode("ascii"), validate=True)
        except (_Bad, binascii.Error, ValueError, UnicodeEncodeError) as exc:
            warnings.append(f"{where} could not be read ({exc}); it was left out")
            continue
        entry = StoredSpace(model, label, data)
        problem = entry.problem
        if problem is not None:
            warnings.append(f"the '{label}' section space of {model} is damaged and cannot be used "
                            f"(it is kept as it was): {problem}")
        spaces[space_key(model, label)] = entry
    return spaces


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _num(x, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise _Bad(f"{where} holds something that is not a number")
    try:
        value = float(x)
    except OverflowError:  # an integer too large for a float
        value = math.inf
    if not math.isfinite(value):
        raise _Bad(f"{where} holds a number that is not finite")
    return value


def _note(row, where: str) -> Note:
    if not (isinstance(row, list) and len(row) == 4 and _is_int(row[0]) and _is_int(row[3])):
        raise _Bad(f"{where} has a note that is not [pitch, start, end, velocity]")
    pitch, vel = row[0], row[3]
    start, end = _num(row[1], where), _num(row[2], where)
    if not (0 <= pitch <= 127 and 0 <= vel <= 127 and end >= start):
        raise _Bad(f"{where} has an invalid note {row}")
    return Note(pitch, start, end, vel)


# ====================================================================== files
def project_bytes(song: Song, extra: dict | None = None) -> bytes:
    """The bytes `save_project` writes (UTF-8 JSON); `extra` adds top-level keys."""
    doc = song_to_dict(song)
    if extra:
        doc.update(extra)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def save_project(song: Song, path: str | os.PathLike, extra: dict | None = None) -> str:
    """Write the song to `path` atomically; returns the path. Raises ProjectFileError."""
    path = os.fspath(path)
    try:
        data = project_bytes(song, extra)
    except (TypeError, ValueError) as exc:
        raise ProjectFileError(f'Cannot save project "{path}": the song holds a value that '
                               f"cannot be stored ({exc}).", traceback.format_exc()) from None
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise ProjectFileError(f'Cannot save project "{path}": {exc.strerror or exc}.') from None
    return path


def read_project_document(path: str | os.PathLike) -> dict:
    """The parsed JSON of a project file, header checked. Reads only; never writes."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise ProjectFileError(f'Cannot open project "{path}": it is {size / 1e6:,.0f} MB, more than '
                                       f"a project can be ({MAX_FILE_BYTES / 1e6:,.0f} MB).")
            raw = f.read()
    except FileNotFoundError:
        raise ProjectFileError(f'Cannot open project "{path}": the file does not exist.') from None
    except IsADirectoryError:
        raise ProjectFileError(f'Cannot open project "{path}": it is a folder.') from None
    except OSError as exc:
        raise ProjectFileError(f'Cannot open project "{path}": {exc.strerror or exc}.') from None
    except MemoryError:
        raise ProjectFileError(f'Cannot open project "{path}": it is too large to read.') from None
    if not raw.strip():
        raise ProjectFileError(f'Cannot open project "{path}": the file is empty.')
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProjectFileError(f'Cannot open project "{path}": the file is damaged '
                               f"(not valid JSON: {exc}).") from None
    return doc


def load_project(path: str | os.PathLike, warnings: list[str] | None = None) -> Song:
    """Read a project file into a new Song. Raises ProjectFileError naming the file.

    Repairs made while reading are described in `warnings` (see `song_from_dict`);
    core.song_files.load_song returns them beside the song."""
    path = os.fspath(path)
    doc = read_project_document(path)
    try:
        return song_from_dict(doc, warnings)
    except ProjectFileError as exc:
        raise ProjectFileError(f'Cannot open project "{path}". {exc.message}', exc.detail) from None

