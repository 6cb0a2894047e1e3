"""`main.py self-test` (issue 16.12): one PASS/FAIL line per step, exit code 0 only when all pass."""
import os
import subprocess
import sys
from types import SimpleNamespace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_self_test_passes_on_this_installation():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    proc = subprocess.run([sys.executable, "main.py", "self-test"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    steps = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert steps and all(line.startswith("PASS  ") for line in steps), proc.stdout
    names = " ".join(steps)
    for model in ("mel_2bar", "drums_2bar", "trio_16bar"):  # every embedded model
        assert f"model {model}: load, sample, encode, decode" in names
    for model in ("seq_transformer", "seq_lstm"):  # the embedded sequence models
        assert f"model {model}: load, continue, infill" in names
    for step in ("render a second of audio", "write and read a MIDI file", "write and read a project",
                 "open the window (offscreen)"):
        assert step in names
    assert lines[-1].startswith(f"self-test passed: all {len(steps)} steps") and len(steps) == 10
    assert "cuInit" not in proc.stderr and "oneDNN" not in proc.stderr


def test_a_failing_step_is_reported_and_fails_the_run(monkeypatch, capsys):
    from cli import self_test

    def no_sound():
        raise AssertionError("the first second is silent")

    monkeypatch.setattr(self_test, "check_model", lambda entry, folder: f"{entry.name} skipped here")
    monkeypatch.setattr(self_test, "check_audio", no_sound)
    monkeypatch.setenv("LATENT_STUDIO_DATA", os.environ.get("LATENT_STUDIO_DATA", ""))  # restored after
    monkeypatch.setenv("LATENT_STUDIO_CACHE", os.environ.get("LATENT_STUDIO_CACHE", ""))
    rc = self_test.run(SimpleNamespace(skip_window=True, verbose=False))
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAIL  render a second of audio" in out and "the first second is silent" in out
    assert "PASS  write and read a MIDI file" in out  # the other steps still ran
    assert "PASS  write and read a project" in out
    assert out.splitlines()[-1].startswith("self-test FAILED: 1 of")
