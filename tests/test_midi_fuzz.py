"""Fuzzing: damaged MIDI bytes give MidiFileError or a valid Song, never another exception."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import MidiFileError
from core.midi_io import import_midi, import_midi_bytes, midi_bytes
from core.song import ROLES
from tests.helpers_midi import small_midi_bytes

SEED = small_midi_bytes()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_song(song):
    """What every imported song must satisfy, and it must export again without error."""
    ids = {t.id for t in song.tracks}
    for t in song.tracks:
        assert t.role in ROLES and 0 <= t.program <= 127 and 0.0 <= t.volume <= 1.0
    for clip in song.clips.values():
        assert clip.length > 0
        for tid, n in clip.all_notes():
            assert tid in ids
            assert 0 <= n.pitch <= 127 and 1 <= n.velocity <= 127
            assert 0 <= n.start < n.end <= clip.length
    for sec in song.sections:
        assert sec.clip_id in song.clips and sec.length > 0
    assert song.tempos[0].beat == 0 and all(1 <= tc.bpm <= 999 for tc in song.tempos)
    assert song.time_signatures[0].beat == 0
    again = import_midi_bytes(midi_bytes(song), "again.mid")
    assert sum(c.note_count() for c in again.clips.values()) == \
        sum(len(v) for v in song.rendered_notes().values())


def try_import(data: bytes):
    try:
        song = import_midi_bytes(data, "fuzzed.mid")
    except MidiFileError as exc:
        assert "fuzzed.mid" in str(exc)
        return None
    check_song(song)
    return song


def test_seed_is_valid():
    song = try_import(SEED)
    assert song is not None and len(song.tracks) == 2


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_bytes(changes):
    data = bytearray(SEED)
    for pos, value in changes:
        data[pos] = value
    try_import(bytes(data))


@FUZZ
@given(st.integers(0, len(SEED) - 1))
def test_truncated_bytes(cut):
    try_import(SEED[:cut])


@FUZZ
@given(st.integers(0, len(SEED)), st.binary(min_size=1, max_size=12), st.integers(0, 6))
def test_inserted_and_deleted_bytes(pos, insert, delete):
    try_import(SEED[:pos] + insert + SEED[pos + delete:])


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_after_a_header(tail):
    try_import(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0" + tail)


def test_damaged_file_on_disk_names_it(tmp_path):
    p = tmp_path / "broken.mid"
    p.write_bytes(SEED[:40] + b"\xff" * 30)
    with pytest.raises(MidiFileError) as info:
        import_midi(p)
    assert str(p) in str(info.value)


# ---------------------------------------------------------------- valid files, any shape
note_groups = st.lists(
    st.tuples(st.sampled_from([0, 1, 9, 15]), st.integers(0, 127),
              st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 900), st.integers(1, 127)),
                       min_size=1, max_size=6)),
    min_size=1, max_size=8, unique_by=lambda g: (g[0], g[1]))


@settings(max_examples=80, deadline=None)
@given(note_groups, st.lists(st.tuples(st.integers(0, 3000), st.integers(20, 400)), max_size=4),
       st.sampled_from([96, 384, 480, 960]))
def test_random_valid_files_read_exactly(groups, tempo_changes, tpb):
    """Files mido writes (running status and all) import with every note at its exact tick."""
    import io

    import mido

    expected = {}
    events = []
    for ch, pitch, notes in groups:
        ends = 0
        for start, dur, vel in sorted(notes):
            # per pitch, later starts also end later, so first-in-first-out pairing is unambiguous
            end = max(start + dur, ends)
            ends = end
            expected.setdefault(ch, []).append((pitch, start, end, vel))
            events.append((start, 1, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)))
            events.append((end, 0, mido.Message("note_off", channel=ch, note=pitch)))
    tempos = {0: 120}
    for tick, bpm in tempo_changes:
        tempos[tick] = bpm
    conductor = [(t, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(b))) for t, b in tempos.items()]
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    for evs in (conductor, events):
        track = mido.MidiTrack()
        now = 0
        for tick, _o, msg in sorted(evs, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    song = import_midi_bytes(buf.getvalue(), "random.mid")
    check_song(song)
    clip = next(iter(song.clips.values()))
    got = {}
    for t in song.tracks:
        ch = 9 if t.is_drum else None
        notes = [(n.pitch, round(n.start * tpb), round(n.end * tpb), n.velocity) for n in clip.track_notes(t.id)]
        assert all(n.start == round(n.start * tpb) / tpb for n in clip.track_notes(t.id))
        got.setdefault(ch if ch is not None else t.name, []).extend(notes)
    assert sorted(got.get(9, [])) == sorted(expected.get(9, []))
    others = sorted(n for k, v in got.items() if k != 9 for n in v)
    assert others == sorted(n for ch, v in expected.items() if ch != 9 for n in v)
    assert [round(60_000_000 / tc.bpm) for tc in song.tempos] == \
        [mido.bpm2tempo(b) for _t, b in sorted(tempos.items())]
