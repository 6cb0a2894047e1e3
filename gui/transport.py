"""Transport: play / stop / loop / metronome for the song or one clip, and a small toolbar for it.

    transport = Transport(song, parent)
    transport.playhead_moved.connect(piano_roll.set_playhead)   # beats, about every 30 ms
    transport.state_changed.connect(...)                         # "playing", "count-in", "stopped"
    transport.message.connect(status_bar.showMessage)            # e.g. "No sound: ..."
    bar = TransportBar(transport)                                # buttons, volume, position

`play()` plays the arrangement from the playhead, or the focused clip when `set_clip(id)` was
called (the piano roll's clip, in clip beats); `follow_session(session)` keeps that focus on
the session's current clip whenever the arrangement does not use it. `audition_clip(id)` plays a clip once from its
start. Audio is rendered on the player's own thread; this object only starts and stops it and
reads the player's clock from a QTimer, so nothing here blocks the window.
"""
from __future__ import annotations

import os
import threading

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QSlider,
                               QToolButton, QWidget)

from core.audio import render, soundfont
from core.audio.player import Player
from core.errors import UserError
from core.song import Song
from gui import dialogs

TICK_MS = 30
CHOOSE = "<choose>"
STATES = ("stopped", "count-in", "playing")


class Transport(QObject):
    playhead_moved = Signal(float)
    state_changed = Signal(str)
    message = Signal(str)
    loop_changed = Signal()  # the loop region or its on/off state changed

    def __init__(self, song: Song, parent=None, output: str = "auto", player: Player | None = None):
        super().__init__(parent)
        self.song = song
        self.player = player if player is not None else Player(output)
        self.playhead = 0.0  # where play() starts; follows the music while playing
        # the loop region follows the Song's (set by the timeline); set_loop() overrides it
        self.loop: tuple[float, float] | None = getattr(song, "loop", None)
        self.loop_enabled = self.loop is not None
        self._loop_from_song = True  # a song-time region: a clip loops whole instead
        self.metronome = False
        self.count_in = False
        self.return_to_start = True  # after stop, the playhead goes back to where play began
        self.soundfont: str | None = None
        self.presets: dict[str, str] = {}
        self.clip_id: str | None = None  # focus clip: play() plays it instead of the song
        self.session = None  # set by follow_session
        self.state = "stopped"
        self._play_clip: str | None = None  # what is playing now (None: the arrangement)
        self._after_audition: float | None = None  # the playhead to go back to once it ends
        self._started_at = 0.0
        self._told_status = False
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        song.subscribe(self._on_song)

    # ------------------------------------------------------------------ settings
    @property
    def status(self) -> str:
        """Why there is no sound ("" when there is a sound card)."""
        return self.player.status

    @property
    def is_playing(self) -> bool:
        return self.state != "stopped"

    @property
    def playing_clip(self) -> str | None:
        """The clip whose beats playhead_moved reports: the one playing (an audition or the
        focus clip), or when stopped the focus clip; None means arrangement beats."""
        return self._play_clip if self.is_playing else self.clip_id

    def set_clip(self, clip_id: str | None) -> None:
        """Make play() play this clip (clip time) instead of the arrangement; None: the song."""
        if clip_id != self.clip_id:
            self.stop()
            self.clip_id = clip_id
            self.playhead_moved.emit(self.playhead)  # the same beat, now in the new focus's time

    def follow_session(self, session) -> None:
        """Keep the focus on the session's current clip: Space plays the arrangement when the
        arrangement uses that clip, otherwise the clip alone (so an empty arrangement or an
        unplaced clip can still be heard from the piano roll)."""
        self.session = session
        session.subscribe(self._focus_session_clip, events=["current_clip"])
        self._focus_session_clip()

    def _focus_session_clip(self, *_event, **_details) -> None:
        clip = self.session.current_clip
        in_song = clip is None or any(s.clip_id == clip for s in self.song.sections)
        self.set_clip(None if in_song else clip)

    def set_playhead(self, beat: float) -> None:
        """Move the start point (a click on the ruler); while playing, jump there."""
        self.playhead = max(0.0, float(beat))
        if self.is_playing:
            self._start(self.playhead, self._play_clip, count_in=False)
        else:
            self.playhead_moved.emit(self.playhead)

    def set_song_playhead(self, beat: float) -> None:
        """A click on the arrangement's ruler: the song's playhead goes there. When a clip was
        the focus or was being auditioned, the song takes over (a clip's beats are not song
        beats); if anything was playing, the song plays on from the click."""
        if self.clip_id is None and (not self.is_playing or self._play_clip is None):
            self.set_playhead(beat)  # already the song: move, or jump while playing
            return
        was_playing = self.is_playing
        self.stop()
        self.clip_id = None
        self.playhead = max(0.0, float(beat))
        if was_playing:
            self._start(self.playhead, None, count_in=False)
        else:
            self.playhead_moved.emit(self.playhead)

    def set_loop(self, start_beat: float | None, end_beat: float | None = None) -> None:
        """Set the loop region and turn looping on; set_loop(None) turns it off."""
        if start_beat is None:
            self.loop = None
            self.loop_enabled = False
        else:
            if end_beat is None or end_beat <= start_beat:
                self.message.emit(f"The loop must end after it starts ({start_beat:g} to {end_beat} beats).")
                return
            self.loop = (float(start_beat), float(end_beat))
            self.loop_enabled = True
            self._loop_from_song = False
        self.loop_changed.emit()
        self._restart_if_playing()

    def set_loop_enabled(self, on: bool) -> None:
        if bool(on) != self.loop_enabled:
            self.loop_enabled = bool(on)
            self.loop_changed.emit()
            self._restart_if_playing()

    def set_metronome(self, on: bool) -> None:
        self.metronome = bool(on)
        self._restart_if_playing()

    def set_count_in(self, on: bool) -> None:
        self.count_in = bool(on)

    def set_master_volume(self, volume: float) -> None:
        self.player.volume = min(max(float(volume), 0.0), 1.0)  # applied at the output at once

    @property
    def master_volume(self) -> float:
        return self.player.volume

    def set_soundfont(self, path: str | None) -> bool:
        """Play through this .sf2 from now on (None: the built-in synth). The font is read on a
        worker thread right away, so the first play does not wait for it. False (and a
        message) when SoundFont playback cannot work here."""
        if path:
            ok, why = soundfont.available()
            if not ok:
                self.message.emit(why)
                return False
            if not os.path.isfile(path):
                self.message.emit(f"SoundFont not found: {path}")
                return False
            threading.Thread(target=self._preload, args=(path,), name="soundfont-preload",
                             daemon=True).start()
        self.soundfont = path or None
        self._restart_if_playing()
        return True

    @staticmethod
    def _preload(path: str) -> None:
        try:
            soundfont.preload(path)
        except Exception:  # a bad file is reported when it is played, with its name
            pass

    def set_presets(self, presets: dict[str, str]) -> None:
        self.presets = dict(presets)
        self._restart_if_playing()

    # ------------------------------------------------------------------ control
    def play(self, from_beat: float | None = None) -> None:
        if self._after_audition is not None:  # Play during an audition: the song's playhead
            self.playhead, self._after_audition = self._after_audition, None
        start = self.playhead if from_beat is None else max(0.0, float(from_beat))
        self._start(start, self.clip_id, count_in=self.count_in)

    def audition_clip(self, clip_id: str) -> None:
        """Play one clip once from its start (a click in the library or on the map). It is a
        side trip: when it ends, the playhead is back where it was before, in the song (or
        the focus clip), and the views that showed the audition's playhead hear so."""
        if self._after_audition is None:
            self._after_audition = self._home()
        self._start(0.0, clip_id, count_in=False, loop=False)
        if not self.is_playing:  # nothing to play: no side trip either
            self._after_audition = None

    def _home(self) -> float:
        """Where the playhead rests after what plays now stops."""
        if self.is_playing and self.return_to_start:
            return self._started_at
        return self.playhead

    def stop(self) -> None:
        was = self.state
        self._timer.stop()
        self.player.stop()
        if was != "stopped":
            if self._after_audition is not None:
                self.playhead, self._after_audition = self._after_audition, None
            elif self.return_to_start:
                self.playhead = self._started_at
            # stopped first: listeners then read the position in the song's (or focus clip's)
            # beats, not in the beats of the clip that was auditioned
            self._set_state("stopped")
            self.playhead_moved.emit(self.playhead)

    def toggle(self) -> None:
        if self.is_playing:
            self.stop()
        else:
            self.play()

    def position(self) -> float | None:
        """The beat being heard, or None when stopped."""
        return self.player.position_beat() if self.is_playing else None

    # ------------------------------------------------------------------ internals
    def _length(self, clip_id: str | None) -> float:
        if clip_id is not None:
            return self.song.clip(clip_id).length
        return self.song.length_beats() if self.song.sections else 0.0

    def _start(self, start: float, clip_id: str | None, count_in: bool, loop: bool | None = None) -> None:
        self._timer.stop()
        self.player.stop()
        if clip_id is not None and clip_id not in self.song.clips:
            self.message.emit("That clip no longer exists.")
            self._set_state("stopped")
            return
        length = self._length(clip_id)
        if length <= 0:
            self.message.emit("Nothing to play: the arrangement is empty. Add a section, "
                              "or audition a clip from the library.")
            self._set_state("stopped")
            return
        use_loop = self.loop_enabled if loop is None else loop
        region = self.loop if use_loop else None
        if clip_id is not None and self._loop_from_song:
            region = None  # the song's loop is in song beats; a clip loops whole
        if use_loop and region is None:
            region = (0.0, length)  # loop on without a region: the whole clip or song
        if start >= length - 1e-9 and region is None:
            start = 0.0  # at the end: begin again
        try:
            source = render.make_source(
                self.song, clip_id=clip_id, start_beat=start, loop=region, count_in=count_in,
                metronome=self.metronome, soundfont=self.soundfont, presets=self.presets)
            self.player.start(source)
        except UserError as exc:
            self.message.emit(exc.message)
            self._set_state("stopped")
            return
        self._play_clip = clip_id
        self._started_at = start
        self.playhead = start
        if self.player.status and not self._told_status:
            self._told_status = True
            self.message.emit(self.player.status)
        self._timer.start()
        self._set_state("count-in" if count_in else "playing")
        self.playhead_moved.emit(start)

    def _restart_if_playing(self) -> None:
        if self.is_playing:
            beat = self.player.position_beat()
            started_at = self._started_at
            self._start(max(0.0, beat if beat is not None else self.playhead), self._play_clip,
                        count_in=False)
            self._started_at = started_at  # stop still returns to where play began

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _tick(self) -> None:
        p = self.player
        if p.error:
            self.message.emit(p.error)
            self.stop()
            return
        if p.finished:
            self.stop()
            return
        if p.in_count_in():
            return
        if self.state == "count-in":
            self._set_state("playing")
        beat = p.position_beat()
        if beat is not None:
            self.playhead = beat
            self.playhead_moved.emit(beat)

    def _on_song(self, event: str, **details) -> None:
        """Edits while playing: new notes are heard within a buffer's length (about 0.4 s)."""
        if event in ("sections", "reset") and self.session is not None:
            self._focus_session_clip()
        if event in ("loop", "reset"):
            self.loop = getattr(self.song, "loop", None)
            self.loop_enabled = self.loop is not None
            self._loop_from_song = True
            self.loop_changed.emit()
            self._restart_if_playing()
            return
        if not self.is_playing:
            return
        if event == "tempo":
            self._restart_if_playing()
            return
        if event == "clip_removed" and details.get("clip_id") == self._play_clip:
            self.stop()
            return
        source = self.player.source
        if source is None or event not in ("clip_changed", "sections", "tracks"):
            return
        if self._play_clip is not None:
            notes = {tid: list(ns) for tid, ns in self.song.clip(self._play_clip).notes.items()}
        else:
            notes = self.song.rendered_notes()
        try:
            parts = render.build_parts(self.song, notes, source.schedule.tempo, self.presets)
        except UserError as exc:
            self.message.emit(exc.message)
            return
        source.renderer.set_parts(parts)

    def close(self) -> None:
        self.stop()
        self.song.unsubscribe(self._on_song)


def format_position(beat: float | None, song: Song) -> str:
    """'bar.beat' (1-based) and minutes:seconds, e.g. '3.2  0:04.5'."""
    if beat is None:
        beat = 0.0
    bpb = song.beats_per_bar
    if beat < 0:
        return f"count-in {int(-beat // 1) + (0 if float(beat).is_integer() else 1)}"
    bar = int(beat // bpb) + 1
    in_bar = beat - (bar - 1) * bpb
    seconds = song.beat_to_seconds(beat)
    return f"{bar}.{int(in_bar) + 1}  {int(seconds // 60)}:{seconds % 60:04.1f}"


class TransportBar(QWidget):
    """Play/stop, back to start, loop, metronome, count-in, master volume and the position."""

    def __init__(self, transport: Transport, parent=None):
        super().__init__(parent)
        self.transport = transport
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)

        self.act_play = QAction("Play", self)
        self.act_play.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.act_play.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.act_play.setToolTip("Play / stop (Space)")
        self.act_play.triggered.connect(transport.toggle)
        self.addAction(self.act_play)
        self.play_button = QToolButton(self)
        self.play_button.setDefaultAction(self.act_play)
        lay.addWidget(self.play_button)

        self.home_button = QToolButton(self)
        self.home_button.setText("|<")
        self.home_button.setToolTip("Move the playhead to the start")
        self.home_button.clicked.connect(lambda: transport.set_playhead(0.0))
        lay.addWidget(self.home_button)

        self.loop_box = QCheckBox("Loop", self)
        self.loop_box.setToolTip("Loop the loop region (or the whole clip or song when none is set)")
        self.loop_box.toggled.connect(transport.set_loop_enabled)
        lay.addWidget(self.loop_box)
        self.metronome_box = QCheckBox("Click", self)
        self.metronome_box.setToolTip("Metronome: a click on every beat")
        self.metronome_box.toggled.connect(transport.set_metronome)
        lay.addWidget(self.metronome_box)
        self.count_in_box = QCheckBox("Count-in", self)
        self.count_in_box.setToolTip("One bar of clicks before playback starts")
        self.count_in_box.toggled.connect(transport.set_count_in)
        lay.addWidget(self.count_in_box)

        lay.addWidget(QLabel("Vol", self))
        self.volume = QSlider(Qt.Orientation.Horizontal, self)
        self.volume.setRange(0, 100)
        self.volume.setValue(int(round(transport.master_volume * 100)))
        self.volume.setFixedWidth(90)
        self.volume.setToolTip("Master volume")
        self.volume.valueChanged.connect(lambda v: transport.set_master_volume(v / 100.0))
        lay.addWidget(self.volume)

        self.sound = QComboBox(self)
        self.sound.setToolTip("What plays the notes: the built-in synthesizer or a General MIDI SoundFont")
        self.sound.addItem("Built-in synth", None)
        found = soundfont.find_soundfont()
        if found and soundfont.available()[0]:
            self.sound.addItem(f"SoundFont: {os.path.basename(found)}", found)
        self.sound.addItem("Choose SoundFont...", CHOOSE)
        self._select_sound(transport.soundfont)
        self.sound.activated.connect(self._on_sound)
        lay.addWidget(self.sound)

        self.position = QLabel(self)
        self.position.setMinimumWidth(110)
        self.position.setToolTip("Bar.beat and time of the playhead")
        lay.addWidget(self.position)

        transport.playhead_moved.connect(self._on_playhead)
        transport.state_changed.connect(self._on_state)
        transport.loop_changed.connect(self._on_loop)
        self._on_loop()
        self._on_state(transport.state)
        self._on_playhead(transport.playhead)

    def _select_sound(self, path: str | None) -> None:
        i = self.sound.findData(path)
        if i < 0:
            i = self.sound.count() - 1
            self.sound.insertItem(i, f"SoundFont: {os.path.basename(path)}", path)
        self.sound.setCurrentIndex(i)

    def _on_sound(self, index: int) -> None:
        data = self.sound.itemData(index)
        if data == CHOOSE:
            data, _ = QFileDialog.getOpenFileName(self, "Choose a SoundFont", "",
                                                  f"{dialogs.SOUNDFONT_FILTER};;{dialogs.ALL_FILTER}")
            if not data:
                self._select_sound(self.transport.soundfont)
                return
        if not self.transport.set_soundfont(data):
            data = self.transport.soundfont
        self._select_sound(data)

    def _on_loop(self) -> None:
        self.loop_box.blockSignals(True)
        self.loop_box.setChecked(self.transport.loop_enabled)
        self.loop_box.blockSignals(False)
        loop = self.transport.loop
        self.loop_box.setToolTip(
            f"Loop beats {loop[0]:g} to {loop[1]:g}" if loop else
            "Loop the whole clip or song (set a loop region on the timeline to loop a part)")

    def _on_playhead(self, beat: float) -> None:
        self.position.setText(format_position(beat, self.transport.song))

    def _on_state(self, state: str) -> None:
        self.act_play.setText("Stop" if state != "stopped" else "Play")
        if state == "count-in":
            self.position.setText("count-in")
