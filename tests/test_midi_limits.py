"""Hostile MIDI files: refused early with one clear MidiFileError; import progress and cancel."""
import io
import struct

import mido
import pytest

from core import midi_io
from core.errors import JobCancelled, MidiFileError
from core.jobs import JobToken
from core.midi_io import import_midi, import_midi_bytes, midi_bytes
from core.song import Clip, Note, Section, Song, Track


def file_bytes(tracks, tpb=480):
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    for msgs in tracks:
        mid.tracks.append(mido.MidiTrack(msgs))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


ONE_NOTE = [mido.Message("note_on", note=60, velocity=90), mido.Message("note_off", note=60, time=10)]


def refused(data, *words):
    with pytest.raises(MidiFileError) as info:
        import_midi_bytes(data, "hostile.mid")
    msg = str(info.value)
    assert "hostile.mid" in msg and "\n" not in msg
    for w in words:
        assert w in msg.lower(), msg
    return msg


def count_messages(monkeypatch):
    """Counts the messages the importer pulls from the file."""
    pulled = [0]
    real = midi_io._messages

    def counting(*args, **kwargs):
        for msg in real(*args, **kwargs):
            pulled[0] += 1
            yield msg

    monkeypatch.setattr(midi_io, "_messages", counting)
    return pulled


def test_notes_never_released_count_and_reading_stops_at_the_limit(monkeypatch):
    ons = [mido.Message("note_on", note=40 + i % 40, velocity=90, time=1) for i in range(10_000)]
    data = file_bytes([ons])
    monkeypatch.setattr(midi_io, "MAX_NOTES", 50)
    pulled = count_messages(monkeypatch)
    refused(data, "more than 50 notes")
    assert pulled[0] <= 52  # the other 9,948 events are never decoded


def test_tempo_and_meter_changes_have_a_limit(monkeypatch):
    msgs = []
    for i in range(300):
        msgs.append(mido.MetaMessage("set_tempo", tempo=500_000 + i, time=1))
        msgs.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=1))
    data = file_bytes([msgs])
    assert len(import_midi_bytes(data).tempos) == 301  # the default at beat 0, then 300
    monkeypatch.setattr(midi_io, "MAX_CHANGES", 100)
    pulled = count_messages(monkeypatch)
    refused(data, "more than 100 tempo and time-signature changes")
    assert pulled[0] <= 102


def test_a_file_lasting_days_is_refused_at_the_first_late_note(monkeypatch):
    # 2,000,000 beats (one tick a beat): more than 24 h even at 999 BPM
    late = [mido.Message("note_on", note=60, velocity=90, time=2_000_000)]
    data = file_bytes([late + [mido.Message("note_off", note=60, time=1)] * 1000], tpb=1)
    pulled = count_messages(monkeypatch)
    refused(data, "more than 24 hours")
    assert pulled[0] == 1


def test_many_track_headers_are_refused_from_the_header():
    header = b"MThd" + struct.pack(">LHHH", 6, 1, 65535, 480)
    data = header + (b"MTrk" + struct.pack(">L", 4) + b"\x00\xff\x2f\x00") * 65535
    refused(data, "65535 tracks", "128 allowed")
    assert len(import_midi_bytes(header[:10] + struct.pack(">H", 1) + header[12:]
                                 + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00").tracks) == 0


def test_mido_errors_become_midi_file_errors():
    ok = file_bytes([ONE_NOTE])
    track = ok.index(b"MTrk", 14)
    # a data byte over 127 (mido: OSError), an undefined status (mido: OSError), a tempo event
    # one byte short and a time signature of one byte (mido: IndexError), a meta event longer
    # than mido accepts
    for body, words in [(b"\x00\x90\x3c\xc0", ["damaged", "data byte over 127 after status 0x90"]),
                        (b"\x00\xf4\x00", ["damaged"]),
                        (b"\x00\xff\x51\x02\x07\xa1", ["damaged", "tempo event has 2 bytes"]),
                        (b"\x00\xff\x58\x01\x04", ["damaged", "time signature"]),
                        (b"\x00\xff\x03\xfa\x89\x00\x00", ["damaged"]),
                        (b"\x00\x90\x3c", ["truncated"]),
                        (b"\x00\xf0\x05\x01\x02", ["truncated"]),
                        (b"\x3c\x40", ["running status"])]:
        data = ok[:track] + b"MTrk" + struct.pack(">L", len(body)) + body
        refused(data, *words)


def test_unused_meta_events_mido_cannot_decode_do_not_spoil_a_file():
    ok = file_bytes([ONE_NOTE])
    track = ok.index(b"MTrk", 14)
    # a key signature of 9 sharps and a short SMPTE offset, then a note; a sysex with 8-bit data
    # and a time signature without its two metronome bytes (3/4)
    body = (b"\x00\xff\x59\x02\x09\x00" + b"\x00\xff\x54\x01\x77" + b"\x00\xf0\x03\x81\xff\xf7"
            + b"\x00\xff\x58\x02\x03\x02"
            + b"\x00\x90\x3c\x50" + b"\x60\x80\x3c\x00" + b"\x00\xff\x2f\x00")
    song = import_midi_bytes(ok[:track] + b"MTrk" + struct.pack(">L", len(body)) + body, "odd.mid")
    notes = song.rendered_notes()[song.tracks[0].id]
    assert [(n.pitch, n.velocity, n.start, n.end) for n in notes] == [(60, 80, 0.0, 0.2)]
    assert [(ts.numerator, ts.denominator) for ts in song.time_signatures] == [(3, 4)]


def test_unicode_names_round_trip():
    song = Song("Lied für Клара 🎹")
    t = song.add_track(Track("Flöte 笛", "melody", program=73))
    c = song.add_clip(Clip("c", 4.0, {t.id: [Note(72, 0, 1)]}))
    song.add_section(Section("Strophe ü", c.id, 0, 4))
    data = midi_bytes(song)
    mid = mido.MidiFile(file=io.BytesIO(data))
    assert mid.tracks[1].name.encode("latin-1").decode("utf-8") == "Flöte 笛"  # UTF-8 bytes on disk
    back = import_midi_bytes(data, "x.mid")
    assert [tr.name for tr in back.tracks] == ["Flöte 笛"]


def big_file(notes=20_000):
    msgs = []
    for i in range(notes):
        msgs += [mido.Message("note_on", note=60 + i % 12, velocity=90, time=0 if i == 0 else 10),
                 mido.Message("note_off", note=60 + i % 12, time=10)]
    return file_bytes([msgs])


def test_import_reports_progress_often_and_in_order(tmp_path):
    path = tmp_path / "big.mid"
    path.write_bytes(big_file())
    seen = []
    song = import_midi(path, token=JobToken(lambda f, m: seen.append((f, m))))
    assert sum(c.note_count() for c in song.clips.values()) == 20_000
    fractions = [f for f, _ in seen]
    assert len(fractions) >= 40000 // midi_io.CHECK_EVERY  # at least once every few thousand events
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] <= 1
    assert any("Reading" in m for _, m in seen)


def test_cancel_stops_the_import_within_a_few_thousand_events(monkeypatch):
    data = big_file()
    pulled = count_messages(monkeypatch)
    calls = []

    def cancel_at_first_report(fraction, message):
        calls.append(fraction)
        token.cancel()

    token = JobToken(cancel_at_first_report)
    with pytest.raises(JobCancelled):
        import_midi_bytes(data, "big.mid", token=token)
    assert len(calls) == 1 and pulled[0] <= midi_io.CHECK_EVERY
    # a token cancelled before the import starts stops it at the first look
    pulled[0] = 0
    with pytest.raises(JobCancelled):
        import_midi_bytes(data, "big.mid", token=token)
    assert pulled[0] <= midi_io.CHECK_EVERY


def test_a_delta_time_longer_than_four_bytes_is_refused_at_once(monkeypatch):
    """A run of 0xFF bytes is not read as one ever-growing number (its cost grew as its square)."""
    body = b"\xff" * 200_000 + b"\x00\x90\x3c\x40"
    data = b"MThd" + struct.pack(">LHHH", 6, 1, 1, 480) + b"MTrk" + struct.pack(">L", len(body)) + body
    refused(data, "damaged", "longer than 4 bytes")
    # four bytes is the most the standard allows, and it is read
    ok = (b"\x00\x90\x3c\x40" + b"\x81\x80\x80\x00\x80\x3c\x00" + b"\x00\xff\x2f\x00")
    song = import_midi_bytes(b"MThd" + struct.pack(">LHHH", 6, 1, 1, 480) + b"MTrk"
                             + struct.pack(">L", len(ok)) + ok, "four.mid")
    notes = song.rendered_notes()[song.tracks[0].id]
    assert [(n.start, n.end) for n in notes] == [(0.0, 0x200000 / 480)]


def instruments_bytes(tracks, programs):
    """Every channel of every track plays one note on each of `programs` programs in turn."""
    out = []
    for _ in range(tracks):
        msgs = []
        for ch in range(16):
            for prog in range(programs):
                msgs += [mido.Message("program_change", channel=ch, program=prog),
                         mido.Message("note_on", channel=ch, note=60, velocity=90),
                         mido.Message("note_off", channel=ch, note=60, time=10)]
        out.append(msgs)
    return file_bytes(out)


def test_instruments_have_a_limit(monkeypatch):
    song = import_midi_bytes(instruments_bytes(1, 16), "many.mid")
    assert len(song.tracks) == 256 == midi_io.MAX_INSTRUMENTS
    assert {(t.program, t.is_drum) for t in song.tracks} == \
        {(p, d) for p in range(16) for d in (False, True)}
    refused(instruments_bytes(1, 17), "more than 256 instruments")
    pulled = count_messages(monkeypatch)
    refused(instruments_bytes(4, 128), "more than 256 instruments")  # 8,192 in 90 KB
    assert pulled[0] < 3 * 260
