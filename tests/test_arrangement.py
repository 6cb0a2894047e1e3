"""core.arrangement: song forms, ripple edits, shared and unique clips, fills from a model."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import arrangement as arr
from core import generation as g
from core.errors import UserError
from core.jobs import JobToken
from core.project import load_project, save_project
from core.song import Clip, Note, Section, Song, Track

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "magenta")
BPB = 4.0


def song_with_form(form=arr.DEFAULT_FORM, bars=4) -> Song:
    song = Song("Form")
    song.set_sections(arr.template_sections(form, song.beats_per_bar, bars))
    return song


def layout(sections):
    return [(s.label, s.start, s.length) for s in sections]


def contiguous(sections) -> bool:
    secs = arr.ordered(sections)
    at = 0.0
    for s in secs:
        if abs(s.start - at) > 1e-9 or s.length <= 0:
            return False
        at = s.end
    return True


# ---------------------------------------------------------------- the document side only
def test_importing_the_arrangement_loads_no_model_code():
    import subprocess
    import sys

    script = ("import sys, core.arrangement\n"
              "bad = [m for m in ('tensorflow', 'core.musicvae.model', 'core.musicvae.converters',\n"
              "                   'core.generation') if m in sys.modules]\n"
              "assert not bad, bad\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


# ---------------------------------------------------------------- forms
def test_parse_form_keeps_hyphenated_labels_and_accepts_separators():
    assert arr.parse_form("Intro, verse  pre-chorus;CHORUS | outro") == \
        ["intro", "verse", "pre-chorus", "chorus", "outro"]
    assert arr.parse_form(["Verse", " chorus "]) == ["verse", "chorus"]
    for bad in ("", "  ,, ", []):
        with pytest.raises(UserError, match="form is empty"):
            arr.parse_form(bad)
    with pytest.raises(UserError, match="too long"):
        arr.parse_form("x" * 41)


def test_template_lays_out_empty_slots_end_to_end():
    secs = arr.template_sections(arr.DEFAULT_FORM, 3.0)  # 3/4: bars of 3 beats
    assert [s.label for s in secs] == arr.DEFAULT_FORM.split()
    assert all(s.clip_id is None for s in secs)
    assert contiguous(secs)
    assert [s.length / 3.0 for s in secs] == [4, 8, 8, 8, 8, 8, 8, 4]  # intro and outro shorter
    even = arr.template_sections("verse chorus", BPB, 2, start=8.0)
    assert layout(even) == [("verse", 8.0, 8.0), ("chorus", 16.0, 8.0)]
    assert layout(arr.template_sections("verse chorus", BPB, {"chorus": 1})) == \
        [("verse", 0.0, 32.0), ("chorus", 32.0, 4.0)]
    with pytest.raises(UserError, match="at least one bar"):
        arr.template_sections("verse", BPB, 0)
    for name, form in arr.FORMS.items():
        assert arr.parse_form(form), name


# ---------------------------------------------------------------- edits
def test_edits_return_new_sections_and_leave_the_old_list_alone():
    song = song_with_form("intro verse chorus")
    before = layout(song.sections)
    old_objects = list(song.sections)
    new = arr.resize_section(song.sections, song.sections[0].id, 32.0)
    assert layout(song.sections) == before  # nothing changed in place
    assert all(a is b for a, b in zip(song.sections, old_objects))
    assert not any(n is o for n in new for o in old_objects)
    assert layout(new) == [("intro", 0.0, 32.0), ("verse", 32.0, 16.0), ("chorus", 48.0, 16.0)]


def test_insert_remove_move_duplicate_ripple():
    song = song_with_form("intro verse chorus outro", bars=2)
    ids = [s.id for s in song.sections]
    secs, new = arr.insert_section(song.sections, 2, "Pre-Chorus", None, 4.0)
    assert new.label == "pre-chorus"
    assert layout(secs) == [("intro", 0, 8), ("verse", 8, 8), ("pre-chorus", 16, 4),
                            ("chorus", 20, 8), ("outro", 28, 8)]
    secs = arr.remove_sections(secs, [ids[1]])
    assert layout(secs) == [("intro", 0, 8), ("pre-chorus", 8, 4), ("chorus", 12, 8), ("outro", 20, 8)]
    secs = arr.move_section(secs, ids[3], 0)  # outro to the front
    assert [s.label for s in secs] == ["outro", "intro", "pre-chorus", "chorus"]
    assert contiguous(secs)
    secs = arr.move_section(secs, ids[3], 99)  # and to the end (clamped)
    assert [s.label for s in secs][-1] == "outro" and contiguous(secs)
    secs, copies = arr.duplicate_sections(secs, [ids[2]])
    assert [s.label for s in secs] == ["intro", "pre-chorus", "chorus", "chorus", "outro"]
    assert copies[0].id != ids[2] and copies[0].start == 20.0 and contiguous(secs)
    # an insert past the end appends; at a beat it snaps to the nearest boundary
    secs2, tail = arr.insert_section(secs, 100, "coda", None, 4.0)
    assert secs2[-1] is tail and tail.start == arr.arrangement_end(secs)
    secs3, mid = arr.insert_at_beat(secs, 9.5, "break", None, 4.0)
    assert mid.start == 8.0 and contiguous(secs3)


def test_edits_keep_gaps_that_were_there():
    secs = [Section("a", None, 0.0, 4.0, id="a"), Section("b", None, 8.0, 4.0, id="b"),
            Section("c", None, 12.0, 4.0, id="c")]
    grown = arr.resize_section(secs, "a", 6.0)
    assert layout(grown) == [("a", 0.0, 6.0), ("b", 10.0, 4.0), ("c", 14.0, 4.0)]
    gone = arr.remove_sections(secs, ["b"])
    assert layout(gone) == [("a", 0.0, 4.0), ("c", 8.0, 4.0)]
    kept = arr.remove_sections(secs, ["b"], ripple=False)
    assert layout(kept) == [("a", 0.0, 4.0), ("c", 12.0, 4.0)]


def test_bad_edits_raise_user_errors():
    secs = arr.template_sections("verse chorus", BPB, 2)
    with pytest.raises(UserError):
        arr.resize_section(secs, secs[0].id, 0.0)
    with pytest.raises(UserError, match="not in the song"):
        arr.move_section(secs, "sec-nope", 0)
    with pytest.raises(UserError):
        arr.rename_section(secs, secs[0].id, "   ")
    with pytest.raises(UserError):
        arr.duplicate_sections(secs, [])


OPS = st.lists(st.tuples(st.sampled_from(["insert", "remove", "move", "dup", "resize", "rename"]),
                         st.integers(0, 20), st.integers(1, 16)), max_size=25)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_any_sequence_of_edits_keeps_a_contiguous_song(ops):
    secs = arr.template_sections("intro verse chorus", BPB, 2)
    for op, k, n in ops:
        ids = [s.id for s in secs]
        total = sum(s.length for s in secs)
        if op == "insert":
            secs, _ = arr.insert_section(secs, k, "bridge", None, n * BPB)
            assert sum(s.length for s in secs) == total + n * BPB
        elif op == "remove" and ids:
            secs = arr.remove_sections(secs, [ids[k % len(ids)]])
        elif op == "move" and ids:
            moved = ids[k % len(ids)]
            secs = arr.move_section(secs, moved, n % (len(ids)))
            assert [s.id for s in secs].index(moved) == n % len(ids)
        elif op == "dup" and ids:
            secs, copies = arr.duplicate_sections(secs, [ids[k % len(ids)]])
            assert len(secs) == len(ids) + 1 and copies[0].clip_id == secs[k % len(ids)].clip_id
        elif op == "resize" and ids:
            secs = arr.resize_section(secs, ids[k % len(ids)], n * BPB)
        elif op == "rename" and ids:
            secs = arr.rename_section(secs, ids[k % len(ids)], f"part {n}")
        assert contiguous(secs), (op, layout(secs))
        assert len({s.id for s in secs}) == len(secs)


# ---------------------------------------------------------------- shared and unique clips
def song_with_clip() -> tuple[Song, Track, Clip]:
    song = song_with_form("verse chorus verse", bars=2)
    track = song.add_track(Track("Lead", "melody"))
    clip = song.add_clip(Clip("Verse", 4.0, {track.id: [Note(60, 0, 1), Note(64, 2, 3)]}, label="verse"))
    ids = [s.id for s in song.sections]
    song.set_sections(arr.assign_clip(song.sections, [ids[0], ids[2]], clip.id))
    return song, track, clip


def test_a_repeated_section_shares_its_clip_until_made_unique():
    song, track, clip = song_with_clip()
    first, _, last = song.sections
    # edit once, changed everywhere
    song.add_notes(clip.id, track.id, [Note(67, 3, 4)])
    notes = song.rendered_notes()[track.id]
    assert [n.pitch for n in notes if n.start >= last.start] == [60, 64, 67, 60, 64, 67]
    assert len([n for n in notes if n.start < first.end]) == 6  # 4-beat clip twice in 8 beats
    new_clip, secs = arr.make_unique(song, last.id)
    assert new_clip is not None and new_clip.id != clip.id and new_clip.name == "Verse 2"
    assert new_clip.notes == clip.notes and new_clip.notes[track.id] is not clip.notes[track.id]
    song.add_clip(new_clip)
    song.set_sections(secs)
    song.set_notes(new_clip.id, track.id, [Note(72, 0, 4)])
    notes = song.rendered_notes()[track.id]
    assert {n.pitch for n in notes if n.start >= last.start} == {72}
    assert {n.pitch for n in notes if n.start < first.end} == {60, 64, 67}
    # a section with a clip of its own (or an empty slot) has nothing to copy
    assert arr.make_unique(song, last.id)[0] is None
    assert arr.make_unique(song, song.sections[1].id)[0] is None


def test_share_by_label_and_fit():
    song, _track, clip = song_with_clip()
    secs = arr.assign_clip(song.sections, [song.sections[2].id], None)
    shared = arr.share_by_label(secs, secs[0].id)
    assert [s.clip_id for s in shared] == [clip.id, None, clip.id]
    assert arr.bars_to_fit(6.0, 4.0) == 8.0 and arr.bars_to_fit(0.0, 4.0) == 4.0
    assert arr.snap_length(13.0, 4.0) == 12.0 and arr.snap_length(1.0, 4.0) == 4.0


def test_change_applies_and_reverts_exactly():
    song, track, clip = song_with_clip()
    before = song.snapshot()
    new_track = Track("Drums", "drums", is_drum=True)
    new_clip = Clip("Fill", 4.0, {new_track.id: [Note(36, 0, 0.25)]})
    secs = arr.assign_clip(song.sections, [song.sections[1].id], new_clip.id)
    change = arr.ArrangementChange(secs, [new_clip], [new_track])
    old = arr.apply_change(song, change)
    assert song.sections[1].clip_id == new_clip.id and song.track(new_track.id)
    arr.revert_change(song, change, old)
    assert song.snapshot() == before


def test_plan_fill_reuses_one_clip_per_label():
    song, _track, clip = song_with_clip()
    song.set_sections(song.sections + arr.template_sections("verse chorus bridge", BPB, 4,
                                                            start=arr.arrangement_end(song.sections)))
    plan = arr.plan_fill(song)
    empty = [s for s in song.sections if s.clip_id is None]
    assert plan.targets == [s.id for s in empty]
    # the empty verse reuses the verse clip; chorus (2 and 4 bars) gets one 4-bar clip; bridge one
    assert plan.reuse == {empty[1].id: clip.id}
    assert plan.requests == {"chorus": 4, "bridge": 4}
    assert arr.plan_fill(song, max_bars=2).requests == {"chorus": 2, "bridge": 2}
    only = arr.plan_fill(song, [empty[0].id])
    assert only.targets == [empty[0].id] and only.requests == {"chorus": 2}
    # regenerate a verse: a new clip for every verse that played the old one
    regen = arr.plan_fill(song, [song.sections[0].id], regenerate=True)
    verses = [s.id for s in song.sections if s.label == "verse"]
    assert regen.targets == verses and regen.requests == {"verse": 4} and not regen.reuse
    assert regen.replaced == {"verse": clip.id}


def test_project_keeps_shared_clips(tmp_path):
    song, _track, clip = song_with_clip()
    path = save_project(song, tmp_path / "s.lstudio")
    back = load_project(path)
    assert [s.clip_id for s in back.sections] == [clip.id, None, clip.id]
    assert back.snapshot() == song.snapshot()


# ---------------------------------------------------------------- fills from a model
@pytest.fixture(scope="module")
def drums_model():
    from core.musicvae import load_model

    return load_model("cat-drums_2bar_small", os.path.join(FIXTURES, "cat-drums_2bar_small"), device="cpu")


def section_notes(song, sec, track_id):
    return [(n.pitch, round(n.start - sec.start, 6), round(n.end - sec.start, 6))
            for n in song.rendered_notes()[track_id] if sec.start <= n.start < sec.end]


def test_fill_generates_one_clip_per_label_and_reuses_it(drums_model):
    song = song_with_form("intro verse chorus verse chorus outro", bars=4)
    messages = []
    change = g.fill(song, drums_model, temperature=0.5, seed=7,
                      token=JobToken(lambda f, m: messages.append((f, m))))
    assert messages[-1][0] == 1.0
    assert [c.label for c in change.new_clips] == ["intro", "verse", "chorus", "outro"]
    assert [t.role for t in change.new_tracks] == ["drums"] and song.tracks[0].is_drum
    drums = song.tracks[0].id
    by_label = {}
    for s in song.sections:
        clip = song.clips[s.clip_id]
        assert clip.label == s.label and clip.length == 8.0  # 2-bar clips repeat to fill 4 bars
        by_label.setdefault(s.label, []).append(s)
    for label, secs in by_label.items():
        assert len({s.clip_id for s in secs}) == 1
        notes = [section_notes(song, s, drums) for s in secs]
        assert notes[0] and all(n == notes[0] for n in notes), label
        half = [n for n in notes[0] if n[1] < 8.0]
        assert [(p, a + 8.0, b + 8.0) for p, a, b in half] == [n for n in notes[0] if n[1] >= 8.0]
    assert len(song.clips) == 4
    # the same seed gives the same song; a fill with no empty slot changes nothing
    again = song_with_form("intro verse chorus verse chorus outro", bars=4)
    g.fill(again, drums_model, temperature=0.5, seed=7)
    assert [c.notes[again.tracks[0].id] for c in again.clips.values()] == \
        [c.notes[drums] for c in song.clips.values()]
    nothing = g.fill(song, drums_model, seed=1)
    assert nothing.new_clips == [] and nothing.new_tracks == []


def test_fill_job_caps_requests_to_the_model(drums_model):
    messages = []
    clips, parts = g.fill_job(JobToken(lambda f, m: messages.append(m)), drums_model,
                              {"verse": 8, "chorus": 1}, 0.5, 3)
    assert parts == ("drums",) and list(clips) == ["verse", "chorus"]
    assert clips["verse"].length == 8.0 and clips["chorus"].length == 4.0
    assert set(clips["verse"].notes) <= {"drums"} and clips["verse"].note_count() > 0
    assert any("verse" in m for m in messages)
    with pytest.raises(UserError, match="temperature"):
        g.generate_clips(None, drums_model, {"verse": 2}, temperature=-1)


def test_regenerate_replaces_the_label_everywhere(drums_model):
    song = song_with_form("verse chorus verse", bars=2)
    g.fill(song, drums_model, seed=1)
    old = song.sections[0].clip_id
    g.fill(song, drums_model, [song.sections[2].id], seed=2, regenerate=True)
    v1, chorus, v2 = song.sections
    assert v1.clip_id == v2.clip_id != old and chorus.clip_id != v1.clip_id
    assert len(song.tracks) == 1  # the drum track is reused, not added again


def test_loop_region_is_saved_and_checked(tmp_path):
    song = song_with_form("verse chorus", bars=2)
    events = []
    song.subscribe(lambda e, **d: events.append(e))
    assert song.set_loop(8.0, 16.0) is None and events == ["loop"]
    back = load_project(save_project(song, tmp_path / "loop.lstudio"))
    assert back.loop == (8.0, 16.0)
    assert song.set_loop(None) == (8.0, 16.0) and song.loop is None
    assert "loop" not in song.snapshot()  # files without a loop stay as they were
    with pytest.raises(ValueError):
        song.set_loop(8.0, 4.0)
    import json

    from core.errors import ProjectFileError
    from core.project import song_from_dict

    doc = json.loads(json.dumps(back.snapshot()))
    doc["loop"] = [4.0, 2.0]
    with pytest.raises(ProjectFileError, match="loop region"):
        song_from_dict(doc)


def test_a_slot_whose_clip_was_deleted_counts_as_empty():
    song, _track, clip = song_with_clip()
    song.remove_clip(clip.id)
    plan = arr.plan_fill(song)
    assert plan.targets == [s.id for s in song.sections] and plan.requests == {"verse": 2, "chorus": 2}


def test_vary_fills_long_sections_with_phrase_variations(drums_model):
    song = song_with_form("verse chorus verse", bars=8)
    g.fill(song, drums_model, seed=5, vary=0.7)
    drums = song.tracks[0].id
    verse = song.clips[song.sections[0].clip_id]
    assert verse.length == 32.0  # the whole 8-bar section, not a 2-bar loop
    assert song.sections[2].clip_id == verse.id  # still one clip per label

    def phrase(k):
        return [(n.pitch, n.start - 8 * k, n.end - 8 * k) for n in verse.notes[drums]
                if 8 * k <= n.start < 8 * (k + 1)]
    assert phrase(0) == phrase(2) != []  # A ... A
    assert phrase(1) != phrase(0) and phrase(3) != phrase(1)  # A' and A'' are new
    assert all(n.end <= 32.0 for n in verse.notes[drums])
    with pytest.raises(UserError, match="similarity"):
        g.generate_clips(None, drums_model, {"verse": 4}, vary=1.5)


def trio_song():
    """A verse that plays a 2-bar trio clip over 4 bars, and a 4-bar melody and a 1-bar bass line."""
    song = Song("trio")
    mel, bass, kit = (song.ensure_track(r) for r in ("melody", "bass", "drums"))
    trio = song.add_clip(Clip("Trio", 8.0, {mel.id: [Note(72, 0, 1)], bass.id: [Note(36, 0, 4)],
                                            kit.id: [Note(36, 0, 0.25), Note(38, 2, 2.25)]}, label="verse"))
    tune = song.add_clip(Clip("Tune", 16.0, {mel.id: [Note(60, 0, 2), Note(67, 12, 16)]}))
    line = song.add_clip(Clip("Line", 4.0, {bass.id: [Note(40, 0, 3)]}))
    song.set_sections([Section("verse", trio.id, 0.0, 16.0, id="sec-v"),
                       Section("verse", trio.id, 16.0, 16.0, id="sec-v2")])
    return song, mel, bass, kit, trio, tune, line


def test_replace_part_keeps_the_other_parts_and_fits_the_lengths():
    song, mel, bass, kit, trio, tune, line = trio_song()
    before_bass = [n for n in song.rendered_notes()[bass.id] if n.start < 16]
    before_kit = [n for n in song.rendered_notes()[kit.id] if n.start < 16]
    clip, secs = arr.replace_part(song, "sec-v", mel.id, tune.id)
    # the 4-bar tune is longer than the 2-bar trio: the new clip holds it whole (2 trio lengths)
    assert clip.length == 16.0 and clip.name == "Trio + Tune" and clip.id not in song.clips
    assert clip.notes[mel.id] == [Note(60, 0, 2), Note(67, 12, 16)]
    assert clip.notes[bass.id] == [Note(36, 0, 4), Note(36, 8, 12)]  # repeated, as the section played it
    assert [s.clip_id for s in secs] == [clip.id, trio.id]  # only this section; its repeat keeps the trio
    assert song.clips[trio.id].notes[mel.id] == [Note(72, 0, 1)]  # the library clip is untouched
    arr.apply_change(song, arr.ArrangementChange(secs, [clip]))
    heard = song.rendered_notes()
    assert [n for n in heard[bass.id] if n.start < 16] == before_bass
    assert [n for n in heard[kit.id] if n.start < 16] == before_kit
    assert [n.pitch for n in heard[mel.id] if n.start < 16] == [60, 67]
    # a shorter part repeats to fill the section's clip; a lone part on another track fits a
    # lane of the same kind (a bass line as the melody)
    clip, _ = arr.replace_part(song, "sec-v2", mel.id, line.id)
    assert clip.length == 8.0 and clip.notes[mel.id] == [Note(40, 0, 3), Note(40, 4, 7)]
    assert clip.notes[kit.id] == trio.notes[kit.id]
    # a melody is no drum part: refused with a message that says what to do instead
    with pytest.raises(UserError, match="no part that fits the Drums lane"):
        arr.replace_part(song, "sec-v2", kit.id, tune.id)
