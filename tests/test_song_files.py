"""core.song_files: the one list of file kinds, reading with warnings, writing, and the
module layering (the document does not import the file layer)."""
import ast
import json
import os
import subprocess
import sys

import pytest

from core import song_files
from core.errors import JobCancelled, UserError
from core.jobs import JobToken
from core.project import save_project, song_to_dict
from core.song import Clip, Note, Section, Song

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _song() -> Song:
    song = Song("Kinds")
    melody = song.ensure_track("melody")
    clip = Clip("A", 4.0, id="clip_a")
    clip.notes[melody.id] = [Note(60, 0.0, 1.0, 90), Note(64, 1.0, 2.0, 90)]
    song.add_clip(clip)
    song.set_sections([Section("verse", "clip_a", 0.0, 4.0, id="s1")])
    return song


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    return set(out.stdout.split())


def _imported_names(path: str) -> set[str]:
    """Every module a source file imports, at the top or inside a function."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# ------------------------------------------------------------------ layering
def test_song_does_not_import_project_and_project_does_not_import_it_back():
    # the document model loads alone: no file layer comes with it
    loaded = _modules_after("import core.song")
    assert "core.song" in loaded
    assert "core.project" not in loaded and "core.song_files" not in loaded
    # not even lazily: no import of the file layer anywhere in song.py
    song_imports = _imported_names(os.path.join(ROOT, "core", "song.py"))
    assert not {"core.project", "core.song_files"} & song_imports, song_imports
    # project needs the document (it builds Songs) but nothing that leads back to it, and
    # loading it first works: no half-initialised module from a cycle
    loaded = _modules_after("import core.project; core.project.song_from_dict")
    assert "core.song_files" not in loaded


def test_the_snapshot_is_the_project_document():
    song = _song()
    assert song.snapshot() == song_to_dict(song)
    assert song.snapshot()["format"] == "latent-studio-project"


# ------------------------------------------------------------------ kinds
def test_kinds_by_extension_and_by_content(tmp_path):
    assert song_files.kind_by_extension("a/B.MID") is song_files.MIDI
    assert song_files.kind_by_extension("x.lstudio") is song_files.PROJECT
    assert song_files.kind_by_extension("mix.wav") is song_files.WAV
    assert song_files.kind_by_extension("cat-mel_2bar_big.tar.gz") is song_files.MODEL_ARCHIVE
    assert song_files.kind_by_extension("notes.txt") is None
    assert song_files.is_openable("x.kar") and song_files.is_openable("x.lstudio")
    assert not song_files.is_openable("x.wav")
    assert ".lstudio" in song_files.OPENABLE_EXTENSIONS and ".rmi" in song_files.OPENABLE_EXTENSIONS
    odd = tmp_path / "song.data"
    odd.write_text(json.dumps(song_to_dict(_song())))
    assert song_files.kind_of(odd) == "project"
    odd.write_bytes(b"not music")
    with pytest.raises(UserError, match="expected a MIDI file"):
        song_files.kind_of(odd)


def test_every_extension_of_a_kind_is_in_its_filter():
    for kind in song_files.FILE_KINDS:
        f = kind.filter()
        assert f.startswith(kind.label)
        for ext in kind.extensions:
            assert f"*{ext}" in f


def test_the_data_set_lists_midi_files_by_the_same_kinds(tmp_path):
    from core.data.dataset import midi_files

    for name in ("a.mid", "b.MIDI", "c.kar", "d.rmi", "e.smf", "f.lstudio", "g.wav"):
        (tmp_path / name).write_bytes(b"")
    found = [os.path.basename(p) for p in midi_files(str(tmp_path))]
    assert found == [n for n in sorted(os.listdir(tmp_path)) if song_files.MIDI.matches(n)]
    assert len(found) == 5


# ------------------------------------------------------------------ reading and writing
def test_load_song_returns_the_song_its_kind_and_no_warnings(tmp_path):
    song = _song()
    project = save_project(song, tmp_path / "p.lstudio")
    loaded = song_files.load_song(project)
    assert loaded.kind == "project" and loaded.warnings == []
    assert loaded.song.snapshot() == song.snapshot()
    assert "load_warnings" not in loaded.song.__dict__
    midi = song_files.save_song(song, tmp_path / "p.mid")
    loaded = song_files.load_song(midi)
    assert loaded.kind == "midi" and loaded.warnings == []
    assert loaded.song.clips and next(iter(loaded.song.clips.values())).note_count() == 2


def test_load_song_warns_about_a_dangling_clip_reference(tmp_path):
    doc = song_to_dict(_song())
    doc["clips"] = []
    path = tmp_path / "dangling.lstudio"
    path.write_text(json.dumps(doc))
    loaded = song_files.load_song(path)
    assert [s.clip_id for s in loaded.song.sections] == [None]
    assert len(loaded.warnings) == 1 and "clip_a" in loaded.warnings[0]
    assert "load_warnings" not in loaded.song.__dict__


def test_load_song_reports_progress_and_honours_a_cancel(tmp_path):
    path = save_project(_song(), tmp_path / "p.lstudio")
    seen = []
    song_files.load_song(path, JobToken(lambda f, m: seen.append((f, m))))
    assert seen[0] == (0.0, "Reading p.lstudio") and seen[-1] == (1.0, "Read p.lstudio")
    token = JobToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        song_files.load_song(path, token)


def test_save_song_follows_the_kind_asked_for(tmp_path):
    song = _song()
    as_project = song_files.save_song(song, tmp_path / "odd.name", song_files.PROJECT)
    assert song_files.load_song(as_project).kind == "project"
    as_midi = song_files.save_song(song, tmp_path / "odd2.name", song_files.MIDI)
    assert open(as_midi, "rb").read(4) == b"MThd"
    assert open(song_files.save_song(song, tmp_path / "by_ext.midi"), "rb").read(4) == b"MThd"
    with pytest.raises(ValueError):
        song_files.save_song(song, tmp_path / "x.wav", song_files.WAV)


def test_check_writable_names_the_problem(tmp_path):
    song_files.check_writable(tmp_path / "fine.wav")
    with pytest.raises(UserError, match="does not exist"):
        song_files.check_writable(tmp_path / "nowhere" / "x.wav")
    with pytest.raises(UserError, match="is a folder"):
        song_files.check_writable(tmp_path)


def test_render_job_writes_a_wav_of_the_snapshot(tmp_path):
    song = _song()
    out = str(tmp_path / "out.wav")
    assert song_files.render_wav_file(JobToken(), song.snapshot(), out) == out
    assert open(out, "rb").read(4) == b"RIFF"
    empty = Song("Empty")
    with pytest.raises(UserError, match="arrangement is empty"):
        song_files.render_wav_file(JobToken(), empty.snapshot(), str(tmp_path / "e.wav"))
    assert not os.path.exists(tmp_path / "e.wav")


def test_load_song_hands_its_token_to_the_midi_reader(tmp_path):
    path = song_files.save_song(_song(), tmp_path / "p.mid")
    messages = []

    def report(fraction, message):  # cancel once the MIDI reader itself reports
        messages.append(message)
        if message != "Reading p.mid":
            token.cancel()

    token = JobToken(report)
    with pytest.raises(JobCancelled):
        song_files.load_song(path, token)
    assert messages[0] == "Reading p.mid" and len(messages) >= 2
