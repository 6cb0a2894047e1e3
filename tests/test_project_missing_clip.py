"""A clip removed while a section uses it: the song stays consistent and old files still open."""
import json

from core.project import save_project, song_to_dict
from core.song import Clip, Note, Section, Song
from core.song_files import load_song


def _song():
    song = Song("Gaps")
    melody = song.ensure_track("melody")
    a, b = Clip("A", 8.0, id="clip_a"), Clip("B", 8.0, id="clip_b")
    a.notes[melody.id] = [Note(60, 0.0, 1.0, 100)]
    song.add_clip(a)
    song.add_clip(b)
    song.set_sections([Section("verse", "clip_a", 0.0, 8.0, id="s1"),
                       Section("chorus", "clip_b", 8.0, 8.0, id="s2")])
    return song


def test_removing_a_used_clip_empties_its_sections_and_the_project_reopens(tmp_path):
    song = _song()
    events = []
    song.subscribe(lambda event, **d: events.append(event))
    song.remove_clip("clip_a")
    assert [(s.id, s.clip_id) for s in song.sections] == [("s1", None), ("s2", "clip_b")]
    assert "sections" in events and "clip_removed" in events
    path = save_project(song, tmp_path / "gaps.lstudio")
    loaded = load_song(path)
    again, warnings = loaded.song, loaded.warnings
    assert [(s.label, s.clip_id) for s in again.sections] == [("verse", None), ("chorus", "clip_b")]
    assert warnings == []


def test_a_project_naming_a_missing_clip_opens_with_the_slot_empty(tmp_path):
    doc = song_to_dict(_song())
    doc["clips"] = [c for c in doc["clips"] if c["id"] != "clip_a"]  # what older builds saved
    path = tmp_path / "old.lstudio"
    path.write_text(json.dumps(doc))
    loaded = load_song(path)
    song, warnings = loaded.song, loaded.warnings
    assert [(s.label, s.clip_id) for s in song.sections] == [("verse", None), ("chorus", "clip_b")]
    assert len(warnings) == 1
    assert "verse" in warnings[0] and "clip_a" in warnings[0]
    assert all(not ns for ns in song.rendered_notes().values())  # the empty slot is silent
