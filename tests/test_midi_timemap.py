"""Tempo and metre maps: the same answers as a walk through the changes, and bar counts of files
with many meter changes checked against a count done here in whole ticks."""
import io
import math
import random

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.info import describe
from core.midi_io import import_midi_bytes
from core.quantize import bars_at, round_up_to_bar
from core.song import Song, TempoChange, TimeSignature
from core.timemap import MeterMap, TempoMap

TPB = 480
METERS = [(2, 4), (3, 4), (4, 4), (5, 8), (6, 8), (7, 8), (3, 2), (9, 16), (1, 32)]


def ticks_per_bar(num, den, tpb=TPB):
    return num * 4 * tpb // den


tempo_lists = st.lists(st.tuples(st.integers(1, 4000), st.floats(20, 400)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(tempo_lists, st.floats(60, 200), st.lists(st.floats(-2, 5000), min_size=1, max_size=10))
def test_tempo_map_agrees_with_the_song_walk(changes, first_bpm, beats):
    song = Song()
    song.tempos = [TempoChange(0.0, first_bpm)] + [TempoChange(t / 8, bpm) for t, bpm in changes]
    tm = TempoMap(song.tempos)
    for beat in beats:
        assert tm.seconds_at(beat) == pytest.approx(song.beat_to_seconds(beat), rel=1e-12, abs=1e-9)
        secs = song.beat_to_seconds(beat)
        assert tm.beat_at(secs) == pytest.approx(song.seconds_to_beat(secs), rel=1e-9, abs=1e-9)


def reference_bars(sig_ticks, end_tick):
    """Bars from tick 0 to end_tick, in whole ticks: each change starts a bar, a cut bar counts one."""
    bars = 0
    for i, (tick, num, den) in enumerate(sig_ticks):
        nxt = sig_ticks[i + 1][0] if i + 1 < len(sig_ticks) else end_tick
        if nxt <= tick:
            continue
        bars += -(-(min(nxt, end_tick) - tick) // ticks_per_bar(num, den))
        if nxt >= end_tick:
            break
    return bars


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 20_000), st.sampled_from(METERS)), max_size=40),
       st.integers(0, 30_000))
def test_meter_map_counts_bars_like_a_count_in_ticks(changes, end_tick):
    by_tick = {0: (4, 4)}
    for tick, meter in changes:
        by_tick[tick] = meter
    sig_ticks = [(t, n, d) for t, (n, d) in sorted(by_tick.items())]
    sigs = [TimeSignature(t / TPB, n, d) for t, n, d in sig_ticks]
    mm = MeterMap(sigs)
    line = mm.round_up_to_bar(end_tick / TPB)
    # the bar line found is a bar line of the count in ticks, and the count there is whole
    assert mm.bars_at(line) == reference_bars(sig_ticks, round(line * TPB))
    assert mm.bars_at(line) == reference_bars(sig_ticks, end_tick)
    assert line * TPB >= end_tick - 1e-6
    assert bars_at(sigs, line) == mm.bars_at(line) and round_up_to_bar(sigs, end_tick / TPB) == line


def test_bars_at_a_change_in_the_middle_of_a_bar_is_whole():
    sigs = [TimeSignature(0.0, 4, 4), TimeSignature(2.0, 3, 4)]  # the first bar is cut to 2 beats
    assert bars_at(sigs, 1.0) == 0.25
    assert bars_at(sigs, 2.0) == 1 and bars_at(sigs, 3.5) == 1.5 and bars_at(sigs, 5.0) == 2
    assert round_up_to_bar(sigs, 1.0) == 2.0 and round_up_to_bar(sigs, 2.1) == 5.0
    # a change a tick away from a bar line, as a file gives it, still lands on whole bars
    odd = [TimeSignature(t / TPB, 5, 8) for t in range(0, 30)] + [TimeSignature(30 / TPB, 4, 4)]
    assert bars_at(odd, 30 / TPB) == 30 and bars_at(odd, 30 / TPB + 8) == 32


def meter_file(sig_ticks, tempo_ticks, note_end):
    """A type 1 file: a conductor track with the given meter and tempo changes, one long note."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    events = [(t, mido.MetaMessage("time_signature", numerator=n, denominator=d)) for t, n, d in sig_ticks]
    events += [(t, mido.MetaMessage("set_tempo", tempo=us)) for t, us in tempo_ticks]
    conductor, now = mido.MidiTrack(), 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        conductor.append(msg.copy(time=tick - now))
        now = tick
    mid.tracks.append(conductor)
    mid.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=0),
                                      mido.Message("note_off", note=60, time=note_end)]))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


@pytest.mark.parametrize("count,spacing", [(3000, 1), (400, 700), (2000, 97)])
def test_file_with_many_meter_changes_has_the_counted_bars(count, spacing):
    rng = random.Random(count)
    sig_ticks = [(i * spacing, *rng.choice(METERS)) for i in range(count)]
    tempo_ticks = [(i * spacing, rng.randrange(300_000, 900_000)) for i in range(count)]
    last = sig_ticks[-1]
    note_end = last[0] + 3 * ticks_per_bar(last[1], last[2]) + 5  # into the fourth bar after the last change
    song = import_midi_bytes(meter_file(sig_ticks, tempo_ticks, note_end), "meters.mid")
    assert len(song.time_signatures) == count and len(song.tempos) == count
    expected = reference_bars(sig_ticks, note_end)
    assert bars_at(song.time_signatures, song.length_beats()) == expected
    assert song.length_beats() * TPB == pytest.approx(last[0] + 4 * ticks_per_bar(last[1], last[2]))
    lines = describe(song)
    assert f"length: {expected} bars" in "\n".join(lines)
    assert any(line.startswith(f"  ... and {count - 1 - 50} more tempo changes") for line in lines)
    # the seconds printed follow every tempo change (summed here from the file's own values)
    end = round(song.length_beats() * TPB)
    secs = sum((min(b, end) - a) * us / 1e6 / TPB
               for (a, us), (b, _) in zip(tempo_ticks, tempo_ticks[1:] + [(end, 0)]) if a < end)
    assert f"{secs:.1f} s)" in "\n".join(lines)
    assert math.isclose(song.beat_to_seconds(song.length_beats()), secs, rel_tol=1e-9)
