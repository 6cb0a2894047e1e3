"""`python main.py render IN OUT.wav`: from a project and from a MIDI file, and its errors."""
import numpy as np

from cli import run
from core.audio import render
from core.midi_io import export_midi
from core.project import save_project
from tests.helpers_audio import onsets, trio


def test_render_project_and_midi_to_wav(tmp_path, capsys):
    song = trio(bars=2)
    project = tmp_path / "song.lstudio"
    save_project(song, project)
    midi = tmp_path / "song.mid"
    export_midi(song, midi)
    for src, extra in ((project, []), (midi, ["--preset", "melody=pluck", "--metronome"])):
        out = tmp_path / (src.stem + src.suffix.replace(".", "_") + ".wav")
        assert run(["render", str(src), str(out), *extra]) == 0
        audio, sr = render.read_wav(str(out))
        assert sr == 44100 and audio.shape[1] == 2
        assert 4.0 < len(audio) / sr <= 4.0 + 1.85  # 8 beats at 120 BPM, then the crash rings out
        assert abs(onsets(audio)[0]) <= 220 and np.max(np.abs(audio)) <= render.LIMITER_CEILING
    assert "wrote" in capsys.readouterr().out


def test_render_one_clip_by_name(tmp_path):
    song = trio(bars=1)
    project = tmp_path / "song.lstudio"
    save_project(song, project)
    out = tmp_path / "clip.wav"
    assert run(["render", str(project), str(out), "--clip", "trio"]) == 0
    assert out.exists()
    assert run(["render", str(project), str(out), "--clip", "nope"]) == 2


def test_render_errors_are_one_line_messages(tmp_path, capsys):
    assert run(["render", str(tmp_path / "missing.mid"), str(tmp_path / "x.wav")]) == 2
    assert "missing.mid" in capsys.readouterr().err
    song_file = tmp_path / "s.lstudio"
    save_project(trio(bars=1), song_file)
    assert run(["render", str(song_file), str(tmp_path / "x.wav"), "--preset", "kazoo"]) == 2
    assert "kazoo" in capsys.readouterr().err
    assert run(["render", str(song_file), str(tmp_path / "no" / "x.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert run(["render", str(text), str(tmp_path / "x.wav")]) == 2
    assert not (tmp_path / "x.wav").exists()
