"""The clip library: every clip of the song in a list (name, origin, length, model, notes, label).

Selecting rows selects the clips in the session (the map highlights them, the piano roll shows
the last one picked); several rows can be selected (two for an interpolation), and the session
keeps the order they were picked in. A plain click also asks to hear the clip. Rows can be
dragged onto the piano roll or the timeline. The list is rebuilt from the Song on its change
events; it holds no musical data and no selection of its own.

Also here: the colours of the clip origins (shared with the map) and `clip_pixmap`, a small
piano-roll picture of a clip used as the map's hover preview.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from core.session import Session
from core.song import Clip, Song
from gui.drag_formats import CLIP_MIME, clip_mime

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
    """A QTreeWidget whose rows drag out as clip ids."""

    def mimeData(self, items):  # noqa: N802 - Qt override
        return clip_mime([it.data(0, Qt.ItemDataRole.UserRole) for it in items], [it.text(0) for it in items])

    def mimeTypes(self):  # noqa: N802
        return [CLIP_MIME]


class ClipLibrary(QWidget):
    """The list of the song's clips."""

    audition_requested = Signal(str)  # a plain click on a row: play that clip
    label_requested = Signal(list)  # a double-click on a Label cell: label these clips (the window asks)

    def __init__(self, song: Song, session: Session, parent=None):
        super().__init__(parent)
        self.song = song
        self.session = session
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tree = _ClipTree(self)
        self.tree.setObjectName("clipLibrary")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSortingEnabled(False)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.moveSection(LABEL_COLUMN, 1)  # shown beside the name, where a narrow dock still has it
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemActivated.connect(
            lambda item, _col: session.show_clip(item.data(0, Qt.ItemDataRole.UserRole)))
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.tree.setMinimumHeight(150)
        layout.addWidget(self.tree)
        self.hint = QLabel("Ctrl-click two clips to interpolate; drag a clip onto the piano roll.")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #8b93a1; font-size: 9pt;")
        layout.addWidget(self.hint)
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

    def _item(self, clip: Clip) -> QTreeWidgetItem:
        bars = clip.length / (self.song.beats_per_bar or 4.0)
        item = QTreeWidgetItem([clip.name, clip.origin, f"{bars:g}", clip.model or "—",
                                str(clip.note_count()), clip.label or ""])
        if clip.label:  # the label's colour, as the map's "Colour by label" draws it
            item.setIcon(LABEL_COLUMN, _dot(label_color(clip.label, self._labels)))
            item.setToolTip(LABEL_COLUMN, f"Label: {clip.label} (double-click to change it)")
        item.setData(0, Qt.ItemDataRole.UserRole, clip.id)
        item.setIcon(1, _dot(origin_color(clip.origin)))
        tip = f"{clip.name}\n{clip.origin}" + (f" · {clip.label}" if clip.label else "")
        item.setToolTip(0, tip)
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

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

    def _on_song(self, event: str, **details) -> None:
        if event == "clip_added" and not self._full:
            self._added.append(details.get("clip_id"))  # appended at the end: no rebuild
            self._refresh_timer.start()
        elif event in ("reset", "clip_removed", "clip_changed", "tempo", "spaces"):
            self._full = True
            self._added = []
            self._refresh_timer.start()

    def clip_ids(self) -> list[str]:
        self.flush()
        return [self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                for i in range(self.tree.topLevelItemCount())]

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

    def _double_clicked(self, item, column: int) -> None:
        """A double-click on a Label cell asks to label the selected clips (that row's at least)."""
        if column != LABEL_COLUMN:
            return
        clip_id = item.data(0, Qt.ItemDataRole.UserRole)
        chosen = self.session.selected_clips
        self.label_requested.emit(list(chosen) if clip_id in chosen else [clip_id])
