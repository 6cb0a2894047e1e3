"""The clip library: every clip of the song in a list (name, origin, length, model, notes, label).

Selecting rows selects the clips in the session (the map highlights them, the piano roll shows
the last one picked); several rows can be selected (two for an interpolation), and the session
keeps the order they were picked in. A plain click also asks to hear the clip. Rows can be
dragged onto the piano roll or the timeline, out of the program as .mid files, or up and down
the list to put them in another order (Alt+Up / Alt+Down move them a row). The list is
rebuilt from the Song on its change events; it holds no musical data and no selection of its own.

The rows are in the library's order (`Song.clips`), which the project file keeps. The Name
column is sized to the names (the other columns scroll when the panel is narrow), and every
cell's tooltip tells the whole clip. A right-click (or the keys) renames (F2, in place),
duplicates (Ctrl+D, right after the original), deletes (Delete), exports as MIDI and sends the
clips to the end of the timeline; each edit is one undo step.

Also here: the colours of the clip origins (shared with the map) and `clip_pixmap`, a small
piano-roll picture of a clip used as the map's hover preview.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPixmap, QUndoStack
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHeaderView, QLabel, QMenu, QToolTip,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from core.session import Session
from core import arrangement as arr
from core.errors import UserError
from core.song import Clip, Song
from gui import dialogs
from gui.commands import AddClipsCommand, RemoveClipsCommand, SongCommand
from gui.drag_formats import CLIP_MIME, clip_ids_from_mime, clip_mime
from gui.timeline_export import clip_drag_files, export_clip, safe_file_name

ORIGIN_COLORS = {
    "sampled": "#e8a33d",
    "imported": "#5fa8e8",
    "interpolated": "#b57be8",
    "similar": "#4cc38a",
    "attribute": "#e86a6a",
    "section space": "#e8d25f",
    "drawn": "#8b93a1",
}
ROLE_COLORS = {"melody": "#e8a33d", "bass": "#5fa8e8", "drums": "#4cc38a", "other": "#c0c6d0"}
LABEL_PALETTE = ("#e8a33d", "#5fa8e8", "#b57be8", "#4cc38a", "#e86a6a", "#e8d25f", "#5fd3d3",
                 "#e87fc0", "#9fd35f", "#c0c6d0")
COLUMNS = ("Name", "Origin", "Bars", "Model", "Notes", "Label")
LABEL_COLUMN = COLUMNS.index("Label")
_EDITABLE = (Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDragEnabled
             | Qt.ItemFlag.ItemIsEditable)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
NAME_MIN_PX = 90  # the Name column is sized to the longest name within these bounds
NAME_MAX_PX = 260


def origin_color(origin: str) -> QColor:
    return QColor(ORIGIN_COLORS.get(origin, "#c0c6d0"))


def song_labels(song) -> list[str]:
    """The labels whose colours the library and the map share: the clips' and the section spaces'."""
    found = {c.label for c in song.clips.values() if c.label}
    found |= {label for _model, label in getattr(song, "spaces", {})}
    return sorted(found)


def label_color(label: str | None, labels: list[str]) -> QColor:
    if not label:
        return QColor("#5d6470")
    return QColor(LABEL_PALETTE[labels.index(label) % len(LABEL_PALETTE)] if label in labels
                  else LABEL_PALETTE[0])


_DOTS: dict[str, QIcon] = {}


def _dot(color: QColor, size: int = 10) -> QIcon:
    key = f"{color.name()}/{size}"
    if key not in _DOTS:
        _DOTS[key] = _make_dot(color, size)
    return _DOTS[key]


def _make_dot(color: QColor, size: int) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pm)


def clip_pixmap(song: Song, clip: Clip, width: int = 220, height: int = 90) -> QPixmap:
    """A small piano-roll picture of a clip: one colour per track role, bar lines."""
    pm = QPixmap(width, height)
    pm.fill(QColor("#181a1e"))
    p = QPainter(pm)
    length = max(clip.length, 1e-6)
    pitches = [n.pitch for _, n in clip.all_notes()]
    lo, hi = (min(pitches) - 2, max(pitches) + 2) if pitches else (58, 70)
    hi = max(hi, lo + 12)
    row = height / (hi - lo + 1)
    bpb = song.beats_per_bar or 4.0
    p.setPen(QColor("#2a2f37"))
    bar = 0.0
    while bar < length:
        x = int(bar / length * width)
        p.drawLine(x, 0, x, height)
        bar += bpb
    p.setPen(Qt.PenStyle.NoPen)
    for tid, notes in clip.notes.items():
        try:
            role = song.track(tid).role
        except KeyError:
            role = tid if tid in ROLE_COLORS else "other"
        p.setBrush(QColor(ROLE_COLORS.get(role, ROLE_COLORS["other"])))
        for n in notes:
            x = n.start / length * width
            w = max((n.end - n.start) / length * width - 0.5, 1.5)
            y = (hi - n.pitch) * row
            p.drawRect(QRectF(x, y, w, max(row, 1.5)))
    p.setPen(QColor("#343a44"))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(0, 0, width - 1, height - 1)
    p.end()
    return pm


class _ClipTree(QTreeWidget):
    """A QTreeWidget whose rows drag out as clip ids, and as .mid files for outside the program."""

    reorder_requested = Signal(list, int)  # clip ids, the row they go before (count: the end)

    def __init__(self, song: Song, parent=None):
        super().__init__(parent)
        self.song = song

    def _ours(self, event) -> list[str]:
        """The clips of this song a drag carries (from this list or the map), else []."""
        ids = clip_ids_from_mime(event.mimeData())
        return ids if ids and all(c in self.song.clips for c in ids) else []

    def drop_row(self, pos) -> int:
        """The row a drop at `pos` (viewport coordinates) puts clips before."""
        item = self.itemAt(pos)
        if item is None:
            return self.topLevelItemCount()
        row = self.indexOfTopLevelItem(item)
        return row + 1 if pos.y() > self.visualItemRect(item).center().y() else row

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self._ours(event):
            super().dragEnterEvent(event)
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()  # files from outside go on to the window (open / import)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self._ours(event):
            super().dragMoveEvent(event)  # draws the drop indicator
            # Copy, not Move: a Move would have Qt delete the dragged rows itself
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        ids = self._ours(event)
        if not ids:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.reorder_requested.emit(ids, self.drop_row(event.position().toPoint()))

    def mimeData(self, items):  # noqa: N802 - Qt override
        ids = [it.data(0, Qt.ItemDataRole.UserRole) for it in items]
        try:
            paths = clip_drag_files(self.song, ids)
        except (UserError, OSError):
            paths = []  # no file to offer (a full disk): the drag still works inside the program
        return clip_mime(ids, [it.text(0) for it in items], paths)

    def mimeTypes(self):  # noqa: N802
        return [CLIP_MIME]

    def viewportEvent(self, event) -> bool:  # noqa: N802
        """Over any cell, the tooltip of its row (one tooltip per row, kept on the Name cell)."""
        if event.type() == QEvent.Type.ToolTip:
            item = self.itemAt(event.pos())
            if item is not None and item.toolTip(0):
                QToolTip.showText(event.globalPos(), item.toolTip(0), self.viewport(),
                                  self.visualItemRect(item))
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


class ClipLibrary(QWidget):
    """The list of the song's clips."""

    audition_requested = Signal(str)  # a plain click on a row: play that clip
    send_to_timeline = Signal(list)  # clip ids to add at the end of the arrangement
    status_message = Signal(str)
    label_requested = Signal(list)  # a double-click on a Label cell or "Set Label...": the window asks

    def __init__(self, song: Song, session: Session, parent=None, undo_stack: QUndoStack | None = None):
        super().__init__(parent)
        self.song = song
        self.session = session
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = _ClipTree(song, self)
        self.tree.setObjectName("clipLibrary")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.tree.setDropIndicatorShown(True)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setSortingEnabled(False)  # the library's order is the musician's
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)  # F2; double-click shows
        self.tree.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionsMovable(False)
        # the names get the room they need; the other columns scroll when the panel is narrow
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self._name_px = 0  # the Name column's width as last fitted (0: not yet)
        self._name_by_hand = False  # the musician dragged the Name column's edge: keep it
        self._fitting = False
        header.sectionResized.connect(self._section_resized)
        header.moveSection(LABEL_COLUMN, 2)  # after the origin dot: near the name in a narrow dock
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemActivated.connect(
            lambda item, _col: session.show_clip(item.data(0, Qt.ItemDataRole.UserRole)))
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemChanged.connect(self._item_edited)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.reorder_requested.connect(self.move_clips)
        self.tree.setMinimumHeight(150)
        layout.addWidget(self.tree)
        self.hint = QLabel("Right-click a clip for more. Ctrl-click two to interpolate; drag "
                           "clips up or down the list, to the piano roll, the timeline or out "
                           "as MIDI files.")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #8b93a1; font-size: 9pt;")
        layout.addWidget(self.hint)
        self._build_actions()
        self._refresh_timer = QTimer(self)  # a burst of song events (64 new clips) refreshes once
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(80)
        self._refresh_timer.timeout.connect(self.refresh)
        self._added: list[str] = []  # clips added since the last refresh
        self._full = True  # the next refresh rebuilds every row
        self._labels: list[str] = []  # the song's clip labels, sorted: their colours
        song.subscribe(self._on_song)
        session.subscribe(self._on_session, events=["selection"])
        self.refresh()

    # ------------------------------------------------------------------ contents
    def flush(self) -> None:
        """Refresh now if song changes are waiting for the deferred refresh."""
        if self._refresh_timer.isActive():
            self._refresh_timer.stop()
            self.refresh()

    def _tooltip(self, clip: Clip, bars: float, notes: int) -> str:
        lines = [clip.name, f"{clip.origin}" + (f" · {clip.label}" if clip.label else ""),
                 f"{bars:g} bar{'s' if bars != 1 else ''} · {notes} notes"]
        if clip.model:
            lines.append(f"model {clip.model}")
        return "\n".join(lines)

    def _item(self, clip: Clip) -> QTreeWidgetItem:
        bars = clip.length / (self.song.beats_per_bar or 4.0)
        notes = clip.note_count()
        item = QTreeWidgetItem([clip.name, clip.origin, f"{bars:g}", clip.model or "—", str(notes),
                                clip.label or ""])
        if clip.label:  # the label's colour, as the map's "Colour by label" draws it
            item.setIcon(LABEL_COLUMN, _dot(label_color(clip.label, self._labels)))
            item.setToolTip(LABEL_COLUMN, f"Label: {clip.label} (double-click to change it)")
        item.setData(0, Qt.ItemDataRole.UserRole, clip.id)
        item.setFlags(_EDITABLE)  # rename in place (F2)
        item.setIcon(1, _dot(origin_color(clip.origin)))
        # the whole clip; the tree shows it over any cell of the row (_ClipTree.viewportEvent)
        item.setToolTip(0, self._tooltip(clip, bars, notes))
        item.setTextAlignment(2, _RIGHT)
        item.setTextAlignment(4, _RIGHT)
        return item

    def tooltip_at(self, pos) -> str:
        """The tooltip over a point of the list (viewport coordinates): its row's whole clip."""
        item = self.tree.itemAt(pos)
        return item.toolTip(0) if item is not None else ""

    def refresh(self) -> None:
        """Bring the rows in line with the song: append new clips, or rebuild after other changes."""
        self._refresh_timer.stop()
        added, self._added = self._added, []
        full, self._full = self._full, False
        selected = set(self.session.selected_clips)
        self.tree.blockSignals(True)
        labels = song_labels(self.song)
        if labels != self._labels:  # a new label can change the colours of the others
            self._labels, full = labels, True
        if full:
            self.tree.clear()
            added = list(self.song.clips)
        items = [self._item(self.song.clips[c]) for c in added if c in self.song.clips]
        self.tree.addTopLevelItems(items)
        for item in items:
            if item.data(0, Qt.ItemDataRole.UserRole) in selected:
                item.setSelected(True)
        self.tree.blockSignals(False)
        self._fit_name_column([self.song.clips[c].name for c in added if c in self.song.clips], full)
        self._update_actions()

    def _fit_name_column(self, names: list[str], full: bool) -> None:
        """Give the Name column the width of the longest name (within bounds), unless the
        musician has set it by hand; a name wider than that is elided, its tooltip whole."""
        if self._name_by_hand:
            return
        fm = self.tree.fontMetrics()
        longest = sorted(names, key=len, reverse=True)[:32]  # measuring a thousand names is slow
        widest = max((fm.horizontalAdvance(n) for n in longest), default=0)
        pad = 24  # the cell's margins and a little air
        want = min(max(widest + pad, NAME_MIN_PX), NAME_MAX_PX)
        if not full:
            want = max(want, self._name_px)
        if want != self._name_px:  # (asking the header its sizes would lay out every row now)
            self._name_px = want
            self._fitting = True
            self.tree.header().resizeSection(0, want)
            self._fitting = False

    def _section_resized(self, index: int, _old: int, new: int) -> None:
        if index == 0 and not self._fitting and new != self._name_px:
            self._name_by_hand = True

    def _on_song(self, event: str, **details) -> None:
        if event == "clip_added" and not self._full and details.get("index") is None:
            self._added.append(details.get("clip_id"))  # appended at the end: no rebuild
            self._refresh_timer.start()
        elif event in ("reset", "clip_added", "clip_removed", "clip_changed", "tempo", "spaces",
                       "clips_reordered"):
            self._full = True  # (a clip put in the middle of the order rebuilds the rows)
            self._added = []
            self._refresh_timer.start()

    def clip_ids(self) -> list[str]:
        self.flush()
        return [self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                for i in range(self.tree.topLevelItemCount())]

    def row(self, clip_id: str) -> QTreeWidgetItem | None:
        """The row of a clip (None when the library does not show it)."""
        self.flush()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == clip_id:
                return item
        return None

    # ------------------------------------------------------------------ selection
    def selected_ids(self) -> list[str]:
        return self.session.selected_clips

    def select(self, clip_ids, additive: bool = False) -> None:
        """Select these clips in the session (after the ones already selected when additive)."""
        self.session.select_clips(clip_ids, additive)

    def _on_session(self, _event: str, clip_ids: list[str]) -> None:
        """Mark the session's selection in the rows."""
        self.flush()
        chosen = set(clip_ids)
        self.tree.blockSignals(True)
        self.tree.clearSelection()
        last = None
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) in chosen:
                item.setSelected(True)
                last = item
        self.tree.blockSignals(False)
        if last is not None:
            self.tree.scrollToItem(last)
        self._update_actions()

    def _on_selection(self) -> None:
        """Rows picked by the musician: keep the earlier picks' order, then the new ones."""
        now = {it.data(0, Qt.ItemDataRole.UserRole) for it in self.tree.selectedItems()}
        order = [c for c in self.session.selected_clips if c in now]
        order += [c for c in self.clip_ids() if c in now and c not in order]
        self.session.select_clips(order)

    def _clicked(self, item, _column: int = 0) -> None:
        """A plain click auditions the clip (ctrl/shift-clicking to pick clips stays quiet)."""
        if QApplication.keyboardModifiers() != Qt.KeyboardModifier.NoModifier:
            return
        clip_id = item.data(0, Qt.ItemDataRole.UserRole)
        if clip_id:
            self.audition_requested.emit(clip_id)

    # ------------------------------------------------------------------ actions
    def _action(self, text: str, shortcut, tip: str, slot) -> QAction:
        action = QAction(text, self)
        if shortcut:
            keys = [QKeySequence(k) for k in (shortcut if isinstance(shortcut, list) else [shortcut])]
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            tip = f"{tip} ({keys[0].toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _c=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        k = QKeySequence.StandardKey
        self.act_rename = self._action("Rename", "F2", "Rename the clip in the list",
                                       lambda: self.start_rename())
        self.act_duplicate = self._action("Duplicate", "Ctrl+D",
                                          "Copy the selected clips; each copy goes right after its original",
                                          lambda: self.duplicate())
        self.act_delete = self._action("Delete", [k.Delete, Qt.Key.Key_Backspace],
                                       "Remove the selected clips from the library; sections that "
                                       "used them keep an empty slot", lambda: self.delete())
        self.act_export = self._action("Export as MIDI...", "", "Write the clip, once, as a MIDI file",
                                       lambda: self.export_dialog())
        self.act_label = self._action("Set Label...", "",
                                      "Give the selected clips a section label (verse, chorus...)",
                                      lambda: self.label_requested.emit(self._targets()))
        self.act_up = self._action("Move Up", "Alt+Up", "Move the selected clips a row up the list",
                                   lambda: self.move_by(-1))
        self.act_down = self._action("Move Down", "Alt+Down", "Move the selected clips a row down the list",
                                     lambda: self.move_by(1))
        self.act_send = self._action("Send to Timeline", "",
                                     "Add the selected clips as sections at the end of the song",
                                     lambda: self.send())

    def _targets(self) -> list[str]:
        """The clips an action is for: the selection (in picking order), else the shown clip."""
        ids = [c for c in self.session.selected_clips if c in self.song.clips]
        if not ids and self.session.current_clip in self.song.clips:
            ids = [self.session.current_clip]
        return ids

    def _update_actions(self) -> None:
        n = len(self._targets())
        for act in (self.act_duplicate, self.act_delete, self.act_send, self.act_label,
                    self.act_up, self.act_down):
            act.setEnabled(n > 0)
        for act in (self.act_rename, self.act_export):
            act.setEnabled(n == 1)
        self.act_delete.setText("Delete" if n <= 1 else f"Delete {n} Clips")
        self.act_duplicate.setText("Duplicate" if n <= 1 else f"Duplicate {n} Clips")
        self.act_send.setText("Send to Timeline" if n <= 1 else f"Send {n} Clips to Timeline")

    def context_menu(self) -> QMenu:
        """The right-click menu for the selected clips."""
        self._update_actions()
        menu = QMenu(self)
        menu.setObjectName("clipLibraryMenu")
        for act in (self.act_rename, self.act_duplicate, self.act_delete, self.act_label, None,
                    self.act_up, self.act_down, None, self.act_send, self.act_export):
            if act is None:
                menu.addSeparator()
            else:
                menu.addAction(act)
        return menu

    def _context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        clip_id = item.data(0, Qt.ItemDataRole.UserRole)
        if clip_id not in self.session.selected_clips:  # a right-click on another row picks it
            self.session.select_clips([clip_id])
        menu = self.context_menu()
        menu.exec(self.tree.viewport().mapToGlobal(pos))
        menu.deleteLater()

    # ------------------------------------------------------------------ edits (one undo step each)
    def start_rename(self, clip_id: str | None = None) -> bool:
        """Open the name of a clip (the selected one) for editing in place."""
        if clip_id is None:
            ids = self._targets()
            if len(ids) != 1:
                return False
            clip_id = ids[0]
        item = self.row(clip_id)
        if item is None:
            return False
        self.tree.scrollToItem(item)
        self.tree.setCurrentItem(item, 0)
        self.tree.editItem(item, 0)
        return True

    def _item_edited(self, item: QTreeWidgetItem, column: int) -> None:
        """A name typed in place: one undo step, or the old name back when it is blank."""
        if column != 0:
            return
        clip_id = item.data(0, Qt.ItemDataRole.UserRole)
        clip = self.song.clips.get(clip_id)
        if clip is None:
            return
        text = item.text(0)
        if not self.rename(clip_id, text):
            self.tree.blockSignals(True)
            item.setText(0, clip.name)
            self.tree.blockSignals(False)

    def rename(self, clip_id: str, name: str) -> bool:
        """Rename a clip as one undo step; False (and nothing done) for a blank or equal name."""
        clip = self.song.clips.get(clip_id)
        name = " ".join(name.split())
        if clip is None or not name or name == clip.name:
            if clip is not None and not name:
                self.status_message.emit("A clip needs a name; it keeps its old one.")
            return False
        old = clip.name
        self.undo_stack.push(SongCommand(f"Rename Clip {old} to {name}",
                                         lambda: self.song.update_clip(clip_id, name=name),
                                         lambda: self.song.update_clip(clip_id, name=old)))
        return True

    def duplicate(self, clip_ids: list[str] | None = None) -> list[str]:
        """Copy clips as one undo step, each copy right after its original; selects the copies."""
        ids = [c for c in (self._targets() if clip_ids is None else clip_ids) if c in self.song.clips]
        if not ids:
            return []
        order = list(self.song.clips)
        ids.sort(key=order.index)  # place them in library order, so each index stays right
        names = {c.name for c in self.song.clips.values()}
        copies, indices = [], []
        for shift, cid in enumerate(ids):
            clip = self.song.clips[cid]
            base, name, k = f"{clip.name} copy", f"{clip.name} copy", 2
            while name in names:
                name, k = f"{base} {k}", k + 1
            names.add(name)
            copies.append(arr.copy_clip(clip, name))
            indices.append(order.index(cid) + 1 + shift)  # the copies before it are already in
        text = f"Duplicate {self.song.clips[ids[0]].name}" if len(ids) == 1 else f"Duplicate {len(ids)} Clips"
        self.undo_stack.push(AddClipsCommand(self.song, copies, text, indices=indices))
        self.session.select_clips([c.id for c in copies])
        return [c.id for c in copies]

    def move_clips(self, clip_ids: list[str], row: int) -> bool:
        """Put clips (kept in their library order) before row `row` of the list as it stands
        (the list's length: at the end), as one undo step; False when nothing moves."""
        old = list(self.song.clips)
        ids = [c for c in old if c in set(clip_ids)]
        if not ids:
            return False
        row = min(max(int(row), 0), len(old))
        new = [c for c in old[:row] if c not in ids] + ids + [c for c in old[row:] if c not in ids]
        if new == old:
            return False
        text = f"Move {self.song.clips[ids[0]].name}" if len(ids) == 1 else f"Move {len(ids)} Clips"
        self.undo_stack.push(SongCommand(text, lambda: self.song.set_clip_order(new),
                                         lambda: self.song.set_clip_order(old)))
        return True

    def move_by(self, step: int) -> bool:
        """Move the selected clips one row up (step -1) or down (1), as a block."""
        ids = self._targets()
        if not ids:
            return False
        order = list(self.song.clips)
        rows = sorted(order.index(c) for c in ids)
        return self.move_clips(ids, rows[0] - 1 if step < 0 else rows[-1] + 2)

    def delete(self, clip_ids: list[str] | None = None) -> bool:
        """Remove clips from the library as one undo step (sections keep an empty slot)."""
        ids = [c for c in (self._targets() if clip_ids is None else clip_ids) if c in self.song.clips]
        if not ids:
            return False
        used = sum(1 for s in self.song.sections if s.clip_id in ids)
        self.undo_stack.push(RemoveClipsCommand(self.song, ids))
        if used:
            self.status_message.emit(f"Deleted {len(ids)} clip{'s' if len(ids) != 1 else ''}; {used} "
                                     f"section{'s' if used != 1 else ''} that used them "
                                     f"{'are' if used != 1 else 'is'} now empty (Undo brings them back)")
        return True

    def send(self, clip_ids: list[str] | None = None) -> bool:
        """Ask for the clips to be added as sections at the end of the song (the window links
        this to the timeline, which makes it one undo step)."""
        ids = [c for c in (self._targets() if clip_ids is None else clip_ids) if c in self.song.clips]
        if ids:
            self.send_to_timeline.emit(ids)
        return bool(ids)

    def export_dialog(self, clip_id: str | None = None) -> bool:
        """Write one clip as a MIDI file chosen in a dialog (not an edit: no undo step)."""
        if clip_id is None:
            ids = self._targets()
            if len(ids) != 1:
                return False
            clip_id = ids[0]
        clip = self.song.clips.get(clip_id)
        if clip is None:
            return False
        path = dialogs.ask_save_file(self, "Export Clip as MIDI", dialogs.MIDI_FILTER,
                                     safe_file_name(clip.name) + ".mid", ".mid")
        if not path or not dialogs.write_or_report(self, "Could not export MIDI", path,
                                                   lambda: export_clip(self.song, clip_id, path)):
            return False
        self.status_message.emit(f"Exported {os.path.basename(path)}")
        return True

    def _double_clicked(self, item, column: int) -> None:
        """A double-click on a Label cell asks to label the selected clips (that row's at least)."""
        if column != LABEL_COLUMN:
            return
        clip_id = item.data(0, Qt.ItemDataRole.UserRole)
        chosen = self.session.selected_clips
        self.label_requested.emit(list(chosen) if clip_id in chosen else [clip_id])
