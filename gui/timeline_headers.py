"""The left column of the timeline: one row per track with mute, solo and volume.

Rows line up with the canvas's lanes (the canvas says where each lane is). A change of a
track's attributes updates the controls in place, so a fader being dragged is never rebuilt
under the mouse; rows are rebuilt only when tracks are added, removed or reordered.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QSlider, QToolButton, QWidget

from core.song import Song
from gui import timeline_style as ts
from gui.track_list import track_color


class TrackRow:
    """The widgets of one track's header."""

    def __init__(self, parent: QWidget, track_id: str):
        self.track_id = track_id
        self.name = QLabel(parent)
        self.name.setObjectName("timelineTrackName")
        self.mute = QToolButton(parent)
        self.mute.setText("M")
        self.mute.setCheckable(True)
        self.mute.setObjectName("muteButton")
        self.mute.setToolTip("Mute this track")
        self.solo = QToolButton(parent)
        self.solo.setText("S")
        self.solo.setCheckable(True)
        self.solo.setObjectName("soloButton")
        self.solo.setToolTip("Solo: hear only the soloed tracks")
        self.volume = QSlider(Qt.Orientation.Horizontal, parent)
        self.volume.setObjectName("volumeSlider")
        self.volume.setRange(0, 100)
        self.volume.setPageStep(10)
        for w in (self.name, self.mute, self.solo, self.volume):
            w.show()

    def widgets(self):
        return (self.name, self.mute, self.solo, self.volume)


STYLE = """
QToolButton#muteButton, QToolButton#soloButton {
    background: #2a2e36; border: 1px solid #3b424d; border-radius: 3px;
    font-weight: bold; padding: 0px; color: #9aa2af;
}
QToolButton#muteButton:checked { background: #c0553f; color: #ffffff; border-color: #e06a52; }
QToolButton#soloButton:checked { background: #d9b233; color: #1d2025; border-color: #f0ca48; }
QSlider#volumeSlider::groove:horizontal { height: 4px; background: #343a44; border-radius: 2px; }
QSlider#volumeSlider::sub-page:horizontal { background: #6f8fb8; border-radius: 2px; }
QSlider#volumeSlider::handle:horizontal {
    width: 10px; margin: -5px 0; border-radius: 5px; background: #d9dee7;
}
QLabel#timelineTrackName { color: #d9dee7; }
"""


class TrackHeaders(QWidget):
    mute_toggled = Signal(str, bool)
    solo_toggled = Signal(str, bool)
    volume_changed = Signal(str, float)

    def __init__(self, song: Song, canvas, parent=None):
        super().__init__(parent)
        self.song = song
        self.canvas = canvas
        self.rows: list[TrackRow] = []
        self._updating = False
        self.setObjectName("timelineHeaders")
        self.setFixedWidth(ts.HEADER_W)
        self.setStyleSheet(STYLE)
        song.subscribe(self._on_song)
        canvas.view_changed.connect(self._layout)
        self._rebuild()

    # ----------------------------------------------------------------- rows
    def _on_song(self, event: str, **_details) -> None:
        if event in ("tracks", "reset"):
            if [r.track_id for r in self.rows] != [t.id for t in self.song.tracks]:
                self._rebuild()
            else:
                self._sync()

    def _rebuild(self) -> None:
        for row in self.rows:
            for w in row.widgets():
                w.hide()  # gone now; deleted once control is back in the event loop
                w.deleteLater()
        self.rows = []
        for track in self.song.tracks:
            row = TrackRow(self, track.id)
            tid = track.id
            row.mute.toggled.connect(lambda on, t=tid: self._emit(self.mute_toggled, t, on))
            row.solo.toggled.connect(lambda on, t=tid: self._emit(self.solo_toggled, t, on))
            row.volume.valueChanged.connect(lambda v, t=tid: self._emit(self.volume_changed, t, v / 100.0))
            self.rows.append(row)
        self._sync()
        self._layout()

    def _emit(self, signal, track_id: str, value) -> None:
        if not self._updating:
            signal.emit(track_id, value)

    def _sync(self) -> None:
        """Show the song's mute, solo, volume and names without emitting anything."""
        self._updating = True
        try:
            for row in self.rows:
                try:
                    t = self.song.track(row.track_id)
                except KeyError:
                    continue
                row.mute.setChecked(t.mute)
                row.solo.setChecked(t.solo)
                if not row.volume.isSliderDown():
                    row.volume.setValue(int(round(t.volume * 100)))
                row.volume.setToolTip(f"{t.name} volume: {round(t.volume * 100)}%")
                row.name.setToolTip(f"{t.name} ({t.role}{', drums' if t.is_drum else ''})")
                row.name.setProperty("full_name", t.name)
        finally:
            self._updating = False
        self._layout()
        self.update()

    def _layout(self) -> None:
        lh = self.canvas.lane_height()
        w = self.width()
        for i, row in enumerate(self.rows):
            top = int(self.canvas.lane_top(i))
            h = int(lh)
            btn = min(20, max(h - 6, 14))
            x = 14
            if h >= 40:  # two lines: name above, controls below
                row.name.setGeometry(QRect(x, top + 3, w - x - 6, 18))
                y = top + 22 + max((h - 22 - btn) // 2, 0)
                row.mute.setGeometry(QRect(x, y, btn, btn))
                row.solo.setGeometry(QRect(x + btn + 3, y, btn, btn))
                sx = x + 2 * btn + 12
                row.volume.setGeometry(QRect(sx, y, w - sx - 10, btn))
            else:  # one line: name, M, S, fader
                y = top + (h - btn) // 2
                name_w = 64
                row.name.setGeometry(QRect(x, top, name_w, h))
                bx = x + name_w + 4
                row.mute.setGeometry(QRect(bx, y, btn, btn))
                row.solo.setGeometry(QRect(bx + btn + 3, y, btn, btn))
                sx = bx + 2 * btn + 10
                row.volume.setGeometry(QRect(sx, y, max(w - sx - 8, 20), btn))
            full = row.name.property("full_name") or ""
            fm = QFontMetrics(row.name.font())
            row.name.setText(fm.elidedText(full, Qt.TextElideMode.ElideRight, row.name.width()))
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._layout()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), ts.RULER_BG)
        p.setPen(ts.RULER_TEXT)
        font = p.font()
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7))
        p.setFont(font)
        p.drawText(QRect(10, 0, self.width() - 14, ts.RULER_H), Qt.AlignmentFlag.AlignVCenter, "Bars")
        p.drawText(QRect(10, ts.RULER_H, self.width() - 14, ts.LABEL_H), Qt.AlignmentFlag.AlignVCenter,
                   "Sections")
        lh = self.canvas.lane_height()
        for i, track in enumerate(self.song.tracks):
            top = self.canvas.lane_top(i)
            p.fillRect(QRect(0, int(top), self.width(), int(lh)),
                       ts.LANE_BG if i % 2 == 0 else ts.LANE_BG_ALT)
            p.fillRect(QRect(4, int(top) + 4, 4, int(lh) - 8), QColor(track_color(self.song, track.id)))
            p.setPen(ts.LANE_LINE)
            p.drawLine(0, int(top + lh) - 1, self.width(), int(top + lh) - 1)
        p.setPen(ts.LANE_LINE)
        p.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        p.end()
