"""Headless `convert` and `info`: they work on built files and fail with one clean line."""
import os
import subprocess
import sys

import mido

from core.midi_io import import_midi
from core.project import load_project
from tests.helpers_midi import build_band

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main_py(*args):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


def test_convert_round_trip_and_to_project(tmp_path):
    src = tmp_path / "band.mid"
    exp = build_band(src)
    out = tmp_path / "copy.mid"
    r = main_py("convert", src, out)
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout and "4 tracks" in r.stdout and "120 notes" in r.stdout
    assert mido.MidiFile(out).type == 1
    song = import_midi(out)
    assert sorted(t.name for t in song.tracks) == sorted(t.name for t in exp.tracks)
    assert sum(len(v) for v in song.rendered_notes().values()) == sum(len(t.notes) for t in exp.tracks)
    proj = tmp_path / "band.lstudio"
    r = main_py("convert", src, proj)
    assert r.returncode == 0, r.stderr
    assert load_project(proj).snapshot()["tracks"][2]["is_drum"] is True


def test_info_lists_tracks_tempo_signature_and_bars(tmp_path):
    src = tmp_path / "band.mid"
    build_band(src)
    r = main_py("info", src)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "tempo: 100.00 BPM (2 changes)" in out
    assert "140.00 BPM" in out and "72.50 BPM" in out
    assert "time signature: 3/4, 6/8 from beat 12" in out
    assert "length: 8 bars" in out
    assert "'Lead Flute': role melody, program 73, 30 notes" in out
    assert "'Kit': role drums, drums, 48 notes" in out
    assert "'Bass': role bass, program 33, 24 notes" in out


def test_info_on_a_project(tmp_path):
    src = tmp_path / "band.mid"
    build_band(src)
    proj = tmp_path / "p.lstudio"
    assert main_py("convert", src, proj).returncode == 0
    r = main_py("info", proj)
    assert r.returncode == 0 and "tracks: 4" in r.stdout and "notes: 120" in r.stdout


def _one_clean_error(r, name):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ") and name in lines[0]


def test_corrupt_missing_and_unknown_files_fail_cleanly(tmp_path):
    src = tmp_path / "band.mid"
    build_band(src)
    bad = tmp_path / "broken.mid"
    bad.write_bytes(src.read_bytes()[:300])
    _one_clean_error(main_py("info", bad), "broken.mid")
    out = tmp_path / "never.mid"
    _one_clean_error(main_py("convert", bad, out), "broken.mid")
    assert not out.exists()
    _one_clean_error(main_py("info", tmp_path / "missing.mid"), "missing.mid")
    (tmp_path / "notes.txt").write_text("just words")
    _one_clean_error(main_py("info", tmp_path / "notes.txt"), "notes.txt")
    _one_clean_error(main_py("convert", src, tmp_path / "no" / "dir" / "x.mid"), "x.mid")


def test_usage_names_the_command_the_musician_typed(tmp_path):
    """Run through the real launcher script (its first-run install stubbed out), messages say
    `./latent-studio ...`; run as the script, `python main.py ...`."""
    import shutil
    import stat

    shutil.copy(os.path.join(ROOT, "latent-studio"), tmp_path / "latent-studio")
    (tmp_path / "scripts").mkdir()
    stub = tmp_path / "scripts" / "bootstrap.sh"
    stub.write_text("#!/usr/bin/env bash\nexit 0\n")
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "main.py").write_text(
        f"import runpy, sys\nsys.path.insert(0, {ROOT!r})\nrunpy.run_path({os.path.join(ROOT, 'main.py')!r}, "
        "run_name='__main__')\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("LATENT_STUDIO_COMMAND", None)
    r = subprocess.run(["./latent-studio", "no-such-command"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 2
    assert "usage: ./latent-studio [-h] COMMAND" in r.stderr
    assert "./latent-studio: error: argument COMMAND: invalid choice" in r.stderr
    assert "main.py" not in r.stderr
    r = subprocess.run(["./latent-studio", "models", "install", str(tmp_path / "nothing.tar")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env=dict(env, LATENT_STUDIO_DATA=str(tmp_path / "data")))
    assert r.returncode == 2 and "(`./latent-studio models` lists them)" in r.stderr
    r = subprocess.run(["./latent-studio", "space", "train", "--help"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.stdout.startswith("usage: ./latent-studio space train") and "main.py" not in r.stdout
    # started as the script itself
    r = main_py("no-such-command")
    assert "usage: python main.py [-h] COMMAND" in r.stderr


def test_command_name_follows_argv0(monkeypatch):
    from core.command_name import command_name, in_users_words

    monkeypatch.delenv("LATENT_STUDIO_COMMAND", raising=False)
    assert command_name("/opt/latent-studio/latent-studio") == "latent-studio"  # the bundle
    assert command_name("main.py") == "python main.py"
    assert command_name("/home/me/ls/main.py") == "python main.py"
    monkeypatch.setenv("LATENT_STUDIO_COMMAND", "../ls/latent-studio")
    assert command_name("main.py") == "../ls/latent-studio"
    assert in_users_words("`python main.py sample`: new clips (see main.py models)", "ls") == \
        "`ls sample`: new clips (see ls models)"
