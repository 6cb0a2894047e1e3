"""The main window: the panels in their places, the menus, the toolbars, the status bar.

The panels do not talk through the window: what the musician has selected, shown and chosen
lives in one core.session.Session that every panel reads and writes. The window builds the
panels, puts them in docks, the centre and the menus, and links playback and status messages.

The window holds one Song and one QUndoStack for its whole life. Everything about the song
on disk (new, open, import, save, export, recent files, autosave, recovery) is done by
gui.document_files.DocumentFiles (`window.files`); the window only hooks up its actions.
"""
from __future__ import annotations


import shiboken6

from PySide6.QtCore import QEvent, QObject, QRect, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QDockWidget, QLabel, QMainWindow,
                               QScrollArea, QSizePolicy, QSplitter, QTabWidget, QToolBar,
                               QWidget)

from core.session import Session
from core.song import Song
from core.song_files import is_openable
from gui import dialogs, drag_formats
from gui.document_files import DocumentFiles, new_song
from gui.clip_chooser import ClipChooser
from gui.clip_library import ClipLibrary
from gui.sequence_actions import ContinueAction
from gui.generate_panel import GeneratePanel
from gui.job_runner import JobRunner
from gui.job_status import JobStatus
from gui.latent_map import LatentMap
from gui.model_service import ModelService
from gui.piano_roll import PianoRollEditor
from gui.section_spaces import SectionSpaces
from gui.timeline import Timeline
from gui.track_list import TrackList
from gui.transport import Transport, TransportBar
from gui.undo_buttons import UndoRedoButton

APP_NAME = "Latent Studio"
# The right-hand column (Generate over the map, clips and tracks): its share of the window's
# width, kept as the window grows or shrinks, within these bounds. At 1280 px that leaves
# the centre about 900 (the piano roll's toolbar needs 840, the timeline's about 890) and the
# column about 380: the Generate panel's rows and a map plot about 370x250.
DOCK_SHARE = 0.30
DOCK_MIN_WIDTH = 360
DOCK_MAX_WIDTH = 720
# saveState's version: a layout saved by an older window (docks in other places) is not
# restored, the default one is kept
LAYOUT_VERSION = 2


class SpacePlaysInNumberBoxes(QObject):
    """Event filter for number boxes: a number has no spaces, so Space there plays and stops
    like everywhere else instead of blanking the value. Text fields keep their Space."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if (event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Space
                and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            return True  # left unaccepted: the window's Space shortcut takes the key
        return False


def default_size(available: QRect) -> QSize:
    """The window's first size on a screen with this free area: most of it, since a piano
    roll, a timeline and the generation column all want room; all of it on a small screen."""
    return QSize(min(available.width(), max(1280, round(available.width() * 0.9))),
                 min(available.height(), max(720, round(available.height() * 0.9))))


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
        # what is selected, shown and chosen: every panel reads and writes it there
        self.session = Session(self.song)
        self.files = DocumentFiles(self.song, self.undo_stack, self.settings, self.runner, self,
                                   lambda text, ms: self.statusBar().showMessage(text, ms),
                                   lambda: self.session.current_clip)
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.resize(default_size(self.available_area()))

        self.models = ModelService(self.runner, self.settings, self)
        self.track_list = TrackList(self.song, self.undo_stack, self.session, self)
        self.editor = PianoRollEditor(self.song, self.undo_stack, self, session=self.session)
        self.continue_action = ContinueAction(self.song, self.undo_stack, self.session, self.models, self,
                                              selected_notes=self.editor.selected_notes)
        self.timeline = Timeline(self.song, self.undo_stack, self.session, self.runner, self,
                                 models=self.models)
        self.clip_library = ClipLibrary(self.song, self.session, self, undo_stack=self.undo_stack)
        self.latent_map = LatentMap(self.song, self.session, self)
        self.generate_panel = GeneratePanel(self.song, self.undo_stack, self.models, self.session,
                                            self.latent_map, self)
        self.transport = Transport(self.song, self)
        self.section_spaces = SectionSpaces(self.song, self.undo_stack, self.session, self.models,
                                            self.runner, self.timeline, self)
        self._build_centre()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_toolbars()
        self.job_status = JobStatus(self.runner, self.models, self)
        self._build_status_bar()
        self._connect()
        self.song.subscribe(self._song_changed)
        # another model has other steering sliders: the Generate panel may need other room
        self.session.subscribe(self._model_changed, events=["model"])
        # a burst of new clips (64 generated ones land in a few chunks) recounts the notes once
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(0)
        self._info_timer.timeout.connect(self._update_song_info)

        self._update_title()
        self._update_song_info()
        self._layout_restored = self._docks_sized = False
        # the right-hand column as last sized, kept as the window changes size (resizeEvent)
        self._known_size: QSize | None = None
        self._dock_share, self._panel_height = DOCK_SHARE, None
        self.generate_dock.installEventFilter(self)
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
        """One column on the right, so the piano roll and the timeline keep the rest of the
        width (the piano roll's toolbar alone needs about 840 px): the Generate panel on top,
        and under it the latent map, the clip library and the track list as tabs. The map is
        the tab in front; see _size_docks for the sizes."""
        right = Qt.DockWidgetArea.RightDockWidgetArea
        scroll = QScrollArea(self)  # the panel scrolls rather than being cut in a tiny window
        scroll.setObjectName("generateScroll")
        scroll.setWidget(self.generate_panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # no taller than the panel: height the window gains goes to the map under it
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.generate_dock = self._dock("Generate", "generateDock", scroll, right)
        self.map_dock = self._dock("Latent Map", "mapDock", self.latent_map, right)
        self.library_dock = self._dock("Clips", "clipDock", self.clip_library, right)
        self.track_dock = self._dock("Tracks", "trackDock", self.track_list, right)
        self.splitDockWidget(self.generate_dock, self.map_dock, Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.map_dock, self.library_dock)
        self.tabifyDockWidget(self.library_dock, self.track_dock)
        # the tabs on top name the docks: their title bars would say it again
        self.setTabPosition(right, QTabWidget.TabPosition.North)
        for dock in (self.map_dock, self.library_dock, self.track_dock):
            dock.topLevelChanged.connect(lambda _f, d=dock: self._title_bar_for(d))
            dock.dockLocationChanged.connect(lambda _a, d=dock: self._title_bar_for(d))
            self._title_bar_for(dock)
        # GroupedDragging: a tab dragged out of the tabs takes its dock along (there is no
        # title bar to drag); a title bar drags its whole group of tabs
        self.setDockOptions(self.dockOptions() | QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.GroupedDragging)
        self.map_dock.raise_()
        self._size_docks()

    def _size_docks(self, share: float = DOCK_SHARE, panel: int | None = None) -> None:
        """Give the right column its share of the window's width and the Generate panel
        its height (by default all it asks for); the map below takes the rest."""
        gen, below = self.generate_dock, self.map_dock
        if gen.isFloating():
            return
        width = max(DOCK_MIN_WIDTH, min(DOCK_MAX_WIDTH, round(self.width() * share)))
        self.resizeDocks([gen], [width], Qt.Orientation.Horizontal)
        if below.isFloating() or self.dockWidgetArea(below) != self.dockWidgetArea(gen):
            return
        if panel is None:  # the panel and the dock's title; one pixel short shows a scroll bar
            panel = gen.sizeHint().height() + 4
        self._panel_height = panel
        self.resizeDocks([gen, below], [panel, max(self.centralWidget().height() - panel, 1)],
                         Qt.Orientation.Vertical)

    def _model_changed(self, _event: str, **_details) -> None:
        QTimer.singleShot(0, self._fit_generate_panel)  # once the panel has its new sliders

    def _fit_generate_panel(self) -> None:
        """Give the Generate panel the height it now asks for, when it no longer fits."""
        if not shiboken6.isValid(self) or self._known_size is None:
            return
        scroll = self.generate_dock.widget()
        need = self.generate_panel.sizeHint().height()
        if need > scroll.viewport().height():
            self._size_docks(self._dock_share,
                             self.generate_dock.height() + need - scroll.viewport().height() + 4)

    def _title_bar_for(self, dock: QDockWidget) -> None:
        """A dock among tabs goes without its title bar (its tab names it and drags it out);
        alone or floating it has one again, to be moved and closed by."""
        tabbed = not dock.isFloating() and bool(self.tabifiedDockWidgets(dock))
        if tabbed != (dock.titleBarWidget() is not None):
            dock.setTitleBarWidget(QWidget(dock) if tabbed else None)

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

        self.act_model_catalogue = self._action(
            "Model &Catalogue…", self.show_model_catalogue, None,
            "Embedded, installed and downloadable models: install from a file or download, remove")
        self.act_model_catalogue.setObjectName("actModelCatalogue")
        self.model_catalogue = None  # the dialog, made the first time it is asked for
        self.act_train_midi = self._action(
            "&Train on my MIDI…", self.show_train_dialog, None,
            "Fine-tune a model (or train one) on a folder of your own MIDI files")
        self.act_train_midi.setObjectName("actTrainMidi")
        self.train_dialog = None
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
        self.files.attach_recent_menu(self.recent_menu)
        self._add_actions(self.file_menu, [
            None, self.act_save, self.act_save_as, None, self.act_import,
            self.section_spaces.act_import_folder, self.act_export,
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
        self._add_actions(self.models_menu, [None, self.continue_action.act_continue,
                                             self.continue_action.act_rewrite])
        self._add_actions(self.models_menu, [None, self.act_model_catalogue, self.act_train_midi])
        self.arrange_menu = self.timeline.arrange_menu(self)
        bar.addMenu(self.arrange_menu)
        self.spaces_menu = self.section_spaces.build_menu(self)  # labels and section spaces
        bar.addMenu(self.spaces_menu)
        self.help_menu = bar.addMenu("&Help")
        self._add_actions(self.help_menu, [self.act_shortcuts, None, self.act_about])

    def _piano_roll_menu(self, pos, beat: float) -> None:
        menu = self.continue_action.roll_menu(beat, self)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        menu.popup(pos)

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
        # takes Space (Qt gives line edits the ShortcutOverride for it); number boxes do not
        # (see _focus_changed).
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
        self.clip_library.status_message.connect(lambda text: message(text, 6000))
        self.clip_library.send_to_timeline.connect(self.timeline.append_clips)
        self.timeline.sequence_requested.connect(self.continue_action.open_section)
        self.editor.context_menu_requested.connect(self._piano_roll_menu)
        self.generate_panel.status_message.connect(lambda text: message(text, 5000))
        self.generate_panel.catalogue_requested.connect(self.show_model_catalogue)
        self.section_spaces.status_message.connect(lambda text: message(text, 8000))
        self.clip_library.label_requested.connect(lambda ids: self.section_spaces.set_label(ids))
        self.files.loaded.connect(self.file_loaded)
        self.files.changed.connect(self._update_title)
        self._space_filter = SpacePlaysInNumberBoxes(self)
        QApplication.instance().focusChanged.connect(self._focus_changed)

    def _focus_changed(self, old, new) -> None:
        """Keep Space for playing. A button that disables itself while its job runs (Generate,
        Interpolate, Variations, Fill) hands the focus to the next widget, often a number box
        where Space and digits would then change a value: the focus goes to the piano roll,
        which shows the result. Number boxes let Space through to the play shortcut."""
        if new is None or not shiboken6.isValid(self) or new.window() is not self:
            return
        if old is not None and shiboken6.isValid(old) and not old.isEnabled() \
                and old.window() is self and new is not self.editor.view:
            self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if isinstance(new, QAbstractSpinBox):
            new.installEventFilter(self._space_filter)  # installing twice keeps one

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
        # the song is what the arrangement plays; the library's count goes in the tooltip
        notes = s.arranged_note_count()
        library = sum(c.note_count() for c in s.clips.values())
        self.song_info.setText(f"{s.tempo:g} BPM   {sig.numerator}/{sig.denominator}   "
                               f"{s.length_bars():g} bars   {len(s.tracks)} tracks   "
                               f"{notes} note{'' if notes == 1 else 's'} in song")
        self.song_info.setToolTip(
            f"The arrangement plays {notes} note{'' if notes == 1 else 's'} "
            f"({len(s.sections)} section{'' if len(s.sections) == 1 else 's'}); the clip library "
            f"holds {library} note{'' if library == 1 else 's'} in {len(s.clips)} "
            f"clip{'' if len(s.clips) == 1 else 's'}")

    def _song_changed(self, event: str, **_details) -> None:
        if event in ("clip_added", "clip_removed"):
            # a burst of new clips recounts the notes once: counting them for each of 64 new
            # clips in a song of a thousand cost 0.5 s (cProfile)
            self._info_timer.start()
            return
        if event == "reset":
            self._update_title()
        self._update_song_info()

    def show_model_catalogue(self):
        """Show the model catalogue (one dialog per window, made on first use)."""
        from gui.model_catalogue import ModelCatalogueDialog  # noqa: PLC0415 - opened rarely

        if self.model_catalogue is None:
            self.model_catalogue = ModelCatalogueDialog(self.models, self)
        else:
            self.model_catalogue.refresh()
        self.model_catalogue.show()
        self.model_catalogue.raise_()
        self.model_catalogue.activateWindow()
        return self.model_catalogue

    # ================================================================= help
    def show_train_dialog(self):
        """Show "Train on my MIDI" (one dialog per window, made on first use; it keeps a run going)."""
        from gui.train_dialog import TrainDialog  # noqa: PLC0415 - opened rarely

        if self.train_dialog is None:
            self.train_dialog = TrainDialog(self.models, self)
        else:
            self.train_dialog.refresh_runs()
        self.train_dialog.show()
        self.train_dialog.raise_()
        self.train_dialog.activateWindow()
        return self.train_dialog

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
            QTimer.singleShot(0, lambda: self.files.open_path(path))

    # ================================================================= layout and closing
    def _restore_layout(self) -> None:
        """Put the window and its docks back as they were, unless that no longer fits: a
        layout saved on a bigger screen (or by an older version) is dropped for the default."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        size = self.settings.value("window/size")
        if geometry is None or state is None or not isinstance(size, QSize):
            return
        available = self.available_area()
        if size.width() > available.width() or size.height() > available.height():
            return  # saved on a bigger screen: its dock sizes would squeeze the centre
        if self.restoreGeometry(geometry) and self.restoreState(state, LAYOUT_VERSION):
            self._layout_restored = True
        else:
            self.resize(default_size(available))

    def available_area(self) -> QRect:
        """The part of the window's screen that windows may use."""
        return self.screen().availableGeometry()

    def _save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("window/size", self.size())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        """The first time the window shows, at its real size, the docks get their default
        sizes (unless the musician's own layout was restored)."""
        super().showEvent(event)
        if not self._docks_sized:
            self._docks_sized = True
            self._known_size = self.size()
            if self._layout_restored:  # its sizes are the musician's: read them once laid out
                QTimer.singleShot(0, self._remember_column)
            else:
                self._size_docks()

    def _remember_column(self) -> None:
        self._known_size = self.size()
        self._dock_share = self.generate_dock.width() / max(self.width(), 1)
        self._panel_height = self.generate_dock.height()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """The window gives room back: the right-hand column keeps its share of the width
        and the Generate panel its height, as the musician last set them, instead of every
        new pixel going to the centre (and every lost one coming out of the panel)."""
        super().resizeEvent(event)
        if self._known_size is None or event.size() == self._known_size:
            return
        self._known_size = event.size()
        self._size_docks(self._dock_share, self._panel_height)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        """The column resized by dragging a separator while the window kept its size: that
        share of the width and that panel height are the ones kept from now on."""
        if (event.type() == QEvent.Type.Resize and obj is self.generate_dock
                and self.size() == self._known_size and not obj.isFloating()
                and QApplication.mouseButtons() != Qt.MouseButton.NoButton):
            self._remember_column()
        return False

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
