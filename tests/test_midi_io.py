"""MIDI import and export: round trips keep everything, bad files give one clear MidiFileError."""
import os

import mido
import pretty_midi
import pytest

from core import midi_io
from core.errors import MidiFileError
from core.midi_io import export_midi, import_midi
from core.song import Clip, Note, Section, Song, TempoChange, TimeSignature, Track
from tests.helpers_midi import build_band, build_type0

MS = 1e-3


def _by_name(song):
    return {t.name: t for t in song.tracks}


def _song_notes(song, track):
    return song.rendered_notes().get(track.id, [])


def assert_matches(song, exp, exact_beats=False):
    """Every expected note is in the song: pitch and velocity equal, times within 1 ms."""
    assert len(song.tracks) == len(exp.tracks)
    tracks = _by_name(song)
    for et in exp.tracks:
        t = tracks[et.name]
        assert t.program == et.program
        assert t.is_drum == et.is_drum
        got = sorted(_song_notes(song, t), key=lambda n: (n.start, n.pitch, n.end))
        want = sorted(et.notes, key=lambda n: (n[1], n[0], n[2]))
        assert len(got) == len(want), et.name
        for n, (pitch, s, e, v) in zip(got, want):
            assert n.pitch == pitch and n.velocity == v
            assert abs(song.beat_to_seconds(n.start) - exp.seconds(s)) < MS
            assert abs(song.beat_to_seconds(n.end) - exp.seconds(e)) < MS
            if exact_beats:
                assert n.start == s / exp.tpb and n.end == e / exp.tpb
    tempos = [(tc.beat, tc.bpm) for tc in song.tempos]
    assert len(tempos) == len(exp.tempos)
    for (beat, bpm), (tick, ebpm) in zip(tempos, exp.tempos):
        assert beat == pytest.approx(tick / exp.tpb) and bpm == pytest.approx(ebpm, abs=0.01)
    sigs = [(ts.beat, ts.numerator, ts.denominator) for ts in song.time_signatures]
    assert sigs == [(tick / exp.tpb, n, d) for tick, n, d in exp.signatures]


def test_import_band_file_exactly(tmp_path):
    path = tmp_path / "band.mid"
    exp = build_band(path)
    song = import_midi(path)
    assert_matches(song, exp, exact_beats=True)
    roles = {t.name: t.role for t in song.tracks}
    assert roles == {"Lead Flute": "melody", "Bass": "bass", "Kit": "drums", "Pad": "other"}
    assert len(song.clips) == 1 and len(song.sections) == 1
    clip = next(iter(song.clips.values()))
    sec = song.sections[0]
    assert clip.origin == "imported" and clip.name == "band"
    assert sec.label == "imported" and sec.start == 0 and sec.clip_id == clip.id
    # the last note ends at tick 11520 = beat 24; bars: 4 bars of 3/4, then 6/8 bars of 3 beats
    assert sec.length == clip.length == 24.0
    assert song.title == "band"


def test_round_trip_keeps_every_note_tempo_and_signature(tmp_path):
    src = tmp_path / "band.mid"
    exp = build_band(src)
    first = import_midi(src)
    out = tmp_path / "out.mid"
    assert export_midi(first, out) == str(out)
    mid = mido.MidiFile(out)
    assert mid.type == 1 and mid.ticks_per_beat >= 480
    assert len(mid.tracks) == 1 + len(exp.tracks)
    second = import_midi(out)
    assert_matches(second, exp)
    assert [t.name for t in second.tracks] == [t.name for t in first.tracks]
    assert [(t.role, t.program, t.is_drum) for t in second.tracks] == \
        [(t.role, t.program, t.is_drum) for t in first.tracks]
    # a second round trip changes nothing at all
    export_midi(second, tmp_path / "again.mid")
    third = import_midi(tmp_path / "again.mid")
    a = {t.name: _song_notes(second, t) for t in second.tracks}
    b = {t.name: _song_notes(third, t) for t in third.tracks}
    assert a == b


def test_export_writes_channels_programs_names_and_markers(tmp_path):
    song = Song("Markers", tempo=128)
    lead = song.add_track(Track("Lead", "melody", program=81))
    kit = song.add_track(Track("Drums", "drums", is_drum=True))
    bass = song.add_track(Track("Low", "bass", program=38, volume=0.5))
    clip = song.add_clip(Clip("idea", 4.0, {lead.id: [Note(60, 0, 1, 90)], kit.id: [Note(36, 0, 0.5, 100)],
                                            bass.id: [Note(36, 1, 2, 80)]}))
    song.add_section(Section("intro", clip.id, 0.0, 4.0))
    song.add_section(Section("chorus", clip.id, 4.0, 8.0))
    out = tmp_path / "m.mid"
    export_midi(song, out)
    mid = mido.MidiFile(out)
    conductor = list(mid.tracks[0])
    tick = 0
    markers = []
    for msg in conductor:
        tick += msg.time
        if msg.type == "marker":
            markers.append((tick / mid.ticks_per_beat, msg.text))
    assert markers == [(0.0, "intro"), (4.0, "chorus")]
    assert [m.name for t in mid.tracks[1:] for m in t if m.type == "track_name"] == ["Lead", "Drums", "Low"]
    programs = [(m.channel, m.program) for t in mid.tracks[1:] for m in t if m.type == "program_change"]
    assert programs == [(0, 81), (9, 0), (1, 38)]
    back = import_midi(out)
    assert [(t.name, t.program, t.is_drum) for t in back.tracks] == \
        [("Lead", 81, False), ("Drums", 0, True), ("Low", 38, False)]
    assert back.tracks[2].volume == pytest.approx(0.5, abs=0.01)
    # the clip repeats through the 8-beat chorus: 3 notes per pass, 3 passes
    assert sum(len(v) for v in back.clips[next(iter(back.clips))].notes.values()) == 9
    assert back.tempo == pytest.approx(128, abs=0.01)


def test_export_one_clip_or_some_sections(tmp_path):
    song = Song("Parts")
    t = song.add_track(Track("Keys", "melody"))
    a = song.add_clip(Clip("A", 4.0, {t.id: [Note(60, 0, 1), Note(62, 2, 3)]}))
    b = song.add_clip(Clip("B", 4.0, {t.id: [Note(70, 1, 2)]}))
    verse = Section("verse", a.id, 0.0, 4.0)
    chorus = Section("chorus", b.id, 4.0, 4.0)
    song.set_sections([verse, chorus])
    export_midi(song, tmp_path / "clip.mid", clip=b.id)
    got = import_midi(tmp_path / "clip.mid")
    assert [(n.pitch, n.start, n.end) for n in got.rendered_notes()[got.tracks[0].id]] == [(70, 1.0, 2.0)]
    export_midi(song, tmp_path / "clip2.mid", b)  # a clip given in place of sections
    assert (tmp_path / "clip2.mid").read_bytes() == (tmp_path / "clip.mid").read_bytes()
    export_midi(song, tmp_path / "chorus.mid", sections=[chorus])
    got = import_midi(tmp_path / "chorus.mid")
    assert [(n.pitch, n.start) for n in got.rendered_notes()[got.tracks[0].id]] == [(70, 5.0)]
    assert song.sections == [verse, chorus]  # the song itself is untouched


def test_type0_file_splits_by_channel(tmp_path):
    path = tmp_path / "zero.mid"
    exp = build_type0(path)
    song = import_midi(path)
    assert len(song.tracks) == 3
    # one MIDI track split in three: names carry the instrument; match by channel order
    for t, et in zip(song.tracks, exp.tracks):
        assert (t.program, t.is_drum) == (et.program, et.is_drum)
        assert t.name.startswith("Type zero song")
        got = _song_notes(song, t)
        assert [(n.pitch, n.velocity) for n in got] == [(p, v) for p, s, e, v in et.notes]
        for n, (p, s, e, v) in zip(got, et.notes):
            assert abs(song.beat_to_seconds(n.start) - exp.seconds(s)) < MS
            assert abs(song.beat_to_seconds(n.end) - exp.seconds(e)) < MS
    assert [t.role for t in song.tracks] == ["melody", "bass", "drums"]
    export_midi(song, tmp_path / "one.mid")
    again = import_midi(tmp_path / "one.mid")
    assert [(t.name, t.program, t.is_drum) for t in again.tracks] == \
        [(t.name, t.program, t.is_drum) for t in song.tracks]
    assert [tc.bpm for tc in again.tempos] == pytest.approx([90.0, 180.0], abs=0.01)


def test_file_written_by_pretty_midi(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=133.0)
    piano = pretty_midi.Instrument(program=4, name="E.Piano")
    for i in range(20):
        piano.notes.append(pretty_midi.Note(60 + i % 7, 48 + i, i * 0.21, i * 0.21 + 0.15))
    kit = pretty_midi.Instrument(program=0, is_drum=True, name="Beat")
    kit.notes += [pretty_midi.Note(100, 36, i * 0.45, i * 0.45 + 0.05) for i in range(8)]
    pm.instruments += [piano, kit]
    pm.time_signature_changes.append(pretty_midi.TimeSignature(5, 4, 0.0))
    pm.write(str(tmp_path / "pm.mid"))
    reread = pretty_midi.PrettyMIDI(str(tmp_path / "pm.mid"))  # what the file holds after tick rounding
    song = import_midi(tmp_path / "pm.mid")
    export_midi(song, tmp_path / "back.mid")
    back = import_midi(tmp_path / "back.mid")
    for s in (song, back):
        tracks = _by_name(s)
        assert s.time_signatures[0].numerator == 5 and s.time_signatures[0].denominator == 4
        for inst in reread.instruments:
            t = tracks[inst.name]
            assert (t.program, t.is_drum) == (inst.program, inst.is_drum)
            got = _song_notes(s, t)
            assert len(got) == len(inst.notes)
            for n, pn in zip(got, sorted(inst.notes, key=lambda x: (x.start, x.pitch))):
                assert (n.pitch, n.velocity) == (pn.pitch, pn.velocity)
                assert abs(s.beat_to_seconds(n.start) - pn.start) < MS
                assert abs(s.beat_to_seconds(n.end) - pn.end) < MS


def test_tracks_without_notes_and_unnamed_tracks(tmp_path):
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600000)]))
    mid.tracks.append(mido.MidiTrack([mido.Message("program_change", channel=2, program=48),
                                      mido.MetaMessage("track_name", name="Strings")]))
    mid.tracks.append(mido.MidiTrack([mido.Message("program_change", channel=0, program=25),
                                      mido.Message("note_on", note=64, velocity=80, time=0),
                                      mido.Message("note_off", note=64, velocity=0, time=480),
                                      mido.Message("note_on", note=67, velocity=80, time=0)]))
    mid.save(tmp_path / "x.mid")
    song = import_midi(tmp_path / "x.mid")
    names = [(t.name, t.program) for t in song.tracks]
    assert names == [("Strings", 48), (pretty_midi.program_to_instrument_name(25), 25)]
    # the last note is never released: it ends with its track
    notes = song.rendered_notes()[song.tracks[1].id]
    assert [(n.pitch, n.start, n.end) for n in notes] == [(64, 0.0, 1.0)]
    assert song.tempo == pytest.approx(100.0)


def test_empty_but_valid_file_gives_empty_song(tmp_path):
    mid = mido.MidiFile(type=1)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=400000)]))
    mid.save(tmp_path / "empty.mid")
    song = import_midi(tmp_path / "empty.mid")
    assert song.tracks == [] and song.clips == {} and song.sections == []
    assert song.tempo == pytest.approx(150.0)


# ---------------------------------------------------------------- bad files
def _assert_error(path, *words):
    with pytest.raises(MidiFileError) as info:
        import_midi(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    assert "\n" not in msg
    for w in words:
        assert w in msg.lower(), msg
    return msg


def _write_mid(path, tracks, tpb=480, type_=1):
    mid = mido.MidiFile(type=type_, ticks_per_beat=tpb)
    for msgs in tracks:
        mid.tracks.append(mido.MidiTrack(msgs))
    mid.save(path)
    return path


def test_missing_empty_text_and_folder(tmp_path):
    _assert_error(tmp_path / "nope.mid", "does not exist")
    (tmp_path / "empty.mid").write_bytes(b"")
    _assert_error(tmp_path / "empty.mid", "empty")
    (tmp_path / "notes.mid").write_text("C D E F G A B c\nthis is not a MIDI file\n")
    _assert_error(tmp_path / "notes.mid", "not a midi file", "text")
    (tmp_path / "noise.mid").write_bytes(bytes(range(256)) * 3)
    _assert_error(tmp_path / "noise.mid", "not a midi file")
    (tmp_path / "dir.mid").mkdir()
    _assert_error(tmp_path / "dir.mid", "folder")


def test_truncated_file(tmp_path):
    data = (tmp_path / "band.mid")
    build_band(data)
    raw = data.read_bytes()
    (tmp_path / "cut.mid").write_bytes(raw[: len(raw) // 2])
    _assert_error(tmp_path / "cut.mid", "truncated")
    (tmp_path / "head.mid").write_bytes(raw[:10])
    _assert_error(tmp_path / "head.mid", "truncated")


def test_zero_and_absurd_tempo(tmp_path):
    p = _write_mid(tmp_path / "zero.mid", [[mido.MetaMessage("set_tempo", tempo=0)],
                                             [mido.Message("note_on", note=60, time=0),
                                              mido.Message("note_off", note=60, time=10)]])
    _assert_error(p, "tempo of zero")
    p = _write_mid(tmp_path / "fast.mid", [[mido.MetaMessage("set_tempo", tempo=5)]])
    _assert_error(p, "tempo")


def test_too_many_tracks(tmp_path):
    tracks = [[mido.Message("note_on", note=60, time=0), mido.Message("note_off", note=60, time=10)]
              for _ in range(200)]
    p = _write_mid(tmp_path / "wide.mid", tracks)
    _assert_error(p, "200 tracks")


def test_too_many_notes(tmp_path, monkeypatch):
    msgs = []
    for _ in range(60):
        msgs += [mido.Message("note_on", note=60, time=0), mido.Message("note_off", note=60, time=1)]
    p = _write_mid(tmp_path / "dense.mid", [msgs])
    assert import_midi(p).clips  # fine under the real limit
    monkeypatch.setattr(midi_io, "MAX_NOTES", 50)
    _assert_error(p, "more than 50 notes")


def test_file_lasting_more_than_a_day(tmp_path):
    p = _write_mid(tmp_path / "long.mid", [[mido.Message("note_on", note=60, time=0),
                                            mido.Message("note_off", note=60, time=0x0FFFFFFF)]],
                   tpb=1)
    _assert_error(p, "hours")


def test_smpte_type2_and_bad_time_signature(tmp_path):
    p = tmp_path / "ok.mid"
    _write_mid(p, [[mido.Message("note_on", note=60, time=0), mido.Message("note_off", note=60, time=10)]])
    raw = bytearray(p.read_bytes())
    raw[12:14] = b"\xe7\x28"  # SMPTE division: -25 fps, 40 ticks per frame
    (tmp_path / "smpte.mid").write_bytes(bytes(raw))
    _assert_error(tmp_path / "smpte.mid", "smpte")
    p2 = _write_mid(tmp_path / "t2.mid", [[mido.Message("note_on", note=60, time=0)]], type_=2)
    _assert_error(p2, "type 2")
    # denominator byte 7 means 2**7 = 128: no real metre uses it
    p3 = tmp_path / "sig.mid"
    _write_mid(p3, [[mido.MetaMessage("time_signature", numerator=4, denominator=128)]])
    _assert_error(p3, "time signature")


# ---------------------------------------------------------------- export errors
def _small_song():
    song = Song("Small")
    t = song.add_track(Track("Keys", "melody"))
    c = song.add_clip(Clip("c", 4.0, {t.id: [Note(60, 0, 1)]}))
    song.add_section(Section("verse", c.id, 0, 4))
    return song


def test_export_to_missing_folder(tmp_path):
    target = tmp_path / "no" / "such" / "out.mid"
    with pytest.raises(MidiFileError) as info:
        export_midi(_small_song(), target)
    assert str(target) in str(info.value)
    assert not target.exists()


def test_failed_export_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "keep.mid"
    target.write_bytes(b"old content")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    import core.atomic_write

    monkeypatch.setattr(core.atomic_write.os, "fsync", full_disk)
    with pytest.raises(MidiFileError) as info:
        export_midi(_small_song(), target)
    assert "No space left" in str(info.value) and str(target) in str(info.value)
    assert target.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["keep.mid"]


def test_export_to_unwritable_folder(tmp_path, monkeypatch):
    import core.atomic_write

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(core.atomic_write.tempfile, "mkstemp", denied)
    with pytest.raises(MidiFileError) as info:
        export_midi(_small_song(), tmp_path / "x.mid")
    assert "Permission denied" in str(info.value) and "x.mid" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_export_of_odd_song_values_is_clamped(tmp_path):
    song = Song("Odd")
    song.tempos = [TempoChange(0.0, 120.0), TempoChange(2.0, 60.0)]
    song.time_signatures = [TimeSignature(0.0, 7, 8)]
    t = song.add_track(Track("X", "other", program=200))
    c = song.add_clip(Clip("c", 4.0, {t.id: [Note(130, 0, 0.0000001, 0), Note(-3, 1, 2, 300)]}))
    song.add_section(Section("s", c.id, 0, 4))
    export_midi(song, tmp_path / "odd.mid")
    back = import_midi(tmp_path / "odd.mid")
    notes = back.rendered_notes()[back.tracks[0].id]
    assert [(n.pitch, n.velocity) for n in notes] == [(127, 1), (0, 127)]
    assert notes[0].end > notes[0].start
    assert back.tracks[0].program == 127
    assert (back.time_signatures[0].numerator, back.time_signatures[0].denominator) == (7, 8)


def test_exported_file_reads_the_same_in_pretty_midi(tmp_path):
    """An independent decoder (pretty_midi over mido) sees the notes and tempo map we wrote."""
    src = tmp_path / "band.mid"
    exp = build_band(src)
    song = import_midi(src)
    export_midi(song, tmp_path / "out.mid")
    pm = pretty_midi.PrettyMIDI(str(tmp_path / "out.mid"))
    by_name = {i.name: i for i in pm.instruments}
    for et in exp.tracks:
        if et.name == "Lead Flute":
            continue  # its overlapping notes of one pitch are paired differently by pretty_midi
        inst = by_name[et.name]
        assert (inst.program, inst.is_drum) == (et.program, et.is_drum)
        got = sorted(inst.notes, key=lambda n: (n.start, n.pitch))
        want = sorted(et.notes, key=lambda n: (n[1], n[0]))
        assert len(got) == len(want)
        for n, (p, s, e, v) in zip(got, want):
            assert (n.pitch, n.velocity) == (p, v)
            assert abs(n.start - exp.seconds(s)) < MS and abs(n.end - exp.seconds(e)) < MS
    ts = pm.time_signature_changes
    assert [(t.numerator, t.denominator) for t in ts] == [(3, 4), (6, 8)]


def test_end_of_track_a_tick_after_the_last_bar_adds_no_bar(tmp_path):
    """pretty_midi ends each track one tick after the last note-off: a 4-bar file stays 4 bars."""
    import pretty_midi

    from core.midi_io import import_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    inst = pretty_midi.Instrument(0, name="Lead")
    beat = 60.0 / 100.0
    for i in range(16):
        inst.notes.append(pretty_midi.Note(90, 60 + i % 5, i * beat, (i + 1) * beat))
    pm.instruments.append(inst)
    path = tmp_path / "four_bars.mid"
    pm.write(str(path))
    song = import_midi(path)
    assert song.length_bars() == 4
    # a file that really ends later (a whole beat of silence after the notes) keeps that bar
    pm.instruments[0].notes.append(pretty_midi.Note(1, 60, 16 * beat, 17 * beat))
    pm.write(str(path))
    assert import_midi(path).length_bars() == 5
