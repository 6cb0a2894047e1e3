"""The look: Fusion style, a dark palette and resources/style.qss, plus the app icon."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from core.paths import resources_dir

RESOURCES = str(resources_dir())
STYLE_SHEET = os.path.join(RESOURCES, "style.qss")
ICON_FILE = os.path.join(RESOURCES, "icons", "latent_studio.svg")

# The palette matches style.qss, so widgets the sheet does not cover (and custom-painted
# views that read the palette) look the same.
COLORS = {
    "window": "#1d2025",
    "panel": "#23272e",
    "field": "#181a1e",
    "line": "#343a44",
    "text": "#d9dee7",
    "dim": "#8b93a1",
    "disabled": "#5d6470",
    "accent": "#e8a33d",
    "highlight": "#6b5128",
}


def dark_palette() -> QPalette:
    c = {k: QColor(v) for k, v in COLORS.items()}
    pal = QPalette()
    role = QPalette.ColorRole
    pal.setColor(role.Window, c["window"])
    pal.setColor(role.WindowText, c["text"])
    pal.setColor(role.Base, c["field"])
    pal.setColor(role.AlternateBase, c["panel"])
    pal.setColor(role.ToolTipBase, c["panel"])
    pal.setColor(role.ToolTipText, c["text"])
    pal.setColor(role.PlaceholderText, c["dim"])
    pal.setColor(role.Text, c["text"])
    pal.setColor(role.Button, c["panel"])
    pal.setColor(role.ButtonText, c["text"])
    pal.setColor(role.BrightText, QColor("#ffffff"))
    pal.setColor(role.Highlight, c["highlight"])
    pal.setColor(role.HighlightedText, QColor("#ffffff"))
    pal.setColor(role.Link, c["accent"])
    pal.setColor(role.Light, QColor("#3b424d"))
    pal.setColor(role.Midlight, QColor("#2d323a"))
    pal.setColor(role.Mid, QColor("#262a31"))
    pal.setColor(role.Dark, QColor("#15171b"))
    pal.setColor(role.Shadow, QColor("#0d0e10"))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, c["disabled"])
    return pal


def app_icon() -> QIcon:
    icon = QIcon(ICON_FILE) if os.path.exists(ICON_FILE) else QIcon()
    if icon.isNull() or not icon.availableSizes() and icon.pixmap(32, 32).isNull():
        # No SVG image plugin: paint a plain stand-in so the window still has an icon.
        pix = QPixmap(64, 64)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(COLORS["panel"]))
        p.setPen(QColor(COLORS["accent"]))
        p.drawRoundedRect(2, 2, 60, 60, 12, 12)
        p.fillRect(14, 36, 16, 6, QColor(COLORS["accent"]))
        p.fillRect(30, 22, 18, 6, QColor(COLORS["accent"]))
        p.end()
        icon = QIcon(pix)
    return icon


def style_sheet(text: str) -> str:
    """The sheet with its images found: url(@RESOURCES@/...) points into the resources folder
    wherever the program runs from (a relative url would follow the working directory)."""
    return text.replace("@RESOURCES@", RESOURCES.replace(os.sep, "/"))


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    try:
        with open(STYLE_SHEET, encoding="utf-8") as fh:
            app.setStyleSheet(style_sheet(fh.read()))
    except OSError:
        pass  # the palette alone still gives a usable dark look
    app.setWindowIcon(app_icon())
