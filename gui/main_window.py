"""The main window: the panels in their places, the menus, the toolbars, the status bar.

The panels do not talk through the window: what the musician has selected, shown and chosen
lives in one core.session.Session that every panel reads and writes. The window builds the
panels, puts them in docks, the centre and the menus, and links playback and status messages.

The window holds one Song and one QUndoStack for its whole life. Open, Import and New never
swap the Song object: a file is read into a fresh Song (on the job runner, so a large file
does not freeze the window) and only a successful read is copied in with Song.replace_with,
which keeps every view subscribed. A failed read leaves the open song exactly as it was.
"""
from __future__ import annotations

import os
import traceback

import shiboken6

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QScrollArea, QSizePolicy, QSplitter,
                               QToolBar, QWidget)

from core.errors import UserError
from core.jobs import JobToken
from core.session import Session
from core.song import Clip, Song
from gui import dialogs, drag_formats
from gui import recovery as recovery_ui
from gui.clip_chooser import ClipChooser
from gui.clip_library import ClipLibrary
from gui.generate_panel import GeneratePanel
from gui.job_runner import JobRunner
from gui.job_status import JobStatus
from gui.latent_map import LatentMap
from gui.model_service import ModelService
from gui.piano_roll import PianoRollEditor
from gui.timeline import Timeline
from gui.track_list import TrackList
from gui.transport import Transport, TransportBar
from gui.undo_buttons import UndoRedoButton

APP_NAME = "Latent Studio"
PROJECT_SUFFIX = ".lstudio"
MIDI_SUFFIXES = (".mid", ".midi")
OPENABLE_SUFFIXES = MIDI_SUFFIXES + (PROJECT_SUFFIX,)
AUTOSAVE_MS = 2 * 60 * 1000
MAX_RECENT = 8
WAV_FILTER = "WAV audio (*.wav)"
NEW_CLIP_BARS = 8


def new_song() -> Song:
    """A fresh song: melody, bass and drum tracks and one empty 8-bar clip to draw in."""
    song = Song("Untitled")
    for role in ("melody", "bass", "drums"):
        song.ensure_track(role)
    song.add_clip(Clip("Clip 1", NEW_CLIP_BARS * song.beats_per_bar))
    return song


def render_wav_file(token, document: dict, path: str, clip_id: str | None = None) -> str:
    """A job: render a snapshot of the song (or one clip) with the built-in synth to a WAV."""
    from core.audio.render import render_song, write_wav  # noqa: PLC0415
    from core.project import song_from_dict  # noqa: PLC0415

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


def check_writable(path: str) -> None:
    """A UserError naming the file when it cannot be written (before any rendering)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"Cannot write {path}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise UserError(f"Cannot write {path}: the folder {folder} is not writable.")
    if os.path.isdir(path):
        raise UserError(f"Cannot write {path}: it is a folder.")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UserError(f"Cannot write {path}: the file is read-only.")


def read_song_file(token, path: str) -> Song:
    """A job: read a project or MIDI file into a new Song (nothing else is touched)."""
    token.progress(0.0, f"Reading {os.path.basename(path)}")
    if path.lower().endswith(PROJECT_SUFFIX):
        from core.project import load_project  # noqa: PLC0415 - keeps start-up light

        song = load_project(path)
    else:
        from core.midi_io import import_midi  # noqa: PLC0415

        song = import_midi(path)
    token.progress(1.0, f"Read {os.path.basename(path)}")
    return song


def is_openable(path: str) -> bool:
    """A project or MIDI file, by its name."""
    return path.lower().endswith(OPENABLE_SUFFIXES)


class MainWindow(QMainWindow):
    """One song, its undo stack, the session of choices made on it, and the views on it."""

    file_loaded = Signal(str)  # a path was opened or imported successfully

    def __init__(self, song: Song | None = None, settings: QSettings | None = None,
                 runner: JobRunner | None = None, parent=None):
        super().__init__(parent)
        self.song = song if song is not None else new_song()
        self.settings = settings if settings is not None else QSettings()
        self.undo_stack = QUndoStack(self)
        self.runner = runner if runner is not None else JobRunner(self)
        self.project_path: str | None = None
        # what is selected, shown and chosen: every panel reads and writes it there
        self.session = Session(self.song)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.resize(1400, 900)

        self.models = ModelService(self.runner, self.settings, self)
        self.track_list = TrackList(self.song, self.undo_stack, self.session, self)
        self.editor = PianoRollEditor(self.song, self.undo_stack, self, session=self.session)
        self.timeline = Timeline(self.song, self.undo_stack, self.session, self.runner, self,
                                 models=self.models)
        self.clip_library = ClipLibrary(self.song, self.session, self)
        self.latent_map = LatentMap(self.song, self.session, self)
        self.generate_panel = GeneratePanel(self.song, self.undo_stack, self.models, self.session,
                                            self.latent_map, self)
        self.transport = Transport(self.song, self)
        self._build_centre()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_toolbars()
        self.job_status = JobStatus(self.runner, self.models, self)
        self._build_status_bar()
        self._connect()
        self.song.subscribe(self._song_changed)
        # a burst of new clips (64 generated ones land in a few chunks) recounts the notes once
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(0)
        self._info_timer.timeout.connect(self._update_song_info)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        self._update_title()
        self._update_song_info()
        self._restore_layout()
        if self.transport.status:  # no PortAudio or no output device: say so, keep working
            self.statusBar().showMessage(self.transport.status, 10000)
        else:
            self.statusBar().showMessage("Ready", 3000)

    # ================================================================= building
    def _build_centre(self) -> None:
        """The piano roll over the timeline, sharing the centre's width."""
        self.timeline_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.timeline_splitter.setObjectName("editorSplitter")
        self.timeline_splitter.addWidget(self.editor)
        self.timeline_splitter.addWidget(self.timeline)
        self.timeline_splitter.setStretchFactor(0, 3)
        self.timeline_splitter.setStretchFactor(1, 2)
        self.timeline_splitter.setCollapsible(0, False)
        self.setCentralWidget(self.timeline_splitter)
        total = max(self.height() - 200, 400)
        self.timeline_splitter.setSizes([int(total * 0.6), int(total * 0.4)])

    def _build_docks(self) -> None:
        """The track list and clip library on the left; generation and the map on the right.
        The piano roll and the timeline get the whole height of the centre."""
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.track_dock = self._dock("Tracks", "trackDock", self.track_list, left)
        scroll = QScrollArea(self)  # the panel scrolls rather than forcing the window taller
        scroll.setWidget(self.generate_panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.generate_dock = self._dock("Generate", "generateDock", scroll, right)
        self.library_dock = self._dock("Clips", "clipDock", self.clip_library, left)
        self.map_dock = self._dock("Latent Map", "mapDock", self.latent_map, right)
        self.splitDockWidget(self.track_dock, self.library_dock, Qt.Orientation.Vertical)
        self.splitDockWidget(self.generate_dock, self.map_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.track_dock, self.generate_dock], [250, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.track_dock, self.library_dock], [220, 480], Qt.Orientation.Vertical)
        self.resizeDocks([self.generate_dock, self.map_dock], [420, 320], Qt.Orientation.Vertical)

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def remove_clips(self, clip_ids: list[str] | None = None) -> bool:
        """Remove clips as one undoable step (the selected clips, else the shown one)."""
        from gui.commands import RemoveClipsCommand  # noqa: PLC0415

        if clip_ids is None:
            clip_ids = self.session.selected_clips or [self.session.current_clip]
        clip_ids = [c for c in clip_ids if c in self.song.clips]
        if not clip_ids:
            return False
        used = sum(1 for s in self.song.sections if s.clip_id in clip_ids)
        self.undo_stack.push(RemoveClipsCommand(self.song, clip_ids))
        if used:
            self.statusBar().showMessage(
                f"Removed {len(clip_ids)} clip(s); {used} section(s) that used them are now "
                "empty (Undo brings them back)", 6000)
        return True

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        k = QKeySequence.StandardKey
        self.act_new = self._action("&New", self.file_new, k.New, "Start a new, empty song")
        self.act_open = self._action("&Open...", self.file_open, k.Open,
                                     "Open a Latent Studio project or a MIDI file")
        self.act_save = self._action("&Save", self.file_save, k.Save, "Save the project")
        self.act_save_as = self._action("Save &As...", self.file_save_as, k.SaveAs,
                                        "Save the project under a new name")
        self.act_import = self._action("&Import MIDI...", self.file_import_midi, "Ctrl+I",
                                       "Read a MIDI file as a new song (tracks, tempo, meter)")
        self.act_export = self._action("&Export MIDI...", self.file_export_midi, "Ctrl+E",
                                       "Write the song as a type 1 MIDI file for your DAW")
        self.act_export_audio = self._action("Export &Audio (WAV)...", self.file_export_audio, None,
                                             "Render the arrangement to a WAV file")
        self.act_export_clip_audio = self._action("Export &Clip Audio (WAV)...",
                                                  self.file_export_clip_audio, None,
                                                  "Render the clip in the piano roll to a WAV file")
        self.act_quit = self._action("&Quit", self.close, k.Quit, "Quit Latent Studio")
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence(k.Undo))
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence(k.Redo), QKeySequence("Ctrl+Y")])

        self.act_about = self._action("&About Latent Studio", self.show_about)
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)
        self.act_shortcuts = self._action("&Keyboard Shortcuts", self.show_shortcuts, "F1",
                                          "List every keyboard shortcut")
        self.act_remove_clip = self._action("Remove Clip from Library", self.remove_clips, None,
                                            "Remove the selected clips (or the shown one); "
                                            "sections that used them keep an empty slot")
        self.act_cancel_job = self._action("Cancel Job", self.runner.cancel, "Ctrl+.",
                                           "Stop the running job")
        self.act_cancel_job.setEnabled(False)
        self.act_show_timeline = self._action("&Timeline", lambda: None, "Ctrl+Shift+T",
                                              "Show or hide the song timeline under the piano roll")
        self.act_show_timeline.setCheckable(True)
        self.act_show_timeline.setChecked(True)
        self.act_show_timeline.toggled.connect(self.timeline.setVisible)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        for a in (self.act_new, self.act_open):
            self.file_menu.addAction(a)
        self.recent_menu = self.file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self._add_actions(self.file_menu, [
            None, self.act_save, self.act_save_as, None, self.act_import, self.act_export,
            self.timeline.act_export_section, self.timeline.act_export_clip, self.act_export_audio,
            self.act_export_clip_audio, None, self.act_quit])

        self.edit_menu = bar.addMenu("&Edit")
        self._add_actions(self.edit_menu, [self.act_undo, self.act_redo, None,
                                           *self.editor.edit_actions(), None,
                                           self.act_remove_clip, self.act_cancel_job])
        self.view_menu = bar.addMenu("&View")
        self._add_actions(self.view_menu, [*self.editor.view_actions(), None]
                          + [d.toggleViewAction() for d in (self.track_dock, self.generate_dock,
                                                            self.library_dock, self.map_dock)])
        self.models_menu = bar.addMenu("&Models")
        self._add_actions(self.models_menu, self.generate_panel.menu_actions())
        self.arrange_menu = self.timeline.arrange_menu(self)
        bar.addMenu(self.arrange_menu)
        self.help_menu = bar.addMenu("&Help")
        self._add_actions(self.help_menu, [self.act_shortcuts, None, self.act_about])

    @staticmethod
    def _add_actions(menu, actions) -> None:
        """Add actions; None in the list becomes a separator."""
        for a in actions:
            if a is None:
                menu.addSeparator()
            else:
                menu.addAction(a)

    def _build_toolbars(self) -> None:
        """The song toolbar (the clip chooser, undo and redo), the transport under it."""
        self.toolbar = QToolBar("Song", self)
        self.toolbar.setObjectName("songToolbar")
        self.toolbar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.toolbar.addWidget(QLabel(" Clip "))
        self.clip_combo = ClipChooser(self.song, self.session, self)
        self.toolbar.addWidget(self.clip_combo)
        self.toolbar.addSeparator()
        stack = self.undo_stack
        self.undo_button = UndoRedoButton("Undo", self.act_undo, stack.canUndo(), stack.undoText(),
                                          stack.canUndoChanged, stack.undoTextChanged, self)
        self.redo_button = UndoRedoButton("Redo", self.act_redo, stack.canRedo(), stack.redoText(),
                                          stack.canRedoChanged, stack.redoTextChanged, self)
        self.toolbar.addWidget(self.undo_button)
        self.toolbar.addWidget(self.redo_button)

        self.transport_bar = TransportBar(self.transport, self)
        self.transport_bar.setObjectName("transportBar")
        # its natural width: without this the toolbar stretches the bar and opens wide gaps
        self.transport_bar.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.transport_toolbar = QToolBar("Transport", self)
        self.transport_toolbar.setObjectName("transportToolbar")
        self.transport_toolbar.setMovable(False)
        self.transport_toolbar.addWidget(self.transport_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.transport_toolbar)
        # The bar's Space shortcut is window-wide; a text field that has the focus still
        # takes Space (Qt gives line edits and spin boxes the ShortcutOverride for it).
        self._add_actions(self.view_menu, [self.toolbar.toggleViewAction(),
                                           self.transport_toolbar.toggleViewAction(),
                                           self.act_show_timeline])

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.song_info = QLabel()
        self.song_info.setObjectName("songInfo")
        self.audio_label = QLabel("No sound")
        self.audio_label.setObjectName("audioLabel")
        self.audio_label.setToolTip(self.transport.status or "Audio output")
        self.audio_label.setVisible(bool(self.transport.status))
        for widget in (self.song_info, self.job_status, self.audio_label):
            status.addPermanentWidget(widget)

    def _connect(self) -> None:
        """The few links between panels that are not the session's: playback and messages."""
        message = self.statusBar().showMessage
        self.undo_stack.cleanChanged.connect(self._stack_changed)
        self.undo_stack.indexChanged.connect(self._stack_changed)
        self.runner.busy_changed.connect(self.act_cancel_job.setEnabled)
        self.transport.follow_session(self.session)
        self.transport.message.connect(lambda text: message(text, 8000))
        self.editor.attach_transport(self.transport)
        self.timeline.attach_transport(self.transport)
        for panel in (self.clip_library, self.latent_map):
            panel.audition_requested.connect(self.transport.audition_clip)
        self.editor.status_message.connect(lambda text: message(text, 2000))
        self.timeline.status_message.connect(lambda text: message(text, 5000))
        self.generate_panel.status_message.connect(lambda text: message(text, 5000))

    # ================================================================= document state
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    def document_name(self) -> str:
        if self.project_path:
            return os.path.basename(self.project_path)
        return self.song.title or "Untitled"

    def _stack_changed(self, *_args) -> None:
        if shiboken6.isValid(self.undo_stack):  # not while the window is being torn down
            self._update_title()

    def _update_title(self) -> None:
        mark = "*" if self.is_modified() else ""
        self.setWindowTitle(f"{self.document_name()}{mark} — {APP_NAME}")
        self.act_save.setEnabled(True)

    def _update_song_info(self) -> None:
        s = self.song
        sig = s.time_signatures[0]
        notes = sum(c.note_count() for c in s.clips.values())
        self.song_info.setText(f"{s.tempo:g} BPM   {sig.numerator}/{sig.denominator}   "
                               f"{s.length_bars():g} bars   {len(s.tracks)} tracks   "
                               f"{notes} notes")

    def _song_changed(self, event: str, **_details) -> None:
        if event in ("clip_added", "clip_removed"):
            # a burst of new clips recounts the notes once: counting them for each of 64 new
            # clips in a song of a thousand cost 0.5 s (cProfile)
            self._info_timer.start()
            return
        if event == "reset":
            self._update_title()
        self._update_song_info()

    # ================================================================= file menu
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current song (saved, discarded, or unmodified)."""
        if not self.is_modified():
            return True
        answer = dialogs.ask_save_changes(self, self.document_name())
        if answer == "save":
            return self.file_save()
        return answer == "discard"

    def file_new(self) -> None:
        if not self.maybe_save():
            return
        self._adopt(new_song(), None)
        self.statusBar().showMessage("New song", 3000)

    def file_open(self) -> None:
        if not self.maybe_save():
            return
        path = dialogs.ask_open_file(self, "Open", dialogs.OPENABLE_FILTER, self._last_dir())
        if path:
            self.open_path(path, ask=False)

    def file_import_midi(self) -> None:
        if not self.maybe_save():
            return
        path = dialogs.ask_open_file(self, "Import MIDI", dialogs.MIDI_FILTER, self._last_dir())
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True, background: bool = True) -> bool:
        """Open a project or import a MIDI file into this window.

        With background=True the file is read on the job runner and this returns at once
        (True when the read was queued); otherwise it is read here and the return value says
        whether the song was replaced. Errors show a dialog; the open song stays as it was.
        """
        path = os.fspath(path)
        if ask and not self.maybe_save():
            return False
        name = os.path.basename(path)
        verb = "Opening" if path.lower().endswith(PROJECT_SUFFIX) else "Importing"
        if not background:
            try:
                song = read_song_file(JobToken(), path)
            except UserError as exc:
                dialogs.show_error(self, f"Could not open {name}", exc.message, exc.detail or "")
                return False
            except Exception as exc:  # noqa: BLE001 - never lose the open song to a bug
                dialogs.show_error(self, f"Could not open {name}",
                                   f"{name} could not be read: {exc}", traceback.format_exc())
                return False
            self._loaded(path, song)
            return True
        self.runner.submit(read_song_file, path, on_done=lambda song: self._loaded(path, song),
                           description=f"{verb} {name}")
        return True

    def _loaded(self, path: str, song: Song) -> None:
        project = path if path.lower().endswith(PROJECT_SUFFIX) else None
        warnings = song.__dict__.pop("load_warnings", None) or []
        self._adopt(song, project)
        self._remember_recent(path)
        summary = (f"{'Opened' if project else 'Imported'} {os.path.basename(path)}: "
                   f"{len(song.tracks)} tracks, "
                   f"{sum(c.note_count() for c in song.clips.values())} notes")
        if warnings:  # repaired while reading: say what, and mark the song as changed
            self.undo_stack.resetClean()
            self._update_title()
            self.statusBar().showMessage(f"{summary}. Repaired: {'; '.join(warnings)}", 15000)
        else:
            self.statusBar().showMessage(summary, 6000)
        self.file_loaded.emit(path)

    def _adopt(self, song: Song, project_path: str | None) -> None:
        """Make `song` the open document (same Song object, new content), history cleared."""
        self.session.current_clip = None  # the new content picks its own clip to show
        self.project_path = project_path
        self.song.replace_with(song)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._update_title()

    def file_save(self) -> bool:
        if not self.project_path:
            return self.file_save_as()
        return self._save_to(self.project_path)

    def file_save_as(self) -> bool:
        start = self.project_path or os.path.join(self._last_dir(), self.song.title + PROJECT_SUFFIX)
        path = dialogs.ask_save_file(self, "Save Project As", dialogs.PROJECT_FILTER, start,
                                     PROJECT_SUFFIX)
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        from core.project import save_project  # noqa: PLC0415

        if not dialogs.write_or_report(self, "Could not save", path,
                                       lambda: save_project(self.song, path)):
            return False
        self.project_path = path
        self.undo_stack.setClean()
        self._remember_recent(path)
        self._clear_recovery()
        self._update_title()
        self.statusBar().showMessage(f"Saved {os.path.basename(path)}", 4000)
        return True

    def file_export_midi(self) -> bool:
        base = os.path.splitext(self.document_name())[0]
        start = os.path.join(self._last_dir(), base + ".mid")
        path = dialogs.ask_save_file(self, "Export MIDI", dialogs.MIDI_FILTER, start, ".mid")
        if not path:
            return False
        from core.midi_io import export_midi  # noqa: PLC0415

        if not dialogs.write_or_report(self, "Could not export MIDI", path,
                                       lambda: export_midi(self.song, path)):
            return False
        self._remember_dir(path)
        self.statusBar().showMessage(f"Exported {os.path.basename(path)}", 4000)
        return True

    def file_export_audio(self) -> bool:
        """Render the arrangement to a WAV file on the job runner."""
        if not self.song.sections:
            self.statusBar().showMessage("Nothing to export: the arrangement is empty. Add a "
                                         "section, or use Export Clip Audio.", 6000)
            return False
        base = os.path.splitext(self.document_name())[0]
        return self._export_wav(base, None)

    def file_export_clip_audio(self) -> bool:
        """Render the clip shown in the piano roll to a WAV file on the job runner."""
        clip_id = self.session.current_clip
        if clip_id not in self.song.clips:
            self.statusBar().showMessage("No clip to export", 4000)
            return False
        return self._export_wav(self.song.clip(clip_id).name, clip_id)

    def _export_wav(self, base: str, clip_id: str | None) -> bool:
        start = os.path.join(self._last_dir(), base + ".wav")
        path = dialogs.ask_save_file(self, "Export Audio", WAV_FILTER, start, ".wav")
        if not path:
            return False
        try:
            check_writable(path)
        except UserError as exc:
            dialogs.show_error(self, "Could not export audio", exc.message, exc.detail or "")
            return False

        def done(written: str) -> None:
            if written:
                self._remember_dir(written)
                self.statusBar().showMessage(f"Exported {os.path.basename(written)}", 5000)

        self.runner.submit(render_wav_file, self.song.snapshot(), path, clip_id, on_done=done,
                           description=f"Rendering {os.path.basename(path)}")
        return True

    # ================================================================= recent files
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [p for p in (value or []) if isinstance(p, str)]

    def _remember_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent_files", files[:MAX_RECENT])
        self._remember_dir(path)

    def _remember_dir(self, path: str) -> None:
        self.settings.setValue("last_dir", os.path.dirname(os.path.abspath(path)))

    def _last_dir(self) -> str:
        value = self.settings.value("last_dir", "")
        return value if isinstance(value, str) and os.path.isdir(value) else os.path.expanduser("~")

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = [p for p in self.recent_files() if os.path.exists(p)]
        for i, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{i + 1}  {os.path.basename(path)}")
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if not files:
            empty = self.recent_menu.addAction("No recent files")
            empty.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Menu")
            clear.triggered.connect(lambda: self.settings.setValue("recent_files", []))

    # ================================================================= recovery
    def autosave(self) -> bool:
        """Write the recovery file when there are unsaved changes; True when written."""
        if not self.is_modified():
            return False
        try:
            recovery_ui.write(self.song, self.project_path)
        except Exception as exc:  # noqa: BLE001 - autosave must never interrupt the user
            self.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
            return False
        self.statusBar().showMessage("Autosaved a recovery copy", 3000)
        return True

    def _clear_recovery(self) -> None:
        try:
            recovery_ui.clear()
        except Exception:  # noqa: BLE001 - a stale recovery file is harmless
            pass

    def offer_recovery(self) -> bool:
        """Ask to restore a recovered project if there is one; True when restored."""
        try:
            found = recovery_ui.find()
        except Exception as exc:  # noqa: BLE001 - a damaged recovery file must not stop start-up
            self.statusBar().showMessage(f"A recovery file could not be read: {exc}", 8000)
            return False
        if found is None:
            return False
        if not dialogs.ask_restore_recovery(self, found.describe()):
            recovery_ui.discard(found)
            return False
        self._adopt(found.song, found.project_path)
        # The restored work is not saved anywhere yet: mark it modified, so the user is asked
        # to save it, and move it into this process's recovery file until they do.
        self.undo_stack.resetClean()
        self._update_title()
        try:
            recovery_ui.adopt(found, self.song, self.project_path)
        except Exception as exc:  # noqa: BLE001 - the song is restored; autosave retries later
            self.statusBar().showMessage(f"Could not move the recovery file: {exc}", 8000)
        else:
            self.statusBar().showMessage("Restored the recovered project; save it to keep it",
                                         8000)
        return True

    # ================================================================= help
    def show_about(self) -> None:
        from gui.app import version  # noqa: PLC0415

        dialogs.show_about(self, version())

    def all_actions(self) -> list[tuple[str, QAction]]:
        """(menu title, action) for every action in the menus, submenus included."""
        out = []

        def walk(menu, title):
            for a in menu.actions():
                if a.menu() is not None:
                    walk(a.menu(), title)
                elif not a.isSeparator():
                    out.append((title, a))

        for top in self.menuBar().actions():
            if top.menu() is not None:
                walk(top.menu(), top.text().replace("&", ""))
        return out

    def show_shortcuts(self) -> None:
        dialogs.show_shortcuts(self, self.all_actions())

    # ================================================================= drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override: a project or MIDI file
        drag_formats.answer(event, drag_formats.file_from_mime(event.mimeData(), is_openable))

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        path = drag_formats.answer(event, drag_formats.file_from_mime(event.mimeData(), is_openable))
        if path:
            # Asking to save opens a modal dialog: do it after the drop has finished.
            QTimer.singleShot(0, lambda: self.open_path(path))

    # ================================================================= layout and closing
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def _save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.maybe_save():
            event.ignore()
            return
        self.autosave_timer.stop()
        self.transport.close()
        self.runner.cancel_all()
        self.runner.shutdown(3000)
        self._save_layout()
        self._clear_recovery()
        event.accept()
