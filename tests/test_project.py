"""Project files: exact round trips, refusals that never write, and saves that survive SIGKILL."""
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from core import atomic_write
from core.errors import ProjectFileError
from core.project import SCHEMA, load_project, save_project, song_from_dict, song_to_dict
from core.song import Clip, Note, Section, Song, Track
from tests.helpers_song import rich_song

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_round_trip_keeps_everything(tmp_path):
    song = rich_song()
    path = tmp_path / "song.lstudio"
    assert save_project(song, path) == str(path)
    back = load_project(path)
    assert back.snapshot() == song.snapshot()
    # compare the objects themselves too, not only through song_to_dict
    assert back.title == song.title
    assert back.tracks == song.tracks
    assert back.sections == song.sections
    assert back.clips == song.clips
    assert [(t.beat, t.bpm) for t in back.tempos] == [(t.beat, t.bpm) for t in song.tempos]
    assert [(t.beat, t.numerator, t.denominator) for t in back.time_signatures] == \
        [(t.beat, t.numerator, t.denominator) for t in song.time_signatures]
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "latent-studio-project" and doc["schema"] == SCHEMA


def test_equal_content_gives_equal_dicts():
    a, b = Song("Same"), Song("Same")
    for s in (a, b):
        s.add_track(Track("Keys", "melody", id="trk-1"))
    notes = [Note(64, 1.0, 2.0), Note(60, 0.0, 1.0), Note(60, 0.0, 0.5, 70)]
    a.add_clip(Clip("x", 4, {"trk-1": notes}, id="clip-x"))
    a.add_clip(Clip("y", 4, {"trk-1": []}, id="clip-y"))
    b.add_clip(Clip("y", 4, {}, id="clip-y"))
    b.add_clip(Clip("x", 4, {"trk-1": list(reversed(notes))}, id="clip-x"), index=0)
    a.set_sections([Section("v", "clip-x", 0, 4, id="s1"), Section("c", "clip-y", 4, 4, id="s2")])
    b.set_sections([Section("c", "clip-y", 4, 4, id="s2"), Section("v", "clip-x", 0, 4, id="s1")])
    assert song_to_dict(a) == song_to_dict(b)
    assert json.dumps(song_to_dict(a)) == json.dumps(song_to_dict(b))
    # an undo-like remove and re-add gives back the same snapshot
    before = a.snapshot()
    old_sections = list(a.sections)
    clip = a.remove_clip("clip-x")  # its section keeps an empty slot
    assert a.snapshot() != before
    a.add_clip(clip, index=0)  # back in its place in the library
    a.set_sections(old_sections)
    assert a.snapshot() == before
    # the library's order is content: the same clips in another order differ
    b.remove_clip("clip-x")
    b.add_clip(clip)
    assert [c["id"] for c in song_to_dict(b)["clips"]] == ["clip-y", "clip-x"]
    assert song_to_dict(a)["clips"] != song_to_dict(b)["clips"]
    # a real difference shows
    b.update_track("trk-1", volume=0.5)
    assert song_to_dict(a) != song_to_dict(b)


def order_song() -> Song:
    """Clips in an order the musician made that sorting by id or name would scramble."""
    song = Song("Order")
    song.add_track(Track("Lead", "melody", id="trk-1"))
    for cid, name in (("clip-q7", "Verse"), ("clip-0b", "Chorus"), ("clip-zz", "Bridge"),
                      ("clip-a1", "Outro")):
        song.add_clip(Clip(name, 8, {"trk-1": [Note(60, 0, 1)]}, id=cid))
    song.add_clip(Clip("Verse 2", 8, {}, id="clip-m3"), index=1)  # a duplicate goes after its original
    return song


def test_the_clip_library_order_survives_save_and_reopen(tmp_path):
    song = order_song()
    order = ["clip-q7", "clip-m3", "clip-0b", "clip-zz", "clip-a1"]
    assert list(song.clips) == order
    save_project(song, tmp_path / "order.lstudio")
    doc = json.loads((tmp_path / "order.lstudio").read_text(encoding="utf-8"))
    assert [c["id"] for c in doc["clips"]] == order
    back = load_project(tmp_path / "order.lstudio")
    assert list(back.clips) == order
    assert [c.name for c in back.clips.values()] == ["Verse", "Verse 2", "Chorus", "Bridge", "Outro"]
    # and again, after an edit that changes a clip: order is not rebuilt from anything else
    back.update_clip("clip-0b", name="Big chorus")
    save_project(back, tmp_path / "order.lstudio")
    assert list(load_project(tmp_path / "order.lstudio").clips) == order


def test_numpy_latent_is_stored_as_plain_floats(tmp_path):
    import numpy as np
    song = rich_song()
    song.update_clip("clip-1-0", latent=np.linspace(-1, 1, 5, dtype=np.float32))
    save_project(song, tmp_path / "np.lstudio")
    back = load_project(tmp_path / "np.lstudio")
    assert back.clip("clip-1-0").latent == [float(x) for x in np.linspace(-1, 1, 5, dtype=np.float32)]


def _refused(path, *words):
    before = path.read_bytes()
    listing = sorted(os.listdir(path.parent))
    mtime = os.stat(path).st_mtime_ns
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    msg = str(info.value)
    assert str(path) in msg
    for w in words:
        assert w in msg.lower(), msg
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == mtime
    assert sorted(os.listdir(path.parent)) == listing
    return msg


def test_newer_schema_is_refused(tmp_path):
    doc = song_to_dict(rich_song())
    doc["schema"] = SCHEMA + 1
    doc["something_new"] = {"x": 1}
    path = tmp_path / "future.lstudio"
    path.write_text(json.dumps(doc))
    _refused(path, "newer latent studio")


@pytest.mark.parametrize("damage", [
    lambda raw: raw[: len(raw) // 2],                      # cut in the middle
    lambda raw: b"",                                         # empty
    lambda raw: b"\x00\xff garbage \x89PNG",                 # binary junk
    lambda raw: b'{"format": "something-else", "schema": 1}',  # another JSON document
    lambda raw: b"[1, 2, 3]",
])
def test_damaged_files_are_refused_and_left_alone(tmp_path, damage):
    raw = json.dumps(song_to_dict(rich_song())).encode()
    path = tmp_path / "bad.lstudio"
    path.write_bytes(damage(raw))
    _refused(path)


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.update(tracks="not a list"), ["wrong type"]),
    (lambda d: d["tracks"][0].update(role="kazoo"), ["kazoo"]),
    (lambda d: d["tracks"][0].pop("program"), ["program"]),
    (lambda d: d["clips"][0]["notes"].update({"trk-ghost": [[60, 0, 1, 80]]}), ["trk-ghost"]),
    (lambda d: d["clips"][0]["notes"]["trk-lead1"].append([60, 2, 1, 80]), ["invalid note"]),
    (lambda d: d["clips"][0]["notes"]["trk-lead1"].append(["C4", 0, 1, 80]), ["note"]),
    (lambda d: d.update(tempos=[[0, 0]]), ["tempo"]),
    (lambda d: d.update(schema="one"), ["schema"]),
    (lambda d: d["clips"].append(dict(d["clips"][0])), ["repeats"]),
])
def test_wrong_structure_is_refused(tmp_path, edit, words):
    doc = song_to_dict(rich_song())
    edit(doc)
    path = tmp_path / "wrong.lstudio"
    path.write_text(json.dumps(doc))
    _refused(path, *words)


def test_song_from_dict_rejects_non_dicts():
    with pytest.raises(ProjectFileError):
        song_from_dict(None)
    with pytest.raises(ProjectFileError):
        song_from_dict({"format": "latent-studio-project", "schema": 1})


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectFileError, match="does not exist"):
        load_project(tmp_path / "nothing.lstudio")
    with pytest.raises(ProjectFileError) as info:
        save_project(rich_song(), tmp_path / "no" / "dir" / "x.lstudio")
    assert "x.lstudio" in str(info.value)


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.lstudio"
    save_project(rich_song(1), path)
    before = path.read_bytes()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "fsync", full)
    with pytest.raises(ProjectFileError, match="No space left"):
        save_project(rich_song(2), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.lstudio"]


# The child saves two songs in turn, for ever. Its file writes are slowed down, like a busy
# disk (each write goes out in 32 KB pieces with a pause between them), so that many kills land
# while a file is being written rather than while the JSON is being built.
CHILD = r"""
import builtins, os, sys, time
sys.path.insert(0, sys.argv[1])


class SlowFile:
    def __init__(self, f):
        self._f = f

    def write(self, data):
        for i in range(0, len(data), 32768):
            self._f.write(data[i:i + 32768])
            self._f.flush()
            time.sleep(0.002)
        return len(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


def slow(opener):
    def wrapped(file, mode="r", *args, **kwargs):
        f = opener(file, mode, *args, **kwargs)
        return SlowFile(f) if any(c in mode for c in "wax+") else f
    return wrapped


builtins.open = slow(builtins.open)
os.fdopen = slow(os.fdopen)
from core.project import save_project
from tests.helpers_song import rich_song
songs = [rich_song(2, 1200), rich_song(1, 1200)]
print("ready", flush=True)
i = 0
while True:
    save_project(songs[i % 2], sys.argv[2])
    i += 1
"""


def test_save_killed_at_random_moments_never_corrupts(tmp_path):
    path = tmp_path / "killed.lstudio"
    old, new = rich_song(1, 1200), rich_song(2, 1200)
    save_project(old, path)
    expected = {"old": old.snapshot(), "new": new.snapshot()}
    rng = random.Random(1234)
    seen = []
    for _ in range(20):
        child = subprocess.Popen([sys.executable, "-c", CHILD, ROOT, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL  # it was still saving when killed
        snap = load_project(path).snapshot()
        which = [k for k, v in expected.items() if v == snap]
        assert which, "the file on disk is neither the old nor the new song"
        seen.append(which[0])
    # the saves really ran: the file changed to the new song at least once
    assert "new" in seen, seen
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".partial")]
    print(f"kills: {len(seen)}, file held new: {seen.count('new')}, "
          f"killed mid-write (temporary files left): {len(leftovers)}")
