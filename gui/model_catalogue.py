"""The model catalogue dialog (Models > Model Catalogue...): what `main.py models` lists, in the window.

Three groups: the embedded models (part of the program), the installed ones (the user's data
folder) and the official Magenta checkpoints that can be downloaded, each with its size and what
it does. From here a checkpoint is installed from a .tar archive or a folder, an official one
downloaded, and an installed model removed. Installing and downloading are jobs
(core/models/install.py) run through the window's ModelService, so they show progress here and
in the status bar and can be cancelled; the window stays usable meanwhile.

The catalogue itself comes from core/models/catalogue.py, which reads small JSON files only.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QMessageBox, QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout)

from core.models import catalogue, install

GROUPS = (("embedded", "Embedded (part of the program)"),
          ("installed", "Installed (in your data folder)"),
          ("official", "Available to download (Magenta's checkpoints)"))
COLUMNS = ("Model", "Size", "What it does", "Status")
ENTRY_ROLE = Qt.ItemDataRole.UserRole


def size_text(n: int | None) -> str:
    if not n:
        return ""
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def ask_remove(parent, name: str) -> bool:
    """Confirm a removal (tests replace this)."""
    answer = QMessageBox.question(parent, "Remove Model",
                                  f"Remove the installed model {name}? Its files are deleted.")
    return answer == QMessageBox.StandardButton.Yes


def choose_archive(parent) -> str:
    from gui import dialogs

    path, _ = QFileDialog.getOpenFileName(parent, "Install a checkpoint archive", "",
                                          f"{dialogs.MODEL_ARCHIVE_FILTER};;{dialogs.ALL_FILTER}")
    return path


def choose_folder(parent) -> str:
    return QFileDialog.getExistingDirectory(parent, "Install a checkpoint folder")


def what_it_does(entry) -> str:
    """The music a model writes (its config's description), then what its card or install says."""
    purpose = ""
    if entry.config and entry.origin != "official":
        try:
            from core.musicvae.configs import get_config

            purpose = get_config(entry.config).description
        except Exception:  # noqa: BLE001 - an unknown config: the summary alone
            purpose = ""
    if purpose and entry.summary and entry.summary.startswith(purpose):
        purpose = ""  # an installed model's summary starts with it already
    parts = [p for p in (purpose, entry.summary) if p]
    return "; ".join(parts)


class ModelCatalogueDialog(QDialog):
    """See the module docstring. `service` is the window's ModelService."""

    installed = Signal(str)  # the name of a model that was installed
    removed = Signal(str)

    def __init__(self, service, parent=None):
        super().__init__(parent)
        self.service = service
        self.job = None
        self.setWindowTitle("Model Catalogue")
        self.setObjectName("modelCatalogue")
        self.resize(1000, 520)

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("catalogueTree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setWordWrap(False)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.where = QLabel(self)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.download_button = QPushButton("Download and Install", self)
        self.download_button.setToolTip("Download the selected official checkpoint and install it")
        self.download_button.clicked.connect(self.download_selected)
        self.file_button = QPushButton("Install from File…", self)
        self.file_button.setToolTip("Install a Magenta checkpoint archive (.tar)")
        self.file_button.clicked.connect(lambda: self.install_path(choose_archive(self)))
        self.folder_button = QPushButton("Install from Folder…", self)
        self.folder_button.setToolTip("Install a folder with a TF1 checkpoint or a Latent Studio model")
        self.folder_button.clicked.connect(lambda: self.install_path(choose_folder(self)))
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Delete the selected installed model")
        self.remove_button.clicked.connect(self.remove_selected)
        actions = QHBoxLayout()
        for b in (self.download_button, self.file_button, self.folder_button, self.remove_button):
            actions.addWidget(b)
        actions.addStretch(1)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel(self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the download or install; nothing half-made is kept")
        self.cancel_button.clicked.connect(self.cancel)
        job_row = QHBoxLayout()
        job_row.addWidget(self.progress, 1)
        job_row.addWidget(self.progress_label, 2)
        job_row.addWidget(self.cancel_button)
        self._show_job(False)

        self.message = QLabel(self)
        self.message.setObjectName("catalogueMessage")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.where)
        layout.addLayout(actions)
        layout.addLayout(job_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        runner = service.runner
        runner.progress.connect(self._job_progress)
        self.refresh()

    # ------------------------------------------------------------------ the list
    def refresh(self) -> None:
        selected = self.selected_entry()
        keep = (selected.origin, selected.name) if selected else None
        self.tree.clear()
        problems = []
        groups = {}
        for key, title in GROUPS:
            item = QTreeWidgetItem(self.tree, [title])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            item.setFirstColumnSpanned(True)
            groups[key] = item
        try:
            lists = {"embedded": catalogue.embedded_models(), "installed": catalogue.installed_models(),
                     "official": catalogue.official_models()}
        except Exception as exc:  # noqa: BLE001 - an unreadable folder must not hide the dialog
            lists = {"embedded": [], "installed": [], "official": []}
            problems.append(f"The catalogue could not be read: {exc}")
        for key, entries in lists.items():
            for entry in entries:
                self._add_row(groups[key], entry)
            if not entries:
                empty = QTreeWidgetItem(groups[key], ["  (none)"])
                empty.setFlags(Qt.ItemFlag.NoItemFlags)
        self.tree.expandAll()
        if keep:
            self.select(*keep)
        self.where.setText(f"Installed models live in {catalogue.installed_dir(create=False)}; downloads "
                           f"come from {catalogue.base_url()}.")
        if problems:
            self.message.setText("\n".join(problems))
        self._update_buttons()

    def _add_row(self, group: QTreeWidgetItem, entry) -> QTreeWidgetItem:
        what = what_it_does(entry)
        if entry.problem and entry.origin != "official":
            status = f"cannot be used: {entry.problem}"
        elif entry.origin == "official":
            status = ("installed" if entry.installed else "not supported" if not entry.supported
                      else "can be downloaded")
        else:
            status = "ready"
        size = size_text(entry.size_bytes)
        if entry.origin == "official" and size:
            size = f"~{size}"
        item = QTreeWidgetItem(group, [f"  {entry.name}", size, what, status])
        item.setData(0, ENTRY_ROLE, entry)
        config = f"config {entry.config}" if entry.config else ""
        tip = "\n".join(t for t in (f"{entry.name}: {what}", ", ".join(x for x in (config, entry.sizes) if x),
                                    entry.problem if entry.origin == "official" else "",
                                    entry.path or entry.url or "") if t)
        for col in range(len(COLUMNS)):
            item.setToolTip(col, tip)
        return item

    def rows(self) -> list[tuple[str, str, str]]:
        """(origin, name, status) of every model row, in order (for tests and screenshots)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                entry = group.child(j).data(0, ENTRY_ROLE)
                if entry is not None:
                    out.append((entry.origin, entry.name, group.child(j).text(3)))
        return out

    def selected_entry(self):
        items = self.tree.selectedItems()
        return items[0].data(0, ENTRY_ROLE) if items else None

    def select(self, origin: str, name: str) -> bool:
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                entry = group.child(j).data(0, ENTRY_ROLE)
                if entry is not None and entry.origin == origin and entry.name == name:
                    self.tree.setCurrentItem(group.child(j))
                    return True
        return False

    def _update_buttons(self) -> None:
        entry = self.selected_entry()
        idle = self.job is None
        self.download_button.setEnabled(idle and entry is not None and entry.origin == "official"
                                        and entry.supported and not entry.installed)
        self.remove_button.setEnabled(idle and entry is not None and entry.origin == "installed")
        self.file_button.setEnabled(idle)
        self.folder_button.setEnabled(idle)

    # ------------------------------------------------------------------ actions
    def download_selected(self) -> None:
        entry = self.selected_entry()
        if entry is None or entry.origin != "official":
            return
        self._start(install.install_official, entry.name, description=f"Downloading {entry.name}")

    def install_path(self, path: str) -> None:
        if not path:
            return
        name = os.path.basename(path.rstrip(os.sep))
        self._start(install.install_from_path, path, description=f"Installing {name}")

    def remove_selected(self) -> None:
        entry = self.selected_entry()
        if entry is None or entry.origin != "installed" or not ask_remove(self, entry.name):
            return
        try:
            install.remove_model(entry.name)
        except Exception as exc:  # noqa: BLE001 - UserError or an OSError: say it, keep the dialog
            self.message.setText(getattr(exc, "message", None) or str(exc))
            return
        self.message.setText(f"Removed {entry.name}.")
        self.service.refresh()
        self.refresh()
        self.removed.emit(entry.name)

    def cancel(self) -> None:
        if self.job is not None:
            self.service.runner.cancel(self.job)

    def _start(self, fn, *args, description: str) -> None:
        self.message.setText("")
        self._show_job(True, description)
        self.job = self.service.submit(fn, *args, on_done=self._done, on_error=self._failed,
                                       on_cancel=self._cancelled, description=description)
        self._update_buttons()

    # ------------------------------------------------------------------ job reports (GUI thread)
    def _job_progress(self, fraction: float, message: str) -> None:
        if self.job is not None and self.service.runner.current is self.job:
            self.progress.setValue(int(fraction * 1000))
            self.progress_label.setText(message)

    def _done(self, result) -> None:
        self._finish(f"Installed {result.name} ({result.config}, {result.sizes}, "
                     f"{size_text(result.size_bytes)}); it is in the Generate panel's model list.")
        self.service.refresh()
        self.refresh()
        self.select("installed", result.name)
        self.installed.emit(result.name)

    def _failed(self, message: str, _detail: str) -> None:
        self._finish(message)

    def _cancelled(self) -> None:
        self._finish("Cancelled; nothing was installed.")

    def _finish(self, text: str) -> None:
        self.job = None
        self._show_job(False)
        self.message.setText(text)
        self._update_buttons()

    def _show_job(self, on: bool, text: str = "") -> None:
        self.progress.setValue(0)
        self.progress_label.setText(text)
        for w in (self.progress, self.progress_label, self.cancel_button):
            w.setVisible(on)

    def reject(self) -> None:  # noqa: D401 - Close / Escape
        # A running install goes on behind the window (the status bar shows it and can cancel it).
        super().reject()
