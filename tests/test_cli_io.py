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
