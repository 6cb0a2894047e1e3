"""Every drag-and-drop format of the program, written and read in one place.

What a drag carries, by where it starts:

- a clip (a clip-library row, a point of the latent map, or Alt-dragging a timeline section):
  CLIP_MIME holds the clip ids, one a line; the plain text holds the clip names; a drag from
  the library also carries each clip as a .mid file (URLs in a temporary folder), so it can be
  dropped in a file manager or a DAW;
- a section dragged out of the timeline: SECTION_MIME holds its id, and the drag carries a
  .mid file (a URL in a temporary folder) for file managers and DAWs (with CLIP_MIME too when
  only its clip is dragged);
- a file from outside (a file manager): URLs.

Drop targets decode with the functions here and accept only these formats: the timeline and
the piano roll take a clip (CLIP_MIME, or plain text that is the id of a clip of the song),
the main window a project or MIDI file. A drag that started in the program (a section or a
clip) is never taken as a file to open, although it carries one.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable

from PySide6.QtCore import QMimeData, QUrl

from core.song import Song

CLIP_MIME = "application/x-latent-studio-clip"
SECTION_MIME = "application/x-latent-studio-section-id"


def answer(event, carried):
    """Accept a drag or drop event when it carries something the target takes (`carried` is
    truthy), ignore it otherwise; returns `carried`."""
    if carried:
        event.acceptProposedAction()
    else:
        event.ignore()
    return carried


# ----------------------------------------------------------------- clips
def clip_mime(clip_ids: Iterable[str], names: Iterable[str],
              midi_paths: Iterable[str] = ()) -> QMimeData:
    """What a clip drag carries: the ids one a line under CLIP_MIME, the names as plain text,
    and the clips written as .mid files (`midi_paths`) for drops outside the program."""
    mime = QMimeData()
    mime.setData(CLIP_MIME, "\n".join(clip_ids).encode("utf-8"))
    mime.setText(", ".join(names))
    paths = [os.fspath(p) for p in midi_paths]
    if paths:
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    return mime


def clip_ids_from_mime(mime: QMimeData) -> list[str]:
    """The clip ids a drag carries under CLIP_MIME, in order (empty when it carries none)."""
    if mime is None or not mime.hasFormat(CLIP_MIME):
        return []
    return bytes(mime.data(CLIP_MIME)).decode("utf-8", "replace").split()


def clip_id_from_mime(mime: QMimeData, song: Song) -> str | None:
    """The first clip of this song a drag carries (CLIP_MIME, else plain text naming its id)."""
    if mime is None:
        return None
    candidates = clip_ids_from_mime(mime)
    if mime.hasText():
        candidates += mime.text().split()
    return next((c for c in candidates if c in song.clips), None)


# ----------------------------------------------------------------- sections
def section_mime(section_id: str, midi_path: str, clip_id: str | None = None) -> QMimeData:
    """A section dragged out: its id, the .mid file written for it, and its clip's id when
    only the clip is dragged (so a drop back onto the timeline takes that clip)."""
    mime = QMimeData()
    if clip_id is not None:
        mime.setData(CLIP_MIME, clip_id.encode("utf-8"))
    mime.setData(SECTION_MIME, section_id.encode("utf-8"))
    mime.setUrls([QUrl.fromLocalFile(midi_path)])
    return mime


def section_id_from_mime(mime: QMimeData) -> str | None:
    if mime is None or not mime.hasFormat(SECTION_MIME):
        return None
    return bytes(mime.data(SECTION_MIME)).decode("utf-8", "replace").strip() or None


# ----------------------------------------------------------------- files
def file_mime(paths: Iterable[str]) -> QMimeData:
    """Local files, as a file manager drags them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(os.fspath(p)) for p in paths])
    return mime


def file_from_mime(mime: QMimeData, accept: Callable[[str], bool]) -> str | None:
    """The first local file that `accept(path)` takes from a drag from outside (None for a
    drag that started in the program, a section or a clip: its file is a copy of what is
    already open)."""
    if mime is None or not mime.hasUrls() or section_id_from_mime(mime) is not None \
            or mime.hasFormat(CLIP_MIME):
        return None
    for url in mime.urls():
        path = url.toLocalFile()
        if path and accept(path):
            return path
    return None
