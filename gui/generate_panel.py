"""The generation panel: ask a model for ideas, blend them and steer them.

It drives the ModelService (every model call is a job) and puts the results into the song as
one undoable "add clips" command, then selects them in the session, which the clip library,
the latent map and the piano roll all follow. Its model list shows and sets the session's
model (the timeline's list does the same), and the selection it works on is the session's.

Attribute sliders steer the selected clip: moving one re-decodes the clip's code moved along
that attribute's direction into a companion clip "<name> (steered)", which further moves
update in place (each one undoable), until another clip is selected.
"""
from __future__ import annotations

import copy
import os
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSlider, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from core import generation
from core.attributes import attributes_for
from core.session import Session
from core.arrangement import part_tracks
from core.song import Clip, Song, Track
from gui import dialogs
from gui.commands import AddClipsCommand, SongCommand
from gui.latent_map import LatentMap
from gui.model_service import ModelService

LAST_MODEL_KEY = "generate/model"  # QSettings: the model chosen last, chosen again at the next launch
FIRST_MODEL = "mel_2bar"  # the first launch: the embedded melody model (it meets all its model-card targets)
LAND_NOTES = 3000  # results with more notes than this land in slices of about this many
ATTRIBUTE_RANGE = 20  # slider steps each side; amount = value / 10 (-2 .. +2 vectors)
ATTRIBUTE_WORDS = {
    "note_density": ("sparser", "denser"),
    "average_interval": ("smoother", "jumpier"),
    "syncopation": ("on the beat", "syncopated"),
    "pitch_height": ("lower", "higher"),
    "hit_density": ("fewer hits", "more hits"),
}


def _slider(lo: int, hi: int, value: int, tip: str) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


class GeneratePanel(QWidget):
    clips_added = Signal(list)  # ids of clips a job put into the song
    busy_changed = Signal(bool)
    status_message = Signal(str)
    catalogue_requested = Signal()  # "Add…": the window shows its model catalogue

    def __init__(self, song: Song, undo_stack, service: ModelService, session: Session,
                 latent_map: LatentMap, parent=None):
        super().__init__(parent)
        self.song = song
        self.undo_stack = undo_stack
        self.service = service
        self.session = session
        self.map = latent_map
        self._busy = 0
        self._landing = 0
        self._steer_base: str | None = None
        self._steer_variant: str | None = None
        self._vectors: dict | None = None
        self.seed: int | None = None  # fixed for reproducible runs (tests); None: new ideas each time
        self.setObjectName("generatePanel")
        self._build()
        self._build_actions()
        self._connect()
        self._fill_models()
        self._update_buttons()

    def _build_actions(self) -> None:
        """The window's Models menu: generate, import into the map, keep models off the GPU."""
        self.act_generate = QAction("&Generate", self)
        self.act_generate.setShortcut(QKeySequence("Ctrl+G"))
        self.act_import_map = QAction("Import MIDI into the &Map...", self)
        for action, slot, tip in (
                (self.act_generate, self.generate, "Write new clips with the chosen model"),
                (self.act_import_map, self.import_midi_dialog,
                 "Cut a MIDI file into model-sized pieces and place them on the map")):
            action.setStatusTip(tip)
            action.setToolTip(tip)
            action.triggered.connect(lambda _checked=False, slot=slot: slot())
        self.act_force_cpu = QAction("Run Models on the &CPU Only", self)
        self.act_force_cpu.setCheckable(True)
        self.act_force_cpu.setChecked(self.service.force_cpu)
        self.act_force_cpu.setStatusTip("Keep the models off the GPU (takes effect when a model is next loaded)")
        self.act_force_cpu.toggled.connect(self._set_force_cpu)

    def menu_actions(self) -> list[QAction | None]:
        """The Models menu (None: a separator)."""
        return [self.act_generate, self.act_import_map, None, self.act_force_cpu]

    def _set_force_cpu(self, on: bool) -> None:
        self.service.set_force_cpu(on)
        self.status_message.emit("Models will run on the CPU" if on else
                                 "Models will use the GPU when there is one")

    # ================================================================= building
    def _build(self) -> None:
        """The model on top, then three tabs: Sample (new clips), Explore (from the selected
        clips) and Steer (the selected clip's attributes). Tabs keep the panel about 250 px
        tall, so at 1280x720 the latent map under it keeps room to tell points apart."""
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        root.setSpacing(4)

        row = QHBoxLayout()
        row.setSpacing(6)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setToolTip("The MusicVAE model that writes the music")
        # long model names shrink the box (elided) instead of widening the panel
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(14)
        row.addWidget(self.model_combo, 1)
        self.add_model_button = QPushButton("Add…")
        self.add_model_button.setToolTip("Install a model from a file or folder, download one, "
                                         "or remove one (the model catalogue)")
        self.add_model_button.clicked.connect(self.catalogue_requested)
        row.addWidget(self.add_model_button)
        root.addLayout(row)
        self.model_info = QLabel()
        self.model_info.setObjectName("modelInfo")
        self.model_info.setWordWrap(True)
        self.model_info.setStyleSheet("color: #8b93a1; font-size: 9pt;")
        root.addWidget(self.model_info)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("generateTabs")
        self.tabs.setDocumentMode(True)
        root.addWidget(self.tabs)

        # Sample: new clips from the model
        sample = QWidget()
        gl = QGridLayout(sample)
        gl.setContentsMargins(2, 8, 2, 2)
        gl.setHorizontalSpacing(6)
        gl.addWidget(QLabel("Variations"), 0, 0)
        self.count_spin = QSpinBox()
        self.count_spin.setObjectName("countSpin")
        self.count_spin.setRange(1, 32)
        self.count_spin.setValue(8)
        self.count_spin.setToolTip("How many new clips to write (1 to 32)")
        gl.addWidget(self.count_spin, 0, 1)
        gl.addWidget(QLabel("Temperature"), 1, 0)
        self.temp_slider = _slider(10, 150, 50, "Temperature: low is safe and repetitive, high is adventurous")
        self.temp_slider.setObjectName("temperatureSlider")
        trow = QHBoxLayout()
        self.temp_label = QLabel("0.50")
        self.temp_label.setMinimumWidth(self.temp_label.fontMetrics().horizontalAdvance("0.00") + 4)
        trow.addWidget(self.temp_slider, 1)
        trow.addWidget(self.temp_label)
        gl.addLayout(trow, 1, 1, 1, 2)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip("Write new clips with the model (they appear in the library and on the map)")
        gl.addWidget(self.generate_button, 0, 2)
        self.import_button = QPushButton("Import MIDI into the map…")
        self.import_button.setObjectName("importMapButton")
        self.import_button.setToolTip("Cut a MIDI file into pieces the model fits and place them on the map")
        gl.addWidget(self.import_button, 2, 0, 1, 3)
        # two set lines, not word wrap: a wrapping label here made the panel's height depend
        # on its width, and the scroll area around it then showed a needless scroll bar
        hint = QLabel("Then pick clips on the map or in Clips:\n"
                      "Explore blends and varies them, Steer reshapes one.")
        hint.setObjectName("sampleHint")
        hint.setStyleSheet("color: #8b93a1; font-size: 9pt;")
        gl.addWidget(hint, 3, 0, 1, 3)
        gl.setColumnStretch(2, 1)
        gl.setRowStretch(4, 1)
        self.tabs.addTab(sample, "Sample")
        self.tabs.setTabToolTip(0, "New clips from the model")

        # Explore: new clips from the selected ones
        explore = QWidget()
        sl = QGridLayout(explore)
        sl.setContentsMargins(2, 8, 2, 2)
        sl.setHorizontalSpacing(6)
        self.selection_label = QLabel()
        self.selection_label.setObjectName("selectionLabel")
        self.selection_label.setWordWrap(True)
        sl.addWidget(self.selection_label, 0, 0, 1, 3)
        sl.addWidget(QLabel("Steps"), 1, 0)
        self.steps_spin = QSpinBox()
        self.steps_spin.setObjectName("stepsSpin")
        self.steps_spin.setRange(2, 16)
        self.steps_spin.setValue(6)
        self.steps_spin.setToolTip("How many clips between the two selected ones (2 to 16)")
        sl.addWidget(self.steps_spin, 1, 1)
        self.interpolate_button = QPushButton("Interpolate")
        self.interpolate_button.setObjectName("interpolateButton")
        self.interpolate_button.setToolTip("Blend from the first selected clip to the second")
        sl.addWidget(self.interpolate_button, 1, 2)
        sl.addWidget(QLabel("Similar"), 2, 0)
        self.similar_count = QSpinBox()
        self.similar_count.setObjectName("similarCount")
        self.similar_count.setRange(1, 32)
        self.similar_count.setValue(6)
        self.similar_count.setToolTip("How many variations of the selected clip")
        sl.addWidget(self.similar_count, 2, 1)
        self.similar_button = QPushButton("Variations")
        self.similar_button.setObjectName("similarButton")
        self.similar_button.setToolTip("New clips close to the selected one")
        sl.addWidget(self.similar_button, 2, 2)
        sl.addWidget(QLabel("Closeness"), 3, 0)
        crow = QHBoxLayout()
        self.similarity_slider = _slider(0, 100, 80, "1.0 keeps the clip's code; 0 ignores it")
        self.similarity_slider.setObjectName("similaritySlider")
        crow.addWidget(self.similarity_slider, 1)
        self.similarity_label = QLabel("0.80")
        self.similarity_label.setMinimumWidth(self.temp_label.minimumWidth())
        crow.addWidget(self.similarity_label)
        sl.addLayout(crow, 3, 1, 1, 2)
        sl.setColumnStretch(2, 1)
        sl.setRowStretch(4, 1)
        self.tabs.addTab(explore, "Explore")
        self.tabs.setTabToolTip(1, "Blend two selected clips, or vary one")

        # Steer: the selected clip moved along attribute directions
        self.attr_box = QWidget()
        self.attr_box.setObjectName("steerPage")
        self.attr_layout = QGridLayout(self.attr_box)
        self.attr_layout.setContentsMargins(2, 8, 2, 2)
        self.attr_layout.setHorizontalSpacing(6)
        self.attr_layout.setVerticalSpacing(2)
        self.attr_sliders: dict[str, QSlider] = {}
        self.tabs.addTab(self.attr_box, "Steer")
        self.tabs.setTabToolTip(2, "Make the selected clip denser, jumpier, higher… (decoded again)")

        self._steer_timer = QTimer(self)
        self._steer_timer.setSingleShot(True)
        self._steer_timer.setInterval(250)
        self._steer_timer.timeout.connect(self.apply_attributes)

    def _build_attribute_sliders(self, kind: str | None) -> None:
        while self.attr_layout.count():
            item = self.attr_layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        self.attr_sliders = {}
        if kind is None:
            self.attr_layout.addWidget(QLabel("Choose a model first."), 0, 0)
            return
        # one row per attribute: name, the word for left, the slider, the word for right
        for r, (name, (label, _part)) in enumerate(attributes_for(kind).items()):
            low, high = ATTRIBUTE_WORDS.get(name, ("less", "more"))
            title = QLabel(label)
            s = _slider(-ATTRIBUTE_RANGE, ATTRIBUTE_RANGE, 0,
                        f"{label}: left for {low}, right for {high}; the selected clip is decoded again")
            s.setObjectName(f"attr_{name}")
            s.valueChanged.connect(lambda _v: self._steer_timer.start())
            lo_l, hi_l = QLabel(low), QLabel(high)
            for w in (lo_l, hi_l):
                w.setStyleSheet("color: #8b93a1; font-size: 8pt;")
            lo_l.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.attr_layout.addWidget(title, r, 0)
            self.attr_layout.addWidget(lo_l, r, 1)
            self.attr_layout.addWidget(s, r, 2)
            self.attr_layout.addWidget(hi_l, r, 3)
            self.attr_sliders[name] = s
        self.attr_layout.setColumnStretch(2, 1)
        reset = QPushButton("Centre the sliders")
        reset.setToolTip("Back to the clip as it was")
        reset.clicked.connect(self.reset_attributes)
        self.attr_layout.addWidget(reset, len(self.attr_sliders), 0, 1, 4,
                                   Qt.AlignmentFlag.AlignLeft)

    def _connect(self) -> None:
        self.model_combo.currentIndexChanged.connect(
            lambda i: setattr(self.session, "model", self.model_combo.itemData(i)))
        self.temp_slider.valueChanged.connect(lambda v: self.temp_label.setText(f"{v / 100:.2f}"))
        self.similarity_slider.valueChanged.connect(
            lambda v: self.similarity_label.setText(f"{v / 100:.2f}"))
        self.generate_button.clicked.connect(self.generate)
        self.interpolate_button.clicked.connect(self.interpolate)
        self.similar_button.clicked.connect(self.similar)
        self.import_button.clicked.connect(self.import_midi_dialog)
        self.service.models_changed.connect(self._fill_models)
        self.service.model_loaded.connect(lambda _n: self._show_model_info())
        self.session.subscribe(self._on_session, events=["selection", "model"])
        self.map.decode_requested.connect(self.decode_code)

    # ================================================================= models
    def _fill_models(self) -> None:
        """List the service's models and choose one in the session when none is chosen yet
        (the one used last, else the embedded melody model, else the first)."""
        current = self.model_name() or self.service.settings.value(LAST_MODEL_KEY, None) or FIRST_MODEL
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for info in self.service.infos():
            kind = f"  ·  {info.kind}" if info.kind else ""
            self.model_combo.addItem(f"{info.name}{kind}", info.name)
        self.model_combo.blockSignals(False)
        idx = self.model_combo.findData(current)
        chosen = self.model_combo.itemData(idx if idx >= 0 else 0) if self.model_combo.count() else None
        if chosen != self.session.model:
            self.session.model = chosen  # the session tells this panel (and the timeline)
        else:
            self._model_changed()

    def model_name(self) -> str | None:
        """The session's model."""
        return self.session.model

    def set_model(self, name: str) -> None:
        """Choose a listed model (KeyError for a name the service does not list)."""
        if self.model_combo.findData(name) < 0:
            raise KeyError(name)
        self.session.model = name

    def _on_session(self, event: str, **details) -> None:
        if event == "model":
            self._model_changed()
        else:
            self._selection_changed(details["clip_ids"])

    def _model_changed(self) -> None:
        name = self.model_name()
        self.model_combo.blockSignals(True)
        self.model_combo.setCurrentIndex(self.model_combo.findData(name) if name else -1)
        self.model_combo.blockSignals(False)
        if name:  # the next launch opens on the model used last
            self.service.settings.setValue(LAST_MODEL_KEY, name)
        self._vectors = None
        kind = self.service.info(name).kind if name else None
        self._build_attribute_sliders(kind)
        self._steer_base = self._steer_variant = None
        self._show_model_info()
        self._update_buttons()

    def _show_model_info(self) -> None:
        name = self.model_name()
        if not name:
            self.model_info.setText("No model found. Embedded models live in resources/models; "
                                    "use Add… to install one.")
            return
        info = self.service.info(name)
        model = self.service.model(name)
        if model is not None:
            bars = model.config.steps // 16
            text = f"{info.kind or model.kind}, {bars} bars · loaded on {self.service.device_text}"
        else:
            text = f"{info.kind or 'unknown kind'} · loads the first time you use it"
        # the model card's summary (training data, accuracy) is a hover away: one line here
        # keeps the panel short enough for the latent map under it at 1280x720
        self.model_info.setText(text)
        self.model_info.setToolTip(info.summary or "")

    # ================================================================= selection
    def selected_clips(self) -> list[Clip]:
        return [self.song.clips[c] for c in self.session.selected_clips if c in self.song.clips]

    def _selection_changed(self, ids: list) -> None:
        if len(ids) == 1 and ids[0] not in (self._steer_base, self._steer_variant):
            self._steer_base, self._steer_variant = ids[0], None
            for s in self.attr_sliders.values():
                s.blockSignals(True)
                s.setValue(0)
                s.blockSignals(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        clips = self.selected_clips()
        has_model = self.model_name() is not None
        idle = self._busy == 0
        self.generate_button.setEnabled(has_model and idle)
        self.interpolate_button.setEnabled(has_model and idle and len(clips) == 2)
        self.similar_button.setEnabled(has_model and idle and len(clips) == 1)
        self.import_button.setEnabled(has_model and idle)
        self.attr_box.setEnabled(has_model and self._steer_base is not None)
        if not clips:
            text = "Select a clip for variations and steering, two clips to interpolate."
        elif len(clips) == 1:
            text = f"Selected: <b>{clips[0].name}</b>"
        elif len(clips) == 2:
            text = f"From <b>{clips[0].name}</b> to <b>{clips[1].name}</b>"
        else:
            text = f"{len(clips)} clips selected (interpolation takes two)"
        self.selection_label.setText(text)

    # ================================================================= results
    def _track_map(self, parts) -> tuple[dict[str, str], list[Track]]:
        return part_tracks(self.song, parts)

    def _tracks_snapshot(self) -> dict:
        return {t.id: copy.copy(t) for t in self.song.tracks}

    def add_clips(self, clips: list[Clip], text: str, select: bool = True) -> list[str]:
        """Put clips from a job into the song (one undoable command) and select them."""
        if not clips:
            return []
        self._number_samples(clips)
        parts = sorted({p for c in clips for p in c.notes})
        ids, new_tracks = self._track_map(parts)
        generation.assign_tracks(clips, ids)
        clip_ids = [c.id for c in clips]
        total = sum(c.note_count() for c in clips)
        deferred = total > LAND_NOTES
        command = AddClipsCommand(self.song, clips, text, new_tracks, deferred=deferred)
        self.undo_stack.push(command)

        def finish():
            if select:
                self.session.select_clips(clip_ids)
            self.clips_added.emit(clip_ids)

        if deferred:
            self._land(command, finish)
        else:
            finish()
        return clip_ids

    def _land(self, command: AddClipsCommand, then: Callable[[], None]) -> None:
        """Add a big batch a slice per event-loop turn, so the window keeps breathing."""
        self._landing += 1

        def step():
            more = command.land(LAND_NOTES)
            if more:
                QTimer.singleShot(0, step)
            else:
                self._landing -= 1
                then()

        step()

    def is_landing(self) -> bool:
        """True while a big batch of results is still being added to the song."""
        return self._landing > 0

    def _number_samples(self, clips: list[Clip]) -> None:
        """Sampled clips are numbered on from the song's last "Sample N"."""
        generation.number_on(clips, [c.name for c in self.song.clips.values()])

    def _job(self, fn, *args, on_done, description: str, **kwargs) -> None:
        name = self.model_name()
        if name is None:
            return
        self._busy += 1
        self.busy_changed.emit(True)
        self._update_buttons()

        def finish():
            self._busy -= 1
            if self._busy == 0:
                self.busy_changed.emit(False)
            self._update_buttons()

        self.service.run(name, fn, *args, on_done=on_done, on_finish=finish,
                         description=description, **kwargs)

    # ================================================================= actions
    @property
    def temperature(self) -> float:
        return self.temp_slider.value() / 100.0

    def generate(self) -> None:
        n = self.count_spin.value()
        name = self.model_name()
        self._job(generation.sample, n, self.temperature, self.seed,
                  on_done=lambda clips: self.add_clips(clips, f"Generate {n} clips with {name}"),
                  description=f"Generating {n} clips with {name}")

    def interpolate(self) -> None:
        clips = self.selected_clips()
        if len(clips) != 2:
            return
        a, b = clips
        steps = self.steps_spin.value()

        def done(result):
            ids = self.add_clips(result, f"Interpolate {a.name} → {b.name}")
            self.map.show_path([a.id] + ids + [b.id])

        self._job(generation.interpolate, a, b, steps, self._tracks_snapshot(), None,
                  on_done=done, description=f"Interpolating {a.name} → {b.name}")

    def similar(self) -> None:
        clips = self.selected_clips()
        if len(clips) != 1:
            return
        clip = clips[0]
        n = self.similar_count.value()
        s = self.similarity_slider.value() / 100.0
        self._job(generation.similar, clip, n, s, self._tracks_snapshot(), self.temperature, self.seed,
                  on_done=lambda res: self.add_clips(res, f"{n} variations of {clip.name}"),
                  description=f"Variations of {clip.name}")

    def decode_code(self, code) -> None:
        self._job(generation.decode_codes, code, None, None, "sampled", "Map spot",
                  on_done=lambda res: self.add_clips(res, "Decode a spot of the map"),
                  description="Decoding a spot of the map")

    def import_midi_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import MIDI into the map", "",
                                              dialogs.MIDI_FILTER)
        if path:
            self.import_midi(path)

    def import_midi(self, path: str) -> None:
        name = os.path.basename(path)
        self._job(generation.import_windows, path,
                  on_done=lambda res: self.add_clips(res, f"Import {name} into the map", select=False),
                  description=f"Placing {name} on the map")

    # ================================================================= attributes
    def attribute_amounts(self) -> dict[str, float]:
        return {k: s.value() / 10.0 for k, s in self.attr_sliders.items()}

    def reset_attributes(self) -> None:
        for s in self.attr_sliders.values():
            s.blockSignals(True)
            s.setValue(0)
            s.blockSignals(False)
        self.apply_attributes()

    def apply_attributes(self) -> None:
        """Decode the steering base moved by the sliders into its companion clip."""
        name = self.model_name()
        base = self.song.clips.get(self._steer_base) if self._steer_base else None
        if name is None or base is None:
            return
        amounts = self.attribute_amounts()
        if self._vectors is None:
            self.service.attributes(name, lambda v: (setattr(self, "_vectors", v), self.apply_attributes()))
            return
        tracks = self._tracks_snapshot()
        self._job(generation.steer_clip, base, self._vectors, amounts, tracks,
                  f"{base.name} (steered)", on_done=lambda clip: self._steered(base.id, clip),
                  description=f"Steering {base.name}")

    def _steered(self, base_id: str, clip: Clip) -> None:
        if base_id != self._steer_base:
            return  # the musician moved on to another clip meanwhile
        variant = self.song.clips.get(self._steer_variant) if self._steer_variant else None
        if variant is None:
            ids = self.add_clips([clip], f"Steer {clip.name}", select=False)
            self._steer_variant = ids[0]
            self.session.select_clips([ids[0]])
            return
        parts = sorted(clip.notes)
        track_ids, new_tracks = self._track_map(parts)
        generation.assign_tracks([clip], track_ids)
        old_notes = {tid: list(ns) for tid, ns in variant.notes.items()}
        old_meta = {"latent": variant.latent, "label": variant.label}
        new_notes, new_meta = clip.notes, {"latent": clip.latent, "label": clip.label}
        song, vid = self.song, variant.id

        def put(notes, meta):
            for tid in set(song.clips[vid].notes) | set(notes):
                song.set_notes(vid, tid, notes.get(tid, []))
            song.update_clip(vid, **meta)

        for t in new_tracks:  # a steered clip never needs a track its base lacked; be safe
            song.add_track(t)
        self.undo_stack.push(SongCommand(f"Steer {variant.name}", lambda: put(new_notes, new_meta),
                                         lambda: put(old_notes, old_meta)))
        self.session.select_clips([vid])
