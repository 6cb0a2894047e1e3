"""The track list: which tracks the piano roll shows and which one it edits.

One row per track: a visible checkbox with the track's colour, a marker for the edited track,
the name (double-click to rename; undoable), role, General MIDI program and drum flag.
Which tracks are shown and edited is the session's (core.session), not the song's, so it is not
undoable; the list shows and sets it, and the piano roll follows the same session.
Mute and solo belong to the timeline.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap, QUndoStack
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from core.midi_io import gm_instrument_name
from core.session import Session
from core.song import Song
from gui import piano_roll_style as roll_style
from gui.commands import UpdateTrackCommand

COL_SHOW, COL_EDIT, COL_NAME, COL_ROLE, COL_PROGRAM, COL_DRUM = range(6)
EDIT_MARK = "\u270E"  # a pencil
HEADERS = ["", EDIT_MARK, "Name", "Role", "Program", "Drum"]


def track_color(song: Song, track_id: str) -> QColor:
    """The colour the piano roll draws a track's notes in (so the list, roll and timeline agree)."""
    ids = [t.id for t in song.tracks]
    return roll_style.track_color(ids.index(track_id) if track_id in ids else 0)


def program_name(program: int, is_drum: bool) -> str:
    """'1 · Acoustic Grand Piano' (numbered from 1, as synths show it); the name is core.midi_io's."""
    if is_drum:
        return "Drum kit"
    if 0 <= program <= 127:
        return f"{program + 1} · {gm_instrument_name(program)}"
    return f"Program {program + 1}"


def _swatch(color: QColor, size: int = 12) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(color)
    p.setPen(color.darker(150))
    p.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    p.end()
    return QIcon(pix)


class TrackList(QTreeWidget):
    """Lists the song's tracks; shows and sets the session's shown and edited tracks."""

    visible_tracks_changed = Signal(list)  # track ids, in song order (the session's event)
    edit_track_changed = Signal(str)  # track id ('' when the song has no tracks)

    def __init__(self, song: Song, undo_stack: QUndoStack, session: Session, parent=None):
        super().__init__(parent)
        self.song = song
        self.undo_stack = undo_stack
        self.session = session
        self._filling = False
        self.setObjectName("trackList")
        self.setColumnCount(len(HEADERS))
        self.setHeaderLabels(HEADERS)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(24)
        header.setSectionResizeMode(COL_SHOW, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COL_EDIT, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_ROLE, QHeaderView.ResizeMode.ResizeToContents)
        # name and program share the width: a fixed-width program squeezed the names to
        # "M..." in the window's right-hand column
        header.setSectionResizeMode(COL_PROGRAM, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_DRUM, QHeaderView.ResizeMode.ResizeToContents)
        self.setColumnWidth(COL_SHOW, 46)
        self.setColumnWidth(COL_EDIT, 28)
        self.headerItem().setToolTip(COL_SHOW, "Show the track in the piano roll")
        self.headerItem().setToolTip(COL_EDIT, "The track that new notes are drawn on")
        self.itemChanged.connect(self._item_changed)
        self.currentItemChanged.connect(self._current_changed)
        song.subscribe(self._song_changed)
        session.subscribe(self._session_changed, events=["visible_tracks", "edit_track"])
        self.refresh()

    # ----------------------------------------------------------------- state
    def visible_track_ids(self) -> list[str]:
        return self.session.visible_tracks

    def edit_track_id(self) -> str:
        return self.session.edit_track or ""

    def set_edit_track(self, track_id: str) -> None:
        self.session.edit_track = track_id or None

    def set_track_visible(self, track_id: str, visible: bool) -> None:
        self.session.set_track_visible(track_id, visible)
        self._update_marks()  # a refused change puts the checkbox back

    # ----------------------------------------------------------------- events
    def _session_changed(self, event: str, **details) -> None:
        self._update_marks()
        if event == "edit_track":
            self.edit_track_changed.emit(details["track_id"] or "")
        else:
            self.visible_tracks_changed.emit(list(details["track_ids"]))

    def _song_changed(self, event: str, **_details) -> None:
        if event in ("reset", "tracks"):
            self.refresh()

    def refresh(self) -> None:
        """Rebuild the rows from the song (the session keeps what is shown and edited)."""
        self._filling = True
        try:
            self.clear()
            for track in self.song.tracks:
                item = QTreeWidgetItem()
                item.setData(COL_NAME, Qt.ItemDataRole.UserRole, track.id)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
                item.setIcon(COL_SHOW, _swatch(track_color(self.song, track.id)))
                item.setText(COL_NAME, track.name)
                item.setText(COL_ROLE, track.role.capitalize())
                item.setText(COL_PROGRAM, program_name(track.program, track.is_drum))
                item.setToolTip(COL_PROGRAM, program_name(track.program, track.is_drum))
                item.setText(COL_DRUM, "yes" if track.is_drum else "")
                item.setTextAlignment(COL_DRUM, Qt.AlignmentFlag.AlignCenter)
                item.setTextAlignment(COL_EDIT, Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(COL_NAME, "Double-click to rename")
                self.addTopLevelItem(item)
        finally:
            self._filling = False
        self._update_marks()

    def _update_marks(self) -> None:
        """Set the checkboxes and the edit marker in place (rows are not rebuilt)."""
        self._filling = True
        try:
            normal = QFont(self.font())
            bold = QFont(self.font())
            bold.setBold(True)
            shown = set(self.session.visible_tracks)
            for i in range(self.topLevelItemCount()):
                item = self.topLevelItem(i)
                track_id = item.data(COL_NAME, Qt.ItemDataRole.UserRole)
                item.setCheckState(COL_SHOW, Qt.CheckState.Checked if track_id in shown
                                   else Qt.CheckState.Unchecked)
                edited = track_id == self.session.edit_track
                item.setText(COL_EDIT, EDIT_MARK if edited else "")
                item.setForeground(COL_EDIT, QBrush(track_color(self.song, track_id)))
                for col in range(len(HEADERS)):
                    item.setFont(col, bold if edited else normal)
                if edited and self.currentItem() is not item:
                    self.setCurrentItem(item)
        finally:
            self._filling = False

    # ----------------------------------------------------------------- user input
    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling:
            return
        track_id = item.data(COL_NAME, Qt.ItemDataRole.UserRole)
        if column == COL_SHOW:
            # hiding the edited track would leave nothing to draw on: the session refuses quietly
            self.set_track_visible(track_id, item.checkState(COL_SHOW) == Qt.CheckState.Checked)
        elif column == COL_NAME:
            # Rows are rebuilt when the song announces the rename, so push the command after
            # this signal returns rather than deleting the item that is still being edited.
            name = item.text(COL_NAME)
            QTimer.singleShot(0, lambda: self.rename_track(track_id, name))

    def rename_track(self, track_id: str, name: str) -> None:
        """Rename a track as one undoable step (a blank or unchanged name is ignored)."""
        name = name.strip()
        try:
            old = self.song.track(track_id).name
        except KeyError:
            return
        if name and name != old:
            self.undo_stack.push(UpdateTrackCommand(self.song, track_id,
                                                    f"Rename Track to {name}", name=name))
        else:
            self.refresh()

    def _current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if self._filling or current is None:
            return
        track_id = current.data(COL_NAME, Qt.ItemDataRole.UserRole)
        if track_id:
            self.set_edit_track(track_id)
