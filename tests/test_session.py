"""The session: the clip selection and current clip, the model, the shown and edited tracks."""
import gc

import pytest

from core.session import Selection, Session
from core.song import Clip, Note, Section, Song, Track


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, event, **details):
        self.events.append((event, details))

    def on_event(self, event, **details):  # a bound method: held weakly
        self.events.append((event, details))

    def names(self):
        return [e for e, _ in self.events]


def song_with(n_clips=3):
    song = Song()
    mel = song.ensure_track("melody")
    song.ensure_track("bass")
    song.ensure_track("drums")
    clips = [song.add_clip(Clip(f"c{i}", 8.0, {mel.id: [Note(60 + i, 0, 1)]})) for i in range(n_clips)]
    return song, clips


def test_selection_keeps_the_picking_order_and_makes_the_last_pick_current():
    changes = []
    sel = Selection(changes.append)
    sel.select(["b", "a"])
    assert sel.items == ["b", "a"] and sel.current == "a"
    sel.select(["c"], additive=True)
    assert sel.items == ["b", "a", "c"] and sel.current == "c"
    sel.select(["b"], additive=True)  # picked again: moves to the end
    assert sel.items == ["a", "c", "b"] and sel.current == "b"
    sel.discard(["c"])
    assert sel.items == ["a", "b"] and sel.current == "b"
    sel.current = "z"  # the current item need not be selected
    assert sel.current == "z" and "z" not in sel
    sel.clear()
    assert sel.items == [] and sel.current == "z"
    assert changes == ["selection", "current", "selection", "current", "selection", "current",
                       "selection", "current", "selection"]


def test_session_starts_on_a_clip_and_the_first_pitched_track():
    song, clips = song_with()
    song.set_sections([Section("verse", clips[1].id, 0.0, 8.0)])
    session = Session(song)
    assert session.current_clip == clips[1].id  # the one the arrangement plays
    assert session.selected_clips == []
    assert session.edit_track == song.track_for_role("melody").id
    assert session.visible_tracks == [t.id for t in song.tracks]


def test_events_fire_once_per_change_and_name_what_changed():
    song, clips = song_with()
    session = Session(song)
    rec = Recorder()
    session.subscribe(rec)
    session.select_clips([clips[0].id, clips[2].id])
    assert rec.events == [("selection", {"clip_ids": [clips[0].id, clips[2].id]}),
                          ("current_clip", {"clip_id": clips[2].id})]
    rec.events.clear()
    session.select_clips([clips[0].id, clips[2].id])  # no change: no event
    session.show_clip(clips[2].id)
    session.model = None
    assert rec.events == []
    session.model = "mel_2bar"
    session.model = "mel_2bar"
    assert rec.events == [("model", {"name": "mel_2bar"})]
    rec.events.clear()
    session.show_clip(clips[1].id)  # shown without being selected
    assert rec.events == [("current_clip", {"clip_id": clips[1].id})]
    assert session.selected_clips == [clips[0].id, clips[2].id]
    assert session.show_clip("no-such-clip") is False and session.current_clip == clips[1].id
    with pytest.raises(KeyError):
        session.current_clip = "no-such-clip"


def test_a_listener_can_ask_for_some_events_only():
    song, clips = song_with()
    session = Session(song)
    rec = Recorder()
    session.subscribe(rec, events=["model"])
    session.select_clips([clips[0].id])
    session.model = "trio_16bar"
    assert rec.names() == ["model"]
    with pytest.raises(ValueError):
        session.subscribe(rec, events=["colour"])


def test_bound_methods_are_held_weakly_and_dropped_with_their_object():
    song, clips = song_with()
    session = Session(song)
    kept, gone = Recorder(), Recorder()
    session.subscribe(kept.on_event)
    session.subscribe(gone.on_event)
    seen = gone.events
    assert session.listener_count() == 2
    del gone
    gc.collect()
    session.show_clip(clips[2].id)
    assert session.listener_count() == 1
    assert kept.names() == ["current_clip"] and seen == []
    session.unsubscribe(kept.on_event)
    session.show_clip(clips[1].id)
    assert kept.names() == ["current_clip"] and session.listener_count() == 0


def test_a_listener_whose_widget_was_deleted_is_forgotten():
    song, clips = song_with()
    session = Session(song)

    class DeadWidget:
        def on_event(self, event, **details):
            raise RuntimeError("Internal C++ object (QWidget) already deleted.")

    dead = DeadWidget()
    session.subscribe(dead.on_event)
    session.show_clip(clips[1].id)
    assert session.listener_count() == 0

    class Broken:
        def on_event(self, event, **details):
            raise RuntimeError("a real bug")

    broken = Broken()
    session.subscribe(broken.on_event)
    with pytest.raises(RuntimeError, match="a real bug"):
        session.show_clip(clips[2].id)


def test_removing_a_clip_from_the_song_drops_it_from_the_selection():
    song, clips = song_with(4)
    session = Session(song)
    session.select_clips([c.id for c in clips[1:]])
    assert session.current_clip == clips[3].id
    rec = Recorder()
    session.subscribe(rec)
    song.remove_clip(clips[2].id)
    assert session.selected_clips == [clips[1].id, clips[3].id]
    assert rec.events == [("selection", {"clip_ids": [clips[1].id, clips[3].id]})]
    rec.events.clear()
    song.remove_clip(clips[3].id)  # the shown clip goes: the first one left is shown
    assert session.selected_clips == [clips[1].id]
    assert session.current_clip == clips[0].id
    assert rec.names() == ["selection", "current_clip"]
    for c in (clips[0], clips[1]):
        song.remove_clip(c.id)
    assert session.current_clip is None and session.selected_clips == []
    new = song.add_clip(Clip("fresh", 8.0))
    assert session.current_clip == new.id  # a clip to show again


def test_open_song_resets_tracks_and_keeps_only_clips_that_exist():
    song, clips = song_with()
    session = Session(song)
    session.select_clips([clips[0].id])
    session.set_track_visible(song.track_for_role("drums").id, False)
    other = Song("other")
    bass = other.add_track(Track("Bass", role="bass"))
    kept = other.add_clip(Clip("kept", 8.0))
    rec = Recorder()
    session.subscribe(rec)
    song.replace_with(other)
    assert session.selected_clips == []
    assert session.current_clip == kept.id
    assert session.edit_track == bass.id and session.visible_tracks == [bass.id]
    assert set(rec.names()) == {"visible_tracks", "edit_track", "selection", "current_clip"}
    assert len(rec.names()) == 4


def test_visible_and_edited_tracks_follow_the_rules_of_the_track_list():
    song, _clips = song_with()
    mel, bass, drums = (t.id for t in song.tracks)
    session = Session(song)
    rec = Recorder()
    session.subscribe(rec)
    session.set_track_visible(drums, False)
    assert session.visible_tracks == [mel, bass]
    session.set_track_visible(mel, False)  # the edited track cannot be hidden
    assert session.visible_tracks == [mel, bass]
    session.edit_track = drums  # editing a hidden track shows it
    assert session.edit_track == drums and session.visible_tracks == [mel, bass, drums]
    session.set_visible_tracks([mel])
    assert session.visible_tracks == [mel, drums]
    with pytest.raises(KeyError):
        session.edit_track = "trk-missing"
    assert rec.names() == ["visible_tracks", "edit_track", "visible_tracks", "visible_tracks"]
    rec.events.clear()
    song.remove_track(drums)
    assert session.edit_track == mel
    assert session.visible_tracks == [mel]
    assert rec.names() == ["visible_tracks", "edit_track"]
    rec.events.clear()
    other = song.add_track(Track("Keys", role="other"))  # a new track is shown
    assert session.visible_tracks == [mel, other.id]
    assert rec.events == [("visible_tracks", {"track_ids": [mel, other.id]})]
