"""The song timeline: arrange sections into a song, fill them with a model, export them.

    timeline = Timeline(song, undo_stack, session, runner, models=model_service)
    timeline.attach_transport(transport)    # follow the playhead; a ruler click moves it
    menu = timeline.arrange_menu(parent)    # the Arrange menu

The timeline shows the song's sections in bars (gui.timeline_canvas) with a header per track
(mute, solo, volume; gui.timeline_headers) and a toolbar: song-form templates, Fill, the model
and temperature for fills, loop, tempo and time signature. Every edit is one undo command
(gui.arrange_commands) built from a pure function of core.arrangement. Filling runs the model
on the job runner; the result comes back as one command.

Selecting a section makes its clip the session's current clip (the piano roll shows it); the
blocks that play the current clip are marked. Fill uses the session's model, which the model
list here shows and sets. A loop region set here is kept in the song; the transport follows it.
"""
from __future__ import annotations

import os
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDoubleSpinBox, QHBoxLayout,
                               QLabel, QLineEdit, QMenu, QScrollBar, QSizePolicy, QSpinBox,
                               QToolBar, QToolButton, QVBoxLayout, QWidget)

from core import arrangement as arr
from core import generation, section_space
from core.errors import UserError
from core.session import Session
from core.song import Section, Song
from gui import dialogs
from gui import timeline_style as ts
from gui.arrange_commands import (ArrangeCommand, SetLoopCommand, SetTempoCommand,
                                  SetTimeSignatureCommand, SetVolumeCommand)
from gui.commands import UpdateTrackCommand
from gui.timeline_canvas import DropTarget, TimelineCanvas
from gui.timeline_export import export_clip, export_section, section_file_name, section_mime
from gui.timeline_headers import TrackHeaders

CHOOSE_CHECKPOINT = "__choose__"
VARY_SIMILARITY = 0.8  # how close a varied phrase stays to the first one


class Timeline(QWidget):
    """The arrangement editor (see the module docstring)."""

    status_message = Signal(str)
    selection_changed = Signal(list)
    # (section id, rewrite): Continue Section… / Rewrite Bars of Section… (gui/sequence_actions.py)
    sequence_requested = Signal(str, bool)

    def __init__(self, song: Song, undo_stack: QUndoStack, session: Session, runner=None,
                 parent=None, models=None):
        super().__init__(parent)
        self.song = song
        self.undo_stack = undo_stack
        self.session = session
        self.runner = runner
        self.transport = None
        self._fill_job = None
        self._rename_editor: QLineEdit | None = None
        self.setObjectName("timeline")
        self.canvas = TimelineCanvas(song, self)
        self.headers = TrackHeaders(song, self.canvas, self)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self._build_toolbar()
        self._build_layout()
        self._build_actions()
        self._connect()
        self.models = models
        if self.models is not None:
            self.models.models_changed.connect(self._fill_models)
        self._fill_models()
        song.subscribe(self._on_song)
        session.subscribe(self._on_session, events=["model", "current_clip"])
        self.canvas.set_current_clip(session.current_clip)
        self.canvas.set_model(session.model)
        self._sync_song_fields()
        self._update_actions()
        QTimer.singleShot(0, self.canvas.zoom_to_fit)

    # ================================================================= building
    def _tool(self, text: str, tip: str, slot=None, menu: QMenu | None = None) -> QToolButton:
        b = QToolButton(self)
        b.setText(text)
        b.setToolTip(tip)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        if menu is not None:
            b.setMenu(menu)
            b.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        if slot is not None:
            b.clicked.connect(lambda _c=False: slot())
        return b

    def _build_toolbar(self) -> None:
        self.form_menu = QMenu("Song Form", self)
        for name, form in arr.FORMS.items():
            act = self.form_menu.addAction(name)
            act.setToolTip(form)
            act.triggered.connect(lambda _c=False, f=form, n=name: self.apply_form(f, n))
        self.form_menu.addSeparator()
        self.form_menu.addAction("Custom Form...").triggered.connect(lambda: self.ask_custom_form())
        self.form_button = self._tool("Form", "Song form: lay out a song form as empty slots "
                                      "(replaces the arrangement; undoable)", menu=self.form_menu)
        self.add_menu = QMenu("Add Section", self)
        for label in arr.LABELS:
            self.add_menu.addAction(arr.label_title(label)).triggered.connect(
                lambda _c=False, lb=label: self.add_section(lb))
        self.add_button = self._tool("Add", "Add an empty section after the selection",
                                     menu=self.add_menu)
        self.fill_button = self._tool("Fill", "Generate clips for the empty slots with the chosen "
                                      "model: one clip per label, reused at every repeat", self.fill)
        self.fill_button.setObjectName("fillButton")
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("timelineModel")
        self.model_combo.setToolTip("The model Fill generates with")
        self.model_combo.setMinimumContentsLength(8)
        self.model_combo.setMaximumWidth(170)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.activated.connect(self._model_activated)
        self.temperature = QDoubleSpinBox(self)
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setValue(0.5)
        self.temperature.setToolTip("Temperature: low is safe and repetitive, high is adventurous")
        self.temperature.setPrefix("temp ")
        self.vary = QCheckBox("Vary", self)
        self.vary.setObjectName("varyBox")
        self.vary.setToolTip("When a section is longer than the model's clips (2 bars), fill it with "
                             "the clip and variations of it (A A' A A'') instead of repeating it")
        self.loop_button = self._tool("Loop", "Loop the selected sections (or the whole song); "
                                      "drag on the ruler to loop any bars", self.toggle_loop)
        self.loop_button.setCheckable(True)
        self.loop_button.setObjectName("loopButton")
        self.tempo = QDoubleSpinBox(self)
        self.tempo.setObjectName("tempoBox")
        self.tempo.setRange(1.0, 999.0)  # what a Song accepts
        self.tempo.setDecimals(1)
        self.tempo.setSuffix(" BPM")
        self.tempo.setKeyboardTracking(False)
        self.tempo.setToolTip("Song tempo")
        self.numerator = QSpinBox(self)
        self.numerator.setRange(1, 32)
        self.numerator.setKeyboardTracking(False)
        self.numerator.setToolTip("Time signature: beats per bar")
        self.denominator = QComboBox(self)
        for d in (2, 4, 8, 16):
            self.denominator.addItem(str(d), d)
        self.denominator.setToolTip("Time signature: the beat's note value")
        self.zoom_button = self._tool("Fit", "Show the whole song (Ctrl+wheel zooms)",
                                      lambda: self.canvas.zoom_to_fit())

    def _build_layout(self) -> None:
        # a QToolBar rather than a row layout: when the window is narrow, what does not fit
        # goes behind its overflow button instead of widening the window
        toolbar = QToolBar("Timeline", self)
        toolbar.setObjectName("timelineToolbar")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)

        def gap(width: int) -> None:
            spacer = QWidget(toolbar)
            spacer.setFixedWidth(width)
            toolbar.addWidget(spacer)

        for w in (self.form_button, self.add_button):
            toolbar.addWidget(w)
        gap(8)
        for w in (self.fill_button, self.model_combo, self.temperature, self.vary):
            toolbar.addWidget(w)
        gap(8)
        toolbar.addWidget(self.loop_button)
        stretch = QWidget(toolbar)
        stretch.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(stretch)
        for w in (self.tempo, QLabel(" "), self.numerator, QLabel("/"), self.denominator):
            toolbar.addWidget(w)
        gap(6)
        toolbar.addWidget(self.zoom_button)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.headers)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self.canvas, 1)
        right.addWidget(self.scrollbar)
        body.addLayout(right, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        toolbar.setStyleSheet(
            "QToolBar#timelineToolbar { background: #23272e; border-bottom: 1px solid #15171b; "
            "spacing: 3px; padding: 2px 4px; }"
            "QToolButton#fillButton { border: 1px solid #b07c2e; color: #f0c27a; padding: 3px 12px; }"
            "QToolButton#fillButton:hover { background: #3a3224; }"
            "QToolButton#fillButton:disabled { border-color: #3b424d; color: #8b93a1; }")
        outer.addWidget(toolbar)
        outer.addLayout(body, 1)

    def _action(self, text: str, shortcut, tip: str, slot) -> QAction:
        action = QAction(text, self)
        keys = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
        keys = [QKeySequence(k) for k in keys if k]
        if keys:
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            tip = f"{tip} ({keys[0].toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _c=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        k = QKeySequence.StandardKey
        self.act_rename = a("Rename Section...", "F2", "Rename the selected section", self.rename_selected)
        self.act_duplicate = a("Duplicate Section", "Ctrl+D",
                               "Repeat the selected sections right after them (same clip)", self.duplicate)
        self.act_delete = a("Delete Section", [k.Delete, Qt.Key.Key_Backspace],
                            "Remove the selected sections; later ones move up", self.delete)
        self.act_unique = a("Make Unique", "Ctrl+U",
                            "Give the selected section its own copy of the clip, so editing it "
                            "leaves the other repeats alone", self.make_unique)
        self.act_share = a("Use This Clip for Every Section of the Label", "",
                           "Every section with this label plays this section's clip", self.share_by_label)
        self.act_fill = a("Fill", "Ctrl+Shift+F", "Generate clips for the selected empty slots (or all empty "
                          "slots) with the chosen model", self.fill)
        self.act_regenerate = a("Regenerate", "Ctrl+Shift+R",
                                "Generate a new clip for the selected section's label, at every "
                                "repeat that shares it", self.regenerate)
        self.act_clear = a("Empty the Slot", "", "Keep the section but take its clip out",
                           self.clear_clip)
        self.act_move_left = a("Move Section Earlier", "Alt+Left", "Swap with the section before",
                               lambda: self.move_selected(-1))
        self.act_move_right = a("Move Section Later", "Alt+Right", "Swap with the section after",
                                lambda: self.move_selected(1))
        self.act_longer = a("Longer by a Bar", "Alt+Up", "Make the selected section a bar longer",
                            lambda: self.resize_selected(1))
        self.act_shorter = a("Shorter by a Bar", "Alt+Down", "Make the selected section a bar shorter",
                             lambda: self.resize_selected(-1))
        self.act_prev = a("Select Previous Section", "Left", "", lambda: self.step_selection(-1))
        self.act_next = a("Select Next Section", "Right", "", lambda: self.step_selection(1))
        self.act_loop_sel = a("Loop Selection", "Ctrl+L", "Loop the selected sections", self.loop_selection)
        self.act_export_section = a("Export Section as MIDI...", "",
                                    "Write the selected section (its clip repeated to fill it) as a "
                                    "MIDI file", self.export_section_dialog)
        self.act_export_clip = a("Export Clip as MIDI...", "",
                                 "Write the selected section's clip, once, as a MIDI file",
                                 self.export_clip_dialog)
        self.act_continue_section = a("Continue Section...", "",
                                      "Add bars after the selected section's music with a sequence "
                                      "model; the continuations land in the library",
                                      lambda: self._ask_sequence(False))
        self.act_rewrite_section = a("Rewrite Bars of Section...", "",
                                     "New candidates for chosen bars of the selected section's music, "
                                     "the other bars kept; the first can go straight into the section",
                                     lambda: self._ask_sequence(True))

    def arrange_menu(self, parent) -> QMenu:
        """The window's Arrange menu: the song forms, then the section actions."""
        menu = QMenu("&Arrange", parent)
        menu.setObjectName("arrangeMenu")
        menu.addMenu(self.form_menu)
        for a in (None, self.act_fill, self.act_regenerate, None, self.act_rename, self.act_duplicate,
                  self.act_delete, self.act_clear, self.act_unique, self.act_share, None,
                  self.act_move_left, self.act_move_right, self.act_longer, self.act_shorter, None,
                  self.act_loop_sel, None, self.act_continue_section, self.act_rewrite_section):
            if a is None:
                menu.addSeparator()
            else:
                menu.addAction(a)
        return menu

    def _connect(self) -> None:
        c = self.canvas
        c.selection_changed.connect(self._selection_changed)
        c.move_requested.connect(self.move_section)
        c.resize_requested.connect(self.resize_section)
        c.drop_requested.connect(self.drop_clip)
        c.rename_requested.connect(self.start_rename)
        c.context_requested.connect(self._context_menu)
        c.loop_requested.connect(self.set_loop)
        c.playhead_requested.connect(self._playhead_requested)
        c.drag_out_requested.connect(self.drag_out)
        c.view_changed.connect(self._sync_scrollbar)
        c.status_message.connect(self.status_message)
        self.scrollbar.valueChanged.connect(lambda v: c.set_scroll(float(v)))
        h = self.headers
        h.mute_toggled.connect(lambda tid, on: self._track_flag(tid, "mute", on))
        h.solo_toggled.connect(lambda tid, on: self._track_flag(tid, "solo", on))
        h.volume_changed.connect(self.set_volume)
        self.tempo.valueChanged.connect(self._tempo_edited)
        self.numerator.valueChanged.connect(lambda _v: self._meter_edited())
        self.denominator.activated.connect(lambda _i: self._meter_edited())

    # ================================================================= models
    def _fill_models(self) -> None:
        """List the service's models and show the session's choice."""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        infos = self.models.infos() if self.models is not None else []
        for info in infos:
            kind = f"  ·  {info.kind}" if getattr(info, "kind", None) else ""
            self.model_combo.addItem(f"{info.name}{kind}", info.name)
        if not infos:
            self.model_combo.addItem("No model", None)
        self.model_combo.addItem("Choose a checkpoint folder...", CHOOSE_CHECKPOINT)
        self.model_combo.blockSignals(False)
        self._show_model()

    def _show_model(self) -> None:
        index = self.model_combo.findData(self.session.model) if self.session.model else -1
        if index < 0 and self.model_combo.itemData(0) is None:
            index = 0  # "No model"
        self.model_combo.blockSignals(True)
        self.model_combo.setCurrentIndex(index)
        self.model_combo.blockSignals(False)

    def model_name(self) -> str | None:
        """The model Fill uses: the session's (None when there is none)."""
        return self.session.model

    def set_model(self, name: str | None) -> None:
        """Choose a listed model (a name the list does not have is ignored)."""
        if name and self.model_combo.findData(name) >= 0:
            self.session.model = name

    def _model_activated(self, index: int) -> None:
        data = self.model_combo.itemData(index)
        if data != CHOOSE_CHECKPOINT:
            if data:
                self.session.model = data
            return
        path = _ask_folder(self)
        if not path or self.models is None:
            self._show_model()
            return
        try:
            from core.musicvae.model_paths import resolve_model  # noqa: PLC0415

            config, resolved = resolve_model(path, None)
        except UserError as exc:
            dialogs.show_error(self, "Cannot use this model", exc.message, exc.detail or "")
            self._show_model()
            return
        name = os.path.basename(resolved.rstrip(os.sep)) or resolved
        self.models.register(name, config, resolved)
        self.set_model(name)

    # ================================================================= session and song state
    def _on_session(self, event: str, **details) -> None:
        if event == "model":
            self._show_model()
            self.canvas.set_model(self.session.model)
        else:
            self.canvas.set_current_clip(details["clip_id"])

    def _on_song(self, event: str, **_details) -> None:
        if event in ("tempo", "reset", "loop"):
            self._sync_song_fields()
        if event == "reset":  # another song was opened: show all of it
            QTimer.singleShot(0, self.canvas.zoom_to_fit)
        if event in ("sections", "reset", "clip_added", "clip_removed"):
            self._update_actions()

    def _sync_song_fields(self) -> None:
        for w in (self.tempo, self.numerator, self.denominator, self.loop_button):
            w.blockSignals(True)
        try:
            self.tempo.setValue(self.song.tempo)
            sig = self.song.time_signatures[0]
            self.numerator.setValue(sig.numerator)
            index = self.denominator.findData(sig.denominator)
            if index < 0:
                self.denominator.addItem(str(sig.denominator), sig.denominator)
                index = self.denominator.count() - 1
            self.denominator.setCurrentIndex(index)
            self.loop_button.setChecked(self.song.loop is not None)
        finally:
            for w in (self.tempo, self.numerator, self.denominator, self.loop_button):
                w.blockSignals(False)

    def _sync_scrollbar(self) -> None:
        c = self.canvas
        limit = max(int(c.content_width() - c.width()), 0)
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, limit)
        self.scrollbar.setPageStep(max(c.width(), 1))
        self.scrollbar.setSingleStep(max(int(c.px_per_beat * c.beats_per_bar), 1))
        self.scrollbar.setValue(int(c.scroll_px))
        self.scrollbar.blockSignals(False)

    # ================================================================= selection
    def selected_ids(self) -> list[str]:
        return list(self.canvas.selected)

    def selected_sections(self) -> list[Section]:
        ids = set(self.canvas.selected)
        return [s for s in arr.ordered(self.song.sections) if s.id in ids]

    def select(self, ids: list[str]) -> None:
        self.canvas.set_selection(list(ids))

    def _selection_changed(self, ids: list) -> None:
        self._update_actions()
        self.selection_changed.emit(list(ids))
        if len(ids) == 1:
            sec = arr.find_section(self.song.sections, ids[0])
            self.canvas.ensure_visible(sec)
            if sec.clip_id is not None:
                self.session.show_clip(sec.clip_id)
            bpb = self.song.beats_per_bar
            self.status_message.emit(
                f"{arr.label_title(sec.label)}: bars {sec.start / bpb + 1:g} to {sec.end / bpb:g}")

    def step_selection(self, step: int) -> None:
        secs = arr.ordered(self.song.sections)
        if not secs:
            return
        ids = [s.id for s in secs]
        cur = self.canvas.selected
        if not cur:
            index = 0 if step > 0 else len(ids) - 1
        else:
            index = min(max(ids.index(cur[0] if step < 0 else cur[-1]) + step, 0), len(ids) - 1)
        self.select([ids[index]])

    def _update_actions(self) -> None:
        secs = self.selected_sections()
        one = len(secs) == 1
        has_clip = one and secs[0].clip_id in self.song.clips
        shared = has_clip and len(arr.sections_sharing(self.song.sections, secs[0].clip_id)) > 1
        for act in (self.act_rename, self.act_move_left, self.act_move_right, self.act_longer,
                    self.act_shorter, self.act_export_section):
            act.setEnabled(one)
        for act in (self.act_duplicate, self.act_delete, self.act_loop_sel):
            act.setEnabled(bool(secs))
        self.act_unique.setEnabled(shared)
        self.act_share.setEnabled(has_clip)
        self.act_export_clip.setEnabled(has_clip)
        self.act_continue_section.setEnabled(has_clip)
        self.act_rewrite_section.setEnabled(has_clip)
        self.act_clear.setEnabled(any(s.clip_id for s in secs))
        self.act_regenerate.setEnabled(one)
        busy = self._fill_job is not None
        self.fill_button.setEnabled(not busy)
        self.act_fill.setEnabled(not busy)
        self.fill_button.setText("Filling..." if busy else "Fill")

    def _ask_sequence(self, rewrite: bool) -> None:
        secs = self.selected_sections()
        if len(secs) != 1 or secs[0].clip_id not in self.song.clips:
            self.status_message.emit("Select one section with music to continue or rewrite it.")
            return
        self.sequence_requested.emit(secs[0].id, rewrite)

    # ================================================================= edits
    def _push(self, text: str, change, select: list[str] | None = None) -> None:
        cmd = ArrangeCommand(self.song, text, change, select)
        self.undo_stack.push(cmd)
        if select is not None:
            self.select(select)

    def _guard(self, fn, *args) -> bool:
        try:
            fn(*args)
        except UserError as exc:
            self.status_message.emit(exc.message)
            return False
        return True

    def apply_form(self, form: str, name: str | None = None) -> None:
        """Replace the arrangement by a form's empty slots (the clips stay in the library)."""
        def go():
            secs = arr.template_sections(form, self.song.beats_per_bar)
            self._push(f"Song Form: {name or form}", secs, [])
            self.canvas.zoom_to_fit()
            self.status_message.emit(f"Laid out {len(secs)} empty sections; press Fill to generate them")
        self._guard(go)

    def ask_custom_form(self) -> None:
        from PySide6.QtWidgets import QInputDialog  # noqa: PLC0415

        text, ok = QInputDialog.getText(self, "Custom Song Form", "Section names in order:",
                                        QLineEdit.EchoMode.Normal, arr.DEFAULT_FORM)
        if ok and text.strip():
            self.apply_form(text, text)

    def add_section(self, label: str, clip_id: str | None = None, length: float | None = None) -> None:
        secs = arr.ordered(self.song.sections)
        sel = self.selected_sections()
        index = ([s.id for s in secs].index(sel[-1].id) + 1) if sel else len(secs)
        if length is None:
            clip = self.song.clips.get(clip_id) if clip_id else None
            length = arr.bars_to_fit(clip.length, self.song.beats_per_bar) if clip else \
                arr.template_bars(label) * self.song.beats_per_bar

        def go():
            new, sec = arr.insert_section(secs, index, label, clip_id, length)
            self._push(f"Add {arr.label_title(sec.label)}", new, [sec.id])
        self._guard(go)

    def drop_clip(self, clip_id: str, target: DropTarget) -> None:
        """A clip dropped from the library: into a slot (the whole section), into one lane of a
        section (that part only), or as a new section between others. One undo step."""
        clip = self.song.clips.get(clip_id)
        if clip is None:
            return
        if target.into is not None and target.track is not None:
            def part():
                sec = arr.find_section(self.song.sections, target.into)
                new_clip, secs = arr.replace_part(self.song, sec.id, target.track, clip_id)
                track = self.song.track(target.track)
                self._push(f"Put {clip.name} in the {track.name} of {arr.label_title(sec.label)}",
                           arr.ArrangementChange(secs, [new_clip]), [sec.id])
                self.session.show_clip(new_clip.id)
                self.status_message.emit(f"{arr.label_title(sec.label)} now plays {new_clip.name}: "
                                         f"its {track.name} from {clip.name}, the other parts as before")
            self._guard(part)
            return
        if target.into is not None:
            sec = arr.find_section(self.song.sections, target.into)
            self._push(f"Put {clip.name} in {arr.label_title(sec.label)}",
                       arr.assign_clip(self.song.sections, [sec.id], clip_id), [sec.id])
            return
        label = clip.label or _guess_label(clip.name)
        length = arr.bars_to_fit(clip.length, self.song.beats_per_bar)

        def go():
            new, sec = arr.insert_section(self.song.sections, target.index, label, clip_id, length)
            self._push(f"Add {clip.name} as {arr.label_title(sec.label)}", new, [sec.id])
        self._guard(go)

    def append_clips(self, clip_ids: list[str]) -> list[str]:
        """Clips sent from the library: one section each at the end of the song, in the order
        given, as one undo step. Returns the new sections' ids."""
        clips = [self.song.clips[c] for c in clip_ids if c in self.song.clips]
        if not clips:
            return []
        added: list[str] = []

        def go():
            secs = arr.ordered(self.song.sections)
            for clip in clips:
                secs, sec = arr.insert_section(secs, len(secs), clip.label or _guess_label(clip.name),
                                               clip.id, arr.bars_to_fit(clip.length, self.song.beats_per_bar))
                added.append(sec.id)
            text = (f"Send {clips[0].name} to the Timeline" if len(clips) == 1
                    else f"Send {len(clips)} Clips to the Timeline")
            self._push(text, secs, list(added))
            self.canvas.ensure_visible(arr.find_section(self.song.sections, added[-1]))
            self.status_message.emit(f"Added {len(clips)} section{'s' if len(clips) != 1 else ''} "
                                     "at the end of the song")
        return list(added) if self._guard(go) else []

    def move_section(self, section_id: str, index: int) -> None:
        def go():
            sec = arr.find_section(self.song.sections, section_id)
            self._push(f"Move {arr.label_title(sec.label)}",
                       arr.move_section(self.song.sections, section_id, index), [section_id])
        self._guard(go)

    def move_selected(self, step: int) -> None:
        sel = self.selected_sections()
        if len(sel) != 1:
            return
        order = [s.id for s in arr.ordered(self.song.sections)]
        index = order.index(sel[0].id) + step
        if 0 <= index < len(order):
            self.move_section(sel[0].id, index)

    def resize_section(self, section_id: str, length: float) -> None:
        def go():
            sec = arr.find_section(self.song.sections, section_id)
            bars = length / self.song.beats_per_bar
            self._push(f"Resize {arr.label_title(sec.label)} to {bars:g} bars",
                       arr.resize_section(self.song.sections, section_id, length), [section_id])
        self._guard(go)

    def resize_selected(self, bars: int) -> None:
        sel = self.selected_sections()
        if len(sel) == 1:
            new = sel[0].length + bars * self.song.beats_per_bar
            if new > 1e-9:
                self.resize_section(sel[0].id, new)

    def duplicate(self) -> None:
        sel = self.selected_ids()
        if not sel:
            return

        def go():
            new, copies = arr.duplicate_sections(self.song.sections, sel)
            names = ", ".join(arr.label_title(c.label) for c in copies)
            self._push(f"Duplicate {names}", new, [c.id for c in copies])
        self._guard(go)

    def delete(self) -> None:
        sel = self.selected_sections()
        if not sel:
            return
        names = ", ".join(arr.label_title(s.label) for s in sel)
        self._push(f"Delete {names}", arr.remove_sections(self.song.sections, [s.id for s in sel]), [])

    def clear_clip(self) -> None:
        sel = [s for s in self.selected_sections() if s.clip_id]
        if sel:
            self._push("Empty the Slot", arr.assign_clip(self.song.sections, [s.id for s in sel], None),
                       [s.id for s in sel])

    def rename_section(self, section_id: str, label: str) -> None:
        def go():
            sec = arr.find_section(self.song.sections, section_id)
            new_label = arr.normalise_label(label)
            if new_label != sec.label:
                self._push(f"Rename {arr.label_title(sec.label)} to {arr.label_title(new_label)}",
                           arr.rename_section(self.song.sections, section_id, new_label), [section_id])
        self._guard(go)

    def make_unique(self) -> None:
        sel = self.selected_sections()
        if len(sel) != 1:
            return
        clip, secs = arr.make_unique(self.song, sel[0].id)
        if clip is None:
            self.status_message.emit("This section already has a clip of its own.")
            return
        self._push(f"Make {arr.label_title(sel[0].label)} Unique",
                   arr.ArrangementChange(secs, [clip]), [sel[0].id])
        self.session.show_clip(clip.id)
        self.status_message.emit(f"{arr.label_title(sel[0].label)} now plays its own copy, {clip.name}")

    def share_by_label(self) -> None:
        sel = self.selected_sections()
        if len(sel) == 1 and sel[0].clip_id:
            self._push(f"Use One Clip for Every {arr.label_title(sel[0].label)}",
                       arr.share_by_label(self.song.sections, sel[0].id), [sel[0].id])

    # ================================================================= rename in place
    def rename_selected(self) -> None:
        sel = self.selected_ids()
        if len(sel) == 1:
            self.start_rename(sel[0])

    def start_rename(self, section_id: str) -> QLineEdit | None:
        """An editor over the section's label band; Enter keeps the name, Escape cancels."""
        self._end_rename(False)
        try:
            sec = arr.find_section(self.song.sections, section_id)
        except UserError:
            return None
        rect = self.canvas.block_rect(sec)
        editor = QLineEdit(self.canvas)
        editor.setObjectName("sectionNameEditor")
        editor.setText(sec.label)
        editor.selectAll()
        completer = QCompleter(list(arr.LABELS), editor)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        editor.setCompleter(completer)
        editor.setGeometry(int(rect.left()) + 2, int(rect.top()) + 1, int(max(rect.width() - 4, 120)),
                           ts.LABEL_H - 2)
        editor.setProperty("section_id", section_id)
        editor.returnPressed.connect(lambda: self._end_rename(True))
        editor.editingFinished.connect(lambda: QTimer.singleShot(0, lambda: self._end_rename(True)))
        editor.installEventFilter(self)
        editor.show()
        editor.setFocus()
        self._rename_editor = editor
        return editor

    def _end_rename(self, keep: bool) -> None:
        editor, self._rename_editor = self._rename_editor, None
        if editor is None:
            return
        section_id = editor.property("section_id")
        text = editor.text()
        editor.hide()
        editor.deleteLater()
        self.canvas.setFocus()
        if keep and text.strip():
            self.rename_section(section_id, text)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self._rename_editor and event.type() == QEvent.Type.KeyPress \
                and event.key() == Qt.Key.Key_Escape:
            self._end_rename(False)
            return True
        return super().eventFilter(obj, event)

    # ================================================================= fill with a model
    def fill(self, section_ids: list[str] | None = None, regenerate: bool = False,
             seed: int | None = None) -> bool:
        """Fill empty slots (the selected ones, else all): one clip per label, reused at repeats.

        Returns True when something was filled or a job was started.
        """
        if self._fill_job is not None:
            self.status_message.emit("A fill is already running.")
            return False
        if section_ids is None:
            sel = self.selected_sections()
            empty_sel = [s.id for s in sel if s.clip_id is None]
            section_ids = empty_sel if (empty_sel or regenerate) else None
            if regenerate:
                section_ids = [s.id for s in sel]
        plan = arr.plan_fill(self.song, section_ids, regenerate=regenerate)
        if plan.empty:
            self.status_message.emit("Nothing to fill: every section has a clip. "
                                     "Use Regenerate for a new clip, or add an empty section.")
            return False
        if not plan.requests:
            self._apply_fill(plan, ({}, ()), regenerate)
            return True
        name = self.model_name()
        if name is None or self.models is None:
            self.status_message.emit("Choose a model to fill with (the list next to Fill).")
            dialogs.show_error(self, "No model to fill with",
                               "Fill needs a model: choose one in the list next to Fill, "
                               "or a checkpoint folder.")
            return False
        labels = ", ".join(plan.requests)
        self._fill_job = True
        vary = VARY_SIMILARITY if self.vary.isChecked() else None
        # a label with a section space of this model takes its clip from the space
        spaces = {label: space for label, space in section_space.spaces_for(self.song, name).items()
                  if label in plan.requests}
        if spaces:
            labels += f" (from the {', '.join(spaces)} space{'s' if len(spaces) > 1 else ''})"
        self.models.run(name, generation.fill_job, dict(plan.requests), float(self.temperature.value()), seed, vary,
                        spaces=spaces or None,
                        on_done=lambda result: self._apply_fill(plan, result, regenerate),
                        on_finish=self._fill_over, description=f"Filling {labels} with {name}")
        self._update_actions()
        return True

    def regenerate(self) -> None:
        sel = self.selected_sections()
        if len(sel) == 1:
            self.fill([sel[0].id], regenerate=True)

    def _fill_over(self) -> None:
        self._fill_job = None
        self._update_actions()

    def _apply_fill(self, plan: arr.FillPlan, result, regenerate: bool) -> None:
        self._fill_over()
        clips, parts = result
        change = arr.fill_change(self.song, plan, clips, parts=parts or None)
        n = sum(1 for s in change.sections if s.id in plan.targets)
        verb = "Regenerate" if regenerate else "Fill"
        self._push(f"{verb} {n} Section{'s' if n != 1 else ''}", change, list(plan.targets))
        made = len(change.new_clips)
        self.status_message.emit(f"Filled {n} section{'s' if n != 1 else ''} with {made} new "
                                 f"clip{'s' if made != 1 else ''}")

    # ================================================================= mixer, tempo, metre, loop
    def _track_flag(self, track_id: str, name: str, on: bool) -> None:
        try:
            track = self.song.track(track_id)
        except KeyError:
            return
        if getattr(track, name) != on:
            verb = {"mute": ("Mute", "Unmute"), "solo": ("Solo", "Unsolo")}[name][0 if on else 1]
            self.undo_stack.push(UpdateTrackCommand(self.song, track_id, f"{verb} {track.name}",
                                                    **{name: bool(on)}))

    def set_volume(self, track_id: str, volume: float) -> None:
        try:
            track = self.song.track(track_id)
        except KeyError:
            return
        if abs(track.volume - volume) > 1e-6:
            self.undo_stack.push(SetVolumeCommand(self.song, track_id, volume))

    def _tempo_edited(self, bpm: float) -> None:
        if abs(bpm - self.song.tempo) > 1e-9:
            self.undo_stack.push(SetTempoCommand(self.song, bpm))

    def _meter_edited(self) -> None:
        num = self.numerator.value()
        den = int(self.denominator.currentData())
        sig = self.song.time_signatures[0]
        if (num, den) != (sig.numerator, sig.denominator):
            self.undo_stack.push(SetTimeSignatureCommand(self.song, num, den))

    def set_loop(self, start, end) -> None:
        """Set (or with None, clear) the loop region as one undoable step."""
        new = None if start is None else (float(start), float(end))
        if new != self.song.loop:
            text = "Clear Loop" if new is None else \
                f"Loop Bars {new[0] / self.song.beats_per_bar + 1:g}-{new[1] / self.song.beats_per_bar:g}"
            self.undo_stack.push(SetLoopCommand(self.song, new, text))

    def loop_selection(self) -> None:
        sel = self.selected_sections()
        if sel:
            self.set_loop(min(s.start for s in sel), max(s.end for s in sel))

    def toggle_loop(self) -> None:
        if self.song.loop is not None:
            self.set_loop(None, None)
        elif self.selected_sections():
            self.loop_selection()
        elif self.song.sections:
            self.set_loop(0.0, arr.arrangement_end(self.song.sections))
        self._sync_song_fields()

    # ================================================================= transport
    def attach_transport(self, transport) -> None:
        """Follow the transport's playhead (the transport follows the song's loop by itself)."""
        if transport is None or transport is self.transport:
            return
        self.transport = transport
        transport.playhead_moved.connect(self._transport_playhead)

    def _transport_playhead(self, beat: float) -> None:
        if self.transport.playing_clip is None:
            self.canvas.set_playhead(beat)
        else:
            self.canvas.set_playhead(None)

    def _playhead_requested(self, beat: float) -> None:
        self.canvas.set_playhead(beat)
        if self.transport is not None:
            self.transport.set_song_playhead(beat)

    # ================================================================= export and drag out
    def export_section_dialog(self) -> bool:
        sel = self.selected_sections()
        if len(sel) != 1:
            return False
        sec = sel[0]
        path = dialogs.ask_save_file(self, "Export Section as MIDI", dialogs.MIDI_FILTER,
                                     section_file_name(self.song, sec), ".mid")
        return bool(path) and self._write(lambda: export_section(self.song, sec, path), path)

    def export_clip_dialog(self) -> bool:
        sel = self.selected_sections()
        if len(sel) != 1 or sel[0].clip_id not in self.song.clips:
            return False
        clip = self.song.clips[sel[0].clip_id]
        path = dialogs.ask_save_file(self, "Export Clip as MIDI", dialogs.MIDI_FILTER,
                                     f"{clip.name}.mid", ".mid")
        return bool(path) and self._write(lambda: export_clip(self.song, clip.id, path), path)

    def _write(self, fn, path: str) -> bool:
        if not dialogs.write_or_report(self, "Could not export MIDI", path, fn):
            return False
        self.status_message.emit(f"Exported {os.path.basename(path)}")
        return True

    def drag_out(self, section_id: str, clip_only: bool = False) -> None:
        """Start dragging a section (or, with Alt, its clip) out of the app as a .mid file."""
        from PySide6.QtGui import QDrag  # noqa: PLC0415

        try:
            mime = section_mime(self.song, section_id, clip_only)
        except UserError as exc:
            self.status_message.emit(exc.message)
            return
        drag = QDrag(self.canvas)
        drag.setMimeData(mime)
        self.status_message.emit("Drop the MIDI file in a folder or a DAW")
        drag.exec(Qt.DropAction.CopyAction)

    # ================================================================= context menu
    def _context_menu(self, section_id: str, global_pos, beat: float) -> None:
        menu = self.context_menu(section_id, beat)
        menu.exec(global_pos)

    def context_menu(self, section_id: str, beat: float = 0.0) -> QMenu:
        menu = QMenu(self)
        if section_id:
            sec = arr.find_section(self.song.sections, section_id)
            label_menu = menu.addMenu("Label")
            for label in arr.LABELS:
                act = label_menu.addAction(arr.label_title(label))
                act.setCheckable(True)
                act.setChecked(label == sec.label)
                act.triggered.connect(lambda _c=False, lb=label, sid=sec.id: self.rename_section(sid, lb))
            label_menu.addSeparator()
            label_menu.addAction(self.act_rename)
            menu.addSeparator()
            for a in (self.act_fill if sec.clip_id is None else self.act_regenerate,
                      None, self.act_continue_section, self.act_rewrite_section,
                      None, self.act_duplicate, self.act_delete, self.act_clear, self.act_unique,
                      self.act_share, None, self.act_loop_sel, None, self.act_export_section,
                      self.act_export_clip):
                if a is None:
                    menu.addSeparator()
                else:
                    menu.addAction(a)
        else:
            insert = menu.addMenu("Insert Empty Section Here")
            index = arr.nearest_boundary(self.song.sections, beat)
            for label in arr.LABELS:
                insert.addAction(arr.label_title(label)).triggered.connect(
                    lambda _c=False, lb=label, i=index: self._insert_empty(lb, i))
            menu.addMenu(self.form_menu)
            menu.addAction(self.act_fill)
        return menu

    def _insert_empty(self, label: str, index: int) -> None:
        def go():
            new, sec = arr.insert_section(self.song.sections, index, label, None,
                                          arr.template_bars(label) * self.song.beats_per_bar)
            self._push(f"Add {arr.label_title(label)}", new, [sec.id])
        self._guard(go)


def _guess_label(name: str) -> str:
    low = (name or "").lower()
    for label in sorted(arr.LABELS, key=len, reverse=True):
        if label in low:
            return label
    return "verse"


def _ask_folder(parent) -> str:
    from PySide6.QtWidgets import QFileDialog  # noqa: PLC0415

    return QFileDialog.getExistingDirectory(parent, "Choose a model folder") or ""
