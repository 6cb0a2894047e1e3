"""Builders of MIDI files for the tests, written with mido in ticks so the expected values are exact.

`build_band(path)` writes a type 1 file with several tracks (a lead with overlapping notes of
one pitch, a bass, a drum kit, a pad of chords), tempo changes and two time signatures, and
returns what a correct import must find.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import mido

TPB = 480


@dataclass
class ExpectedTrack:
    name: str
    program: int
    is_drum: bool
    notes: list = field(default_factory=list)  # (pitch, start_tick, end_tick, velocity)


@dataclass
class ExpectedFile:
    tpb: int
    tempos: list  # (tick, bpm)
    signatures: list  # (tick, numerator, denominator)
    tracks: list

    def seconds(self, tick: int) -> float:
        """Seconds at a tick, computed here independently of the code under test."""
        changes = sorted(self.tempos)
        if changes[0][0] != 0:
            changes.insert(0, (0, 120.0))
        secs = 0.0
        for i, (t0, bpm) in enumerate(changes):
            t1 = changes[i + 1][0] if i + 1 < len(changes) else None
            us = round(60_000_000 / bpm)
            if t1 is not None and tick > t1:
                secs += (t1 - t0) * us / 1e6 / self.tpb
            else:
                return secs + (tick - t0) * us / 1e6 / self.tpb
        return secs


def _events_to_track(events, name=None):
    """events: (tick, order, message) -> a MidiTrack with delta times."""
    track = mido.MidiTrack()
    if name is not None:
        track.append(mido.MetaMessage("track_name", name=name, time=0))
    now = 0
    for tick, _o, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _note_events(notes, channel):
    out = []
    for pitch, s, e, v in notes:
        out.append((s, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=v)))
        out.append((e, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    return out


def band_expectation(seed: int = 7) -> ExpectedFile:
    rng = random.Random(seed)
    lead = ExpectedTrack("Lead Flute", 73, False, [
        # two overlapping notes of one pitch, then a third starting where the second ends
        (72, 0, 960, 100), (72, 480, 1440, 70), (72, 1440, 1500, 90),
        (74, 1500, 1920, 64), (76, 1920, 3000, 127), (79, 3001, 3003, 1),
    ])
    for i in range(24):
        s = 3840 + i * 240 + rng.randrange(0, 37)
        lead.notes.append((rng.randrange(60, 90), s, s + rng.randrange(30, 700), rng.randrange(1, 128)))
    bass = ExpectedTrack("Bass", 33, False,
                         [(36 + (i % 5), i * 480, i * 480 + 400, 90 - i) for i in range(24)])
    drums = ExpectedTrack("Kit", 0, True, [])
    for i in range(48):
        drums.notes.append((36 if i % 4 == 0 else 42, i * 240, i * 240 + 60, 100 if i % 2 else 75))
    pad = ExpectedTrack("Pad", 89, False, [])
    for bar in range(6):
        for p in (60, 64, 67):
            pad.notes.append((p, bar * 1920, bar * 1920 + 1920, 50))
    return ExpectedFile(TPB, [(0, 100.0), (3840, 140.0), (7200, 72.5)],
                        [(0, 3, 4), (5760, 6, 8)], [lead, bass, drums, pad])


def build_band(path, seed: int = 7) -> ExpectedFile:
    """A type 1 file: conductor track + lead, bass, drums (channel 10), pad."""
    exp = band_expectation(seed)
    mid = mido.MidiFile(type=1, ticks_per_beat=exp.tpb)
    conductor = []
    for tick, bpm in exp.tempos:
        conductor.append((tick, 0, mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm))))
    for tick, num, den in exp.signatures:
        conductor.append((tick, 0, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
    mid.tracks.append(_events_to_track(conductor, "Band song"))
    channel = 0
    for t in exp.tracks:
        ch = 9 if t.is_drum else channel
        if not t.is_drum:
            channel += 1
        events = [(0, 0, mido.Message("program_change", channel=ch, program=t.program))]
        events += _note_events(t.notes, ch)
        mid.tracks.append(_events_to_track(events, t.name))
    mid.save(path)
    return exp


def build_type0(path) -> ExpectedFile:
    """A type 0 file: one track holding a piano (ch 1), a bass (ch 2) and drums (ch 10)."""
    piano = ExpectedTrack("piano", 0, False, [(60 + i % 12, i * 240, i * 240 + 200, 80) for i in range(16)])
    bass = ExpectedTrack("bass", 34, False, [(40, i * 960, i * 960 + 900, 100) for i in range(4)])
    drums = ExpectedTrack("drums", 0, True, [(38, i * 480, i * 480 + 100, 110) for i in range(8)])
    exp = ExpectedFile(TPB, [(0, 90.0), (1920, 180.0)], [(0, 4, 4)], [piano, bass, drums])
    events = [(0, 0, mido.MetaMessage("set_tempo", tempo=round(60_000_000 / 90.0))),
              (1920, 0, mido.MetaMessage("set_tempo", tempo=round(60_000_000 / 180.0))),
              (0, 0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
              (0, 0, mido.Message("program_change", channel=1, program=34))]
    events += _note_events(piano.notes, 0) + _note_events(bass.notes, 1) + _note_events(drums.notes, 9)
    mid = mido.MidiFile(type=0, ticks_per_beat=TPB)
    mid.tracks.append(_events_to_track(events, "Type zero song"))
    mid.save(path)
    return exp


def small_midi_bytes() -> bytes:
    """A compact valid file (two tracks, a tempo change, a drum note) used as a fuzzing seed."""
    import io

    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    mid.tracks.append(_events_to_track([
        (0, 0, mido.MetaMessage("set_tempo", tempo=500000)),
        (0, 0, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
        (192, 0, mido.MetaMessage("set_tempo", tempo=400000))], "seed"))
    mid.tracks.append(_events_to_track(
        [(0, 0, mido.Message("program_change", channel=0, program=5))]
        + _note_events([(60, 0, 96, 90), (64, 48, 144, 70), (60, 50, 200, 60)], 0), "keys"))
    mid.tracks.append(_events_to_track(_note_events([(36, 0, 24, 100), (42, 96, 120, 80)], 9), "kit"))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def markers(path) -> list[tuple[float, str]]:
    """(beat, text) of each marker in the first track of a MIDI file."""
    mid = mido.MidiFile(path)
    out, tick = [], 0
    for msg in mid.tracks[0]:
        tick += msg.time
        if msg.type == "marker":
            out.append((tick / mid.ticks_per_beat, msg.text))
    return out
