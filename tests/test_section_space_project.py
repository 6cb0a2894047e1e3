"""Section spaces kept in a project, read from a folder under a label, and stopped early from
another process (core/section_space.py StoredSpace, core/project.py, core/song_files.py)."""
import base64
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from core import section_space as ss
from core.errors import JobCancelled, UserError
from core.jobs import JobToken, run_job
from core.midi_io import export_midi
from core.project import load_project, save_project
from core.song import Clip, Note, Song, space_key
from core.song_files import midi_files_in, read_midi_clips

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_space(label="chorus", model="mel_2bar", seed=0, z=16):
    """A space with random weights (no training, no TensorFlow): what the project keeps is bytes."""
    rng = np.random.default_rng(seed)
    hidden = (8, 8, 8)
    weights = ss._initial_weights(z, 4, hidden, rng)
    record = {"name": model, "z_size": z, "kind": "melody", "config": "cat-mel_2bar_small"}
    return ss.SectionSpace(record, label, 4, hidden, weights, rng.standard_normal(z).astype(np.float32),
                           0.7, np.linspace(9, 1, 5).astype(np.float32), np.linspace(1, 3, 5).astype(np.float32),
                           {"clip_count": 8}, rng.standard_normal((8, z)).astype(np.float32))


def song_with(*spaces):
    song = Song("Spaces")
    trk = song.ensure_track("melody")
    song.add_clip(Clip("a", 8.0, {trk.id: [Note(60, 0, 1)]}, label="chorus"))
    for space in spaces:
        song.set_space(ss.StoredSpace.of(space))
    return song


def test_spaces_round_trip_through_a_project(tmp_path):
    chorus, verse = small_space("chorus"), small_space("Verse", seed=1)
    song = song_with(chorus, verse)
    assert set(song.spaces) == {("mel_2bar", "chorus"), ("mel_2bar", "verse")}
    path = save_project(song, tmp_path / "s.lstudio")
    warnings = []
    back = load_project(path, warnings)
    assert warnings == []
    assert back.snapshot() == song.snapshot()
    for space in (chorus, verse):
        entry = back.spaces[space_key("mel_2bar", space.label)]
        assert entry.data == song.spaces[space_key("mel_2bar", space.label)].data
        loaded = entry.space()
        np.testing.assert_array_equal(loaded.sample_codes(4, 3), space.sample_codes(4, 3))
        assert loaded.label == space.label
    assert set(ss.spaces_for(back, "mel_2bar")) == {"chorus", "verse"}
    assert ss.spaces_for(back, "drums_2bar") == {}


def test_an_old_project_without_spaces_still_loads(tmp_path):
    song = song_with()
    path = save_project(song, tmp_path / "old.lstudio")
    doc = json.loads(open(path, encoding="utf-8").read())
    assert "spaces" not in doc  # nothing written when there are none, so older versions read it
    assert load_project(path).spaces == {}


def test_a_space_whose_model_is_missing_is_kept_unusable_and_saved_unchanged(tmp_path):
    song = song_with(small_space("chorus", model="someone-elses-model"), small_space("verse"))
    path = save_project(song, tmp_path / "s.lstudio")
    back = load_project(path)
    entry = back.spaces[("someone-elses-model", "chorus")]
    installed = ["mel_2bar", "drums_2bar", "trio_16bar"]
    why = ss.entry_problem(entry, installed)
    assert "someone-elses-model" in why and "not installed" in why
    assert ss.entry_problem(back.spaces[("mel_2bar", "verse")], installed) is None
    again = save_project(back, tmp_path / "again.lstudio")
    rows = {r["model"]: r for r in json.loads(open(again, encoding="utf-8").read())["spaces"]}
    assert base64.b64decode(rows["someone-elses-model"]["data"]) == entry.data == \
        song.spaces[("someone-elses-model", "chorus")].data


def test_a_damaged_space_does_not_stop_the_project_opening(tmp_path):
    song = song_with(small_space("chorus"), small_space("verse", seed=2), small_space("bridge", seed=3))
    path = save_project(song, tmp_path / "s.lstudio")
    doc = json.loads(open(path, encoding="utf-8").read())
    for row in doc["spaces"]:
        if row["label"] == "chorus":  # a readable entry whose bytes are no space
            good = base64.b64decode(row["data"])
            row["data"] = base64.b64encode(good[: len(good) // 3]).decode()
        if row["label"] == "bridge":  # an entry that is not even base64
            row["data"] = "%%% not base64 %%%"
    (tmp_path / "damaged.lstudio").write_text(json.dumps(doc), encoding="utf-8")
    warnings = []
    back = load_project(tmp_path / "damaged.lstudio", warnings)
    assert len(back.clips) == 1 and back.clips[next(iter(back.clips))].label == "chorus"
    assert any("'chorus' section space of mel_2bar is damaged" in w for w in warnings), warnings
    assert any("section space" in w and "left out" in w for w in warnings), warnings
    assert not any("verse" in w for w in warnings)
    assert set(back.spaces) == {("mel_2bar", "chorus"), ("mel_2bar", "verse")}
    assert back.spaces[("mel_2bar", "chorus")].problem is not None
    with pytest.raises(ss.SpaceFileError):
        back.spaces[("mel_2bar", "chorus")].space()
    assert set(ss.spaces_for(back, "mel_2bar")) == {"verse"}  # Fill uses the readable one only
    # the damaged one goes back to disk as it came, for a later version or a repair
    again = json.loads(open(save_project(back, tmp_path / "again.lstudio"), encoding="utf-8").read())
    chorus = next(r for r in again["spaces"] if r["label"] == "chorus")
    assert chorus["data"] == next(r for r in doc["spaces"] if r["label"] == "chorus")["data"]


def test_set_and_remove_space_announce_and_return_what_undo_needs():
    song = song_with()
    events = []
    song.subscribe(lambda event, **_: events.append(event))
    first = ss.StoredSpace.of(small_space("chorus"))
    assert song.set_space(first) is None
    second = ss.StoredSpace.of(small_space(" CHORUS ", seed=5))
    assert song.set_space(second) is first and len(song.spaces) == 1
    assert song.remove_space("mel_2bar", "Chorus") is second and song.spaces == {}
    assert events == ["spaces", "spaces", "spaces"]
    with pytest.raises(KeyError):
        song.remove_space("mel_2bar", "chorus")


def write_midi(path, pitches, drums=False):
    song = Song()
    trk = song.ensure_track("drums" if drums else "melody")
    clip = song.add_clip(Clip("c", 8.0, {trk.id: [Note(p, i * 0.5, i * 0.5 + 0.5) for i, p in enumerate(pitches)]}))
    export_midi(song, path, clip=clip)


def test_a_folder_of_midi_files_becomes_labelled_clips(tmp_path):
    folder = tmp_path / "choruses"
    (folder / "more").mkdir(parents=True)
    write_midi(folder / "b.mid", [72, 74, 76])
    write_midi(folder / "more" / "a.mid", [60, 62])
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    (folder / "notes.txt").write_text("not midi")
    paths = midi_files_in(folder)
    assert [os.path.relpath(p, folder) for p in paths] == ["b.mid", "broken.mid", os.path.join("more", "a.mid")]
    clips, bad = run_job(read_midi_clips, paths, "chorus")
    assert [c.name for c in clips] == ["b", "a"] and all(c.label == "chorus" for c in clips)
    assert all(c.origin == "imported" and set(c.notes) == {"melody"} for c in clips)
    assert [n.pitch for n in clips[0].notes["melody"]] == [72, 74, 76]
    assert [name for name, _ in bad] == ["broken.mid"] and bad[0][1]
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no MIDI files"):
        midi_files_in(tmp_path / "empty")
    with pytest.raises(UserError, match="not a folder"):
        midi_files_in(folder / "b.mid")
    token = JobToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        read_midi_clips(token, paths, "chorus")


def test_progress_messages_carry_the_loss_curve():
    msg = ss.step_message("Chorus", 12, 300, 3.14159, 0.5)
    assert ss.parse_step(msg) == (12, 3.142, 0.5)
    assert ss.parse_step("Encoding 8 clips") is None


def test_finish_early_on_the_token_keeps_the_space_learned_so_far():
    codes = np.random.default_rng(0).standard_normal((10, 16)).astype(np.float32)
    token = JobToken()
    seen = []

    def progress(_fraction, message):
        step = ss.parse_step(message)
        if step:
            seen.append(step)
            if step[0] == 15:
                token.finish_early()

    token.report_to(progress)
    model = {"name": "m", "z_size": 16, "kind": "melody", "config": "x"}
    space = ss.train_on_codes(token, codes, model, "verse", ss.SpaceSettings(steps=5000))
    assert space.steps == 15 and space.info["stopped_early"]
    assert [s[0] for s in seen] == list(range(1, 16))


SCRIPT = r"""
import threading
from core import section_space as ss
from core.jobs import JobToken
from core.model_host import ModelHost
from core.models.catalogue import find_model
from core.song import Clip, Note

if __name__ == "__main__":
    host = ModelHost()
    model = host.load(JobToken(), "mel_2bar", None, find_model("mel_2bar").path, "cpu")
    clips = [Clip(f"c{i}", 8.0, {"melody": [Note(60 + (i * 3 + k) % 24, k * 0.5, k * 0.5 + 0.5) for k in range(16)]})
             for i in range(9)]
    steps = []
    token = JobToken()
    def progress(fraction, message):
        step = ss.parse_step(message)
        if step:
            steps.append(step[0])
            if step[0] >= 30:
                token.finish_early()
    token.report_to(progress)
    space = host.run(token, model, ss.train, clips, "chorus", ss.SpaceSettings(steps=100000))
    print("steps", space.steps, "early", space.info["stopped_early"], "seen", len(steps) > 0)
    host.close()
"""


def test_good_enough_reaches_training_in_the_model_process(tmp_path):
    script = tmp_path / "space_host.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("steps"))
    _, steps, _, early, _, seen = line.split()
    assert 30 <= int(steps) < 100000 and early == "True" and seen == "True", line
