"""TensorFlow's start-up chatter stays off the terminal unless debugging is asked for (issue 16.3)."""
import os
import subprocess
import sys

from core import tf_setup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALARMING = ("cuInit", "oneDNN", "cuda", "absl::InitializeLog", "cpu_feature_guard")


def user_env(**extra):
    """The environment a user's shell would give: no TF_CPP_MIN_LOG_LEVEL of the test suite's."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", tf_setup.DEBUG_ENV)}
    env.update(extra)
    return env


def test_cli_sample_on_the_embedded_melody_model_prints_no_tensorflow_lines(tmp_path):
    proc = subprocess.run([sys.executable, "main.py", "sample", "--model", "mel_2bar", "-n", "2",
                           "--seed", "1", "--out", str(tmp_path)],
                          cwd=ROOT, env=user_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert len(list(tmp_path.glob("*.mid"))) == 2
    lines = proc.stderr.splitlines()
    noisy = [line for line in lines if any(word in line for word in ALARMING)]
    assert noisy == [], proc.stderr
    # one line, and only one, says which device runs the model
    device = [line for line in lines if line.startswith("Device: ")]
    assert len(device) == 1, proc.stderr
    assert "CPU" in device[0] or "GPU" in device[0]


FILTER_SCRIPT = r"""
import os, sys, threading
from core.tf_setup import native_log_filtered
with native_log_filtered():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    os.write(2, b"I0000 00:00:1796283317.671569    6078 port.cc:153] oneDNN custom operations are on.\n")
    os.write(2, b"E0000 00:00:1796283321.719018    6078 cuda_platform.cc:52] failed call to cuInit\n")
    print("a line of our own", file=sys.stderr)
    t = threading.Thread(target=lambda: os.write(2, b"from another thread\n")); t.start(); t.join()
    os.write(2, b"no newline at the end")
print("after the block", file=sys.stderr)
"""


def test_the_filter_drops_tensorflow_log_lines_and_passes_everything_else():
    proc = subprocess.run([sys.executable, "-c", FILTER_SCRIPT], cwd=ROOT, env=user_env(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().splitlines() == [
        "a line of our own", "from another thread", "no newline at the endafter the block"]


def test_debug_lets_tensorflow_speak(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv(tf_setup.DEBUG_ENV, raising=False)
    tf_setup.configure()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" and not tf_setup.debug_enabled()
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    tf_setup.configure(debug=True)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0" and tf_setup.debug_enabled()
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")  # a user's own choice is kept
    tf_setup.configure()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"
