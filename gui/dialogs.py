"""Small dialogs the window asks through: errors, file choosers, unsaved changes, recovery.

Every question the main window asks the user goes through a function here, so tests can
replace the function (monkeypatch) instead of clicking a modal dialog.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHeaderView, QLabel,
                               QMessageBox, QPlainTextEdit, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core import song_files

# File dialog filters, built from the file kinds core.song_files defines (the one list).
MIDI_FILTER = song_files.MIDI.filter()
PROJECT_FILTER = song_files.PROJECT.filter()
OPENABLE_FILTER = song_files.file_filter("Projects and MIDI files", *song_files.OPENABLE)
WAV_FILTER = song_files.WAV.filter()
MODEL_ARCHIVE_FILTER = song_files.MODEL_ARCHIVE.filter()
SOUNDFONT_FILTER = song_files.SOUNDFONT.filter()
ALL_FILTER = "All files (*)"


class ErrorDialog(QDialog):
    """A readable message, with the technical detail hidden behind a Details button."""

    def __init__(self, parent: QWidget | None, title: str, message: str, detail: str = ""):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("errorDialog")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.message_label = QLabel(message)
        self.message_label.setObjectName("errorMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message_label)

        self.detail_view = QPlainTextEdit(detail)
        self.detail_view.setReadOnly(True)
        self.detail_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail_view.setMinimumHeight(180)
        self.detail_view.setVisible(False)
        layout.addWidget(self.detail_view)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.details_button = QPushButton("Show details")
        self.details_button.setCheckable(True)
        self.details_button.setEnabled(bool(detail))
        self.details_button.toggled.connect(self._toggle_details)
        buttons.addButton(self.details_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def _toggle_details(self, shown: bool) -> None:
        self.detail_view.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Show details")
        self.adjustSize()


def show_error(parent: QWidget | None, title: str, message: str, detail: str = "") -> None:
    """Show an error and wait until the user closes it."""
    ErrorDialog(parent, title, message, detail).exec()


def write_or_report(parent: QWidget | None, title: str, path: str, write) -> bool:
    """Call write(); True when it worked. A failure is shown as `title` with a clear message
    (a UserError's own, or "<path> could not be written: <reason>") and gives False."""
    import traceback  # noqa: PLC0415

    from core.errors import UserError  # noqa: PLC0415

    try:
        write()
    except UserError as exc:
        show_error(parent, title, exc.message, exc.detail or "")
        return False
    except OSError as exc:
        show_error(parent, title, f"{path} could not be written: {exc.strerror or exc}",
                   traceback.format_exc())
        return False
    return True


def ask_open_file(parent: QWidget | None, caption: str, filters: str, directory: str = "") -> str:
    """A path chosen by the user, or '' when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, caption, directory, f"{filters};;{ALL_FILTER}")
    return path


def ask_save_file(parent: QWidget | None, caption: str, filters: str, directory: str = "",
                  suffix: str = "") -> str:
    """A path to write, or '' when cancelled. `suffix` (like '.mid') is added when missing."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, directory, filters)
    if path and suffix and not path.lower().endswith(suffix):
        path += suffix
    return path


def ask_save_changes(parent: QWidget | None, name: str) -> str:
    """'save', 'discard' or 'cancel' for a document with unsaved changes."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to “{name}” first?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def ask_restore_recovery(parent: QWidget | None, description: str) -> bool:
    """True to restore a recovered project, False to discard it."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Recover unsaved work")
    box.setText("Latent Studio did not close properly last time.")
    box.setInformativeText(f"A recovered copy of your work was found:\n{description}\n\n"
                           "Restore it, or discard it for good?")
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(restore)
    box.exec()
    return box.clickedButton() is restore


def show_shortcuts(parent: QWidget | None, actions) -> None:
    """A table of every menu action that has a keyboard shortcut."""
    rows = []
    for menu_name, action in actions:
        if action.shortcut().isEmpty():
            continue
        name = action.text().replace("&", "").rstrip(".")
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        rows.append((menu_name, name, keys))
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keyboard shortcuts")
    dialog.resize(520, 560)
    layout = QVBoxLayout(dialog)
    table = QTableWidget(len(rows), 3)
    table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    layout.addWidget(table)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.exec()


def show_about(parent: QWidget | None, version: str) -> None:
    QMessageBox.about(
        parent, "About Latent Studio",
        f"<h3>Latent Studio {version}</h3>"
        "<p>A composition workstation: sample melodies, bass lines and drum parts from "
        "MusicVAE latent spaces, blend them, fix them in the piano roll, arrange them into "
        "a song and export MIDI.</p>"
        "<p>Licensed under the Apache License 2.0.</p>")
