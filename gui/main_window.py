"""The main window: menus, the track list dock, the piano roll, the status bar.

The window holds one Song and one QUndoStack for its whole life. Everything about the song
on disk (new, open, import, save, export, recent files, autosave, recovery) is done by
gui.document_files.DocumentFiles (`window.files`); the window only hooks up its actions.
"""
from __future__ import annotations

import traceback

import shiboken6

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QComboBox, QDockWidget, QLabel, QMainWindow, QProgressBar,
                               QPushButton, QScrollArea, QSizePolicy, QToolBar, QToolButton,
                               QVBoxLayout, QWidget)

from core.song import Clip, Song
from core.song_files import is_openable
from gui import dialogs
from gui.document_files import DocumentFiles, new_song
from gui.job_runner import JobRunner
from gui.track_list import TrackList

APP_NAME = "Latent Studio"


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
        self.files = DocumentFiles(self.song, self.undo_stack, self.settings, self.runner, self,
                                   lambda text, ms: self.statusBar().showMessage(text, ms),
                                   lambda: self.current_clip_id)
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
        self.act_new = self._action("&New", self.files.new, k.New, "Start a new, empty song")
        self.act_open = self._action("&Open...", self.files.open, k.Open,
                                     "Open a Latent Studio project or a MIDI file")
        self.act_save = self._action("&Save", self.files.save, k.Save, "Save the project")
        self.act_save_as = self._action("Save &As...", self.files.save_as, k.SaveAs,
                                        "Save the project under a new name")
        self.act_import = self._action("&Import MIDI...", self.files.import_midi, "Ctrl+I",
                                       "Read a MIDI file as a new song (tracks, tempo, meter)")
        self.act_export = self._action("&Export MIDI...", self.files.export_midi, "Ctrl+E",
                                       "Write the song as a type 1 MIDI file for your DAW")
        self.act_export_audio = self._action("Export &Audio (WAV)...", self.files.export_audio, None,
                                             "Render the arrangement to a WAV file")
        self.act_export_clip_audio = self._action("Export &Clip Audio (WAV)...",
                                                  self.files.export_clip_audio, None,
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
        self.files.attach_recent_menu(self.recent_menu)
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
        self.files.loaded.connect(self.file_loaded)
        self.files.replacing.connect(self._document_replacing)
        self.files.changed.connect(self._update_title)

    def _document_replacing(self) -> None:
        self.current_clip_id = None  # the new content picks its own clip to show

    # ================================================================= document state
    def is_modified(self) -> bool:
        return self.files.is_modified()

    def document_name(self) -> str:
        return self.files.document_name()

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
            if path and is_openable(path):
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
            QTimer.singleShot(0, lambda: self.files.open_path(path))

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
        if not self.files.maybe_save():
            event.ignore()
            return
        self.transport.close()
        self.runner.cancel_all()
        self.runner.shutdown(3000)
        self._save_layout()
        self.files.close()  # stops autosaving and drops the recovery copy
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
