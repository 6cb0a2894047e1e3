"""Continue and infill with a tiny sequence model: what is kept stays exactly as it was."""
from __future__ import annotations

import os

import numpy as np
import pytest

from core import generation
from core.errors import JobCancelled, UserError
from core.jobs import JobToken, run_job
from core.seq import events as ev
from core.seq import model as sm
from core.song import Clip, Note, Song

TINY = {"arch": "transformer", "d_model": 16, "layers": 1, "heads": 2, "d_ff": 32, "max_len": 96}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("seq") / "tiny_seq")
    sm.save(sm.build(TINY, seed=5), folder, "tiny_seq")
    return folder, run_job(generation.load_seq, folder)


def _song_clip(bars=4):
    song = Song()
    mel, bass, drums = song.ensure_track("melody"), song.ensure_track("bass"), song.ensure_track("drums")
    notes = {mel.id: [Note(60 + (i * 5) % 12, i * 0.5, i * 0.5 + 0.5, 77) for i in range(bars * 8)],
             bass.id: [Note(36 + (i % 3) * 2, i * 2.0, i * 2.0 + 1.5, 66) for i in range(bars * 2)],
             drums.id: [Note(36 if i % 2 == 0 else 38, i * 1.0, i * 1.0 + 0.25, 100) for i in range(bars * 4)]}
    clip = Clip("Groove", bars * 4.0, notes)
    song.add_clip(clip)
    return song, clip


def test_continuations_start_with_the_clip_unchanged(tiny):
    _, model = tiny
    song, clip = _song_clip(2)
    outs = run_job(generation.continue_clip, model, clip, 2, 3, 1.0, tracks=song, seed=1)
    assert len(outs) == 3 and [c.name for c in outs] == ["Groove continued 1", "Groove continued 2", "Groove continued 3"]
    for c in outs:
        assert c.length == 16.0 and c.origin == "continued"
        assert set(c.notes) == set(clip.notes)  # the same tracks, nothing new
        for tid, ns in clip.notes.items():
            assert [n for n in c.notes[tid] if n.start < 8.0] == ns
        assert all(n.end <= 16.0 for ns in c.notes.values() for n in ns)
    song.add_clip(outs[0])  # the new clips fit the song's tracks


def test_a_melody_is_continued_as_a_melody_only(tiny):
    _, model = tiny
    clip = Clip("Tune", 6.0, {"melody": [Note(67, 0.0, 1.0, 90), Note(69, 1.0, 2.0, 90)]})
    (c,) = run_job(generation.continue_clip, model, clip, 1, 1, 1.0, seed=2)
    assert set(c.notes) == {"melody"}
    assert c.length == 12.0  # the clip's two (partly empty) bars, then one more
    assert c.notes["melody"][:2] == clip.notes["melody"]
    assert all(n.start >= 8.0 for n in c.notes["melody"][2:])


def test_infill_keeps_every_bar_outside_the_range(tiny):
    _, model = tiny
    song, clip = _song_clip(4)
    outs = run_job(generation.infill_clip, model, clip, (2, 3), 4, 1.0, tracks=song, seed=3)
    assert len(outs) == 4
    changed = 0
    for c in outs:
        assert c.length == clip.length and c.origin == "infilled"
        for tid, ns in clip.notes.items():
            outside = [n for n in ns if not 4.0 <= n.start < 12.0]
            assert [n for n in c.notes[tid] if not 4.0 <= n.start < 12.0] == outside
            assert all(n.end <= 12.0 for n in c.notes[tid] if 4.0 <= n.start < 12.0)
            changed += [n for n in c.notes[tid] if 4.0 <= n.start < 12.0] != [n for n in ns if 4.0 <= n.start < 12.0]
    assert changed  # the bars were really rewritten


def test_bad_requests_are_clear_errors(tiny):
    _, model = tiny
    _, clip = _song_clip(2)
    with pytest.raises(UserError):
        run_job(generation.infill_clip, model, clip, (2, 3), 1)
    with pytest.raises(UserError):
        run_job(generation.continue_clip, model, clip, 17, 1)
    with pytest.raises(UserError):
        run_job(generation.continue_clip, model, Clip("Empty", 4.0, {}), 2, 1)
    with pytest.raises(UserError):
        run_job(generation.continue_clip, object(), clip, 2, 1)


def test_a_cancelled_continue_stops(tiny):
    _, model = tiny
    song, clip = _song_clip(2)
    token = JobToken()
    seen = []

    def progress(fraction, message):
        seen.append(fraction)
        if len(seen) >= 2:
            token.cancel()

    token.report_to(progress)
    with pytest.raises(JobCancelled):
        generation.continue_clip(token, model, clip, 16, 8, 1.0, tracks=song, seed=4)


def test_sampling_slides_past_the_window(tiny):
    from core.seq.sampling import sample_bars

    _, model = tiny
    prompt = ev.encode({"melody": [Note(60, i * 0.25, i * 0.25 + 0.25, 90) for i in range(48)]}, bars=3)
    rows = sample_bars(model, prompt, 2, 4, 1.0, seed=0)
    for row in rows:
        parts, bars = ev.decode(row)
        assert bars == 4 and set(parts) == {"melody"}


def test_cli_continue_and_infill_write_midi(tiny, tmp_path, capsys):
    from cli import run
    from core.midi_io import export_midi, import_midi

    folder, _ = tiny
    song, clip = _song_clip(4)
    src = str(tmp_path / "in.mid")
    export_midi(song, src, clip=clip)
    assert run(["continue", "--model", folder, "--from", src, "--bars", "2", "-n", "2",
                "--out", str(tmp_path / "c"), "--seed", "1"]) == 0
    files = sorted(os.listdir(tmp_path / "c"))
    assert files == ["in_continued_01.mid", "in_continued_02.mid"]
    assert run(["infill", "--model", folder, "--from", src, "--bars", "2-3", "-n", "1",
                "--out", str(tmp_path / "f"), "--seed", "1"]) == 0
    back = import_midi(str(tmp_path / "f" / "in_bars2-3_01.mid"))
    orig = import_midi(src)
    a = sorted((n.pitch, n.start) for c in orig.clips.values() for _, n in c.all_notes() if not 4 <= n.start < 12)
    b = sorted((n.pitch, n.start) for c in back.clips.values() for _, n in c.all_notes() if not 4 <= n.start < 12)
    assert a == b
    assert run(["infill", "--model", folder, "--from", src, "--bars", "3-9", "--out", str(tmp_path / "g")]) == 2
    assert "bars 3-9" in capsys.readouterr().err


def test_the_general_load_job_loads_a_sequence_folder(tiny):
    folder, _ = tiny
    model = run_job(generation.load, None, folder, "as_named")
    assert model.kind == "sequence" and model.name == "as_named" and model.z_size == 0
