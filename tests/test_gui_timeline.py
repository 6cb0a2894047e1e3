"""The song timeline in the main window: build, fill, edit, undo, export, drag out, look."""
import os

import mido
import pretty_midi
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QColor, QDropEvent
from PySide6.QtTest import QTest

from core import arrangement as arr
from core import generation
from core.arrangement import assign_tracks
from core.jobs import run_job
from core.project import load_project
from core.song import Clip, Note
from gui import dialogs
from gui import timeline_style as ts
from gui.main_window import MainWindow
from gui.timeline import Timeline
from gui.drag_formats import CLIP_MIME, SECTION_MIME
from gui.timeline_export import section_mime
from tests.helpers_midi import markers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "magenta")
FORM = arr.DEFAULT_FORM.split()


class Asked:
    def __init__(self):
        self.errors = []
        self.save_path = ""

    def install(self, monkeypatch):
        monkeypatch.setattr(dialogs, "show_error",
                            lambda parent, title, message, detail="": self.errors.append((title, message)))
        monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: self.save_path)
        monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: "discard")


@pytest.fixture
def asked(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    a = Asked()
    a.install(monkeypatch)
    return a


@pytest.fixture
def window(qtbot, tmp_path, asked):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert isinstance(w.timeline, Timeline)  # the window's own hook put it under the piano roll
    assert w.timeline_splitter.widget(0) is w.editor and w.timeline_splitter.widget(1) is w.timeline
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.runner.shutdown(5000)


@pytest.fixture(scope="module")
def mel_model():
    from core.musicvae import load_model

    return load_model("cat-mel_2bar_big", os.path.join(FIXTURES, "cat-mel_2bar_big"), device="cpu")


def blank(w):
    """An empty song in the window: no sections, no clips, a clean undo stack."""
    w.song.set_sections([])
    for cid in list(w.song.clips):
        w.song.remove_clip(cid)
    w.undo_stack.clear()
    return w.timeline


def center_of(tl, section_id, y=None):
    rect = tl.canvas.block_rect(arr.find_section(tl.song.sections, section_id))
    return QPoint(int(rect.center().x()), int(rect.center().y() if y is None else y))


def drop(tl, clip_id, pos: QPoint, fmt=CLIP_MIME):
    mime = QMimeData()
    if fmt == "text":
        mime.setText(clip_id)
    else:
        mime.setData(fmt, clip_id.encode())
    event = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    tl.canvas.dropEvent(event)
    return event.isAccepted()


# ---------------------------------------------------------------- building and exporting a song
def test_build_a_song_of_eight_sections_from_generated_clips_and_export_it(qtbot, window, asked,
                                                                          mel_model, tmp_path):
    w = window
    tl = blank(w)
    melody = w.song.track_for_role("melody")
    # generated clips in the song's library, one per distinct label
    labels = list(dict.fromkeys(FORM))
    clips = assign_tracks(run_job(generation.sample, mel_model, len(labels), 0.5, seed=4), {"melody": melody.id})
    for label, clip in zip(labels, clips):
        clip.name = label.title()
        w.song.add_clip(clip)
    by_label = dict(zip(labels, clips))
    tl.set_model(None)
    # one click lays out the form as empty slots
    tl.apply_form(arr.DEFAULT_FORM, "pop")
    assert [s.label for s in w.song.sections] == FORM
    assert all(s.clip_id is None for s in w.song.sections)
    qtbot.wait(10)
    # drag the first clip of each label from the library onto its first slot (library mime,
    # then plain text for the rest), the repeats take the same clip through Fill
    for i, label in enumerate(labels):
        slot = next(s for s in w.song.sections if s.label == label)
        assert drop(tl, by_label[label].id, center_of(tl, slot.id), CLIP_MIME if i % 2 == 0 else "text")
    assert tl.fill() is True  # every label now has a clip: the empty repeats reuse them, no model
    secs = w.song.sections
    assert [w.song.clips[s.clip_id].name.lower() for s in secs] == FORM
    for label in labels:
        assert len({s.clip_id for s in secs if s.label == label}) == 1
    # a chorus is made twice as long by dragging its right edge
    chorus = secs[2]
    rect = tl.canvas.block_rect(chorus)
    bar_px = tl.canvas.px_per_beat * w.song.beats_per_bar
    y = int(rect.center().y())
    QTest.mousePress(tl.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(rect.right()) - 1, y))
    QTest.mouseMove(tl.canvas, QPoint(int(rect.right() + 8 * bar_px), y))
    QTest.mouseRelease(tl.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(int(rect.right() + 8 * bar_px), y))
    assert arr.find_section(w.song.sections, chorus.id).length == 16 * w.song.beats_per_bar
    tl.tempo.setValue(96.0)
    assert w.song.tempo == 96.0
    # export the whole song through File > Export MIDI and read it back
    asked.save_path = str(tmp_path / "song.mid")
    assert w.files.export_midi() is True and asked.errors == []
    path = asked.save_path
    expected_starts = [s.start for s in w.song.sections]
    assert markers(path) == list(zip(expected_starts, FORM))
    pm = pretty_midi.PrettyMIDI(path)
    assert [round(t, 6) for t in pm.get_tempo_changes()[1]] == [96.0]
    rendered = w.song.rendered_notes()
    counts = {inst.name: len(inst.notes) for inst in pm.instruments}
    for track in w.song.tracks:
        assert counts.get(track.name, 0) == len(rendered[track.id])  # pretty_midi skips empty tracks
    assert counts[melody.name] > 0
    song_beats = arr.arrangement_end(w.song.sections)
    assert song_beats == (4 + 8 + 16 + 8 + 8 + 8 + 8 + 4) * 4
    assert mido.MidiFile(path).length == pytest.approx(song_beats * 60 / 96.0, abs=1e-3)
    assert pm.get_end_time() <= song_beats * 60 / 96.0 + 1e-6
    # a repeat carries the same notes as the first of its label (same clip, shifted)
    first, again = [s for s in w.song.sections if s.label == "verse"]
    notes = rendered[melody.id]

    def window_notes(sec):
        return [(n.pitch, n.start - sec.start, n.end - sec.start) for n in notes
                if sec.start <= n.start < sec.end]
    assert window_notes(first) == window_notes(again) != []


def test_fill_runs_the_model_on_the_job_runner_and_undo_takes_it_back(qtbot, window, asked):
    w = window
    tl = blank(w)
    tl.models.register("fixture drums", "cat-drums_2bar_small", os.path.join(FIXTURES, "cat-drums_2bar_small"))
    tl.set_model("fixture drums")
    assert tl.model_name() == "fixture drums"
    tl.apply_form("intro verse chorus verse chorus outro", "test")
    before = w.song.snapshot()
    with qtbot.waitSignal(w.runner.busy_changed, timeout=60000, check_params_cb=lambda b: b is False):
        assert tl.fill(seed=3) is True
        assert not tl.fill_button.isEnabled() and tl.fill_button.text() == "Filling..."
    assert asked.errors == []
    assert tl.fill_button.isEnabled()
    secs = w.song.sections
    assert all(s.clip_id for s in secs)
    assert len(w.song.clips) == 4  # intro, verse, chorus, outro: one each
    verses = [s for s in secs if s.label == "verse"]
    assert verses[0].clip_id == verses[1].clip_id
    assert w.song.clips[verses[0].clip_id].label == "verse"
    drums = w.song.track_for_role("drums")
    assert all(set(c.notes) <= {drums.id} for c in w.song.clips.values())
    assert w.undo_stack.undoText().startswith("Fill 6 Sections")
    w.undo_stack.undo()
    assert w.song.snapshot() == before
    w.undo_stack.redo()
    assert len(w.song.clips) == 4 and all(s.clip_id for s in w.song.sections)
    # regenerate the chorus: a new clip at both choruses, the verses keep theirs
    old_chorus = w.song.sections[2].clip_id
    tl.select([w.song.sections[2].id])
    with qtbot.waitSignal(w.runner.busy_changed, timeout=60000, check_params_cb=lambda b: b is False):
        tl.regenerate()
    choruses = [s for s in w.song.sections if s.label == "chorus"]
    assert choruses[0].clip_id == choruses[1].clip_id != old_chorus
    assert [s.clip_id for s in w.song.sections if s.label == "verse"] == [verses[0].clip_id] * 2
    # with Vary, a new 8-bar bridge gets a whole 8-bar clip of phrases instead of a 2-bar loop
    tl.select([])
    tl.add_section("bridge")
    tl.vary.setChecked(True)
    with qtbot.waitSignal(w.runner.busy_changed, timeout=60000, check_params_cb=lambda b: b is False):
        assert tl.fill(seed=1) is True
    bridge = next(s for s in w.song.sections if s.label == "bridge")
    assert bridge.length == 32.0 and w.song.clips[bridge.clip_id].length == 32.0


def test_fill_without_a_model_says_so(window, asked):
    tl = blank(window)
    tl.apply_form("verse chorus")
    window.session.model = None  # no model to choose
    assert tl.fill() is False
    assert asked.errors and "model" in asked.errors[0][1]
    assert all(s.clip_id is None for s in window.song.sections)


# ---------------------------------------------------------------- editing and undo
def two_clip_song(w):
    tl = blank(w)
    mel = w.song.track_for_role("melody")
    a = w.song.add_clip(Clip("Verse idea", 8.0, {mel.id: [Note(60, 0, 1), Note(62, 4, 5)]}, label="verse"))
    b = w.song.add_clip(Clip("Chorus idea", 8.0, {mel.id: [Note(67, 0, 2)]}, label="chorus"))
    secs = arr.template_sections("verse chorus verse", w.song.beats_per_bar, 2)
    w.song.set_sections(arr.assign_clip(arr.assign_clip(secs, [secs[0].id, secs[2].id], a.id),
                                        [secs[1].id], b.id))
    w.undo_stack.clear()
    return tl, mel, a, b


def test_edits_through_the_canvas_are_undoable(qtbot, window, asked):
    w = window
    tl, mel, a, b = two_clip_song(w)
    start = w.song.snapshot()
    states = [start]
    # move: drag the chorus to the front
    chorus = w.song.sections[1]
    p0 = center_of(tl, chorus.id)
    first = w.song.sections[0]
    target = QPoint(int(tl.canvas.x_of(first.start)) + 3, p0.y())
    QTest.mousePress(tl.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p0)
    QTest.mouseMove(tl.canvas, QPoint(p0.x() - 20, p0.y()))
    QTest.mouseMove(tl.canvas, target)
    QTest.mouseRelease(tl.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)
    assert [s.label for s in w.song.sections] == ["chorus", "verse", "verse"]
    assert tl.selected_ids() == [chorus.id]
    states.append(w.song.snapshot())
    # duplicate, delete, rename, make unique, resize by keys, empty the slot
    tl.act_duplicate.trigger()
    assert [s.label for s in w.song.sections] == ["chorus", "chorus", "verse", "verse"]
    states.append(w.song.snapshot())
    tl.select([w.song.sections[3].id])
    tl.act_delete.trigger()
    assert [s.label for s in w.song.sections] == ["chorus", "chorus", "verse"]
    states.append(w.song.snapshot())
    editor = tl.start_rename(w.song.sections[2].id)
    editor.setText("Bridge")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(5)
    assert w.song.sections[2].label == "bridge"
    states.append(w.song.snapshot())
    tl.select([w.song.sections[1].id])
    assert tl.act_unique.isEnabled()
    tl.act_unique.trigger()
    unique = w.song.sections[1].clip_id
    assert unique != w.song.sections[0].clip_id and w.song.clips[unique].notes == b.notes
    states.append(w.song.snapshot())
    tl.act_longer.trigger()
    assert w.song.sections[1].length == 12.0 and w.song.sections[2].start == 20.0
    states.append(w.song.snapshot())
    tl.select([w.song.sections[0].id])
    tl.act_clear.trigger()
    assert w.song.sections[0].clip_id is None
    states.append(w.song.snapshot())
    # the mixer, tempo and metre, a loop drawn on the ruler
    header = tl.headers.rows[0]
    header.mute.click()
    assert w.song.tracks[0].mute
    states.append(w.song.snapshot())
    header.solo.click()
    states.append(w.song.snapshot())
    for v in (80, 60, 40):
        header.volume.setValue(v)
    assert w.song.tracks[0].volume == pytest.approx(0.4)
    states.append(w.song.snapshot())  # the three fader moves merged into one step
    tl.tempo.setValue(90.0)
    tl.tempo.setValue(91.0)
    assert w.song.tempo == 91.0
    states.append(w.song.snapshot())
    tl.numerator.setValue(3)
    assert w.song.beats_per_bar == 3.0
    states.append(w.song.snapshot())
    y = 8
    x0 = int(tl.canvas.x_of(3.0)) + 1
    x1 = int(tl.canvas.x_of(9.0)) + 1
    QTest.mousePress(tl.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0, y))
    QTest.mouseMove(tl.canvas, QPoint(x1, y))
    QTest.mouseRelease(tl.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x1, y))
    assert w.song.loop == (3.0, 9.0)  # whole 3/4 bars
    assert tl.loop_button.isChecked()
    states.append(w.song.snapshot())
    assert w.undo_stack.count() == len(states) - 1
    # undo everything step by step, then redo it all
    for expected in reversed(states[:-1]):
        w.undo_stack.undo()
        assert w.song.snapshot() == expected
    assert w.song.snapshot() == start and not tl.loop_button.isChecked()
    assert tl.tempo.value() == 120.0 and tl.headers.rows[0].volume.value() == 100
    for expected in states[1:]:
        w.undo_stack.redo()
        assert w.song.snapshot() == expected


def test_a_linked_section_changes_with_its_clip_and_selecting_opens_it(qtbot, window):
    w = window
    tl, mel, a, b = two_clip_song(w)
    last = w.song.sections[2]
    QTest.mouseClick(tl.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     center_of(tl, last.id))
    assert tl.selected_ids() == [last.id]
    assert w.session.current_clip == a.id
    assert w.clip_combo.currentData() == a.id
    if hasattr(w.editor, "state"):
        assert w.editor.state.clip_id == a.id
    assert tl.canvas.current_clip == a.id
    # an edit in the clip (as the piano roll makes it) is heard at both verses
    w.song.add_notes(a.id, mel.id, [Note(72, 6, 7)])
    notes = w.song.rendered_notes()[mel.id]
    assert [n.start for n in notes if n.pitch == 72] == [6.0, last.start + 6.0]
    # keyboard: Left selects the chorus, Alt+Right moves it after the last verse
    tl.canvas.setFocus()
    QTest.keyClick(tl.canvas, Qt.Key.Key_Left)
    assert tl.selected_ids() == [w.song.sections[1].id]
    assert w.session.current_clip == b.id
    QTest.keyClick(tl.canvas, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert [s.label for s in w.song.sections] == ["verse", "verse", "chorus"]


def test_drops_insert_between_sections_or_fill_a_slot(window):
    from gui.drag_formats import CLIP_MIME as LIBRARY_MIME

    assert CLIP_MIME == LIBRARY_MIME  # the timeline takes what the clip library drags
    tl, mel, a, b = two_clip_song(window)
    song = window.song
    # the library drags several ids, one a line: the first one of this song is taken
    from gui.drag_formats import clip_id_from_mime
    mime = QMimeData()
    mime.setData(LIBRARY_MIME, f"clip-gone\n{b.id}\n{a.id}".encode())
    assert clip_id_from_mime(mime, song) == b.id
    # near a boundary: a new section made from the clip, sized to whole bars
    boundary = QPoint(int(tl.canvas.x_of(song.sections[1].start)) + 2, center_of(tl, song.sections[0].id).y())
    assert drop(tl, b.id, boundary)
    assert [s.label for s in song.sections] == ["verse", "chorus", "chorus", "verse"]
    assert song.sections[1].clip_id == b.id and song.sections[1].length == 8.0
    # into an empty slot
    tl.select([song.sections[3].id])
    tl.act_clear.trigger()
    assert drop(tl, a.id, center_of(tl, song.sections[3].id), "text")
    assert song.sections[3].clip_id == a.id
    # something that is not a clip of this song is refused
    assert not drop(tl, "clip-nope", center_of(tl, song.sections[0].id), "text")
    assert len(song.sections) == 4


def trio_section_song(w):
    """A 4-bar trio clip (melody, bass, drums) in a verse, and a 2-bar melody in the library."""
    tl = blank(w)
    mel, bass, kit = (w.song.track_for_role(r) for r in ("melody", "bass", "drums"))
    trio = w.song.add_clip(Clip("Trio", 16.0, {mel.id: [Note(72, 0, 4)], bass.id: [Note(36, 0, 8)],
                                               kit.id: [Note(36, 0, 0.5), Note(38, 4, 4.5)]}, label="verse"))
    tune = w.song.add_clip(Clip("Tune", 8.0, {mel.id: [Note(60, 0, 2), Note(64, 4, 6)]}))
    w.song.set_sections([arr.Section("verse", trio.id, 0.0, 16.0)])
    w.undo_stack.clear()
    tl.canvas.zoom_to_fit()
    return tl, (mel, bass, kit), trio, tune


def test_a_drop_on_a_lane_replaces_that_part_only_and_undoes_in_one_step(window):
    w = window
    tl, (mel, bass, kit), trio, tune = trio_section_song(w)
    sec = w.song.sections[0]
    start = w.song.snapshot()
    heard = w.song.rendered_notes()
    lane = tl.canvas.lane_top(0) + tl.canvas.lane_height() / 2  # the Melody lane
    pos = center_of(tl, sec.id, lane)
    assert tl.canvas.drop_target(QPointF(pos)).track == mel.id
    messages = []
    tl.canvas.status_message.connect(messages.append)
    assert drop(tl, tune.id, pos)
    now = w.song.sections[0]
    assert now.id == sec.id and now.clip_id not in (trio.id, tune.id)
    made = w.song.clips[now.clip_id]
    assert made.notes[mel.id] == [Note(60, 0, 2), Note(64, 4, 6), Note(60, 8, 10), Note(64, 12, 14)]
    after = w.song.rendered_notes()
    assert after[bass.id] == heard[bass.id] and after[kit.id] == heard[kit.id]  # bass and drums kept
    assert w.song.clips[trio.id].notes[mel.id] == [Note(72, 0, 4)]  # the library's trio is untouched
    assert w.session.current_clip == made.id  # the piano roll shows what now plays
    assert w.undo_stack.count() == 1
    w.undo_stack.undo()
    assert w.song.snapshot() == start
    # a drum lane does not take a melody: a message, nothing changed
    drums = center_of(tl, sec.id, tl.canvas.lane_top(2) + tl.canvas.lane_height() / 2)
    tl.status_message.connect(messages.append)
    drop(tl, tune.id, drums)
    assert w.song.snapshot() == start and any("Drums lane" in m for m in messages)


def test_a_drop_on_the_section_header_replaces_the_section(window):
    w = window
    tl, _tracks, trio, tune = trio_section_song(w)
    sec = w.song.sections[0]
    band = tl.canvas.block_rect(sec).top() + ts.LABEL_H / 2
    pos = center_of(tl, sec.id, band)
    target = tl.canvas.drop_target(QPointF(pos))
    assert target.into == sec.id and target.track is None
    assert drop(tl, tune.id, pos)
    assert w.song.sections[0].clip_id == tune.id and len(w.song.clips) == 2
    assert w.undo_stack.count() == 1
    w.undo_stack.undo()
    assert w.song.sections[0].clip_id == trio.id


def test_export_a_section_or_a_clip_and_drag_one_out(window, asked, tmp_path):
    w = window
    tl, mel, a, b = two_clip_song(w)
    tl.select([w.song.sections[2].id])
    w.song.set_sections(arr.resize_section(w.song.sections, w.song.sections[2].id, 16.0))
    asked.save_path = str(tmp_path / "verse.mid")
    assert tl.act_export_section.isEnabled()
    assert tl.export_section_dialog() is True
    pm = pretty_midi.PrettyMIDI(asked.save_path)
    assert len(pm.instruments[0].notes) == 4  # the 2-bar clip twice in 4 bars, from beat 0
    assert markers(asked.save_path) == [(0.0, "verse")]
    assert mido.MidiFile(asked.save_path).length == pytest.approx(16 * 0.5)
    asked.save_path = str(tmp_path / "clip.mid")
    assert tl.export_clip_dialog() is True
    assert len(pretty_midi.PrettyMIDI(asked.save_path).instruments[0].notes) == 2
    # the File menu offers both
    texts = [act.text() for act in w.file_menu.actions()]
    assert "Export Section as MIDI..." in texts and "Export Clip as MIDI..." in texts
    # dragging out: a real .mid file behind a file URL
    mime = section_mime(w.song, w.song.sections[2].id)
    path = mime.urls()[0].toLocalFile()
    assert path.endswith("Verse (bars 5-8).mid") and os.path.isfile(path)
    assert len(pretty_midi.PrettyMIDI(path).instruments[0].notes) == 4
    clip_mime = section_mime(w.song, w.song.sections[2].id, clip_only=True)
    assert bytes(clip_mime.data(CLIP_MIME)).decode() == a.id
    # pressing on a block and leaving the timeline starts the drag out (Alt: the clip alone)
    tl.canvas.drag_out_requested.disconnect(tl.drag_out)  # QDrag.exec would wait for a drop
    asked_out = []
    tl.canvas.drag_out_requested.connect(lambda sid, clip_only: asked_out.append((sid, clip_only)))
    for mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.AltModifier):
        p0 = center_of(tl, w.song.sections[2].id)
        QTest.mousePress(tl.canvas, Qt.MouseButton.LeftButton, mods, p0)
        QTest.mouseMove(tl.canvas, QPoint(p0.x(), p0.y() - 10))
        QTest.mouseMove(tl.canvas, QPoint(p0.x(), -30))
        QTest.mouseRelease(tl.canvas, Qt.MouseButton.LeftButton, mods, QPoint(p0.x(), -30))
    assert asked_out == [(w.song.sections[2].id, False), (w.song.sections[2].id, True)]
    assert [s.label for s in w.song.sections] == ["verse", "chorus", "verse"]  # nothing moved
    # the window does not open its own dragged section as a song
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    assert mime.hasFormat(SECTION_MIME)
    from PySide6.QtWidgets import QApplication
    QApplication.sendEvent(w, event)
    assert len(w.song.sections) == 3 and w.song.clips[a.id]


def test_the_arrangement_is_saved_in_the_project(window, asked, tmp_path):
    w = window
    tl, mel, a, b = two_clip_song(w)
    tl.select([w.song.sections[0].id, w.song.sections[1].id])
    tl.loop_selection()
    w.song.update_track(mel.id, volume=0.5, solo=True)
    asked.save_path = str(tmp_path / "song.lstudio")
    assert w.files.save() is True
    back = load_project(asked.save_path)
    assert [(s.label, s.clip_id, s.start, s.length) for s in back.sections] == \
        [(s.label, s.clip_id, s.start, s.length) for s in w.song.sections]
    assert back.loop == (0.0, 16.0)
    assert back.track(mel.id).volume == 0.5 and back.track(mel.id).solo


# ---------------------------------------------------------------- how it looks
def test_the_timeline_draws_coloured_labelled_blocks(qtbot, window, tmp_path):
    w = window
    tl, mel, a, b = two_clip_song(w)
    tl.canvas.zoom_to_fit()
    tl.select([])
    image = tl.canvas.grab().toImage()
    assert image.width() == tl.canvas.width() and image.height() == tl.canvas.height()
    for sec in w.song.sections:
        rect = tl.canvas.block_rect(sec)
        band = image.pixelColor(int(rect.left() + 4), int(rect.top() + ts.LABEL_H / 2 + 4))
        expected = ts.header_fill(ts.label_color(sec.label), False, False)
        assert abs(band.red() - expected.red()) < 30 and abs(band.green() - expected.green()) < 30 \
            and abs(band.blue() - expected.blue()) < 30, sec.label
    # the verse blocks differ from the chorus block, and a melody note shows in the lane
    assert ts.label_color("verse") != ts.label_color("chorus")
    rect = tl.canvas.block_rect(w.song.sections[1])
    row = {image.pixelColor(x, y).name() for x in range(int(rect.left()) + 2, int(rect.right()) - 2)
           for y in range(int(tl.canvas.lane_top(0)), int(tl.canvas.lane_top(1)))}
    assert QColor(ts.block_fill(ts.label_color("chorus"), False, False)).name() in row
    from gui.track_list import track_color
    assert QColor(track_color(w.song, mel.id)).lighter(125).name() in row  # the chorus's notes
    path = tmp_path / "timeline.png"
    assert tl.grab().save(str(path)) and path.stat().st_size > 2000


def test_context_menus_offer_the_section_edits(window):
    tl, mel, a, b = two_clip_song(window)
    menu = tl.context_menu(window.song.sections[0].id)
    texts = [act.text() for act in menu.actions() if act.text()]
    assert texts[0] == "Label" and "Regenerate" in texts and "Make Unique" in texts
    assert "Export Section as MIDI..." in texts
    label_menu = menu.actions()[0].menu()
    chorus = next(act for act in label_menu.actions() if act.text() == "Chorus")
    chorus.trigger()
    assert window.song.sections[0].label == "chorus"
    empty = tl.context_menu("", beat=arr.arrangement_end(window.song.sections) + 1)
    insert = empty.actions()[0].menu()
    next(act for act in insert.actions() if act.text() == "Outro").trigger()
    assert [s.label for s in window.song.sections][-1] == "outro"
    assert window.song.sections[-1].clip_id is None and window.song.sections[-1].length == 16.0
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert [s.label for s in window.song.sections] == ["verse", "chorus", "verse"]


def test_quick_changes_merge_and_separate_ones_stay_apart(window, monkeypatch):
    from gui import arrange_commands

    clock = [100.0]
    monkeypatch.setattr(arrange_commands.time, "monotonic", lambda: clock[0])
    tl = blank(window)
    for bpm in (121.0, 122.0, 123.0):  # spinning the box: one step
        clock[0] += 0.2
        tl.tempo.setValue(bpm)
    clock[0] += arrange_commands.MERGE_SECONDS + 1
    tl.tempo.setValue(100.0)  # a new decision later: its own step
    assert window.undo_stack.count() == 2
    window.undo_stack.undo()
    assert window.song.tempo == 123.0
    window.undo_stack.undo()
    assert window.song.tempo == 120.0 and tl.tempo.value() == 120.0


def test_intro_and_outro_labels_fit_at_the_default_zoom(qtbot, window):
    from PySide6.QtWidgets import QApplication

    window.timeline.apply_form(arr.DEFAULT_FORM)  # zooms to show the whole song
    QApplication.processEvents()
    canvas = window.timeline.canvas
    for sec in window.song.sections:
        band = canvas.block_rect(sec)
        band.setHeight(ts.LABEL_H - 2)
        title = arr.label_title(sec.label)
        font, text = canvas.label_fit(title, canvas.band_inner(band).width())
        assert text == title, (sec.label, band.width())
    intro = window.song.sections[0]
    assert canvas.block_rect(intro).width() < 60  # a narrow block, where "In…" was shown
    # far too narrow: elided, and the tooltip names it in full
    _, text = canvas.label_fit("Pre-chorus", 20)
    assert text != "Pre-chorus" and text.endswith("\u2026")
    rect = canvas.block_rect(intro)
    canvas._update_cursor(rect.center())
    assert "<b>Intro</b>" in canvas.toolTip()
