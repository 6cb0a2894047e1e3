"""The explorer in the main window: generate, interpolate, similar, steer, import, cancel.

Models are the tiny Magenta-made fixture checkpoints (random weights: the notes are noise, but
counts, lengths, codes, jobs and directions are testable). One model is loaded for the module
and handed to each window's ModelService; one test loads a model through the panel itself.
"""
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QDropEvent

from core.musicvae import latent as latent_ops
from core.song import Clip, Note, Song
from gui import dialogs
from gui.drag_formats import CLIP_MIME
from gui.main_window import MainWindow

FIX = "tests/fixtures/magenta"
MEL = "melody fixture"


@pytest.fixture(scope="module")
def mel_model():
    from core.musicvae import load_model

    return load_model("cat-mel_2bar_big", f"{FIX}/cat-mel_2bar_big", name=MEL)


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message, detail="": shown.append(
        (title, message)))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    return shown


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch, errors):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LATENT_STUDIO_CACHE", str(tmp_path / "cache"))
    made = []

    def make(model=None):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings=settings)
        qtbot.addWidget(w)
        w.models.register(MEL, "cat-mel_2bar_big", f"{FIX}/cat-mel_2bar_big", model=model)
        w.generate_panel.set_model(MEL)
        w.generate_panel.seed = 0
        made.append(w)
        return w

    yield make
    for w in made:
        w.runner.shutdown(3000)
        w.undo_stack.setClean()


def wait_jobs(qtbot, w, timeout=60000):
    qtbot.waitUntil(lambda: not w.runner.is_busy(), timeout=timeout)


def new_clips(w, before):
    return [c for cid, c in w.song.clips.items() if cid not in before]


def generate(qtbot, w, n):
    before = set(w.song.clips)
    w.generate_panel.count_spin.setValue(n)
    qtbot.mouseClick(w.generate_panel.generate_button, Qt.MouseButton.LeftButton)
    wait_jobs(qtbot, w)
    return new_clips(w, before)


def test_generate_loads_the_model_in_the_background_and_fills_library_and_map(qtbot, make_window,
                                                                               errors):
    w = make_window()  # the model is not loaded yet: the first Generate loads it as a job
    assert not w.models.is_loaded(MEL)
    ticks = []
    probe = QTimer(w)
    probe.timeout.connect(lambda: ticks.append(time.monotonic()))
    probe.start(10)
    w.generate_panel.count_spin.setValue(5)
    qtbot.mouseClick(w.generate_panel.generate_button, Qt.MouseButton.LeftButton)
    assert w.runner.is_busy()
    assert not w.generate_panel.generate_button.isEnabled()  # no double submit meanwhile
    wait_jobs(qtbot, w)
    probe.stop()
    assert len(ticks) > 10  # the event loop kept running while the model loaded
    assert errors == []
    clips = [c for c in w.song.clips.values() if c.origin == "sampled"]
    assert len(clips) == 5
    assert all(c.length == 8.0 and c.model == MEL and len(c.latent) == 16 for c in clips)
    assert [c.name for c in clips] == [f"Sample {i}" for i in range(1, 6)]
    melody = w.song.track_for_role("melody").id
    assert all(set(c.notes) == {melody} for c in clips)
    assert set(w.clip_library.clip_ids()) >= {c.id for c in clips}
    assert all(w.latent_map.point_of(c.id) is not None for c in clips)
    assert w.session.current_clip == clips[-1].id  # the new clips are selected and shown
    assert w.job_status.device_label.text() == "CPU"
    # One undoable step.
    w.undo_stack.undo()
    assert not any(c.origin == "sampled" for c in w.song.clips.values())
    assert not set(w.clip_library.clip_ids()) & {c.id for c in clips}
    assert w.latent_map.point_of(clips[0].id) is None or qtbot.waitUntil(
        lambda: w.latent_map.point_of(clips[0].id) is None) is None
    w.undo_stack.redo()
    assert len([c for c in w.song.clips.values() if c.origin == "sampled"]) == 5


def test_interpolate_two_clips_draws_the_path_and_adds_clips_in_order(qtbot, make_window, mel_model):
    w = make_window(mel_model)
    a, b = generate(qtbot, w, 2)
    w.clip_library.select([a.id, b.id])
    assert w.generate_panel.interpolate_button.isEnabled()
    w.generate_panel.steps_spin.setValue(4)
    before = set(w.song.clips)
    qtbot.mouseClick(w.generate_panel.interpolate_button, Qt.MouseButton.LeftButton)
    wait_jobs(qtbot, w)
    mids = new_clips(w, before)
    assert len(mids) == 4
    assert all(c.origin == "interpolated" and c.length == 8.0 for c in mids)
    path = latent_ops.interpolation(np.array(a.latent), np.array(b.latent), 6)
    np.testing.assert_allclose([c.latent for c in mids], path[1:-1], atol=1e-5)
    xs, ys = w.latent_map.path_item.getData()
    assert len(xs) == 6  # both ends and the four clips between
    assert (xs[0], ys[0]) == pytest.approx(w.latent_map.point_of(a.id))
    assert (xs[-1], ys[-1]) == pytest.approx(w.latent_map.point_of(b.id))


def test_similar_gives_variations_near_the_selected_clip(qtbot, make_window, mel_model):
    w = make_window(mel_model)
    (clip,) = generate(qtbot, w, 1)
    w.clip_library.select([clip.id])
    panel = w.generate_panel
    panel.similar_count.setValue(3)
    panel.similarity_slider.setValue(90)
    before = set(w.song.clips)
    qtbot.mouseClick(panel.similar_button, Qt.MouseButton.LeftButton)
    wait_jobs(qtbot, w)
    near = new_clips(w, before)
    assert len(near) == 3 and all(c.origin == "similar" for c in near)
    panel.similarity_slider.setValue(10)
    w.clip_library.select([clip.id])
    before = set(w.song.clips)
    qtbot.mouseClick(panel.similar_button, Qt.MouseButton.LeftButton)
    wait_jobs(qtbot, w)
    far = new_clips(w, before)
    z = np.array(clip.latent)
    assert (np.mean([np.linalg.norm(np.array(c.latent) - z) for c in near])
            < np.mean([np.linalg.norm(np.array(c.latent) - z) for c in far]))


def test_after_generate_interpolate_and_variations_space_plays_and_no_value_changes(
        qtbot, make_window, mel_model):
    """Issue 16 item 5: the clicked button disables itself while its job runs; the focus it
    gives up must not land in a number box where Space blanked the Steps value."""
    from PySide6.QtWidgets import QAbstractSpinBox, QApplication

    w = make_window(mel_model)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    panel = w.generate_panel
    plays = []
    w.transport.toggle = lambda *a: plays.append(1)
    w.transport_bar.act_play.triggered.disconnect()
    w.transport_bar.act_play.triggered.connect(lambda: w.transport.toggle())
    values = lambda: (panel.count_spin.value(), panel.steps_spin.value(),  # noqa: E731
                      panel.similar_count.value())

    def press(button):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        wait_jobs(qtbot, w)
        focused = QApplication.focusWidget()
        assert not isinstance(focused, QAbstractSpinBox), focused
        assert focused is w.editor.view  # the piano roll, which shows the result
        before, count = values(), len(plays)
        qtbot.keyClick(focused, Qt.Key.Key_Space)
        assert len(plays) == count + 1 and values() == before

    panel.count_spin.setValue(2)
    press(panel.generate_button)
    a, b = [c for c in w.song.clips.values() if c.origin == "sampled"]
    w.clip_library.select([a.id, b.id])
    press(panel.interpolate_button)
    w.clip_library.select([a.id])
    press(panel.similar_button)


def test_note_density_slider_raises_the_note_count(qtbot, make_window, mel_model):
    w = make_window(mel_model)
    panel = w.generate_panel
    bases = generate(qtbot, w, 6)
    slider = panel.attr_sliders["note_density"]
    up, down = [], []
    for base in bases:
        w.clip_library.select([base.id])
        assert slider.value() == 0  # a new base clip starts centred
        slider.setValue(20)
        panel.apply_attributes()
        wait_jobs(qtbot, w)
        variant = w.song.clips[panel._steer_variant]
        up.append(variant.note_count())
        assert variant.origin == "attribute" and variant.name == f"{base.name} (steered)"
        clips_now = len(w.song.clips)
        slider.setValue(-20)
        panel.apply_attributes()
        wait_jobs(qtbot, w)
        assert len(w.song.clips) == clips_now  # the companion clip is updated in place
        down.append(w.song.clips[panel._steer_variant].note_count())
        vectors = w.models.cached_attributes(MEL)
        np.testing.assert_allclose(w.song.clips[panel._steer_variant].latent,
                                   np.array(base.latent) - 2.0 * vectors["note_density"], atol=1e-5)
        w.undo_stack.undo()  # back to the +2 decode
        assert w.song.clips[panel._steer_variant].note_count() == up[-1]
    assert np.mean(up) > np.mean(down)


def test_cancel_a_long_job_drops_its_result_and_the_app_stays_usable(qtbot, make_window, mel_model):
    class Slow:
        """The fixture model, 60 ms per decoded clip (a long job)."""

        def __init__(self, inner):
            self.inner = inner
            self.name, self.z_size, self.kind, self.config = inner.name, inner.z_size, inner.kind, inner.config
            self.random_z = inner.random_z
            self.calls = 0

        def decode_tokens(self, z, length=None, temperature=None, seed=None):
            self.calls += 1
            time.sleep(0.06 * len(z))
            return self.inner.decode_tokens(z, length, temperature, seed)

    w = make_window(mel_model)
    slow = Slow(mel_model)
    w.models.register("slow", "cat-mel_2bar_big", f"{FIX}/cat-mel_2bar_big", model=slow)
    w.generate_panel.set_model("slow")
    before = set(w.song.clips)
    w.generate_panel.count_spin.setValue(32)  # about 2 s of decoding
    w.generate_panel.generate()
    qtbot.waitUntil(lambda: slow.calls >= 2, timeout=10000)
    assert not w.job_status.cancel_button.isHidden()  # the status bar offers Cancel
    t0 = time.monotonic()
    qtbot.mouseClick(w.job_status.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.runner.is_busy(), timeout=5000)
    assert time.monotonic() - t0 < 0.5
    qtbot.wait(100)
    assert set(w.song.clips) == before  # no result landed
    assert w.generate_panel.generate_button.isEnabled()
    # Still usable: the next job runs normally.
    w.generate_panel.set_model(MEL)
    assert len(generate(qtbot, w, 2)) == 2


def test_a_model_that_cannot_load_shows_a_readable_error(qtbot, make_window, tmp_path, errors):
    w = make_window()
    w.models.register("broken", "cat-mel_2bar_big", str(tmp_path / "nowhere"))
    w.generate_panel.set_model("broken")
    w.generate_panel.generate()
    wait_jobs(qtbot, w)
    assert len(errors) == 1
    title, message = errors[0]
    assert "nowhere" in message and "Traceback" not in message
    assert w.generate_panel.generate_button.isEnabled()


def test_double_click_on_empty_map_decodes_that_spot(qtbot, make_window, mel_model):
    w = make_window(mel_model)
    generate(qtbot, w, 6)
    m = w.latent_map
    xs = [m.point_of(c)[0] for c in m.shown_ids()]
    assert len(xs) == 6
    spot = (max(xs) + 1.0, 0.25)  # right of every point: empty space
    vb = m.plot.getViewBox()
    vb.setRange(xRange=(min(xs) - 1, max(xs) + 2), yRange=(-3, 3), padding=0)

    class Click:
        def __init__(self, pos):
            self._pos = pos

        def button(self):
            return Qt.MouseButton.LeftButton

        def double(self):
            return True

        def scenePos(self):  # noqa: N802
            return self._pos

        def modifiers(self):
            return Qt.KeyboardModifier.NoModifier

        def accept(self):
            pass

    import pyqtgraph as pg

    scene_pos = vb.mapViewToScene(pg.Point(*spot))
    code = m.code_at(*spot)
    before = set(w.song.clips)
    m._mouse_clicked(Click(scene_pos))
    wait_jobs(qtbot, w)
    (clip,) = new_clips(w, before)
    assert clip.name == "Map spot"
    np.testing.assert_allclose(clip.latent, code, atol=1e-5)
    assert m.point_of(clip.id) == pytest.approx(spot, abs=1e-3)  # it appears where it was asked for


def test_import_midi_places_windows_on_the_map(qtbot, make_window, mel_model, tmp_path):
    from core.midi_io import export_midi

    song = Song()
    t = song.ensure_track("melody")
    clip = song.add_clip(Clip("tune", 24.0, notes={t.id: [Note(62 + i % 7, i, i + 0.5) for i in range(24)]}))
    path = tmp_path / "reel.mid"
    export_midi(song, path, clip=clip)
    w = make_window(mel_model)
    before = set(w.song.clips)
    w.generate_panel.import_midi(str(path))
    wait_jobs(qtbot, w)
    placed = new_clips(w, before)
    assert len(placed) == 3  # 6 bars in 2-bar windows
    assert all(c.origin == "imported" and c.label == "reel" for c in placed)
    assert all(w.latent_map.point_of(c.id) is not None for c in placed)
    w.latent_map.color_combo.setCurrentIndex(1)  # colour by label
    assert "reel" in w.latent_map.legend.text()


def test_drag_a_clip_from_the_library_onto_the_piano_roll(qtbot, make_window, mel_model):
    w = make_window(mel_model)
    a, b = generate(qtbot, w, 2)
    w.session.show_clip(a.id)
    item = next(w.clip_library.tree.topLevelItem(i) for i in range(w.clip_library.tree.topLevelItemCount())
                if w.clip_library.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == b.id)
    mime = w.clip_library.tree.mimeData([item])
    assert mime.hasFormat(CLIP_MIME)
    at = w.editor.rect().center()
    event = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    w.editor.dropEvent(event)
    assert w.session.current_clip == b.id
    assert w.clip_combo.currentData() == b.id


def test_force_cpu_preference(qtbot, make_window, tmp_path):
    w = make_window()
    assert not w.models.force_cpu
    w.generate_panel.act_force_cpu.setChecked(True)
    assert w.models.force_cpu
    assert QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).value(
        "models/force_cpu") in (True, "true")
    assert w.job_status.device_label.text() == "CPU"


def test_first_launch_opens_on_the_melody_model_and_later_ones_on_the_last_used(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    path = str(tmp_path / "fresh.ini")
    first = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    names = [i.name for i in first.models.infos()]
    assert names.index("drums_2bar") < names.index("mel_2bar")  # not simply the first in the list
    assert first.generate_panel.model_name() == "mel_2bar"
    first.generate_panel.set_model("trio_16bar")
    first.runner.shutdown(3000)
    again = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.generate_panel.model_name() == "trio_16bar"
    again.runner.shutdown(3000)


def test_hovering_a_point_previews_its_clip(qtbot, make_window, mel_model):
    import pyqtgraph as pg

    w = make_window(mel_model)
    clips = generate(qtbot, w, 4)
    m = w.latent_map
    vb = m.plot.getViewBox()
    target = clips[2]
    scene = vb.mapViewToScene(pg.Point(*m.point_of(target.id)))
    assert m._pick(scene) == target.id
    far = vb.mapViewToScene(pg.Point(m.point_of(target.id)[0] + 100.0, 0.0))
    assert m._pick(far) is None
    m._mouse_moved(scene)
    assert m.preview.isVisible() and not m.preview.pixmap().isNull()
    m._mouse_moved(far)
    assert not m.preview.isVisible()


def test_a_big_batch_lands_in_slices_and_undo_midway_removes_what_landed(qtbot):
    from gui.commands import AddClipsCommand
    from PySide6.QtGui import QUndoStack

    song = Song()
    t = song.ensure_track("melody")
    clips = [Clip(f"c{i}", 8.0, notes={t.id: [Note(60, k * 0.25, k * 0.25 + 0.25) for k in range(32)]})
             for i in range(10)]
    stack = QUndoStack()
    cmd = AddClipsCommand(song, clips, "Add 10", deferred=True)
    stack.push(cmd)
    assert song.clips == {}  # nothing yet: the caller lands the slices
    assert cmd.land(100)  # 3 clips of 32 notes fit in 100 notes
    assert len(song.clips) == 3
    stack.undo()
    assert song.clips == {} and not cmd.pending
    stack.redo()  # a redo adds the whole batch at once
    assert list(song.clips) == [c.id for c in clips]
