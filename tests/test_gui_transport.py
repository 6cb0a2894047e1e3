"""The transport controller and its toolbar, on the silent output (no sound card needed)."""
import pytest
from PySide6.QtCore import Qt

from core.audio import player as player_mod
from core.song import Clip, Note
from gui.transport import Transport, TransportBar, format_position
from tests.helpers_audio import song_with, trio


@pytest.fixture
def transport(qtbot):
    song = trio(bars=2)  # 8 beats at 120 BPM: 4 seconds
    t = Transport(song, output="null")
    yield t
    t.close()


def test_play_moves_the_playhead_and_stop_returns_to_start(qtbot, transport):
    states, beats = [], []
    transport.state_changed.connect(states.append)
    transport.playhead_moved.connect(beats.append)
    transport.play(from_beat=1.0)
    assert states == ["playing"] and transport.is_playing
    qtbot.waitUntil(lambda: beats and beats[-1] > 1.6, timeout=3000)
    assert all(b2 >= b1 for b1, b2 in zip(beats, beats[1:]))  # it only moves forward
    assert transport.position() > 1.0
    transport.stop()
    assert states == ["playing", "stopped"]
    assert beats[-1] == 1.0 and transport.playhead == 1.0
    assert not transport.player.playing


def test_playback_stops_by_itself_at_the_end(qtbot):
    song = song_with({"melody": [Note(60, 0.0, 0.5, 90)]}, length=1.0)  # half a second
    t = Transport(song, output="null")
    with qtbot.waitSignal(t.state_changed, timeout=5000, check_params_cb=lambda s: s == "stopped"):
        t.play()
    assert not t.is_playing and t.player.underruns == 0
    t.close()


def test_count_in_holds_the_playhead_then_plays(qtbot, transport):
    states, beats = [], []
    transport.state_changed.connect(states.append)
    transport.set_count_in(True)
    transport.play(from_beat=0.0)
    transport.playhead_moved.connect(beats.append)
    assert states == ["count-in"]
    qtbot.wait(900)  # inside the 2 s count-in: no movement
    assert not beats
    qtbot.waitUntil(lambda: "playing" in states, timeout=3000)
    qtbot.waitUntil(lambda: beats and beats[-1] > 0.2, timeout=2000)
    transport.stop()


def test_loop_region_wraps_the_playhead(qtbot, transport):
    beats = []
    transport.playhead_moved.connect(beats.append)
    transport.set_loop(0.0, 1.0)  # half a second
    transport.play(from_beat=0.0)
    qtbot.wait(1300)
    assert max(beats) < 1.0 + 1e-6 and len(beats) > 10
    assert any(b2 < b1 for b1, b2 in zip(beats, beats[1:]))  # it jumped back at least once
    transport.set_loop(None)
    assert not transport.loop_enabled
    transport.stop()


def test_audition_and_focus_clip_play_in_clip_time(qtbot, transport):
    song = transport.song
    short = song.add_clip(Clip("hit", 1.0, {song.tracks[0].id: [Note(72, 0.0, 0.5, 100)]}))
    states = []
    transport.state_changed.connect(states.append)
    transport.audition_clip(short.id)
    qtbot.waitUntil(lambda: states[-1:] == ["stopped"], timeout=5000)
    assert states == ["playing", "stopped"]
    transport.set_clip(short.id)
    transport.play()
    assert transport.player.source.schedule.end_beat == 1.0
    transport.stop()


def test_messages_for_an_empty_song_and_for_no_sound(qtbot, monkeypatch):
    from core.song import Song

    t = Transport(Song(), output="null")
    with qtbot.waitSignal(t.message, timeout=1000) as msg:
        t.play()
    assert "Nothing to play" in msg.args[0] and not t.is_playing
    t.close()

    def no_portaudio():
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(player_mod, "_import_sounddevice", no_portaudio)
    t = Transport(trio(bars=1), output="auto")
    assert "PortAudio" in t.status
    messages = []
    t.message.connect(messages.append)
    t.play()
    assert t.is_playing and len(messages) == 1 and "libportaudio2" in messages[0]
    t.stop()
    t.play()
    assert len(messages) == 1  # said once, not on every play
    t.close()


def test_edits_while_playing_reach_the_renderer(qtbot, transport):
    song = transport.song
    transport.play()
    renderer = transport.player.source.renderer
    before = sum(len(p.start) for p in renderer.parts)
    clip_id = next(iter(song.clips))
    song.add_notes(clip_id, song.tracks[0].id, [Note(90, 5.0, 5.5, 100)])
    assert sum(len(p.start) for p in renderer.parts) == before + 1
    song.update_track(song.tracks[2].id, mute=True)  # the drums
    assert not any(p.is_drum for p in renderer.parts)
    transport.stop()


def test_toolbar_buttons_and_position_label(qtbot, transport):
    bar = TransportBar(transport)
    qtbot.addWidget(bar)
    bar.show()
    assert bar.act_play.text() == "Play"
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert transport.is_playing and bar.act_play.text() == "Stop"
    qtbot.waitUntil(lambda: bar.position.text().startswith("1.2"), timeout=3000)
    bar.volume.setValue(25)
    assert transport.master_volume == pytest.approx(0.25)
    bar.metronome_box.setChecked(True)
    assert transport.metronome and transport.is_playing
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert not transport.is_playing and bar.act_play.text() == "Play"
    bar.loop_box.setChecked(True)
    assert transport.loop_enabled


def test_format_position():
    song = trio(bars=1)
    assert format_position(0.0, song) == "1.1  0:00.0"
    assert format_position(5.5, song) == "2.2  0:02.8"


def test_choosing_a_soundfont_in_the_toolbar(qtbot, transport, tmp_path, monkeypatch):
    pytest.importorskip("tinysoundfont")
    from PySide6.QtWidgets import QFileDialog

    from tests.helpers_sf2 import write_sine_soundfont

    path = write_sine_soundfont(tmp_path / "sine.sf2")
    bar = TransportBar(transport)
    qtbot.addWidget(bar)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (path, "")))
    bar._on_sound(bar.sound.findData("<choose>"))
    assert transport.soundfont == path and bar.sound.currentData() == path
    transport.play()
    qtbot.waitUntil(lambda: (transport.position() or 0) > 0.2, timeout=3000)
    assert transport.player.source.renderer.__class__.__name__ == "SoundFontRenderer"
    transport.stop()
    bar._on_sound(bar.sound.findData(None))
    assert transport.soundfont is None


def test_a_missing_soundfont_file_is_reported(qtbot, transport):
    messages = []
    transport.message.connect(messages.append)
    assert not transport.set_soundfont("/nowhere/gm.sf2")
    assert transport.soundfont is None and messages and "/nowhere/gm.sf2" in messages[0]


def test_loop_region_follows_the_song(qtbot, transport):
    song = transport.song
    bar = TransportBar(transport)
    qtbot.addWidget(bar)
    assert not transport.loop_enabled and not bar.loop_box.isChecked()
    song.set_loop(2.0, 4.0)  # what the timeline's undo command does
    assert transport.loop == (2.0, 4.0) and transport.loop_enabled and bar.loop_box.isChecked()
    transport.play(from_beat=2.0)
    assert transport.player.source.schedule.loop == (2.0, 4.0)
    transport.stop()
    clip_id = next(iter(song.clips))
    transport.set_clip(clip_id)  # a clip ignores the song-time region and loops whole
    transport.play()
    assert transport.player.source.schedule.loop == (0.0, song.clip(clip_id).length)
    transport.stop()
    song.set_loop(None)
    assert transport.loop is None and not transport.loop_enabled and not bar.loop_box.isChecked()


def test_an_audition_returns_the_playhead_to_where_the_song_was(qtbot, transport):
    song = transport.song
    short = song.add_clip(Clip("hit", 1.0, {song.tracks[0].id: [Note(72, 0.0, 0.5, 100)]}))
    transport.set_playhead(3.0)
    heard = []
    transport.playhead_moved.connect(lambda beat: heard.append((transport.playing_clip, beat)))
    transport.audition_clip(short.id)
    qtbot.waitUntil(lambda: transport.state == "stopped", timeout=5000)
    assert transport.playhead == 3.0
    # the last report is in the song's beats, after the audition stopped
    assert heard[-1] == (None, 3.0)
    assert all(clip == short.id for clip, _ in heard[:-1])
    # Play during an audition plays the song from its own playhead
    transport.audition_clip(short.id)
    transport.play()
    assert transport.playing_clip is None and transport.player.source.schedule.start_beat == 3.0
    transport.stop()
    assert transport.playhead == 3.0
