"""The piano-roll editor: a keyboard, a bar/beat ruler, the note grid, a velocity lane,
scroll bars and a small tool bar (snap, visible tracks, edited track, zoom, follow).

The Song is the only copy of the notes; the editor repaints when the Song announces a change,
and every edit is one command on the shared QUndoStack. The clip shown and the tracks shown
and edited are the session's (core.session): the editor follows it, and its own controls, a
clip dropped on it and `set_clip` write to it. The main window embeds it:

    editor = PianoRollEditor(song, undo_stack, session=session)   # its own session if none
    editor.attach_transport(transport)   # the playhead follows playback; the ruler moves it
    edit_menu.addActions(editor.edit_actions()); view_menu.addActions(editor.view_actions())

Shortcuts work while the focus is inside the editor (Qt.WidgetWithChildrenShortcut), so the
same keys (arrows, Delete) stay free for other panels.
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette, QUndoStack
from PySide6.QtWidgets import (QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QMenu, QScrollBar,
                               QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from core.session import Session
from core.song import Note, Song
from gui import piano_roll_style as style
from gui.drag_formats import answer, clip_id_from_mime
from gui.edit_commands import DEFAULT_LENGTH, clipboard_from, plural
from gui.piano_roll_keyboard import KeyboardWidget
from gui.piano_roll_ruler import RulerWidget
from gui.piano_roll_state import ROWS, SNAP_CHOICES, RollState
from gui.piano_roll_velocity import VelocityLane
from gui.piano_roll_view import PianoRollView

FOLLOW_MARGIN = 0.1  # fraction of the width kept before the playhead after a page turn


class PianoRollEditor(QWidget):
    selection_changed = Signal()
    playhead_requested = Signal(float)  # the musician clicked the ruler
    status_message = Signal(str)  # short feedback while dragging (pitch and position)
    context_menu_requested = Signal(QPoint, float)  # a right-click on empty grid: position, beat

    _clipboard: list[Note] = []  # shared by every editor in the process

    def __init__(self, song: Song, undo_stack: QUndoStack, parent=None, session: Session | None = None):
        super().__init__(parent)
        self.song = song
        self.undo_stack = undo_stack
        self.session = session if session is not None else Session(song)
        self.state = RollState(song, undo_stack, self.session)
        self.transport = None
        self._follow = False
        self._track_actions: dict = {}
        self.view = PianoRollView(self.state, self)
        self.keyboard = KeyboardWidget(self.state, self)
        self.ruler = RulerWidget(self.state, self)
        self.velocity_lane = VelocityLane(self.state, self)
        self.hbar = QScrollBar(Qt.Horizontal, self)
        self.vbar = QScrollBar(Qt.Vertical, self)
        self._make_actions()
        self._build()
        self.setFocusProxy(self.view)
        for widget in (self.ruler, self.keyboard, self.velocity_lane):
            widget.setFocusPolicy(Qt.ClickFocus)  # a click there keeps the shortcuts working
        st = self.state
        st.selection_changed.connect(self._on_selection)
        st.notes_changed.connect(self._on_notes)
        st.tracks_changed.connect(self._on_tracks)
        st.view_changed.connect(self._sync_scrollbars)
        self.hbar.valueChanged.connect(lambda v: st.set_view(scroll_x=v / st.px_per_beat))
        self.vbar.valueChanged.connect(lambda v: st.set_view(scroll_y=float(v)))
        self.ruler.playhead_requested.connect(self._on_ruler)
        self.view.status_message.connect(self.status_message)
        self.view.context_menu_requested.connect(self.context_menu_requested)
        self.destroyed.connect(st.detach)
        self.session.subscribe(self._on_session, events=["current_clip", "visible_tracks", "edit_track"])
        self.setAcceptDrops(True)
        self._on_selection()
        self._sync_track_controls()
        self._clip_shown()

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        toolbar = QFrame(self)
        toolbar.setObjectName("pianoRollToolbar")
        toolbar.setStyleSheet("#pianoRollToolbar { background: #23272e; border-bottom: 1px solid #15171b; }")
        bar = QHBoxLayout(toolbar)
        bar.setContentsMargins(6, 3, 6, 3)
        bar.setSpacing(4)
        bar.addWidget(QLabel("Snap"))
        self.snap_combo = QComboBox(self)
        for name, beats in SNAP_CHOICES:
            self.snap_combo.addItem(name, beats)
        self.snap_combo.setCurrentText(self.state.snap_name)
        self.snap_combo.setToolTip("Grid for drawing, moving and resizing notes "
                                   "(T = triplets; hold Alt while dragging to ignore it)")
        self.snap_combo.currentIndexChanged.connect(self._on_snap)
        bar.addWidget(self.snap_combo)
        self.tracks_button = QToolButton(self)
        self.tracks_button.setText("Tracks")
        self.tracks_button.setPopupMode(QToolButton.InstantPopup)
        self.tracks_button.setToolTip("Choose which tracks are shown. Drum tracks show only "
                                      "while a drum track is edited (their rows are drum "
                                      "names), other tracks only on piano rows")
        self.tracks_menu = QMenu(self)
        self.tracks_button.setMenu(self.tracks_menu)
        bar.addWidget(self.tracks_button)
        bar.addWidget(QLabel("Edit"))
        self.edit_combo = QComboBox(self)
        self.edit_combo.setToolTip("The track whose notes you edit; other shown tracks are dimmed")
        self.edit_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.edit_combo.setMinimumWidth(150)
        self.edit_combo.currentIndexChanged.connect(self._on_edit_combo)
        bar.addWidget(self.edit_combo)
        bar.addStretch(1)
        short = {self.act_zoom_out_x: "Zoom \u2212", self.act_zoom_in_x: "Zoom +",
                 self.act_zoom_out_y: "Rows \u2212", self.act_zoom_in_y: "Rows +",
                 self.act_zoom_fit: "Fit", self.act_follow: "Follow"}
        for action in (self.act_zoom_out_x, self.act_zoom_in_x, self.act_zoom_out_y,
                       self.act_zoom_in_y, self.act_zoom_fit, self.act_follow):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setText(short[action])  # menus keep the long names
            button.setAutoRaise(True)
            bar.addWidget(button)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        corner = QLabel("", self)
        corner.setStyleSheet(f"background: {style.PANEL.name()}")
        grid.addWidget(corner, 0, 0)
        grid.addWidget(self.ruler, 0, 1)
        grid.addWidget(self.keyboard, 1, 0)
        grid.addWidget(self.view, 1, 1)
        grid.addWidget(self.vbar, 1, 2)
        lane_label = QLabel("Velocity", self)
        lane_label.setAlignment(Qt.AlignRight | Qt.AlignTop)
        lane_label.setStyleSheet(f"background: {style.PANEL.name()}; color: {style.TEXT_DIM.name()};"
                                 " padding: 4px; font-size: 10px")
        grid.addWidget(lane_label, 2, 0)
        grid.addWidget(self.velocity_lane, 2, 1)
        grid.addWidget(self.hbar, 3, 1)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(toolbar)
        outer.addLayout(grid)
        self.view.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        palette = self.palette()
        palette.setColor(QPalette.Window, style.PANEL)
        self.setPalette(palette)
        self.setAutoFillBackground(True)

    def _action(self, text: str, shortcut, tip: str, slot, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        keys = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
        keys = [QKeySequence(k) for k in keys if k]
        if keys:
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            tip = f"{tip} ({keys[0].toString(QKeySequence.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        a = self._action
        self.act_select_all = a("Select All", QKeySequence.SelectAll, "Select every note of the edited track",
                                self.select_all)
        self.act_delete = a("Delete", [QKeySequence.Delete, Qt.Key_Backspace], "Delete the selected notes",
                            self.delete_selection)
        self.act_duplicate = a("Duplicate", "Ctrl+D", "Copy the selected notes to just after themselves",
                               self.duplicate_selection)
        self.act_cut = a("Cut", QKeySequence.Cut, "Cut the selected notes", self.cut)
        self.act_copy = a("Copy", QKeySequence.Copy, "Copy the selected notes", self.copy)
        self.act_paste = a("Paste", QKeySequence.Paste, "Paste the copied notes at the playhead", self.paste)
        self.act_quantise = a("Quantise", "Q", "Move the selected notes' starts onto the snap grid",
                              self.quantise_selection)
        self.act_up = a("Transpose Up", "Up", "Move the selected notes up a semitone",
                        lambda: self.transpose_selection(1))
        self.act_down = a("Transpose Down", "Down", "Move the selected notes down a semitone",
                          lambda: self.transpose_selection(-1))
        self.act_octave_up = a("Octave Up", "Shift+Up", "Move the selected notes up an octave",
                               lambda: self.transpose_selection(12))
        self.act_octave_down = a("Octave Down", "Shift+Down", "Move the selected notes down an octave",
                                 lambda: self.transpose_selection(-12))
        self.act_left = a("Nudge Left", "Left", "Move the selected notes one grid step earlier",
                          lambda: self.nudge_selection(-1, False))
        self.act_right = a("Nudge Right", "Right", "Move the selected notes one grid step later",
                           lambda: self.nudge_selection(1, False))
        self.act_bar_left = a("Bar Earlier", "Shift+Left", "Move the selected notes one bar earlier",
                              lambda: self.nudge_selection(-1, True))
        self.act_bar_right = a("Bar Later", "Shift+Right", "Move the selected notes one bar later",
                               lambda: self.nudge_selection(1, True))
        self._edit_actions = [self.act_select_all, self.act_delete, self.act_duplicate, self.act_cut,
                              self.act_copy, self.act_paste, self.act_quantise, self.act_up,
                              self.act_down, self.act_octave_up, self.act_octave_down, self.act_left,
                              self.act_right, self.act_bar_left, self.act_bar_right]
        st = self.state
        self.act_zoom_in_x = a("Zoom In", "Ctrl+=", "Zoom in horizontally (Ctrl+wheel)",
                               lambda: st.zoom_x(1.25))
        self.act_zoom_out_x = a("Zoom Out", "Ctrl+-", "Zoom out horizontally (Ctrl+wheel)",
                                lambda: st.zoom_x(0.8))
        self.act_zoom_in_y = a("Taller Rows", "Ctrl+Alt+=", "Zoom in vertically (Ctrl+Shift+wheel)",
                               lambda: st.zoom_y(1.2))
        self.act_zoom_out_y = a("Shorter Rows", "Ctrl+Alt+-", "Zoom out vertically (Ctrl+Shift+wheel)",
                                lambda: st.zoom_y(1 / 1.2))
        self.act_zoom_fit = a("Zoom to Fit", "Ctrl+0", "Show the whole clip and all its notes",
                              st.zoom_to_fit)
        self.act_follow = a("Follow Playhead", "", "Scroll the view to keep the playhead visible",
                            self._set_follow, checkable=True)
        self._view_actions = [self.act_zoom_in_x, self.act_zoom_out_x, self.act_zoom_in_y,
                              self.act_zoom_out_y, self.act_zoom_fit, self.act_follow]

    # ----------------------------------------------------------------- public interface
    def edit_actions(self) -> list[QAction]:
        return list(self._edit_actions)

    def view_actions(self) -> list[QAction]:
        return list(self._view_actions)

    def snap_selector(self) -> QComboBox:
        return self.snap_combo

    def set_clip(self, clip_id: str | None) -> None:
        """Show a clip (it becomes the session's current clip); the view starts at its notes."""
        if clip_id == self.state.clip_id:
            self._clip_shown()
        else:
            self.state.set_clip(clip_id)

    def _on_session(self, event: str, **_details) -> None:
        if event == "current_clip":
            self._clip_shown()
        else:
            self._mark_tracks()
        if event == "edit_track":
            self._bring_edited_notes_into_view()

    def _bring_edited_notes_into_view(self) -> None:
        """Another track to edit: when none of its notes are on screen (the drums sit far
        below a melody, and the drum view draws no other notes), scroll to them."""
        st = self.state
        if not st.can_edit():
            return
        arr = st.arrays(st.edit_track)
        h = max(int(st.view_h), 1)
        if len(arr) and not len(arr.visible(st.beat_at(0), st.beat_at(st.view_w),
                                            st.pitch_at(h - 1), st.pitch_at(0))):
            st.centre_on_notes()

    def _clip_shown(self) -> None:
        """A clip came into view: edit a track it has notes on, scroll to its notes."""
        st = self.state
        clip = st.clip()
        if clip is not None and (st.edit_track is None or not clip.track_notes(st.edit_track)):
            with_notes = [t.id for t in self.song.tracks if clip.track_notes(t.id)]
            if with_notes:
                self.set_edit_track(with_notes[0])
        if st.edit_track is None and self.song.tracks:
            self.set_edit_track(self.song.tracks[0].id)
        st.set_view(scroll_x=0.0)
        st.centre_on_notes()
        if self.transport is not None:  # where playback is, in this clip (or no line)
            self._transport_playhead(self.transport.playhead)

    def set_visible_tracks(self, track_ids: Sequence[str]) -> None:
        self.state.set_visible_tracks(track_ids)

    def set_edit_track(self, track_id: str | None) -> None:
        self.state.set_edit_track(track_id)

    def attach_transport(self, transport) -> None:
        """Show playback's playhead here; a click on the ruler moves playback's playhead."""
        self.transport = transport
        transport.playhead_moved.connect(self._transport_playhead)
        self.playhead_requested.connect(self._move_transport)

    def _transport_playhead(self, beat: float) -> None:
        """Song beats (the arrangement playing) go through the sections that use this clip."""
        playing = self.transport.playing_clip
        if playing is None:
            self.set_song_position(beat)
        elif playing == self.state.clip_id:
            self.set_playhead(beat)
        else:  # another clip is auditioned: its beats are not this clip's
            self.state.hide_playhead()

    def _move_transport(self, clip_beat: float) -> None:
        """A click on the ruler: playback starts there next time (or jumps there now)."""
        song_time = self.transport.clip_id is None
        self.transport.set_playhead(self.song_position(clip_beat) if song_time else clip_beat)

    # ----------------------------------------------------------------- a clip dropped here
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        answer(event, clip_id_from_mime(event.mimeData(), self.song))

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        clip_id = answer(event, clip_id_from_mime(event.mimeData(), self.song))
        if clip_id:
            self.session.show_clip(clip_id)

    def set_playhead(self, beat: float) -> None:
        st = self.state
        st.set_playhead(beat)
        if self._follow:
            x = st.x_of(st.playhead)
            if x < 0 or x > st.view_w * (1 - FOLLOW_MARGIN / 2):
                st.set_view(scroll_x=st.playhead - st.view_w * FOLLOW_MARGIN / st.px_per_beat)

    def set_song_position(self, song_beat: float) -> None:
        """Move the playhead from a position in the arrangement (what playback reports): shown
        at the matching place in the clip while a section that uses this clip is playing, and
        not at all elsewhere (a line left where this clip last played would be stale)."""
        clip = self.state.clip()
        if clip is None or clip.length <= 0:
            return
        for section in self.song.sections:
            if section.clip_id == clip.id and section.start <= song_beat < section.end:
                self.set_playhead((song_beat - section.start) % clip.length)
                return
        self.state.hide_playhead()

    def song_position(self, clip_beat: float) -> float:
        """The arrangement position of a beat of this clip (in its first section), for asking
        playback to start where the musician clicked the ruler."""
        clip = self.state.clip()
        for section in self.song.sections:
            if clip is not None and section.clip_id == clip.id:
                return section.start + clip_beat
        return clip_beat

    @property
    def follow_playhead(self) -> bool:
        return self._follow

    @follow_playhead.setter
    def follow_playhead(self, on: bool) -> None:
        self.act_follow.setChecked(bool(on))  # calls _set_follow

    def _set_follow(self, on: bool) -> None:
        self._follow = bool(on)
        if self._follow:
            self.set_playhead(self.state.playhead)

    @property
    def snap(self) -> float:
        """The grid in beats (0 = off)."""
        return self.state.snap

    def set_snap(self, name: str) -> None:
        self.snap_combo.setCurrentText(name)

    def selected_notes(self) -> list[Note]:
        return list(self.state.selection)

    # ----------------------------------------------------------------- edits
    def _target(self):
        st = self.state
        return (st.clip_id, st.edit_track) if st.can_edit() else None

    def _step(self) -> float:
        return self.state.snap if self.state.snap > 0 else DEFAULT_LENGTH

    def select_all(self) -> None:
        self.state.set_selection(self.state.edit_notes())

    def delete_selection(self) -> None:
        target = self._target()
        if target and self.state.selection:
            self.state.set_selection(self.state.edits.delete(*target, self.state.selection))

    def duplicate_selection(self) -> None:
        target = self._target()
        if target and self.state.selection:
            self.state.set_selection(self.state.edits.duplicate(*target, self.state.selection, self.state.snap))

    def copy(self) -> None:
        if self.state.selection:
            PianoRollEditor._clipboard = clipboard_from(self.state.selection)
            self._on_selection()

    def cut(self) -> None:
        target = self._target()
        if target and self.state.selection:
            self.copy()
            self.state.set_selection(self.state.edits.delete(*target, self.state.selection, verb="Cut"))

    def paste(self) -> None:
        target = self._target()
        if target and PianoRollEditor._clipboard:
            self.state.set_selection(
                self.state.edits.paste(*target, PianoRollEditor._clipboard, self.state.playhead))

    def quantise_selection(self) -> None:
        target = self._target()
        if target and self.state.selection:
            grid = self._step()
            name = self.state.snap_name if self.state.snap > 0 else "1/16"
            self.state.set_selection(self.state.edits.quantise(*target, self.state.selection, grid, name))

    def transpose_selection(self, semitones: int) -> None:
        target = self._target()
        if target and self.state.selection:
            self.state.set_selection(self.state.edits.transpose(*target, self.state.selection, semitones))

    def nudge_selection(self, direction: int, by_bar: bool) -> None:
        target = self._target()
        if target and self.state.selection:
            step = self.song.beats_per_bar if by_bar else self._step()
            count = plural(len(self.state.selection))
            text = f"Move {count} a bar {'later' if direction > 0 else 'earlier'}" if by_bar else None
            self.state.set_selection(
                self.state.edits.move(*target, self.state.selection, direction * step, 0, text))

    # ----------------------------------------------------------------- reactions
    def _on_snap(self, index: int) -> None:
        self.state.snap = float(self.snap_combo.itemData(index))
        self.state.snap_name = self.snap_combo.itemText(index)
        self.view.update()

    def _on_ruler(self, beat: float) -> None:
        self.set_playhead(beat)
        self.playhead_requested.emit(beat)

    def _on_selection(self) -> None:
        has = bool(self.state.selection)
        editable = self.state.can_edit()
        for action in (self.act_delete, self.act_duplicate, self.act_cut, self.act_copy,
                       self.act_quantise, self.act_up, self.act_down, self.act_octave_up,
                       self.act_octave_down, self.act_left, self.act_right, self.act_bar_left,
                       self.act_bar_right):
            action.setEnabled(has and (editable or action is self.act_copy))
        self.act_select_all.setEnabled(editable)
        self.act_paste.setEnabled(editable and bool(PianoRollEditor._clipboard))
        self.selection_changed.emit()

    def _on_notes(self) -> None:
        self._on_selection()
        self._sync_scrollbars()

    def _on_tracks(self) -> None:
        self._sync_track_controls()

    def _sync_scrollbars(self) -> None:
        st = self.state
        content_px = (st.content_beats() + 4 * self.song.beats_per_bar) * st.px_per_beat
        for bar, maximum, value, page in (
                (self.hbar, content_px - st.view_w, st.scroll_x * st.px_per_beat, st.view_w),
                (self.vbar, ROWS * st.row_h - st.view_h, st.scroll_y, st.view_h)):
            bar.blockSignals(True)
            bar.setRange(0, max(0, int(maximum)))
            bar.setPageStep(max(1, int(page)))
            bar.setSingleStep(max(1, int(page / 20)))
            bar.setValue(int(round(value)))
            bar.blockSignals(False)

    def _sync_track_controls(self) -> None:
        """Rebuild the track menu and the edit chooser from the song's tracks."""
        self.tracks_menu.clear()
        self._track_actions = {}
        self.edit_combo.blockSignals(True)
        self.edit_combo.clear()
        for i, track in enumerate(self.song.tracks):
            action = self.tracks_menu.addAction(track.name)
            action.setCheckable(True)
            action.toggled.connect(lambda on, tid=track.id: self.session.set_track_visible(tid, on))
            self._track_actions[track.id] = action
            self.edit_combo.addItem(track.name, track.id)
            self.edit_combo.setItemData(i, style.track_color(i), Qt.DecorationRole)
        self.edit_combo.blockSignals(False)
        self._mark_tracks()

    def _mark_tracks(self) -> None:
        """Show the session's shown and edited tracks in the controls (changed in place: this
        runs inside a menu action's own signal)."""
        st = self.state
        for track_id, action in self._track_actions.items():
            was = action.blockSignals(True)
            action.setChecked(track_id in st.visible_tracks)
            action.setEnabled(track_id != st.edit_track)
            action.blockSignals(was)
        self.edit_combo.blockSignals(True)
        self.edit_combo.setCurrentIndex(self.edit_combo.findData(st.edit_track))
        self.edit_combo.blockSignals(False)
        self.tracks_button.setText(f"Tracks ({len(st.visible_tracks)}/{len(self.song.tracks)})")

    def _on_edit_combo(self, index: int) -> None:
        tid = self.edit_combo.itemData(index)
        if tid:
            self.set_edit_track(tid)
