"""The model process (core/model_host.py): models load and run there, progress, cancel and errors
come back, and TensorFlow never enters the calling process."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r"""
import os, sys, threading, time
from core import generation
from core.errors import CheckpointError, JobCancelled
from core.jobs import JobToken
from core.model_host import ModelHost, RemoteModel
from core.models.catalogue import find_model

def slow_job(token, model, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        token.progress(0.5, "waiting")
        time.sleep(0.02)
    return "finished"

def deaf_job(token, model, seconds):
    time.sleep(seconds)  # like importing TensorFlow: never looks at its token
    return "finished"

if __name__ == "__main__":
    host = ModelHost()
    seen = []
    model = host.load(JobToken(lambda f, m: seen.append(m)), "mel_2bar", None, find_model("mel_2bar").path, "cpu")
    assert isinstance(model, RemoteModel) and model.kind == "melody" and model.z_size == 128, model
    assert model.device_text == "CPU" and seen[-1] == "mel_2bar is ready", (model, seen)
    clips = host.run(JobToken(), model, generation.sample, 3, 0.5, 1)
    again = host.run(JobToken(), model, generation.sample, 3, 0.5, 1)
    assert len(clips) == 3 and [c.notes for c in clips] == [c.notes for c in again]
    assert all(c.latent is not None and c.model == "mel_2bar" for c in clips)
    print("TF in this process:", "tensorflow" in sys.modules)

    try:
        host.load(JobToken(), "nowhere", None, "/no/such/model")
    except CheckpointError as exc:
        print("error:", exc.message)

    token = JobToken()
    threading.Timer(0.5, token.cancel).start()
    t0 = time.monotonic()
    try:
        host.run(token, model, slow_job, 30)
    except JobCancelled:
        print("cancelled after %.1f s" % (time.monotonic() - t0))

    token = JobToken()
    threading.Timer(0.3, token.cancel).start()
    t0 = time.monotonic()
    try:
        host.run(token, model, deaf_job, 60)
    except JobCancelled:
        print("deaf job stopped after %.1f s" % (time.monotonic() - t0))
    print("after stopping it:", len(host.run(JobToken(), model, generation.sample, 2, 0.5, 1)), "clips")

    host._process.kill()  # a crash: the next call starts a new process and loads the model again
    host._process.join()
    print("after a crash:", len(host.run(JobToken(), model, generation.sample, 2, 0.5, 1)), "clips")
    host.close()
    print("closed:", not host.running)
"""


def test_models_load_and_run_in_their_own_process(tmp_path):
    script = tmp_path / "host_check.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "TF in this process: False" in lines
    assert "error: checkpoint not found: /no/such/model" in lines
    cancelled = [line for line in lines if line.startswith("cancelled after")]
    assert cancelled and float(cancelled[0].split()[2]) < 5.0
    deaf = [line for line in lines if line.startswith("deaf job stopped after")]
    assert deaf and float(deaf[0].split()[4]) < 5.0, lines
    assert "after stopping it: 2 clips" in lines
    assert "after a crash: 2 clips" in lines
    assert "closed: True" in lines
    assert "cuInit" not in proc.stderr and "oneDNN" not in proc.stderr
