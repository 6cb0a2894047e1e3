"""The window's side of section spaces and clip labels: the "Section Spaces" menu.

    spaces = SectionSpaces(song, undo_stack, session, models, runner, timeline, window)
    window.menuBar().addMenu(spaces.build_menu(window))

- Labels: "Set Label of Selected Clips..." (one undo step; an empty label clears it) and
  "Import Folder under a Label..." (every MIDI file in a folder becomes a clip with that label,
  read as a cancellable job by core.song_files.read_midi_clips, added as one undo step).
  The library shows labels in its Label column; sections carry theirs on the timeline.
- Spaces: "New Section Space from Label..." opens gui.section_space_dialog for the label's clips
  (core.section_space.clips_for_label) and the session's model, refusing under MIN_CLIPS clips
  with the reason; the trained space is kept in the song (Song.set_space, saved in the project)
  as one undo step. "Sample from Section Space...", "Fill Slots with Section Space",
  "Open Section Space..." (its curve, map and before/after), "Export/Import Section Space...",
  "Remove Section Space". Model work goes through the ModelService, so it runs where the model
  lives (the model process in the app).
- A space the program cannot use (damaged, or trained on a model that is not installed) stays in
  the song and goes back to disk unchanged; the menu lists it as unusable and opening a project
  that has one says so in the status bar.

Everything that asks the musician something takes its answer as an argument too, so tests and
scripts call the same methods without dialogs.
"""
from __future__ import annotations

import copy
import os
import re

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QInputDialog, QMenu, QSpinBox, QWidget)

from core import section_space as ss
from core.arrangement import assign_tracks, part_tracks
from core.errors import UserError
from core.song import space_key
from core.song_files import midi_files_in, read_midi_clips
from gui import dialogs
from gui.commands import AddClipsCommand, SongCommand

SPACE_FILTER = f"Section spaces (*{ss.SUFFIX})"


def normal_label(text: str | None) -> str:
    """A label as the song keeps it: trimmed, single spaces, lower case ('' for none)."""
    return " ".join(str(text or "").split()).lower()


class SectionSpaces(QObject):
    """Labels and section spaces in the window (see the module docstring)."""

    status_message = Signal(str)
    space_dialog_opened = Signal(object)  # the SectionSpaceDialog just shown

    def __init__(self, song, undo_stack, session, models, runner, timeline=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.song, self.undo_stack, self.session = song, undo_stack, session
        self.models, self.runner, self.timeline = models, runner, timeline
        self.window = parent
        self.dialog = None  # the last space dialog opened
        self._build_actions()
        song.subscribe(self._on_song)

    # ================================================================= actions and menu
    def _action(self, text: str, slot, tip: str) -> QAction:
        action = QAction(text, self)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        self.act_set_label = self._action("Set &Label of Selected Clips...", self.set_label,
                                          "Give the selected clips a label (verse, chorus or any word)")
        self.act_import_folder = self._action("&Import Folder under a Label...", self.import_folder,
                                              "Every MIDI file in a folder becomes a clip with one label")
        self.act_new = self._action("&New Section Space from Label...", self.new_space,
                                    "Train a small VAE on the codes of one label's clips (8 or more)")
        self.act_sample = self._action("&Sample from Section Space...", self.sample,
                                       "New clips from a section space, into the library")
        self.act_fill = self._action("&Fill Slots with Section Space", self.fill,
                                     "A new clip from the space in every timeline slot of its label")
        self.act_open = self._action("&Open Section Space...", self.open_space,
                                     "A space's loss curve, map and before/after reconstructions")
        self.act_export = self._action("&Export Section Space...", self.export_space,
                                       f"Write a section space to a {ss.SUFFIX} file")
        self.act_import = self._action("Im&port Section Space...", self.import_space,
                                       f"Read a {ss.SUFFIX} file into the project")
        self.act_remove = self._action("&Remove Section Space", self.remove_space,
                                       "Take a section space out of the project (undoable)")
        for a, name in ((self.act_new, "actNewSpace"), (self.act_set_label, "actSetLabel"),
                        (self.act_import_folder, "actImportLabelFolder")):
            a.setObjectName(name)

    def build_menu(self, parent: QWidget) -> QMenu:
        self.menu = QMenu("Section &Spaces", parent)
        for a in (self.act_set_label, self.act_import_folder, None, self.act_new, self.act_sample,
                  self.act_fill, self.act_open, None, self.act_export, self.act_import, self.act_remove):
            self.menu.addSeparator() if a is None else self.menu.addAction(a)
        self.menu.addSeparator()
        self._listed: list[QAction] = []
        self.menu.aboutToShow.connect(self._update_menu)
        self._update_menu()
        return self.menu

    def _update_menu(self) -> None:
        """Enable what applies, and list the project's spaces (unusable ones with the reason)."""
        for a in self._listed:
            self.menu.removeAction(a)
        self._listed = []
        rows = self.entries()
        usable = self.usable()
        for a in (self.act_sample, self.act_fill, self.act_open):
            a.setEnabled(bool(usable))
        for a in (self.act_export, self.act_remove):
            a.setEnabled(bool(rows))
        self.act_set_label.setEnabled(bool(self.session.selected_clips or self.session.current_clip))
        if not rows:
            rows_text = [("No section spaces in this project", "")]
        else:
            rows_text = [(f"{label} · {model}" + ("" if problem is None else "  (unusable)"), problem or "")
                         for (model, label), _entry, problem in rows]
        for text, tip in rows_text:
            a = QAction(text, self.menu)
            a.setEnabled(False)
            a.setToolTip(tip)
            a.setStatusTip(tip)
            self.menu.addAction(a)
            self._listed.append(a)

    # ================================================================= state
    def model_names(self) -> list[str]:
        return [info.name for info in self.models.infos()] if self.models is not None else []

    def entries(self) -> list[tuple[tuple[str, str], object, str | None]]:
        """((model, label), entry, why it cannot be used or None) for every space in the song."""
        names = self.model_names()
        return [(key, entry, ss.entry_problem(entry, names)) for key, entry in sorted(self.song.spaces.items())]

    def usable(self, model: str | None = None) -> dict[str, object]:
        """label -> entry of the usable spaces of a model (default: the session's)."""
        model = model or self.session.model
        return {key[1]: entry for key, entry, problem in self.entries() if key[0] == model and problem is None}

    def labels(self) -> list[str]:
        """Every label the song uses, on clips or sections."""
        found = {normal_label(c.label) for c in self.song.clips.values() if c.label}
        found |= {normal_label(s.label) for s in self.song.sections}
        return sorted(found - {""})

    def _on_song(self, event: str, **_details) -> None:
        if event == "reset":
            bad = [f"{label} ({problem})" for (_m, label), _e, problem in self.entries() if problem]
            if bad:
                self.status_message.emit("Section spaces kept but not usable here: " + "; ".join(bad))

    def _parent(self):
        return self.window

    def _ask_item(self, title: str, prompt: str, items: list[str], editable: bool = False) -> str | None:
        text, ok = QInputDialog.getItem(self._parent(), title, prompt, items, 0, editable)
        return text if ok else None

    def _choose_space(self, title: str, label: str | None, usable_only: bool = True):
        """(model, label, entry) of the space named by `label` (of the session's model first),
        else the one the musician picks; None when there is none or they cancel."""
        rows = [(k, e) for k, e, problem in self.entries() if problem is None or not usable_only]
        if usable_only:
            rows = [(k, e) for k, e in rows if k[0] == self.session.model]
        if not rows:
            model = self.session.model or "the chosen model"
            self.status_message.emit(f"There is no section space of {model} in this project: "
                                     "make one with New Section Space from Label.")
            return None
        if label is not None:
            want = normal_label(label)
            rows.sort(key=lambda r: r[0][0] != self.session.model)
            for key, entry in rows:
                if key[1] == want:
                    return key[0], key[1], entry
            self.status_message.emit(f"There is no '{want}' section space to use.")
            return None
        names = [f"{k[1]} · {k[0]}" for k, _ in rows]
        picked = self._ask_item(title, "Section space:", names)
        if picked is None:
            return None
        key, entry = rows[names.index(picked)]
        return key[0], key[1], entry

    # ================================================================= labels
    def set_label(self, clip_ids: list[str] | None = None, label: str | None = None) -> bool:
        """Label clips (the selected ones, else the shown one) as one undo step; '' clears it."""
        if clip_ids is None:
            clip_ids = self.session.selected_clips or ([self.session.current_clip] if self.session.current_clip else [])
        clip_ids = [c for c in dict.fromkeys(clip_ids) if c in self.song.clips]
        if not clip_ids:
            self.status_message.emit("Select clips in the library to label them.")
            return False
        if label is None:
            current = self.song.clips[clip_ids[0]].label or ""
            text = self._ask_item("Set Label", f"Label for {len(clip_ids)} clip{'s' if len(clip_ids) != 1 else ''} "
                                  "(verse, chorus or any word; empty clears it):",
                                  [current] + [lb for lb in self.labels() if lb != current], editable=True)
            if text is None:
                return False
            label = text
        new = normal_label(label) or None
        old = {cid: self.song.clips[cid].label for cid in clip_ids}
        if all(v == new for v in old.values()):
            return False
        song = self.song

        def put(values):
            for cid, value in values.items():
                if cid in song.clips:
                    song.update_clip(cid, label=value)

        what = f"{len(clip_ids)} clips" if len(clip_ids) > 1 else song.clips[clip_ids[0]].name
        text = f"Label {what} {new}" if new else f"Clear the label of {what}"
        self.undo_stack.push(SongCommand(text, lambda: put({c: new for c in old}), lambda: put(old)))
        return True

    def add_clips(self, clips: list, text: str, select: bool = True) -> list[str]:
        """Clips keyed by part name (melody, bass, drums, other) into the library as one undo step,
        on the song's tracks (new ones made as needed)."""
        if not clips:
            return []
        mapping, new_tracks = part_tracks(self.song, sorted({p for c in clips for p in c.notes}))
        assign_tracks(clips, mapping)
        self.undo_stack.push(AddClipsCommand(self.song, clips, text, new_tracks))
        ids = [c.id for c in clips]
        if select:
            self.session.select_clips(ids)
        return ids

    def import_folder(self, folder: str | None = None, label: str | None = None):
        """Read every MIDI file in a folder as a clip with `label`, as a job (Cancel leaves the
        song as it was); returns the Job, or None when nothing was started."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self._parent(), "Import a folder of MIDI files under a label")
            if not folder:
                return None
        if label is None:
            label = self._ask_item("Import Folder under a Label",
                                   f"Label for the clips of {os.path.basename(folder.rstrip(os.sep)) or folder}:",
                                   self.labels() or ["chorus"], editable=True)
            if label is None:
                return None
        label = normal_label(label)
        if not label:
            dialogs.show_error(self._parent(), "No label", "Give the clips a label (verse, chorus or any word).")
            return None
        try:
            paths = midi_files_in(folder)
        except UserError as exc:
            dialogs.show_error(self._parent(), "Nothing to import", exc.message)
            return None
        name = os.path.basename(folder.rstrip(os.sep)) or folder
        return self.runner.submit(read_midi_clips, paths, label,
                                  on_done=lambda result: self._imported(result, label, name),
                                  description=f"Importing {len(paths)} MIDI files from {name} as {label}")

    def _imported(self, result, label: str, name: str) -> None:
        clips, bad = result
        left = ("; left out " + "; ".join(f"{n}: {why}" for n, why in bad)) if bad else ""
        if not clips:
            dialogs.show_error(self._parent(), "Nothing imported",
                               f"None of the MIDI files in {name} could be read{left}.")
            return
        self.add_clips(clips, f"Import {len(clips)} {label} clips from {name}")
        have = len(ss.clips_for_label(self.song, label))
        more = "" if have >= ss.MIN_CLIPS else f" ({ss.MIN_CLIPS} are needed for a section space)"
        self.status_message.emit(f"Imported {len(clips)} clips labelled {label}; {have} {label} clips in all"
                                 f"{more}{left}")

    # ================================================================= spaces
    def new_space(self, label: str | None = None):
        """Open the training dialog for a label's clips and the session's model (None when refused)."""
        name = self.session.model
        if name is None or self.models is None:
            dialogs.show_error(self._parent(), "No model chosen",
                               "A section space is trained on one model's codes: choose a model in the "
                               "Generate panel (or the list next to Fill) first.")
            return None
        if label is None:
            counts = {lb: len(ss.clips_for_label(self.song, lb)) for lb in self.labels()}
            if not counts:
                dialogs.show_error(self._parent(), "No labelled clips",
                                   "Give clips a label first (Set Label of Selected Clips, or Import Folder "
                                   f"under a Label): a section space learns from {ss.MIN_CLIPS} or more.")
                return None
            items = [f"{lb} ({n} clip{'s' if n != 1 else ''})" for lb, n in counts.items()]
            picked = self._ask_item("New Section Space", f"Train a space of {name} on the clips labelled:", items)
            if picked is None:
                return None
            label = list(counts)[items.index(picked)]
        label = normal_label(label)
        clips = ss.clips_for_label(self.song, label)
        if len(clips) < ss.MIN_CLIPS:
            dialogs.show_error(self._parent(), "Not enough clips",
                               f'A section space needs at least {ss.MIN_CLIPS} clips; "{label}" has {len(clips)}. '
                               f"Label more clips {label} (Set Label of Selected Clips), or import a folder "
                               "of them (Import Folder under a Label).")
            return None
        tracks = {t.id: copy.copy(t) for t in self.song.tracks}
        self.models.with_model(name, lambda model: self._open_dialog(model, clips, label, tracks))
        return True

    def _open_dialog(self, model, clips, label, tracks, space=None):
        from gui.section_space_dialog import SectionSpaceDialog  # noqa: PLC0415 - pyqtgraph, opened rarely

        if space is None:
            dialog = SectionSpaceDialog(self.runner, model, clips, label, tracks, self._parent(), models=self.models)
        else:
            dialog = SectionSpaceDialog.for_space(self.runner, model, space, self._parent(), models=self.models)
        dialog.space_ready.connect(self.keep_space)
        dialog.samples_ready.connect(lambda made: self._add_samples(made, dialog.label))
        dialog.reconstructions_ready.connect(
            lambda made: self.add_clips(self._unlabelled(made), f"Before and after: {dialog.label} space"))
        dialog.setModal(False)
        dialog.show()
        self.dialog = dialog
        self.space_dialog_opened.emit(dialog)
        return dialog

    @staticmethod
    def _unlabelled(clips):
        # copies of training clips: without the label, so they do not join the next space's training set
        for clip in clips:
            clip.label = None
        return clips

    def keep_space(self, space) -> None:
        """Keep a trained (or imported) space in the song, as one undo step."""
        self.keep_entry(ss.StoredSpace.of(space), f"New {space.label} section space")

    def keep_entry(self, entry, text: str) -> None:
        song = self.song
        key = space_key(entry.model, entry.label)
        old = song.spaces.get(key)
        if old is not None:
            text = text.replace("New ", "Replace the ", 1) if text.startswith("New ") else text

        def undo():
            if old is not None:
                song.set_space(old)
            else:
                song.remove_space(*key)

        self.undo_stack.push(SongCommand(text, lambda: song.set_space(entry), undo))
        self.status_message.emit(f"The {entry.label} section space of {entry.model} is kept in the project "
                                 "(saved with it)")

    def _add_samples(self, clips, label: str) -> list[str]:
        title = ss.label_title(label)
        pattern = re.compile(re.escape(title) + r" (\d+)")
        n = max((int(m.group(1)) for c in self.song.clips.values() for m in [pattern.fullmatch(c.name)] if m),
                default=0)
        for i, clip in enumerate(clips, start=1):  # numbered on: a second batch goes on from the first
            clip.name = f"{title} {n + i}"
        return self.add_clips(list(clips), f"Sample {len(clips)} clips from the {label} space")

    def sample(self, label: str | None = None, count: int | None = None, temperature: float | None = None) -> bool:
        """Sample a space of the session's model into the library (labelled); True when started."""
        chosen = self._choose_space("Sample from Section Space", label)
        if chosen is None:
            return False
        model, label, entry = chosen
        if count is None or temperature is None:
            asked = self._ask_sampling(label, model)
            if asked is None:
                return False
            count, temperature = asked
        space = entry.space()
        self.models.run(model, ss.sample, space, int(count), float(temperature),
                        on_done=lambda clips: self._add_samples(clips, label),
                        description=f"Sampling {count} clips from the {label} space")
        return True

    def _ask_sampling(self, label: str, model: str) -> tuple[int, float] | None:
        box = QDialog(self._parent())
        box.setWindowTitle(f"Sample from the {label} space")
        form = QFormLayout(box)
        count = QSpinBox(box)
        count.setRange(1, 256)
        count.setValue(8)
        temperature = QDoubleSpinBox(box)
        temperature.setRange(0.0, 2.0)
        temperature.setSingleStep(0.1)
        temperature.setValue(0.5)
        form.addRow(f"Clips from the {label} space of {model}", count)
        form.addRow("Temperature", temperature)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(box.accept)
        buttons.rejected.connect(box.reject)
        form.addRow(buttons)
        if box.exec() != QDialog.DialogCode.Accepted:
            return None
        return count.value(), temperature.value()

    def fill(self, label: str | None = None) -> bool:
        """One new clip from a space in every timeline slot with its label (one undo step)."""
        chosen = self._choose_space("Fill Slots with Section Space", label)
        if chosen is None or self.timeline is None:
            return False
        _model, label, _entry = chosen
        ids = [s.id for s in self.song.sections if normal_label(s.label) == label]
        if not ids:
            self.status_message.emit(f"No timeline slot is labelled {label}: add a {label} section first.")
            return False
        # regenerate: empty slots and those already playing a clip all take the space's new one
        return self.timeline.fill(ids, regenerate=True)

    def open_space(self, label: str | None = None):
        chosen = self._choose_space("Open Section Space", label)
        if chosen is None:
            return None
        model, label, entry = chosen
        space = entry.space()
        self.models.with_model(model, lambda m: self._open_dialog(m, [], label, None, space))
        return True

    def export_space(self, label: str | None = None, path: str | None = None, model: str | None = None) -> bool:
        """Write a space's bytes, as the project keeps them, to a .space file."""
        rows = [(k, e) for k, e, _p in self.entries()
                if (label is None or k[1] == normal_label(label)) and (model is None or k[0] == model)]
        if not rows:
            self.status_message.emit("There is no section space to export.")
            return False
        if len(rows) > 1 and label is None:
            chosen = self._choose_space("Export Section Space", None, usable_only=False)
            if chosen is None:
                return False
            rows = [((chosen[0], chosen[1]), chosen[2])]
        (model, label), entry = rows[0]
        if path is None:
            path = dialogs.ask_save_file(self._parent(), "Export section space", SPACE_FILTER,
                                         f"{label.replace(' ', '_')}{ss.SUFFIX}")
            if not path:
                return False
        if not path.lower().endswith(ss.SUFFIX):
            path += ss.SUFFIX
        from core.atomic_write import atomic_write_bytes  # noqa: PLC0415

        try:
            atomic_write_bytes(path, entry.data)
        except OSError as exc:
            dialogs.show_error(self._parent(), "Could not export the section space",
                               f'Cannot write "{path}": {exc.strerror or exc}.')
            return False
        self.status_message.emit(f"Exported the {label} space of {model} to {os.path.basename(path)}")
        return True

    def import_space(self, path: str | None = None) -> bool:
        """Read a .space file into the project (one undo step); a damaged or foreign file says why."""
        if path is None:
            path = dialogs.ask_open_file(self._parent(), "Import section space", SPACE_FILTER)
            if not path:
                return False
        try:
            space = ss.load_space(path)
            with open(path, "rb") as f:
                data = f.read()
        except (UserError, OSError) as exc:
            dialogs.show_error(self._parent(), "Could not import the section space",
                               getattr(exc, "message", None) or str(exc))
            return False
        self.keep_entry(ss.StoredSpace(space.model_name, space.label, data, space),
                        f"Import the {space.label} section space")
        if space.model_name not in self.model_names():
            self.status_message.emit(f"Imported the {space.label} space, trained on {space.model_name}, which is "
                                     "not installed: it is kept in the project and unused until it is")
        return True

    def remove_space(self, label: str | None = None, model: str | None = None) -> bool:
        rows = [(k, e) for k, e, _p in self.entries()
                if (label is None or k[1] == normal_label(label)) and (model is None or k[0] == model)]
        if not rows:
            self.status_message.emit("There is no section space to remove.")
            return False
        if len(rows) > 1:
            if label is not None and model is None:
                rows = [r for r in rows if r[0][0] == self.session.model] or rows[:1]
            else:
                chosen = self._choose_space("Remove Section Space", None, usable_only=False)
                if chosen is None:
                    return False
                rows = [((chosen[0], chosen[1]), chosen[2])]
        (model, label), entry = rows[0]
        song = self.song
        self.undo_stack.push(SongCommand(f"Remove the {label} section space",
                                         lambda: song.remove_space(model, label), lambda: song.set_space(entry)))
        return True
