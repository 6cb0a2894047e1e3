"""`main.py sample` and `main.py interpolate` on tiny random models (in-process, no download)."""
import os

import numpy as np
import pytest

from core.musicvae.checkpoint import magenta_names, random_weights, save_model, write_tf1_checkpoint
from core.musicvae.configs import CONFIGS

import tensorflow  # noqa: F401  (a hard dependency: a broken install must fail here, not skip)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    mel = CONFIGS["cat-mel_2bar_small"].with_sizes([24], [24, 24], 8)
    trio = CONFIGS["hierdec-trio_16bar"].with_sizes([16, 16], [16, 16], 8)
    out = {
        "mel_tf1": write_tf1_checkpoint(str(root / "mel" / "model.ckpt"),
                                        magenta_names(mel, random_weights(mel, seed=1, std=0.5))),
        "trio_own": save_model(str(root / "trio"), trio, random_weights(trio, seed=2, std=0.5)),
    }
    return out


def run(argv, capsys):
    from cli import run as cli_run

    rc = cli_run([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_sample_writes_reproducible_midi_files(tiny_models, tmp_path, capsys):
    from core.midi_io import import_midi

    args = ["sample", "--model", tiny_models["mel_tf1"], "--config", "cat-mel_2bar_small", "-n", 3,
            "--temperature", 0.9, "--seed", 5]
    rc, out, err = run(args + ["--out", tmp_path / "a"], capsys)
    assert rc == 0, err
    files = sorted(os.listdir(tmp_path / "a"))
    assert files == [f"cat-mel_2bar_small_sample_0{i}.mid" for i in (1, 2, 3)]
    assert str(tmp_path / "a" / files[0]) in out  # says where it wrote
    song = import_midi(tmp_path / "a" / files[0])
    notes = [n for c in song.clips.values() for _, n in c.all_notes()]
    assert notes and all(21 <= n.pitch <= 108 and n.end <= 8.0 + 1e-6 for n in notes)
    rc, _, _ = run(args + ["--out", tmp_path / "b"], capsys)
    assert rc == 0
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    rc, _, _ = run(["sample", "--model", tiny_models["mel_tf1"], "--config", "cat-mel_2bar_small", "-n", 3,
                    "--temperature", 0.9, "--seed", 6, "--out", tmp_path / "c"], capsys)
    assert any((tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes() for f in files)


def test_sample_names_files_after_the_models_own_name(tmp_path, capsys):
    mel = CONFIGS["cat-mel_2bar_small"].with_sizes([8], [8], 4)
    folder = save_model(str(tmp_path / "m"), mel, random_weights(mel, seed=3), extra={"name": "my tunes/v2"})
    rc, _, err = run(["sample", "--model", folder, "-n", 1, "--seed", 1, "--out", tmp_path / "out"], capsys)
    assert rc == 0, err
    assert os.listdir(tmp_path / "out") == ["my_tunes_v2_sample_01.mid"]  # no folder made from the slash


def test_interpolate_writes_steps_files_from_two_midi_files(tiny_models, tmp_path, capsys):
    from core.midi_io import import_midi

    rc, _, err = run(["sample", "--model", tiny_models["trio_own"], "-n", 2, "--seed", 1,
                      "--out", tmp_path / "src"], capsys)
    assert rc == 0, err
    a, b = sorted((tmp_path / "src").iterdir())
    rc, out, err = run(["interpolate", "--model", tiny_models["trio_own"], "--from", a, "--to", b,
                        "--steps", 3, "--out", tmp_path / "interp"], capsys)
    assert rc == 0, err
    files = sorted(os.listdir(tmp_path / "interp"))
    assert len(files) == 3 and "wrote" in out
    song = import_midi(tmp_path / "interp" / files[1])
    assert sorted(t.program for t in song.tracks if not t.is_drum) == [0, 33]  # melody, bass
    assert any(t.is_drum for t in song.tracks)
    clip = next(iter(song.clips.values()))
    assert clip.length == 64.0  # 16 bars


def test_cli_errors_are_one_line_user_errors(tiny_models, tmp_path, capsys):
    rc, _, err = run(["sample", "--model", tmp_path / "missing", "--config", "cat-mel_2bar_small",
                      "--out", tmp_path / "x"], capsys)
    assert rc == 2 and "not found" in err and "Traceback" not in err
    rc, _, err = run(["sample", "--model", tiny_models["mel_tf1"], "--config", "hierdec-mel_16bar",
                      "--out", tmp_path / "x"], capsys)
    assert rc == 2 and "hierarchical_level_0" in err
    not_midi = tmp_path / "a.mid"
    not_midi.write_text("hello")
    rc, _, err = run(["interpolate", "--model", tiny_models["mel_tf1"], "--config", "cat-mel_2bar_small",
                      "--from", not_midi, "--to", not_midi, "--out", tmp_path / "y"], capsys)
    assert rc == 2 and "a.mid" in err


def test_cli_interpolate_gives_the_clips_of_generation_interpolate(tiny_models, tmp_path, capsys):
    """The CLI runs the window's interpolation job: the same files, codes and seed give the same notes."""
    from core import generation as g
    from core.jobs import run_job
    from core.midi_io import import_midi
    from core.musicvae import load_model

    rc, _, err = run(["sample", "--model", tiny_models["mel_tf1"], "--config", "cat-mel_2bar_small",
                      "-n", 2, "--seed", 3, "--out", tmp_path / "src"], capsys)
    assert rc == 0, err
    a, b = sorted((tmp_path / "src").iterdir())
    rc, out, err = run(["interpolate", "--model", tiny_models["mel_tf1"], "--config", "cat-mel_2bar_small",
                        "--from", a, "--to", b, "--steps", 5, "--temperature", 0.8, "--seed", 9,
                        "--out", tmp_path / "interp"], capsys)
    assert rc == 0, err
    from_cli = [import_midi(tmp_path / "interp" / f) for f in sorted(os.listdir(tmp_path / "interp"))]
    model = load_model("cat-mel_2bar_small", tiny_models["mel_tf1"])
    song_a, song_b = import_midi(a), import_midi(b)
    clip_a, clip_b = (next(iter(s.clips.values())) for s in (song_a, song_b))
    clips = run_job(g.interpolate, model, clip_a, clip_b, 3, tracks=song_a, tracks_b=song_b,
                    temperature=0.8, seed=9, ends=True, reproducible=True)
    assert len(clips) == len(from_cli) == 5

    def notes(clip):
        return sorted((n.pitch, round(n.start, 6), round(n.end, 6)) for _, n in clip.all_notes())

    cli_notes = [notes(next(iter(s.clips.values()))) for s in from_cli]
    assert cli_notes == [notes(c) for c in clips]
    assert any(cli_notes) and len({str(n) for n in cli_notes}) > 1  # music, not five copies of nothing
