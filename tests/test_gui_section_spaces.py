"""Labels and section spaces in the window (gui/section_spaces.py): label clips, import a folder
under a label, train a space from a label (refused under 8 clips), keep it in the project, sample
it, fill the timeline's slots from it (marked on the blocks), show it on the map, export, import,
remove, and open a project whose space cannot be used. Uses the embedded mel_2bar."""
import os

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from core import section_space as ss
from core.midi_io import export_midi
from core.song import Clip, Note, Song
from gui import dialogs
from gui.clip_library import COLUMNS
from gui.main_window import MainWindow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMBEDDED_MEL = os.path.join(ROOT, "resources", "models", "mel_2bar")
LABEL_COL = COLUMNS.index("Label")


@pytest.fixture(scope="module")
def mel_2bar():
    from core.musicvae import load_model

    return load_model(None, EMBEDDED_MEL, device="cpu", name="mel_2bar")


@pytest.fixture
def errors(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_STUDIO_DATA", str(tmp_path / "data"))
    seen = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message, detail="": seen.append((title, message)))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: "discard")
    return seen


@pytest.fixture
def window(qtbot, tmp_path, errors, mel_2bar):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.models.register("mel_2bar", None, EMBEDDED_MEL, model=mel_2bar)
    w.session.model = "mel_2bar"
    w.song.set_sections([])
    for cid in list(w.song.clips):
        w.song.remove_clip(cid)
    w.undo_stack.clear()
    w.resize(1400, 900)
    yield w
    if w.section_spaces.dialog is not None:
        w.section_spaces.dialog.close()
    w.runner.shutdown(10000)


def melody(i: int, high: bool = True) -> list[Note]:
    """Two bars of eighths, a different walk for each i (high: around 80, else around 62)."""
    rng = np.random.default_rng(i)
    base = 80 if high else 62
    return [Note(int(base + rng.integers(-4, 5)), k * 0.5, k * 0.5 + 0.5, 90) for k in range(16)]


def add_melodies(w, n, label=None, high=True, start=0):
    trk = w.song.ensure_track("melody")
    ids = []
    for i in range(start, start + n):
        clip = w.song.add_clip(Clip(f"m{i}", 8.0, {trk.id: melody(i, high)}, label=label))
        ids.append(clip.id)
    return ids


def library_labels(w):
    w.clip_library.flush()
    tree = w.clip_library.tree
    return {tree.topLevelItem(i).text(0): tree.topLevelItem(i).text(LABEL_COL) for i in range(tree.topLevelItemCount())}


def wait_idle(qtbot, w, timeout=120000):
    qtbot.waitUntil(lambda: not w.runner.is_busy(), timeout=timeout)


def test_labels_are_set_as_one_undo_step_and_shown_in_the_library(window, monkeypatch):
    w = window
    ids = add_melodies(w, 3)
    assert "Section Spaces" in [a.text().replace("&", "") for a in w.menuBar().actions()]
    w.session.select_clips(ids[:2])
    assert w.section_spaces.set_label(label="  Chorus ") is True
    assert [w.song.clips[c].label for c in ids] == ["chorus", "chorus", None]
    assert library_labels(w) == {"m0": "chorus", "m1": "chorus", "m2": ""}
    assert w.undo_stack.undoText() == "Label 2 clips chorus"
    w.undo_stack.undo()
    assert [w.song.clips[c].label for c in ids] == [None, None, None]
    assert library_labels(w)["m0"] == ""
    w.undo_stack.redo()
    assert w.section_spaces.set_label([ids[0]], label="") is True  # empty clears it
    assert w.song.clips[ids[0]].label is None and w.song.clips[ids[1]].label == "chorus"
    # a double-click on a Label cell asks for the label of the selected clips
    asked = []
    monkeypatch.setattr(w.section_spaces, "_ask_item",
                        lambda title, prompt, items, editable=False: asked.append(items) or "Bridge")
    w.session.select_clips([ids[1], ids[2]])
    w.clip_library.flush()
    row = next(w.clip_library.tree.topLevelItem(i) for i in range(3)
               if w.clip_library.tree.topLevelItem(i).text(0) == "m2")
    w.clip_library.tree.itemDoubleClicked.emit(row, LABEL_COL)
    assert [w.song.clips[c].label for c in ids] == [None, "bridge", "bridge"]
    assert asked and asked[0][0] == "chorus"  # the first clip's label is offered first
    w.clip_library.tree.itemDoubleClicked.emit(row, 0)  # other cells do not ask
    assert len(asked) == 1


def test_import_a_folder_under_a_label(qtbot, window, errors, tmp_path):
    w = window
    folder = tmp_path / "verses"
    folder.mkdir()
    for i in range(3):
        song = Song()
        trk = song.ensure_track("melody")
        clip = song.add_clip(Clip("x", 8.0, {trk.id: melody(i, high=False)}))
        export_midi(song, folder / f"verse_{i}.mid", clip=clip)
    (folder / "broken.mid").write_bytes(b"MThd junk")
    messages = []
    w.section_spaces.status_message.connect(messages.append)
    job = w.section_spaces.import_folder(str(folder), "Verse")
    assert job is not None
    wait_idle(qtbot, w)
    clips = [c for c in w.song.clips.values() if c.label == "verse"]
    assert sorted(c.name for c in clips) == ["verse_0", "verse_1", "verse_2"]
    melody_track = w.song.track_for_role("melody")
    assert all(set(c.notes) == {melody_track.id} and c.note_count() == 16 for c in clips)
    assert any("Imported 3 clips labelled verse" in m and "broken.mid" in m and "8 are needed" in m
               for m in messages), messages
    assert library_labels(w)["verse_1"] == "verse"
    w.undo_stack.undo()
    assert not w.song.clips
    # cancelled before it ran: the song is left as it was
    job = w.section_spaces.import_folder(str(folder), "verse")
    w.runner.cancel(job)
    wait_idle(qtbot, w)
    assert not w.song.clips and errors == []


def test_a_space_from_a_label_is_refused_under_8_clips_then_trained_kept_sampled_and_filled(qtbot, window, errors):
    w = window
    spaces = w.section_spaces
    add_melodies(w, 5, label="chorus")
    assert spaces.new_space("chorus") is None
    assert errors and "at least 8 clips" in errors[-1][1] and '"chorus" has 5' in errors[-1][1]
    errors.clear()
    add_melodies(w, 5, label="chorus", start=5)
    opened = []
    spaces.space_dialog_opened.connect(opened.append)
    assert spaces.new_space("chorus") is True
    assert opened, "the model was registered loaded: the dialog opens at once"
    dialog = opened[0]
    assert dialog.label == "chorus" and len(dialog.clips) == 10
    dialog.steps_spin.setValue(150)
    with qtbot.waitSignal(dialog.space_ready, timeout=120000):
        dialog.start()
    assert set(w.song.spaces) == {("mel_2bar", "chorus")}
    assert w.undo_stack.undoText() == "New chorus section space"
    w.undo_stack.undo()
    assert w.song.spaces == {}
    w.undo_stack.redo()
    assert spaces.usable().keys() == {"chorus"}
    wait_idle(qtbot, w)

    # Sample: into the library, labelled, numbered on
    assert spaces.sample("chorus", 3, 0.5) is True
    wait_idle(qtbot, w)
    made = [c for c in w.song.clips.values() if c.origin == "section space"]
    assert sorted(c.name for c in made) == ["Chorus 1", "Chorus 2", "Chorus 3"]
    assert all(c.label == "chorus" and c.model == "mel_2bar" for c in made)
    assert w.undo_stack.undoText() == "Sample 3 clips from the chorus space"

    # Fill: every chorus slot from the space; the verse from the model's prior
    tl = w.timeline
    tl.apply_form("verse chorus verse chorus", "test")
    assert tl.fill(seed=2) is True
    wait_idle(qtbot, w)
    by_label = {s.label: w.song.clips[s.clip_id] for s in w.song.sections}
    assert by_label["chorus"].origin == "section space" and by_label["verse"].origin == "sampled"
    chorus = next(s for s in w.song.sections if s.label == "chorus")
    verse = next(s for s in w.song.sections if s.label == "verse")
    assert tl.canvas.space_note(chorus, by_label["chorus"]) == "Filled from the 'chorus' space"
    assert tl.canvas.space_note(verse, by_label["verse"]) is None
    first = by_label["chorus"].id
    assert spaces.fill("chorus") is True  # "Fill slots with this space": a new clip in both slots
    wait_idle(qtbot, w)
    chorus_clips = {s.clip_id for s in w.song.sections if s.label == "chorus"}
    assert len(chorus_clips) == 1 and first not in chorus_clips
    assert w.song.clips[chorus_clips.pop()].origin == "section space"
    # an empty chorus slot says Fill will use the space
    tl.add_section("chorus")
    empty = next(s for s in w.song.sections if s.clip_id is None)
    assert tl.canvas.space_note(empty, None) == "Fill uses the 'chorus' space of mel_2bar"

    # the map: the space's training codes as rings in the chorus colour, named in the legend
    w.latent_map.color_combo.setCurrentIndex(1)
    w.latent_map.flush()
    assert len(w.latent_map.space_points.data) == 10
    assert "chorus" in w.latent_map.legend.text() and "training clips" in w.latent_map.legend.text()
    assert "1 section space" in w.latent_map.title.text()
    shot = os.environ.get("SECTION_SPACE_WINDOW_SHOT")
    if shot:
        w.show()
        qtbot.waitExposed(w)
        w.latent_map.refit()
        assert w.grab().save(shot)
        assert w.latent_map.grab().save(shot.replace(".png", "_map.png"))


def stored(label="chorus", model="mel_2bar", seed=0):
    rng = np.random.default_rng(seed)
    hidden = (16, 16, 16)
    space = ss.SectionSpace({"name": model, "z_size": 128, "kind": "melody", "config": "cat-mel_2bar_small"},
                            label, 4, hidden, ss._initial_weights(128, 4, hidden, rng),
                            np.zeros(128, np.float32), 1.0, codes=rng.standard_normal((9, 128)).astype(np.float32))
    return ss.StoredSpace.of(space)


def test_export_import_and_remove_a_space(qtbot, window, errors, tmp_path):
    w = window
    spaces = w.section_spaces
    entry = stored()
    spaces.keep_entry(entry, "New chorus section space")
    path = str(tmp_path / "chorus.space")
    assert spaces.export_space("chorus", path) is True
    assert open(path, "rb").read() == entry.data
    assert spaces.remove_space("chorus") is True and w.song.spaces == {}
    w.undo_stack.undo()
    assert w.song.spaces[("mel_2bar", "chorus")] is entry
    w.undo_stack.redo()
    assert spaces.import_space(path) is True
    back = w.song.spaces[("mel_2bar", "chorus")]
    assert back.data == entry.data and back.problem is None
    # a damaged file says so and changes nothing
    bad = tmp_path / "bad.space"
    bad.write_bytes(entry.data[:200])
    assert spaces.import_space(str(bad)) is False
    assert errors and "not a section space" in errors[-1][1]
    assert w.song.spaces[("mel_2bar", "chorus")] is back


def test_a_project_with_an_unusable_space_opens_and_keeps_it(qtbot, window, errors, tmp_path):
    w = window
    messages = []
    w.section_spaces.status_message.connect(messages.append)
    add_melodies(w, 2, label="chorus")
    w.song.set_space(stored("chorus"))
    w.song.set_space(stored("bridge", model="a-model-nobody-installed", seed=1))
    path = str(tmp_path / "song.lstudio")
    assert w.files.save_to(path)
    assert w.files.open_path(path, ask=False, background=False)
    assert set(w.song.spaces) == {("mel_2bar", "chorus"), ("a-model-nobody-installed", "bridge")}
    assert any("bridge" in m and "a-model-nobody-installed" in m and "not installed" in m for m in messages), messages
    rows = {key: problem for key, _e, problem in w.section_spaces.entries()}
    assert rows[("mel_2bar", "chorus")] is None and "not installed" in rows[("a-model-nobody-installed", "bridge")]
    w.section_spaces.build_menu(w)  # the menu lists both, the unusable one marked
    listed = [a.text() for a in w.section_spaces._listed]
    assert listed == ["bridge · a-model-nobody-installed  (unusable)", "chorus · mel_2bar"]
    assert w.section_spaces.usable().keys() == {"chorus"}


def test_in_the_model_process_the_curve_follows_progress_and_good_enough_reaches_training(
        qtbot, tmp_path, monkeypatch, errors):
    """The app's path: the model lives in the model process, where no TrainControl is shared."""
    from core.model_host import RemoteModel
    from gui import model_service

    monkeypatch.setenv("LATENT_STUDIO_AUDIO", "null")
    model_service.use_model_process(True)
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    try:
        w.session.model = "mel_2bar"
        w.song.set_sections([])
        for cid in list(w.song.clips):
            w.song.remove_clip(cid)
        add_melodies(w, 9, label="chorus")
        opened = []
        w.section_spaces.space_dialog_opened.connect(opened.append)
        assert w.section_spaces.new_space("chorus") is True
        qtbot.waitUntil(lambda: bool(opened), timeout=180000)  # the model loads in its process first
        assert isinstance(w.models.model("mel_2bar"), RemoteModel)
        dialog = opened[0]
        dialog.steps_spin.setValue(100_000)
        with qtbot.waitSignal(dialog.space_ready, timeout=180000) as ready:
            dialog.start()
            assert dialog._remote
            qtbot.waitUntil(lambda: len(dialog._steps) >= 5, timeout=120000)  # drawn from progress
            dialog.stop_early()
        space = ready.args[0]
        assert space.info["stopped_early"] and 5 <= space.steps < 100_000
        assert len(dialog.recon_curve.xData) == space.steps  # the whole curve once it is done
        qtbot.waitUntil(lambda: dialog.map_plot.isVisibleTo(dialog) and len(dialog.pairs) == 4, timeout=120000)
        assert ("mel_2bar", "chorus") in w.song.spaces
        dialog.close()
        w.timeline.apply_form("chorus verse", "test")
        assert w.timeline.fill(seed=1)
        wait_idle(qtbot, w)
        by_label = {s.label: w.song.clips[s.clip_id] for s in w.song.sections}
        assert by_label["chorus"].origin == "section space" and by_label["verse"].origin == "sampled"
        assert errors == []
    finally:
        w.runner.shutdown(10000)
        w.models.close()
        model_service.use_model_process(False)
