"""The main window: menus, the track list dock, the piano roll, the status bar.

The window holds one Song and one QUndoStack for its whole life. Open, Import and New never
swap the Song object: a file is read into a fresh Song (on the job runner, so a large file
does not freeze the window) and only a successful read is copied in with Song.replace_with,
which keeps every view subscribed. A failed read leaves the open song exactly as it was.
"""
from __future__ import annotations

import os
import traceback

import shiboken6

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QComboBox, QDockWidget, QLabel, QMainWindow, QProgressBar,
                               QPushButton, QScrollArea, QSizePolicy, QToolBar, QToolButton,
                               QVBoxLayout, QWidget)

from core.errors import UserError
from core.jobs import JobToken
from core.song import Clip, Song
from gui import dialogs
from gui import recovery as recovery_ui
from gui.job_runner import JobRunner
from gui.track_list import TrackList

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


class Placeholder(QWidget):
    """Stands in for the piano roll when it cannot be loaded."""

    def __init__(self, reason: str, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel("The piano roll is not available")
        title.setObjectName("placeholderTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        detail = QLabel(reason)
        detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        detail.setWordWrap(True)
        layout.addWidget(detail)
        layout.addStretch(2)

    def edit_actions(self) -> list[QAction]:
        return []

    def view_actions(self) -> list[QAction]:
        return []


def make_editor(song: Song, undo_stack: QUndoStack, parent: QWidget):
    """The piano roll, or a placeholder saying why it could not be made."""
    try:
        from gui.piano_roll import PianoRollEditor  # noqa: PLC0415 - written alongside
    except ImportError as exc:
        return Placeholder(f"gui.piano_roll could not be imported: {exc}", parent)
    try:
        return PianoRollEditor(song, undo_stack, parent)
    except Exception:  # noqa: BLE001 - show the window anyway, with the reason
        return Placeholder(traceback.format_exc(limit=3), parent)


class MainWindow(QMainWindow):
    """One song, its undo stack, and the views on it."""

    file_loaded = Signal(str)  # a path was opened or imported successfully

    def __init__(self, song: Song | None = None, settings: QSettings | None = None,
                 runner: JobRunner | None = None, parent=None):
        super().__init__(parent)
        self.song = song if song is not None else new_song()
        self.settings = settings if settings is not None else QSettings()
        self.undo_stack = QUndoStack(self)
        self.runner = runner if runner is not None else JobRunner(self)
        self.project_path: str | None = None
        self.current_clip_id: str | None = None
        self._job_title = ""
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.resize(1400, 900)

        self.track_list = TrackList(self.song, self.undo_stack, self)
        self.editor = make_editor(self.song, self.undo_stack, self)
        self.setCentralWidget(self.editor)
        self._build_dock()
        self._build_explorer()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._build_transport()
        self._connect()
        from gui.timeline import install_timeline  # noqa: PLC0415 - the song timeline (issue 8)
        install_timeline(self)
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

        self._refresh_clips()
        self._sync_editor()
        self._update_title()
        self._update_song_info()
        self._restore_layout()
        if self.transport.status:  # no PortAudio or no output device: say so, keep working
            self.statusBar().showMessage(self.transport.status, 10000)
        else:
            self.statusBar().showMessage("Ready", 3000)

    # ================================================================= building
    def _build_dock(self) -> None:
        self.track_dock = QDockWidget("Tracks", self)
        self.track_dock.setObjectName("trackDock")
        self.track_dock.setWidget(self.track_list)
        self.track_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QDockWidget.DockWidgetFeature.DockWidgetClosable
                                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.track_dock)
        self.resizeDocks([self.track_dock], [450], Qt.Orientation.Horizontal)

    def _build_explorer(self) -> None:
        """The clip library, the latent map and the generation panel, each in a dock."""
        from gui.clip_library import ClipLibrary  # noqa: PLC0415
        from gui.generate_panel import GeneratePanel  # noqa: PLC0415
        from gui.latent_map import LatentMap  # noqa: PLC0415
        from gui.model_service import ModelService  # noqa: PLC0415

        self.models = ModelService(self.runner, self.settings, self)
        self.clip_library = ClipLibrary(self.song, self)
        self.latent_map = LatentMap(self.song, self)
        self.generate_panel = GeneratePanel(self.song, self.undo_stack, self.models, self.clip_library,
                                            self.latent_map, show_clip=self.show_clip,
                                            audition=self._audition, parent=self)
        scroll = QScrollArea(self)  # the panel scrolls rather than forcing the window taller
        scroll.setWidget(self.generate_panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.generate_dock = self._dock("Generate", "generateDock", scroll,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        # The piano roll and the timeline get the whole height of the centre: the clip library
        # sits under the track list, the map under the generation panel.
        self.library_dock = self._dock("Clips", "clipDock", self.clip_library,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.map_dock = self._dock("Latent Map", "mapDock", self.latent_map,
                                   Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.track_dock, self.library_dock, Qt.Orientation.Vertical)
        self.splitDockWidget(self.generate_dock, self.map_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.track_dock, self.generate_dock], [250, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.track_dock, self.library_dock], [220, 480], Qt.Orientation.Vertical)
        self.resizeDocks([self.generate_dock, self.map_dock], [420, 320], Qt.Orientation.Vertical)
        self.models.device_changed.connect(self._device_changed)

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def show_clip(self, clip_id: str) -> None:
        """Show a clip in the piano roll (and the clip chooser)."""
        if clip_id not in self.song.clips:
            return
        if clip_id != self.current_clip_id:
            self._set_current_clip(clip_id)

    def _set_current_clip(self, clip_id: str | None) -> None:
        """The one place the window's current clip changes: the chooser, the piano roll and
        what Space plays all follow it."""
        self.current_clip_id = clip_id
        self.clip_combo.blockSignals(True)
        self.clip_combo.setCurrentIndex(max(self.clip_combo.findData(clip_id), 0))
        self.clip_combo.blockSignals(False)
        self._call_editor("set_clip", clip_id)
        if getattr(self, "transport", None) is not None:
            self._update_transport_focus()

    def remove_clips(self, clip_ids: list[str] | None = None) -> bool:
        """Remove clips as one undoable step (the library's selection, else the shown clip)."""
        from gui.commands import RemoveClipsCommand  # noqa: PLC0415

        if clip_ids is None:
            clip_ids = self.clip_library.selected_ids() or [self.current_clip_id]
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

    def _audition(self, clip_id: str) -> None:
        transport = getattr(self, "transport", None)
        if transport is not None and hasattr(transport, "audition_clip"):
            transport.audition_clip(clip_id)

    def _device_changed(self, text: str) -> None:
        if text == "not loaded":
            self.device_label.setText("Device: not loaded")
            self.device_label.setToolTip("Shows 'GPU: <name>' or 'CPU' once the first model "
                                         "has loaded")
        else:
            self.device_label.setText(text)
            self.device_label.setToolTip(f"Models run on: {text}")

    def _set_force_cpu(self, on: bool) -> None:
        self.models.set_force_cpu(on)
        self.statusBar().showMessage("Models will run on the CPU" if on else
                                     "Models will use the GPU when there is one", 5000)

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
        self.act_generate = self._action("&Generate", lambda: self.generate_panel.generate(), "Ctrl+G",
                                         "Write new clips with the chosen model")
        self.act_import_map = self._action("Import MIDI into the &Map...",
                                           lambda: self.generate_panel.import_midi_dialog(), None,
                                           "Cut a MIDI file into model-sized pieces and place them on the map")
        self.act_force_cpu = QAction("Run Models on the &CPU Only", self)
        self.act_force_cpu.setCheckable(True)
        self.act_force_cpu.setChecked(self.models.force_cpu)
        self.act_force_cpu.setStatusTip("Keep the models off the GPU (takes effect when a model is next loaded)")
        self.act_force_cpu.toggled.connect(self._set_force_cpu)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        for a in (self.act_new, self.act_open):
            self.file_menu.addAction(a)
        self.recent_menu = self.file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self.file_menu.addSeparator()
        for a in (self.act_save, self.act_save_as):
            self.file_menu.addAction(a)
        self.file_menu.addSeparator()
        for a in (self.act_import, self.act_export, self.act_export_audio,
                  self.act_export_clip_audio):
            self.file_menu.addAction(a)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_quit)

        self.edit_menu = bar.addMenu("&Edit")
        self.edit_menu.addAction(self.act_undo)
        self.edit_menu.addAction(self.act_redo)
        edit_actions = list(self.editor.edit_actions())
        if edit_actions:
            self.edit_menu.addSeparator()
            self._add_actions(self.edit_menu, edit_actions)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.act_remove_clip)
        self.edit_menu.addAction(self.act_cancel_job)

        self.view_menu = bar.addMenu("&View")
        view_actions = list(self.editor.view_actions())
        if view_actions:
            self._add_actions(self.view_menu, view_actions)
            self.view_menu.addSeparator()
        self.view_menu.addAction(self.track_dock.toggleViewAction())
        for dock in (self.generate_dock, self.library_dock, self.map_dock):
            self.view_menu.addAction(dock.toggleViewAction())

        self.models_menu = bar.addMenu("&Models")
        self._add_actions(self.models_menu, [self.act_generate, self.act_import_map, None,
                                             self.act_force_cpu])
        from gui.model_catalogue import add_catalogue_action  # noqa: PLC0415 - issue 16.11
        add_catalogue_action(self, self.models_menu)

        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(self.act_shortcuts)
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.act_about)

    @staticmethod
    def _add_actions(menu, actions) -> None:
        """Add actions; None in the list becomes a separator, a QMenu a submenu."""
        for a in actions:
            if a is None:
                menu.addSeparator()
            elif isinstance(a, QAction):
                menu.addAction(a)
            else:
                menu.addMenu(a)

    def _build_toolbar(self) -> None:
        self.toolbar = QToolBar("Song", self)
        self.toolbar.setObjectName("songToolbar")
        self.toolbar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.toolbar.addWidget(QLabel(" Clip "))
        self.clip_combo = QComboBox(self)
        self.clip_combo.setObjectName("clipCombo")
        self.clip_combo.setMinimumWidth(260)
        self.clip_combo.setToolTip("The clip shown in the piano roll")
        self.clip_combo.activated.connect(self._clip_chosen)
        self.toolbar.addWidget(self.clip_combo)
        self.toolbar.addSeparator()
        stack = self.undo_stack
        self.undo_button = _UndoRedoButton("Undo", self.act_undo, stack.canUndo(), stack.undoText(),
                                           stack.canUndoChanged, stack.undoTextChanged, self)
        self.redo_button = _UndoRedoButton("Redo", self.act_redo, stack.canRedo(), stack.redoText(),
                                           stack.canRedoChanged, stack.redoTextChanged, self)
        self.toolbar.addWidget(self.undo_button)
        self.toolbar.addWidget(self.redo_button)
        self.view_menu.addAction(self.toolbar.toggleViewAction())

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.song_info = QLabel()
        self.song_info.setObjectName("songInfo")
        self.job_progress = QProgressBar()
        self.job_progress.setObjectName("jobProgress")
        self.job_progress.setRange(0, 1000)
        self.job_progress.setFixedWidth(180)
        self.job_progress.setTextVisible(False)
        self.job_progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.setToolTip("Stop the running job (Ctrl+.)")
        self.cancel_button.clicked.connect(lambda: self.runner.cancel())
        self.cancel_button.hide()
        self.device_label = QLabel()
        self.device_label.setObjectName("deviceLabel")
        # Nothing asks TensorFlow at start-up (importing it stalls the window); the model
        # service reads the device in its worker after the first model load.
        self._device_changed(self.models.device_text)
        status.addPermanentWidget(self.song_info)
        status.addPermanentWidget(self.job_progress)
        status.addPermanentWidget(self.cancel_button)
        status.addPermanentWidget(self.device_label)

    def _build_transport(self) -> None:
        """Play/stop and the playhead (issue 7): a toolbar under the song toolbar."""
        from gui.transport import Transport, TransportBar  # noqa: PLC0415

        self.transport = Transport(self.song, self)
        self.transport_bar = TransportBar(self.transport, self)
        self.transport_bar.setObjectName("transportBar")
        # its natural width: without this the toolbar stretches the bar and opens wide gaps
        self.transport_bar.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.transport_toolbar = QToolBar("Transport", self)
        self.transport_toolbar.setObjectName("transportToolbar")
        self.transport_toolbar.setMovable(False)
        self.transport_toolbar.addWidget(self.transport_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.transport_toolbar)
        self.view_menu.addAction(self.transport_toolbar.toggleViewAction())
        # The bar's Space shortcut is window-wide; a text field that has the focus still
        # takes Space (Qt gives line edits and spin boxes the ShortcutOverride for it).
        self.audio_label = QLabel("No sound")
        self.audio_label.setObjectName("audioLabel")
        self.audio_label.setToolTip(self.transport.status or "Audio output")
        self.audio_label.setVisible(bool(self.transport.status))
        self.statusBar().addPermanentWidget(self.audio_label)
        self.transport.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.transport.playhead_moved.connect(self._transport_playhead)
        requested = getattr(self.editor, "playhead_requested", None)
        if requested is not None:
            requested.connect(self._editor_playhead_requested)
        status = getattr(self.editor, "status_message", None)
        if status is not None:
            status.connect(lambda text: self.statusBar().showMessage(text, 2000))
        self.clip_library.tree.itemClicked.connect(self._library_clicked)

    def _transport_playhead(self, beat: float) -> None:
        """Show the playhead in the piano roll: song beats go through the clip's sections."""
        playing = self.transport.playing_clip
        if playing is None:
            self._call_editor("set_song_position", beat)
        elif playing == self.current_clip_id:
            self._call_editor("set_playhead", beat)

    def _editor_playhead_requested(self, clip_beat: float) -> None:
        """A click on the piano roll's ruler: start playback there next time (or jump now)."""
        if self.transport.clip_id is None:
            song_position = getattr(self.editor, "song_position", None)
            self.transport.set_playhead(song_position(clip_beat) if song_position else clip_beat)
        else:
            self.transport.set_playhead(clip_beat)

    def _update_transport_focus(self) -> None:
        """Space plays the arrangement when the shown clip is in it, otherwise the clip alone
        (so an empty arrangement or an unplaced clip can still be heard from the piano roll)."""
        clip = self.current_clip_id
        in_song = clip is None or any(s.clip_id == clip for s in self.song.sections)
        self.transport.set_clip(None if in_song else clip)

    def _library_clicked(self, item, _column: int = 0) -> None:
        """A single click on a clip in the library auditions it (plain clicks only, so
        ctrl/shift-clicking to pick clips for interpolation stays quiet)."""
        from PySide6.QtWidgets import QApplication  # noqa: PLC0415

        if QApplication.keyboardModifiers() != Qt.KeyboardModifier.NoModifier:
            return
        clip_id = item.data(0, Qt.ItemDataRole.UserRole)
        if clip_id:
            self._audition(clip_id)

    def _connect(self) -> None:
        self.undo_stack.cleanChanged.connect(self._stack_changed)
        self.undo_stack.indexChanged.connect(self._stack_changed)
        self.track_list.visible_tracks_changed.connect(self._visible_tracks_changed)
        self.track_list.edit_track_changed.connect(self._edit_track_changed)
        editor_edit_track = getattr(self.editor, "edit_track_changed", None)
        if editor_edit_track is not None:  # the roll has its own track chooser: keep in step
            editor_edit_track.connect(self._editor_edit_track_changed)
        self.runner.started.connect(self._job_started)
        self.runner.progress.connect(self._job_progress)
        self.runner.failed.connect(self._job_failed)
        self.runner.cancelled.connect(
            lambda what: self.statusBar().showMessage(f"Cancelled: {what}", 5000))
        self.runner.finished.connect(
            lambda what: self.statusBar().showMessage(f"Done: {what}", 3000))
        self.runner.busy_changed.connect(self._job_busy)

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

    def _song_changed(self, event: str, **details) -> None:
        if event == "clip_added" and self.current_clip_id in self.song.clips:
            # one row more: rebuilding the chooser for each of 64 new clips in a song of a
            # thousand cost 1.2 s (cProfile), the note count another 0.5 s
            self._add_clip_row(self.song.clips[details["clip_id"]])
            self._info_timer.start()
            return
        if event == "clip_removed" and details.get("clip_id") != self.current_clip_id:
            index = self.clip_combo.findData(details.get("clip_id"))  # undoing a batch: a row less each
            if index >= 0:
                was = self.clip_combo.blockSignals(True)
                self.clip_combo.removeItem(index)
                self.clip_combo.setEnabled(bool(self.song.clips))
                self.clip_combo.blockSignals(was)
                self._info_timer.start()
                return
        if event in ("reset", "clip_added", "clip_removed", "clip_changed"):
            if event != "clip_changed" or details.get("track_id") is None:
                self._refresh_clips()
        if event == "reset":
            self._sync_editor()
            self._update_title()
        if event in ("reset", "sections") and getattr(self, "transport", None) is not None:
            self._update_transport_focus()
        self._update_song_info()

    # ================================================================= clips and the editor
    def _refresh_clips(self) -> None:
        """Fill the clip chooser; keep the current clip when it still exists."""
        clips = self.song.clips
        previous = self.current_clip_id
        if previous not in clips:
            in_arrangement = [s.clip_id for s in self.song.sections if s.clip_id in clips]
            self.current_clip_id = (in_arrangement or list(clips) or [None])[0]
        self.clip_combo.blockSignals(True)
        self.clip_combo.clear()
        for clip in clips.values():
            self._add_clip_row(clip)
        index = self.clip_combo.findData(self.current_clip_id)
        self.clip_combo.setCurrentIndex(max(index, 0))
        self.clip_combo.setEnabled(bool(clips))
        self.clip_combo.blockSignals(False)
        if self.current_clip_id != previous:  # the shown clip went away: show the new one
            self._set_current_clip(self.current_clip_id)

    def _add_clip_row(self, clip: Clip) -> None:
        bpb = self.song.beats_per_bar
        bars = clip.length / bpb if bpb else 0
        was = self.clip_combo.blockSignals(True)
        self.clip_combo.addItem(f"{clip.name}  ·  {bars:g} bars  ·  {clip.note_count()} notes", clip.id)
        self.clip_combo.setEnabled(True)
        self.clip_combo.blockSignals(was)

    def _clip_chosen(self, index: int) -> None:
        clip_id = self.clip_combo.itemData(index)
        if clip_id and clip_id != self.current_clip_id:
            self._set_current_clip(clip_id)

    def _call_editor(self, name: str, *args) -> None:
        fn = getattr(self.editor, name, None)
        if fn is not None:
            fn(*args)

    def _sync_editor(self) -> None:
        """Tell the editor the clip, the visible tracks and the edited track."""
        if self.current_clip_id is not None:
            self._call_editor("set_clip", self.current_clip_id)
        self._call_editor("set_visible_tracks", self.track_list.visible_track_ids())
        edit_id = self.track_list.edit_track_id()
        if edit_id:
            self._call_editor("set_edit_track", edit_id)

    def _visible_tracks_changed(self, track_ids: list) -> None:
        self._call_editor("set_visible_tracks", list(track_ids))

    def _editor_edit_track_changed(self, track_id: str) -> None:
        if track_id and track_id != self.track_list.edit_track_id():
            self.track_list.set_edit_track(track_id)

    def _edit_track_changed(self, track_id: str) -> None:
        if track_id:
            self._call_editor("set_edit_track", track_id)

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
        self.current_clip_id = None
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
        clip_id = self.current_clip_id
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

    # ================================================================= jobs
    def _job_started(self, description: str) -> None:
        self._job_title = description
        self.statusBar().showMessage(description)

    def _job_progress(self, fraction: float, message: str) -> None:
        self.job_progress.setValue(int(round(fraction * 1000)))
        if message:
            self.statusBar().showMessage(message)

    def _job_busy(self, busy: bool) -> None:
        self.job_progress.setValue(0)
        self.job_progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.act_cancel_job.setEnabled(busy)

    def _job_failed(self, message: str, detail: str) -> None:
        title = f"{self._job_title} failed" if self._job_title else "Something went wrong"
        self.statusBar().showMessage(message, 8000)
        dialogs.show_error(self, title, message, detail)

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
    @staticmethod
    def _dropped_clip(mime) -> str | None:
        from gui.clip_library import CLIP_MIME  # noqa: PLC0415

        if not mime.hasFormat(CLIP_MIME):
            return None
        ids = bytes(mime.data(CLIP_MIME)).decode(errors="replace").split()
        return ids[0] if ids else None

    @staticmethod
    def _dropped_file(mime) -> str | None:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            path = url.toLocalFile()
            if path and path.lower().endswith(OPENABLE_SUFFIXES):
                return path
        return None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._dropped_file(event.mimeData()) or self._dropped_clip(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        clip_id = self._dropped_clip(event.mimeData())
        if clip_id:  # a clip from the library: show it in the piano roll
            event.acceptProposedAction()
            self.show_clip(clip_id)
            return
        path = self._dropped_file(event.mimeData())
        if path:
            event.acceptProposedAction()
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


class _UndoRedoButton(QToolButton):
    """The toolbar's Undo or Redo: a fixed label, the edit it would undo in the tooltip. (The
    undo stack's actions rename themselves after each edit, "Undo Add 8 sampled clips", which
    made the toolbar change width with every edit and pushed the transport bar about; the Edit
    menu keeps those full names.)"""

    def __init__(self, label: str, action: QAction, enabled: bool, edit: str, enabled_changed, edit_changed,
                 parent=None):
        super().__init__(parent)
        self._label = label
        self._keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.setText(label)
        self.setAutoRaise(True)
        self.clicked.connect(action.trigger)
        self.setEnabled(enabled)
        self.name_edit(edit)
        enabled_changed.connect(self.setEnabled)  # the stack's signals, e.g. canUndoChanged
        edit_changed.connect(self.name_edit)  # e.g. undoTextChanged

    @Slot(str)
    def name_edit(self, edit: str) -> None:
        tip = f"{self._label} {edit}" if edit else self._label
        self.setToolTip(tip + (f" ({self._keys})" if self._keys else ""))
