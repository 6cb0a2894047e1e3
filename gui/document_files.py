"""The window's document on disk: new, open, import, save, export, recent files, autosave, recovery.

The window holds one Song for its whole life. Open, Import and New never swap the Song
object: a file is read into a fresh Song by core.song_files.load_song, as a job on the job
runner (progress in the status bar, Cancel stops it), and only a read that finished and was
not cancelled is copied in with Song.replace_with, which keeps every view subscribed. A
failed or cancelled read leaves the open song exactly as it was.

DocumentFiles is given what it works on (the song, the undo stack, the settings, the job
runner, the widget its dialogs belong to, a way to show a status message and a way to ask
which clip is shown); it tells the window what happened through its signals.
"""
from __future__ import annotations

import os
import traceback
from typing import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMenu, QWidget

from core import song_files
from core.errors import UserError
from core.jobs import JobToken
from core.song import Clip, Song
from gui import dialogs
from gui import recovery as recovery_ui
from gui.job_runner import JobRunner

AUTOSAVE_MS = 2 * 60 * 1000
MAX_RECENT = 8
NEW_CLIP_BARS = 8


def new_song() -> Song:
    """A fresh song: melody, bass and drum tracks and one empty 8-bar clip to draw in."""
    song = Song("Untitled")
    for role in ("melody", "bass", "drums"):
        song.ensure_track(role)
    song.add_clip(Clip("Clip 1", NEW_CLIP_BARS * song.beats_per_bar))
    return song


class DocumentFiles(QObject):
    """The file side of one window's document. See the module docstring."""

    loaded = Signal(str)  # a path was opened or imported successfully
    replacing = Signal()  # the song's content is about to be replaced (new, open, recovery)
    changed = Signal()  # the document's name or saved state changed (retitle the window)

    def __init__(self, song: Song, undo_stack: QUndoStack, settings: QSettings, runner: JobRunner,
                 parent: QWidget, show_status: Callable[[str, int], None],
                 shown_clip: Callable[[], str | None]):
        super().__init__(parent)
        self.song = song
        self.undo_stack = undo_stack
        self.settings = settings
        self.runner = runner
        self._parent = parent
        self._status = show_status
        self._shown_clip = shown_clip
        self.project_path: str | None = None
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # ================================================================= the document
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    def document_name(self) -> str:
        if self.project_path:
            return os.path.basename(self.project_path)
        return self.song.title or "Untitled"

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current song (saved, discarded, or unmodified)."""
        if not self.is_modified():
            return True
        answer = dialogs.ask_save_changes(self._parent, self.document_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new(self) -> None:
        if not self.maybe_save():
            return
        self._adopt(new_song(), None)
        self._status("New song", 3000)

    # ================================================================= reading
    def open(self) -> None:
        self._ask_and_open("Open", dialogs.OPENABLE_FILTER)

    def import_midi(self) -> None:
        self._ask_and_open("Import MIDI", dialogs.MIDI_FILTER)

    def _ask_and_open(self, caption: str, filters: str) -> None:
        if not self.maybe_save():
            return
        path = dialogs.ask_open_file(self._parent, caption, filters, self.last_dir())
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True, background: bool = True) -> bool:
        """Open a project or import a MIDI file into this window.

        With background=True the file is read as a job and this returns at once (True when
        the read was queued); the song is replaced only when the job finishes uncancelled.
        Otherwise it is read here and the return value says whether the song was replaced.
        Errors show a dialog; the open song stays as it was.
        """
        path = os.fspath(path)
        if ask and not self.maybe_save():
            return False
        name = os.path.basename(path)
        if not background:
            try:
                loaded = song_files.load_song(path, JobToken())
            except UserError as exc:
                dialogs.show_error(self._parent, f"Could not open {name}", exc.message, exc.detail or "")
                return False
            except Exception as exc:  # noqa: BLE001 - never lose the open song to a bug
                dialogs.show_error(self._parent, f"Could not open {name}",
                                   f"{name} could not be read: {exc}", traceback.format_exc())
                return False
            self._loaded(path, loaded)
            return True
        verb = "Opening" if song_files.PROJECT.matches(path) else "Importing"
        self.runner.submit(lambda token: song_files.load_song(path, token),
                           on_done=lambda loaded: self._loaded(path, loaded), description=f"{verb} {name}")
        return True

    def _loaded(self, path: str, loaded: song_files.LoadedSong) -> None:
        project = path if loaded.kind == song_files.PROJECT.name else None
        song = loaded.song
        self._adopt(song, project)
        self.remember_recent(path)
        summary = (f"{'Opened' if project else 'Imported'} {os.path.basename(path)}: "
                   f"{len(song.tracks)} tracks, "
                   f"{sum(c.note_count() for c in song.clips.values())} notes")
        if loaded.warnings:  # repaired while reading: say what, and mark the song as changed
            self.undo_stack.resetClean()
            self.changed.emit()
            self._status(f"{summary}. Repaired: {'; '.join(loaded.warnings)}", 15000)
        else:
            self._status(summary, 6000)
        self.loaded.emit(path)

    def _adopt(self, song: Song, project_path: str | None) -> None:
        """Make `song` the open document (same Song object, new content), history cleared."""
        self.replacing.emit()
        self.project_path = project_path
        self.song.replace_with(song)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.changed.emit()

    # ================================================================= writing
    def save(self) -> bool:
        if not self.project_path:
            return self.save_as()
        return self.save_to(self.project_path)

    def save_as(self) -> bool:
        kind = song_files.PROJECT
        start = self.project_path or os.path.join(self.last_dir(), self.song.title + kind.suffix)
        path = dialogs.ask_save_file(self._parent, "Save Project As", dialogs.PROJECT_FILTER, start,
                                     kind.suffix)
        if not path:
            return False
        return self.save_to(path)

    def save_to(self, path: str) -> bool:
        old_title = self.song.title
        self.song.title = self._title_for(path)
        if not dialogs.write_or_report(self._parent, "Could not save", path,
                                       lambda: song_files.save_song(self.song, path, song_files.PROJECT)):
            self.song.title = old_title
            return False
        self.project_path = path
        self.undo_stack.setClean()
        self.remember_recent(path)
        self.clear_recovery()
        self.changed.emit()
        self._status(f"Saved {os.path.basename(path)}", 4000)
        return True

    def _title_for(self, path: str) -> str:
        """The song's title once saved at `path`: a song still called "Untitled" (or after its
        previous file's name) takes the new file's name, so the file, the window, `info`,
        recovery and exported MIDI all say the same; a title the song was given stays."""
        title = (self.song.title or "").strip()
        was_file = os.path.splitext(os.path.basename(self.project_path))[0] if self.project_path else None
        if not title or title == "Untitled" or title == was_file:
            return os.path.splitext(os.path.basename(path))[0] or "Untitled"
        return self.song.title

    def export_midi(self) -> bool:
        kind = song_files.MIDI
        base = os.path.splitext(self.document_name())[0]
        start = os.path.join(self.last_dir(), base + kind.suffix)
        path = dialogs.ask_save_file(self._parent, "Export MIDI", dialogs.MIDI_FILTER, start, kind.suffix)
        if not path:
            return False
        if not dialogs.write_or_report(self._parent, "Could not export MIDI", path,
                                       lambda: song_files.save_song(self.song, path, kind)):
            return False
        self.remember_dir(path)
        self._status(f"Exported {os.path.basename(path)}", 4000)
        return True

    def export_audio(self) -> bool:
        """Render the arrangement to a WAV file on the job runner."""
        if not self.song.sections:
            self._status("Nothing to export: the arrangement is empty. Add a "
                         "section, or use Export Clip Audio.", 6000)
            return False
        base = os.path.splitext(self.document_name())[0]
        return self._export_wav(base, None)

    def export_clip_audio(self) -> bool:
        """Render the clip shown in the piano roll to a WAV file on the job runner."""
        clip_id = self._shown_clip()
        if clip_id not in self.song.clips:
            self._status("No clip to export", 4000)
            return False
        return self._export_wav(self.song.clip(clip_id).name, clip_id)

    def _export_wav(self, base: str, clip_id: str | None) -> bool:
        suffix = song_files.WAV.suffix
        start = os.path.join(self.last_dir(), base + suffix)
        path = dialogs.ask_save_file(self._parent, "Export Audio", dialogs.WAV_FILTER, start, suffix)
        if not path:
            return False
        try:
            song_files.check_writable(path)
        except UserError as exc:
            dialogs.show_error(self._parent, "Could not export audio", exc.message, exc.detail or "")
            return False

        def done(written: str) -> None:
            if written:
                self.remember_dir(written)
                self._status(f"Exported {os.path.basename(written)}", 5000)

        self.runner.submit(song_files.render_wav_file, self.song.snapshot(), path, clip_id, on_done=done,
                           description=f"Rendering {os.path.basename(path)}")
        return True

    # ================================================================= recent files
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [p for p in (value or []) if isinstance(p, str)]

    def remember_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent_files", files[:MAX_RECENT])
        self.remember_dir(path)

    def remember_dir(self, path: str) -> None:
        self.settings.setValue("last_dir", os.path.dirname(os.path.abspath(path)))

    def last_dir(self) -> str:
        value = self.settings.value("last_dir", "")
        return value if isinstance(value, str) and os.path.isdir(value) else os.path.expanduser("~")

    def attach_recent_menu(self, menu: QMenu) -> None:
        """Keep `menu` listing the recent files (refilled each time it opens)."""
        menu.aboutToShow.connect(lambda: self.fill_recent_menu(menu))
        self.fill_recent_menu(menu)

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        files = [p for p in self.recent_files() if os.path.exists(p)]
        for i, path in enumerate(files):
            action = menu.addAction(f"&{i + 1}  {os.path.basename(path)}")
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if not files:
            empty = menu.addAction("No recent files")
            empty.setEnabled(False)
        else:
            menu.addSeparator()
            clear = menu.addAction("Clear Menu")
            clear.triggered.connect(lambda: self.settings.setValue("recent_files", []))

    # ================================================================= autosave and recovery
    def autosave(self) -> bool:
        """Write the recovery file when there are unsaved changes; True when written."""
        if not self.is_modified():
            return False
        try:
            recovery_ui.write(self.song, self.project_path)
        except Exception as exc:  # noqa: BLE001 - autosave must never interrupt the user
            self._status(f"Autosave failed: {exc}", 8000)
            return False
        self._status("Autosaved a recovery copy", 3000)
        return True

    def clear_recovery(self) -> None:
        try:
            recovery_ui.clear()
        except Exception:  # noqa: BLE001 - a stale recovery file is harmless
            pass

    def close(self) -> None:
        """The window is closing (after maybe_save agreed): stop autosaving, drop the copy."""
        self.autosave_timer.stop()
        self.clear_recovery()

    def offer_recovery(self) -> bool:
        """Ask to restore a recovered project if there is one; True when restored."""
        try:
            found = recovery_ui.find()
        except Exception as exc:  # noqa: BLE001 - a damaged recovery file must not stop start-up
            self._status(f"A recovery file could not be read: {exc}", 8000)
            return False
        if found is None:
            return False
        if not dialogs.ask_restore_recovery(self._parent, found.describe()):
            recovery_ui.discard(found)
            return False
        self._adopt(found.song, found.project_path)
        # The restored work is not saved anywhere yet: mark it modified, so the user is asked
        # to save it, and move it into this process's recovery file until they do.
        self.undo_stack.resetClean()
        self.changed.emit()
        try:
            recovery_ui.adopt(found, self.song, self.project_path)
        except Exception as exc:  # noqa: BLE001 - the song is restored; autosave retries later
            self._status(f"Could not move the recovery file: {exc}", 8000)
        else:
            self._status("Restored the recovered project; save it to keep it", 8000)
        return True
