"""MIDI out of the timeline and the clip library: a section or a clip to a file, or dragged out
as a .mid file.

A section is written from beat 0 (its clip repeated to fill it, a marker with its label), so a
DAW places it where the musician drops it. Dragged files go to a folder in the system's temp
directory that lives as long as the program; a file manager or DAW copies them on drop.
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from dataclasses import replace

from PySide6.QtCore import QMimeData

from core import arrangement as arr
from core.midi_io import export_midi
from core.song import Section, Song
from gui import drag_formats

_drag_dir: str | None = None


def drag_folder() -> str:
    """A private temporary folder for dragged files, removed when the program exits."""
    global _drag_dir
    if _drag_dir is None or not os.path.isdir(_drag_dir):
        _drag_dir = tempfile.mkdtemp(prefix="latent-studio-drag-")
        atexit.register(shutil.rmtree, _drag_dir, True)
    return _drag_dir


def safe_file_name(text: str) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text).strip(" .") or "clip"
    return name[:80]


def section_file_name(song: Song, sec: Section) -> str:
    bpb = song.beats_per_bar
    first = int(round(sec.start / bpb)) + 1
    last = int(round(sec.end / bpb))
    return safe_file_name(f"{arr.label_title(sec.label)} (bars {first}-{last})") + ".mid"


def export_section(song: Song, sec: Section, path: str) -> str:
    """Write one section, from beat 0, as a type 1 MIDI file."""
    return export_midi(song, path, sections=[replace(sec, start=0.0)])


def export_clip(song: Song, clip_id: str, path: str) -> str:
    return export_midi(song, path, clip=clip_id)


def section_mime(song: Song, section_id: str, clip_only: bool = False) -> QMimeData:
    """Mime data for dragging a section (or its clip) out: a .mid file URL, plus the ids."""
    sec = arr.find_section(song.sections, section_id)
    folder = drag_folder()
    if clip_only and sec.clip_id in song.clips:
        clip = song.clips[sec.clip_id]
        path = export_clip(song, clip.id, os.path.join(folder, safe_file_name(clip.name) + ".mid"))
        return drag_formats.section_mime(sec.id, path, clip.id)
    path = export_section(song, sec, os.path.join(folder, section_file_name(song, sec)))
    return drag_formats.section_mime(sec.id, path)


def clip_drag_files(song: Song, clip_ids) -> list[str]:
    """Each clip written once, from beat 0, as a .mid file in the drag folder (for dragging
    clips out of the library). Two clips with one name get files of their own."""
    folder = drag_folder()
    paths: list[str] = []
    used: set[str] = set()
    for cid in clip_ids:
        clip = song.clips.get(cid)
        if clip is None:
            continue
        base = safe_file_name(clip.name)
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base} {k}", k + 1
        used.add(name.lower())
        paths.append(export_clip(song, cid, os.path.join(folder, name + ".mid")))
    return paths
