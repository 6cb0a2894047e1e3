"""The window's playback wiring (issue 7) and keeping the piano roll on the window's clip."""
import os

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit

from core.song import Clip, Note, Section, Song
from gui import dialogs
from gui.main_window import MainWindow


def _song() -> Song:
    song = Song("Wiring")
    melody = song.ensure_track("melody")
    a = Clip("A", 8.0, id="clip_a")
    a.notes[melody.id] = [Note(60 + i % 5, float(i), i + 0.9, 100) for i in range(8)]
    b = Clip("B", 8.0, id="clip_b")
    b.notes[melody.id] = [Note(67, 0.0, 4.0, 90)]
    song.add_clip(a)
    song.add_clip(b)
    song.add_section(Section("verse", "clip_a", 0.0, 16.0))
    return song


@pytest.fixture
def errors(monkeypatch):
    seen = []
    monkeypatch.setattr(dialogs, "show_error",
                        lambda parent, title, message, detail="": seen.append((title, message)))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: "discard")
    return seen


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, errors):
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(song=_song(), settings=settings)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.transport.close()
    w.runner.shutdown(5000)


def test_play_on_the_null_output_moves_the_piano_roll_playhead(qtbot, window):
    w = window
    assert w.transport is not None and w.transport_bar.isVisibleTo(w)
    assert w.session.current_clip == "clip_a"
    assert w.transport.clip_id is None  # the shown clip is in the arrangement: play the song
    w.editor.state.set_playhead(0.0)
    w.transport.play()
    qtbot.waitUntil(lambda: w.editor.state.playhead > 0.5, timeout=5000)
    w.transport.stop()
    assert w.transport.state == "stopped"


def test_no_portaudio_is_said_in_the_status_bar_and_playback_still_runs(qtbot, tmp_path,
                                                                        monkeypatch):
    from core.audio import player

    def missing():
        raise player.AudioUnavailable("No sound: the PortAudio library is not installed")

    monkeypatch.setattr(player, "probe_sounddevice", missing)
    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "auto")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(song=_song(), settings=settings)
    qtbot.addWidget(w)
    w.show()
    assert w.audio_label.isVisibleTo(w)
    assert "PortAudio" in w.audio_label.toolTip()
    assert "PortAudio" in w.statusBar().currentMessage()
    w.transport.play()  # the null output keeps the clock going
    qtbot.waitUntil(lambda: w.editor.state.playhead > 0.25, timeout=5000)
    w.transport.close()
    w.runner.shutdown(5000)


def test_ruler_click_moves_the_transport_in_song_time(window):
    w = window
    w.song.set_sections([Section("intro", "clip_b", 0.0, 8.0), Section("verse", "clip_a", 8.0, 16.0)])
    w.editor.playhead_requested.emit(2.0)  # beat 2 of clip A, which starts at song beat 8
    assert w.transport.playhead == pytest.approx(10.0)


def test_timeline_click_takes_the_transport_back_to_the_song(qtbot, window):
    w = window
    w.session.show_clip("clip_b")  # not in the arrangement: Space would play it alone
    assert w.transport.clip_id == "clip_b"
    w.timeline.canvas.playhead_requested.emit(4.0)
    assert w.transport.clip_id is None and w.transport.playhead == 4.0 and not w.transport.is_playing
    # a click while a library clip is auditioned: the song plays on from the click, in song beats
    w.transport.audition_clip("clip_b")
    assert w.transport.playing_clip == "clip_b"
    w.timeline.canvas.playhead_requested.emit(6.0)
    assert w.transport.is_playing and w.transport.playing_clip is None
    assert w.transport.player.source.schedule.end_beat == pytest.approx(w.song.length_beats())
    qtbot.waitUntil(lambda: (w.transport.position() or 0) > 6.0, timeout=3000)
    # while the song plays, a click jumps
    w.timeline.canvas.playhead_requested.emit(1.0)
    assert w.transport.is_playing and w.transport.position() < 2.0
    w.transport.stop()
    assert w.transport.playhead == 1.0


def test_a_clip_outside_the_arrangement_plays_alone(window):
    window.session.show_clip("clip_b")
    assert window.transport.clip_id == "clip_b"
    window.session.show_clip("clip_a")
    assert window.transport.clip_id is None


def test_space_plays_but_not_while_typing(qtbot, window):
    w = window
    w.activateWindow()
    w.editor.setFocus()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=2000)
    qtbot.keyClick(w.editor, Qt.Key.Key_Space)
    assert w.transport.is_playing
    qtbot.keyClick(w.editor, Qt.Key.Key_Space)
    assert not w.transport.is_playing
    field = QLineEdit(w.generate_panel)
    field.show()
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_Space)
    assert field.text() == " "
    assert not w.transport.is_playing


def test_space_plays_on_buttons_boxes_and_number_boxes_of_the_whole_window(qtbot, window):
    """Issue 16 item 5: Space plays and stops wherever the focus is, a focused button is not
    pressed by it and a number box keeps its value; only a text field takes the Space."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QApplication, QWidget

    w = window
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=2000)
    plays, pressed = [], []
    w.transport_bar.act_play.triggered.disconnect()
    w.transport_bar.act_play.triggered.connect(lambda: plays.append(1))
    tried = set()
    for widget in w.findChildren(QWidget):
        if (widget.focusPolicy() == Qt.FocusPolicy.NoFocus or not widget.isVisible()
                or not widget.isEnabled() or isinstance(widget, QLineEdit)):
            continue
        widget.setFocus()
        if QApplication.focusWidget() is not widget:
            continue
        tried.add(type(widget).__name__)
        if isinstance(widget, QAbstractButton):
            widget.pressed.connect(lambda: pressed.append(1))
        value = widget.text() if isinstance(widget, QAbstractSpinBox) else None
        count = len(plays)
        qtbot.keyClick(widget, Qt.Key.Key_Space)
        assert len(plays) == count + 1, (type(widget).__name__, widget.objectName())
        if value is not None:
            assert widget.text() == value
    assert pressed == []
    assert {"QSpinBox", "QDoubleSpinBox", "QPushButton", "QToolButton", "QComboBox",
            "QSlider", "PianoRollView"} <= tried


def test_clicking_a_clip_in_the_library_auditions_it(qtbot, window):
    w = window
    tree = w.clip_library.tree
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == "clip_b")
    w.library_dock.raise_()  # the Clips tab in front, as the musician brings it
    qtbot.waitUntil(lambda: tree.isVisible() and tree.viewport().width() > 0, timeout=2000)
    w.transport.play()  # the song is playing when the musician clicks a clip
    name = tree.visualRect(tree.indexFromItem(item, 0))  # on its name (the row may be wider than the list)
    assert tree.viewport().rect().contains(name.center())
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=name.center())
    assert w.session.current_clip == "clip_b"  # selected, shown in the piano roll ...
    assert w.transport.is_playing and w.transport.playing_clip == "clip_b"  # ... and heard
    w.transport.stop()


def test_an_audition_leaves_no_playhead_behind(qtbot, window):
    """An audition is a side trip: its playhead line shows while it plays; afterwards the
    song's playhead is back where it was, and a clip that does not play there shows none."""
    w = window
    song, st = w.song, w.editor.state
    hit = song.add_clip(Clip("hit", 1.0, {song.tracks[0].id: [Note(72, 0.0, 0.5, 100)]}, id="clip_hit"))
    song.add_section(Section("outro", hit.id, 16.0, 1.0))
    w.transport.set_song_playhead(4.0)  # inside the verse (clip A)
    assert w.timeline.canvas.playhead == 4.0
    w.session.show_clip(hit.id)
    w.transport.set_song_playhead(4.0)
    assert not st.playhead_shown  # the song is not playing the shown clip there
    seen = []
    w.transport.playhead_moved.connect(lambda beat: seen.append((st.playhead_shown, st.playhead)))
    w.transport.audition_clip(hit.id)
    qtbot.waitUntil(lambda: w.transport.state == "stopped", timeout=5000)
    assert any(shown and beat > 0.05 for shown, beat in seen[:-1])  # the line followed the audition
    assert not st.playhead_shown  # and is gone once it ended
    assert w.transport.playhead == 4.0 and w.timeline.canvas.playhead == 4.0
    w.editor.view.repaint()
    # back on clip A, which the song plays at beat 4: the line is there, not where B played
    w.session.show_clip("clip_a")
    w.transport.set_song_playhead(4.0)
    assert st.playhead_shown and st.playhead == 4.0
    w.transport.audition_clip(hit.id)  # another clip: no line in A while it plays
    assert not st.playhead_shown and w.timeline.canvas.playhead is None
    qtbot.waitUntil(lambda: w.transport.state == "stopped", timeout=5000)
    assert st.playhead_shown and st.playhead == 4.0 and w.timeline.canvas.playhead == 4.0
    w.transport.set_song_playhead(16.25)  # the outro plays the hit: shown in its own beats
    w.session.show_clip(hit.id)
    w.transport.set_song_playhead(16.25)
    assert st.playhead_shown and st.playhead == pytest.approx(0.25)


def test_showing_another_clip_shows_the_playhead_in_its_time_or_none(window):
    w = window
    song, st = w.song, w.editor.state
    song.add_section(Section("chorus", "clip_b", 16.0, 8.0))
    hit = song.add_clip(Clip("hit", 1.0, {song.tracks[0].id: [Note(72, 0.0, 0.5, 100)]}, id="clip_hit"))
    w.transport.set_song_playhead(4.0)
    assert w.session.current_clip == "clip_a" and st.playhead_shown and st.playhead == 4.0
    w.session.show_clip("clip_b")  # in the song, but not at beat 4: no line
    assert not st.playhead_shown
    w.transport.set_song_playhead(18.0)
    assert st.playhead_shown and st.playhead == 2.0
    w.session.show_clip(hit.id)  # not in the song: it plays alone, from the playhead
    assert w.transport.clip_id == hit.id and st.playhead_shown and st.playhead == w.transport.playhead
    w.session.show_clip("clip_a")  # back in song time: beat 18 is clip B's, not A's
    assert w.transport.clip_id is None and not st.playhead_shown


def test_clicking_a_clip_on_the_map_auditions_it(window):
    window.latent_map.clips_clicked.emit(["clip_b"], False)
    assert window.transport.is_playing and window.transport.playing_clip == "clip_b"
    window.transport.stop()


def _wait_job(qtbot, w, action):
    with qtbot.waitSignal(w.runner.busy_changed, timeout=20000,
                          check_params_cb=lambda busy: busy is False):
        action()


def test_export_audio_writes_a_wav_with_sound(qtbot, window, monkeypatch, tmp_path, errors):
    from core.audio.render import read_wav

    out = tmp_path / "song.wav"
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(out))
    _wait_job(qtbot, window, window.act_export_audio.trigger)
    assert errors == []
    audio, rate = read_wav(str(out))
    assert rate == 44100
    seconds = len(audio) / rate
    assert seconds >= window.song.beat_to_seconds(16.0) - 0.01
    assert np.abs(audio).max() > 0.05  # there is sound in it
    assert np.abs(audio).max() <= 1.0


def test_export_clip_audio_is_the_clip_alone(qtbot, window, monkeypatch, tmp_path, errors):
    from core.audio.render import read_wav

    out = tmp_path / "clip.wav"
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(out))
    window.session.show_clip("clip_b")
    _wait_job(qtbot, window, window.act_export_clip_audio.trigger)
    assert errors == []
    audio, rate = read_wav(str(out))
    assert len(audio) / rate < window.song.beat_to_seconds(16.0)
    assert np.abs(audio).max() > 0.05


def test_export_audio_to_an_unwritable_place_is_a_clear_error(window, monkeypatch, tmp_path,
                                                              errors):
    bad = tmp_path / "no such folder" / "song.wav"
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(bad))
    assert window.files.export_audio() is False
    assert len(errors) == 1 and str(bad) in errors[0][1] and "does not exist" in errors[0][1]
    assert not bad.exists()


# ------------------------------------------------------------------ the current clip
def test_removing_the_shown_clip_moves_the_piano_roll_too(window):
    w = window
    w.session.show_clip("clip_b")
    assert w.editor.state.clip_id == "clip_b"
    w.song.remove_clip("clip_b")
    assert w.session.current_clip == "clip_a"
    assert w.editor.state.clip_id == "clip_a"
    assert w.clip_combo.currentData() == "clip_a"


def test_first_clip_added_to_an_empty_song_is_shown_in_the_piano_roll(qtbot, tmp_path):
    song = Song("Empty")
    song.ensure_track("melody")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(song=song, settings=settings)
    qtbot.addWidget(w)
    assert w.session.current_clip is None
    w.song.add_clip(Clip("New", 8.0, id="clip_new"))
    assert w.session.current_clip == "clip_new"
    assert w.editor.state.clip_id == "clip_new"
    w.transport.close()
    w.runner.shutdown(5000)


# ------------------------------------------------------------------ removing clips
def test_removing_a_used_clip_is_one_undoable_step(window, tmp_path):
    from core.project import load_project

    w = window
    before = w.song.snapshot()
    w.clip_library.select(["clip_a"])
    assert w.remove_clips() is True
    assert "clip_a" not in w.song.clips
    assert [s.clip_id for s in w.song.sections] == [None]
    path = str(tmp_path / "after.lstudio")
    assert w.files.save_to(path)
    assert [s.clip_id for s in load_project(path).sections] == [None]
    w.undo_stack.undo()
    assert w.song.snapshot()["sections"] == before["sections"]
    assert "clip_a" in w.song.clips
    w.undo_stack.redo()
    assert "clip_a" not in w.song.clips and [s.clip_id for s in w.song.sections] == [None]


def test_opening_a_project_with_a_missing_clip_says_so(qtbot, window, tmp_path, errors):
    import json

    from core.project import song_to_dict

    doc = song_to_dict(_song())
    doc["clips"] = [c for c in doc["clips"] if c["id"] != "clip_a"]
    path = tmp_path / "old.lstudio"
    path.write_text(json.dumps(doc))
    assert window.files.open_path(str(path), ask=False, background=False)
    assert errors == []
    assert [s.clip_id for s in window.song.sections] == [None]
    assert "Repaired" in window.statusBar().currentMessage()
    assert "load_warnings" not in window.song.__dict__
