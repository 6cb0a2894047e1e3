"""The latent map: every clip of one model that has a code, as a point on a 2-D PCA map.

The map shows the session's model; points are coloured by origin or by label, and the
session's selected clips are drawn larger. The training clips' codes of the model's section
spaces (kept in the song) are drawn as rings in their label's colour, so a space's samples
(labelled clips) can be seen landing among what it learned from. Hovering shows a small piano-roll picture of the
clip; a click selects it in the session and asks to hear it (ctrl-click adds to the selection); dragging a point carries the clip
out like a clip-library row (onto the timeline or the piano roll); a double-click on empty space
asks for that spot to be decoded (the inverse projection: the two map axes, every other
direction at the mean of the codes shown). The projection (core.projection) stays put as
points arrive; "Re-fit" fits it again on all the codes shown. An interpolation's path is
drawn through its clips. Points are drawn by one pyqtgraph ScatterPlotItem.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QDrag, QPainter
from PySide6.QtWidgets import (QApplication, QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from core.projection import Projection
from core.session import Session
from core.song import Song
from gui.clip_library import ORIGIN_COLORS, clip_pixmap, label_color, origin_color, song_labels
from gui.drag_formats import clip_mime

POINT_SIZE = 11
SELECTED_SIZE = 17
PICK_RADIUS_PX = 9
SPACE_RING_SIZE = 13


class LatentMap(QWidget):
    clips_clicked = Signal(list, bool)  # clip ids, additive (ctrl held)
    decode_requested = Signal(object)  # a code (np.ndarray [z]) for the clicked spot
    audition_requested = Signal(str)  # a clicked point: play that clip

    def __init__(self, song: Song, session: Session, parent=None):
        super().__init__(parent)
        self.song = song
        self.session = session
        self.model_name: str | None = None
        self.projection = Projection()
        self._ids: list[str] = []
        self._xy = np.zeros((0, 2))
        self._path_ids: list[str] = []
        self._hover_id: str | None = None
        # a left press on a point: (clip id, press position in viewport pixels, modifiers, double)
        self._press: tuple[str, QPoint, Qt.KeyboardModifier, bool] | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        self.title = QLabel("No model chosen")
        # on its own line, wrapping: beside the controls a narrow dock cut it to "Latent map o"
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setWordWrap(True)
        self.title.setObjectName("mapTitle")
        layout.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(QLabel("Colour by"))
        self.color_combo = QComboBox()
        self.color_combo.addItems(["Origin", "Label"])
        self.color_combo.setToolTip("Colour the points by where the clip came from, or by its label")
        self.color_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addWidget(self.color_combo)
        self.refit_button = QPushButton("Re-fit")
        self.refit_button.setToolTip("Lay the map out again from all the clips shown (points will move)")
        self.refit_button.clicked.connect(self.refit)
        bar.addWidget(self.refit_button)
        layout.addLayout(bar)

        pg.setConfigOptions(antialias=True)
        self.plot = pg.PlotWidget(background="#181a1e")
        self.plot.setObjectName("latentPlot")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        for axis in ("left", "bottom"):
            ax = self.plot.getAxis(axis)
            ax.setPen(pg.mkPen("#343a44"))
            ax.setTextPen(pg.mkPen("#8b93a1"))
        self.plot.getAxis("bottom").setLabel("axis 1", color="#8b93a1")
        self.plot.getAxis("left").setLabel("axis 2", color="#8b93a1")
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        self.plot.setAspectLocked(False)
        self.path_item = pg.PlotDataItem(pen=pg.mkPen("#d9dee7", width=1.5, style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.path_item)
        # the training clips' codes of the model's section spaces: rings under the clips' points
        self.space_points = pg.ScatterPlotItem(size=SPACE_RING_SIZE, hoverable=False)
        self.plot.addItem(self.space_points)
        self._spaces: list[tuple[str, np.ndarray]] = []
        self.scatter = pg.ScatterPlotItem(size=POINT_SIZE, hoverable=False)
        self.plot.addItem(self.scatter)
        self.empty_text = pg.TextItem("", color="#8b93a1", anchor=(0.5, 0.5))
        self.plot.addItem(self.empty_text)
        self.plot.setMinimumHeight(170)
        layout.addWidget(self.plot, 1)

        self.legend = QLabel()
        self.legend.setObjectName("mapLegend")
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("font-size: 9pt; color: #8b93a1;")
        layout.addWidget(self.legend)

        self.preview = QLabel(self)
        self.preview.setWindowFlags(Qt.WindowType.ToolTip)
        self.preview.setObjectName("mapPreview")
        self.preview.setStyleSheet("background: #23272e; border: 1px solid #343a44; padding: 3px;"
                                   " color: #d9dee7;")
        self.preview.hide()

        scene = self.plot.scene()
        scene.sigMouseMoved.connect(self._mouse_moved)
        scene.sigMouseClicked.connect(self._mouse_clicked)
        # presses on a point are handled here (click or drag out); the rest reach pyqtgraph (pan, decode)
        self.plot.viewport().installEventFilter(self)
        song.subscribe(self._on_song)
        session.subscribe(self._on_session, events=["selection", "model"])
        self.clips_clicked.connect(self._clicked)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(80)
        self._refresh_timer.timeout.connect(self.refresh)
        self.model_name = session.model
        self.refresh()

    # ------------------------------------------------------------------ state
    @property
    def selected(self) -> list[str]:
        """The clips drawn highlighted: the session's selection."""
        return self.session.selected_clips

    def _on_session(self, event: str, **details) -> None:
        if event == "model":
            self.set_model(details["name"])
        else:
            self._restyle()

    def _clicked(self, clip_ids: list, additive: bool) -> None:
        self.session.select_clips(clip_ids, additive)
        if clip_ids:
            self.audition_requested.emit(clip_ids[-1])

    def set_model(self, name: str | None, z_size: int | None = None) -> None:
        if name != self.model_name:
            self.model_name = name
            self.projection.reset()
            self._path_ids = []
            self.refresh()

    def show_path(self, clip_ids: list[str]) -> None:
        """Draw a line through these clips' points (an interpolation, first end to last)."""
        self.flush()
        self._path_ids = list(clip_ids)
        self._draw_path()

    def refit(self) -> None:
        codes = self._codes()[1]
        if len(codes):
            self.projection.fit(codes)
        self.refresh()
        self.plot.enableAutoRange()

    def point_of(self, clip_id: str) -> tuple[float, float] | None:
        """Where a clip sits on the map (None when it is not shown)."""
        self.flush()
        if clip_id not in self._ids:
            return None
        x, y = self._xy[self._ids.index(clip_id)]
        return float(x), float(y)

    def shown_ids(self) -> list[str]:
        """The clips drawn as points, in drawing order."""
        self.flush()
        return list(self._ids)

    def flush(self) -> None:
        """Draw now if song changes are waiting for the (debounced) redraw."""
        if self._refresh_timer.isActive():
            self._refresh_timer.stop()
            self.refresh()

    def code_at(self, x: float, y: float) -> np.ndarray | None:
        if not self.projection.is_fitted:
            return None
        return self.projection.inverse([[x, y]])[0]

    # ------------------------------------------------------------------ drawing
    def _codes(self) -> tuple[list[str], np.ndarray]:
        ids, codes = [], []
        size = None
        for clip in self.song.clips.values():
            if clip.latent is None or clip.model != self.model_name:
                continue
            if size is None:
                size = len(clip.latent)
            if len(clip.latent) != size:
                continue
            ids.append(clip.id)
            codes.append(clip.latent)
        return ids, np.asarray(codes, dtype=np.float64).reshape(len(ids), size or 0)

    def _space_sets(self, size: int | None) -> list[tuple[str, np.ndarray]]:
        """(label, training codes) of each usable section space of the map's model."""
        out = []
        for (model, label), entry in sorted(getattr(self.song, "spaces", {}).items()):
            if model != self.model_name or entry.problem is not None:
                continue
            codes = entry.space().codes
            if codes is None or not len(codes) or (size is not None and codes.shape[1] != size):
                continue
            out.append((label, np.asarray(codes, dtype=np.float64)))
        return out

    def _draw_spaces(self) -> None:
        """Rings at the training clips' codes, in the label's colour (by origin: the space colour)."""
        if not self._spaces:
            self.space_points.setData([])
            return
        labels = song_labels(self.song)
        by_label = self.color_combo.currentIndex() == 1
        spots = []
        for label, codes in self._spaces:
            color = label_color(label, labels) if by_label else origin_color("section space")
            pen = pg.mkPen(color, width=2)
            for x, y in self.projection.transform(codes):
                spots.append({"pos": (x, y), "pen": pen, "brush": pg.mkBrush(0, 0, 0, 0)})
        self.space_points.setData(spots)

    def _on_song(self, event: str, **details) -> None:
        if event in ("reset", "clip_added", "clip_removed", "clip_changed", "spaces"):
            self._refresh_timer.start()  # many clips arrive at once: draw once

    def refresh(self) -> None:
        ids, codes = self._codes()
        self._spaces = self._space_sets(codes.shape[1] if len(ids) else None)
        if self.model_name is None:
            self.title.setText("Latent map — choose a model")
        else:
            spaces = f" · {len(self._spaces)} section space{'' if len(self._spaces) == 1 else 's'}" \
                if self._spaces else ""
            self.title.setText(f"Latent map of {self.model_name} — {len(ids)} clip"
                               f"{'' if len(ids) == 1 else 's'}{spaces}")
        if len(ids) == 0 and not self._spaces:
            self._ids, self._xy = [], np.zeros((0, 2))
            self.scatter.setData([])
            self.space_points.setData([])
            self.path_item.setData([], [])
            self.empty_text.setText("Generate clips or import MIDI\nto see them here.")
            self.empty_text.setPos(0, 0)
            self.plot.setRange(xRange=(-1, 1), yRange=(-1, 1))
            self.legend.setText("")
            return
        self.empty_text.setText("")
        first = not self.projection.is_fitted
        shown = [codes] if len(ids) else []
        self.projection.update(np.concatenate(shown + [c for _, c in self._spaces]))
        self._ids, self._xy = ids, (self.projection.transform(codes) if len(ids) else np.zeros((0, 2)))
        if not ids:
            self.scatter.setData([])
        self._draw_spaces()
        self._restyle()
        self._draw_path()
        self._update_legend()
        if first:
            self.plot.enableAutoRange()

    def _colors(self) -> list[QColor]:
        by_label = self.color_combo.currentIndex() == 1
        clips = [self.song.clips[c] for c in self._ids]
        if by_label:
            labels = song_labels(self.song)  # the library's colours, the spaces' rings too
            return [label_color(c.label, labels) for c in clips]
        return [origin_color(c.origin) for c in clips]

    def _restyle(self) -> None:
        if not self._ids:
            return
        if any(c not in self.song.clips for c in self._ids):  # clips went before the redraw
            self.refresh()
            return
        colors = self._colors()
        sel = set(self.selected)
        spots = []
        for cid, (x, y), color in zip(self._ids, self._xy, colors):
            chosen = cid in sel
            spots.append({
                "pos": (x, y), "data": cid, "size": SELECTED_SIZE if chosen else POINT_SIZE,
                "brush": pg.mkBrush(color),
                "pen": pg.mkPen("#ffffff", width=2.5) if chosen else pg.mkPen("#15171b", width=1),
            })
        self.scatter.setData(spots)

    def _draw_path(self) -> None:
        pts = [self.point_of(c) for c in self._path_ids]
        pts = [p for p in pts if p is not None]
        if len(pts) >= 2:
            xs, ys = zip(*pts)
            self.path_item.setData(list(xs), list(ys))
        else:
            self.path_item.setData([], [])

    def _update_legend(self) -> None:
        if self.color_combo.currentIndex() == 1:
            clips = [self.song.clips[c] for c in self._ids]
            everyone = song_labels(self.song)
            shown = {c.label for c in clips if c.label} | {label for label, _ in self._spaces}
            entries = [(label_color(lb, everyone).name(), lb) for lb in everyone if lb in shown]
            if any(not c.label for c in clips):
                entries.append(("#5d6470", "no label"))
        else:
            present = {self.song.clips[c].origin for c in self._ids}
            entries = [(col, name) for name, col in ORIGIN_COLORS.items() if name in present]
        text = "   ".join(f"<span style='color:{c}; font-size:12pt'>●</span> {t}" for c, t in entries)
        if self._spaces:
            text += ("   <span style='font-size:12pt'>○</span> a section space's training clips"
                     + ("" if self.color_combo.currentIndex() == 1 else " (colour by Label shows whose)"))
        self.legend.setText(text + "   <i>hover to preview · click to select · double-click empty space to decode</i>")

    # ------------------------------------------------------------------ mouse
    def _pick(self, scene_pos) -> str | None:
        if not self._ids:
            return None
        vb = self.plot.getViewBox()
        px = vb.mapViewToScene  # view -> scene, compare in pixels
        best, best_d = None, PICK_RADIUS_PX
        pos = np.array([scene_pos.x(), scene_pos.y()])
        for cid, (x, y) in zip(self._ids, self._xy):
            sp = px(pg.Point(float(x), float(y)))
            d = np.hypot(sp.x() - pos[0], sp.y() - pos[1])
            if d <= best_d:
                best, best_d = cid, d
        return best

    def _mouse_moved(self, scene_pos) -> None:
        cid = self._pick(scene_pos)
        if cid == self._hover_id:
            if cid is not None:
                self.preview.move(QCursor.pos() + QPoint(16, 16))
            return
        self._hover_id = cid
        if cid is None or cid not in self.song.clips:
            self.preview.hide()
            return
        self.show_preview(cid, QCursor.pos() + QPoint(16, 16))

    def show_preview(self, clip_id: str, at: QPoint) -> None:
        clip = self.song.clips[clip_id]
        pm = clip_pixmap(self.song, clip, 240, 100)
        painter = QPainter(pm)
        painter.setPen(QColor("#d9dee7"))
        font = painter.font()
        font.setPointSize(8)
        painter.setFont(font)
        painter.drawText(6, 13, f"{clip.name} · {clip.origin}")
        painter.end()
        self.preview.setPixmap(pm)
        self.preview.setToolTip(clip.name)
        self.preview.adjustSize()
        self.preview.move(at)
        self.preview.show()

    def _mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        cid = self._pick(ev.scenePos())
        if ev.double():
            if cid is None:
                view = self.plot.getViewBox().mapSceneToView(ev.scenePos())
                code = self.code_at(view.x(), view.y())
                if code is not None:
                    ev.accept()
                    self.decode_requested.emit(code)
            return
        if cid is not None:
            ev.accept()
            additive = bool(ev.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                               | Qt.KeyboardModifier.ShiftModifier))
            self.clips_clicked.emit([cid], additive)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is not self.plot.viewport():
            return super().eventFilter(watched, event)
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            if event.button() != Qt.MouseButton.LeftButton:
                return False
            at = event.position().toPoint()
            cid = self._pick(self.plot.mapToScene(at))
            if cid is None:
                self._press = None
                return False  # empty space: pyqtgraph pans, or decodes on a double-click
            self._press = (cid, at, event.modifiers(), kind == QEvent.Type.MouseButtonDblClick)
            return True
        if self._press is None:
            return False
        if kind == QEvent.Type.MouseMove:
            cid, at, _mods, _double = self._press
            if not event.buttons() & Qt.MouseButton.LeftButton:
                self._press = None
                return False
            if (event.position().toPoint() - at).manhattanLength() >= QApplication.startDragDistance():
                self._press = None
                self.preview.hide()
                self.start_drag(cid)
            return True
        if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            cid, _at, mods, double = self._press
            self._press = None
            if double:  # the first click of the pair already selected it
                return True
            additive = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
            self.clips_clicked.emit([cid], additive)
            return True
        return False

    def start_drag(self, clip_id: str) -> Qt.DropAction:
        """Drag a clip out of the map, carrying what a clip-library row carries."""
        clip = self.song.clips.get(clip_id)
        if clip is None:
            return Qt.DropAction.IgnoreAction
        drag = QDrag(self.plot)
        drag.setMimeData(clip_mime([clip.id], [clip.name]))
        drag.setPixmap(clip_pixmap(self.song, clip, 120, 48))
        return drag.exec(Qt.DropAction.CopyAction)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.preview.hide()
        self._hover_id = None
        super().leaveEvent(event)
