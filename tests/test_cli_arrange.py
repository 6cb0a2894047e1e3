"""`python main.py arrange`: a whole song from a fixture model, checked in the MIDI file it writes."""
import os

import mido
import pretty_midi
import pytest

from cli import run
from core.project import load_project
from tests.helpers_midi import markers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEL = os.path.join(ROOT, "tests", "fixtures", "magenta", "cat-mel_2bar_big")
TRIO = os.path.join(ROOT, "tests", "fixtures", "magenta", "hierdec-trio_16bar")
FORM = "intro verse chorus verse chorus bridge chorus outro"


def notes_in(pm, start_s, end_s):
    """(instrument name, pitch, start, end) relative to start_s for notes starting in the window."""
    out = []
    for inst in pm.instruments:
        for n in inst.notes:
            if start_s - 1e-6 <= n.start < end_s - 1e-6:
                out.append((inst.name, n.pitch, round(n.start - start_s, 4), round(n.end - start_s, 4)))
    return sorted(out)


def test_arrange_writes_the_form_with_markers_and_repeats(tmp_path, capsys):
    out = tmp_path / "song.mid"
    project = tmp_path / "song.lstudio"
    code = run(["arrange", "--model", MEL, "--config", "cat-mel_2bar_big", "--form", FORM,
                "--out", str(out), "--bars-per-section", "4", "--seed", "5", "--tempo", "100",
                "--device", "cpu", "--save", str(project)])
    assert code == 0, capsys.readouterr().err
    labels = FORM.split()
    # a marker per section, in order, every 4 bars
    assert markers(out) == [(16.0 * i, label) for i, label in enumerate(labels)]
    pm = pretty_midi.PrettyMIDI(str(out))
    assert [round(t, 3) for t in pm.get_tempo_changes()[1]] == [100.0]
    sec_s = 16 * 60.0 / 100  # 4 bars of 4/4 at 100 BPM
    # length matches the form (the file ends at the last section's end, even after a rest)
    assert mido.MidiFile(out).length == pytest.approx(len(labels) * sec_s, abs=1e-3)
    assert pm.get_end_time() <= len(labels) * sec_s + 1e-6
    windows = {}
    for i, label in enumerate(labels):
        windows.setdefault(label, []).append(notes_in(pm, i * sec_s, (i + 1) * sec_s))
    for label, found in windows.items():
        assert found[0], f"{label} is silent"
        assert all(w == found[0] for w in found), f"the {label} repeats differ"
    assert windows["verse"][0] != windows["chorus"][0]  # distinct labels get distinct clips
    # the project holds one clip per distinct label, shared by the repeats
    song = load_project(project)
    assert [s.label for s in song.sections] == labels
    assert len(song.clips) == len(set(labels))
    by_label = {}
    for s in song.sections:
        by_label.setdefault(s.label, set()).add(s.clip_id)
    assert all(len(ids) == 1 for ids in by_label.values())
    printed = capsys.readouterr().out
    assert "generated 5 clip(s) for 8 sections" in printed and f"wrote {out}" in printed


def test_arrange_is_reproducible_with_a_seed(tmp_path):
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    for path in (a, b):
        assert run(["arrange", "--model", MEL, "--config", "cat-mel_2bar_big", "--form", "verse chorus",
                    "--out", str(path), "--bars-per-section", "2", "--seed", "11", "--title", "Same",
                    "--device", "cpu"]) == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--form", " , "], "form is empty"),
    (["--bars-per-section", "0"], "bars-per-section"),
    (["--temperature", "-1"], "temperature"),
    (["--vary", "1.5"], "--vary"),
    (["--out-name", "song.txt"], "ending in .mid"),
    (["--save", "x.json"], "ending in .lstudio"),
])
def test_arrange_refuses_bad_arguments_before_loading(tmp_path, capsys, args, message):
    out = str(tmp_path / "song.mid")
    if args[0] == "--out-name":
        out, args = str(tmp_path / args[1]), []
    code = run(["arrange", "--model", os.path.join(str(tmp_path), "missing-model"), "--out", out] + args)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "not found" not in err  # refused before the model was looked for
    assert not os.path.exists(out)


def test_arrange_with_a_16_bar_trio_limits_the_sections(tmp_path, capsys):
    out = tmp_path / "trio.mid"
    code = run(["arrange", "--model", TRIO, "--config", "hierdec-trio_16bar", "--form", "verse chorus verse",
                "--out", str(out), "--bars-per-section", "17", "--device", "cpu"])
    assert code == 2 and "16 bars" in capsys.readouterr().err and not out.exists()
    code = run(["arrange", "--model", TRIO, "--config", "hierdec-trio_16bar", "--form", "verse chorus verse",
                "--out", str(out), "--bars-per-section", "2", "--seed", "1", "--device", "cpu"])
    assert code == 0
    pm = pretty_midi.PrettyMIDI(str(out))
    names = sorted(i.name for i in pm.instruments)
    assert names == ["Bass", "Drums", "Melody"]
    assert [i.is_drum for i in pm.instruments if i.name == "Drums"] == [True]
    assert markers(out) == [(0.0, "verse"), (8.0, "chorus"), (16.0, "verse")]
    assert mido.MidiFile(out).length == pytest.approx(24 * 0.5, abs=1e-3)
    sec_s = 8 * 0.5
    assert notes_in(pm, 0, sec_s) == notes_in(pm, 2 * sec_s, 3 * sec_s) != []


def test_arrange_with_vary_writes_whole_section_clips(tmp_path):
    out, project = tmp_path / "v.mid", tmp_path / "v.lstudio"
    assert run(["arrange", "--model", MEL, "--config", "cat-mel_2bar_big", "--form", "verse chorus verse",
                "--out", str(out), "--bars-per-section", "4", "--seed", "2", "--vary", "0.8",
                "--device", "cpu", "--save", str(project)]) == 0
    song = load_project(project)
    assert sorted(c.length for c in song.clips.values()) == [16.0, 16.0]
    assert song.sections[0].clip_id == song.sections[2].clip_id
    assert markers(out) == [(0.0, "verse"), (16.0, "chorus"), (32.0, "verse")]
