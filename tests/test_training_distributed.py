"""Training on several workers (tf.distribute): two worker processes on 127.0.0.1 train one model
with MultiWorkerMirroredStrategy; the chief's model loads, decodes and equals a one-process run's.

Tolerance: both runs see the same windows in the same global batches with the same noise, but
the multi-worker gradient is summed in another order (each worker's half-batch mean, then an
all-reduce across the two workers) than the one-process mean over the whole batch. float32
sums in another order differ in the last bits (~1e-7 relative); Adam divides by sqrt(v), so a
weight whose gradient is tiny can take a step that differs a little more. After the few steps
here every weight agrees within 2e-5 (absolute; weights are of order 0.1, the learning rate
1e-3), and the losses of each step within 1e-5 relative.
"""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import tensorflow as tf  # noqa: F401  (a hard dependency: a broken install fails here)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEIGHT_TOLERANCE = 2e-5
LOSS_RTOL = 1e-5


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def train_args(out):
    return ["train", "--config", "cat-drums_2bar_small", "--data", "corpus:drums", "--drum-sequences", "2",
            "--sizes", "tiny", "--steps", "6", "--batch", "8", "--lr", "1e-3", "--out", out,
            "--eval-every", "3", "--eval-examples", "8", "--eval-samples", "4", "--checkpoint-every", "3",
            "--device", "cpu", "--seed", "3"]


def read_weights(folder):
    with np.load(os.path.join(folder, "weights.npz")) as z:
        return {k: z[k] for k in z.files}


def test_two_workers_train_like_one_process(tmp_path, monkeypatch):
    from cli import run
    from core.musicvae import load_model
    from core.musicvae.training import checkpoint_dirs

    cache = str(tmp_path / "cache")
    monkeypatch.setenv("LATENT_STUDIO_CACHE", cache)
    workers = ",".join(f"127.0.0.1:{p}" for p in free_ports(2))
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(LATENT_STUDIO_CACHE=cache, TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1")
    outs = [str(tmp_path / f"worker{i}") for i in range(2)]

    def run_workers(extra=()):
        procs = [subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py")] + train_args(outs[i]) + list(extra)
                                  + ["--workers", workers, "--worker-index", str(i)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for i in range(2)]
        logs = []
        try:
            for p in procs:
                logs.append(p.communicate(timeout=240)[0])
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        for i, p in enumerate(procs):
            assert p.returncode == 0, f"worker {i} failed:\n{logs[i][-3000:]}"
        return logs

    logs = run_workers()
    assert "worker 0 of 2 (chief" in logs[0] and "worker 1 of 2" in logs[1]
    assert "finished at step 6" in logs[1] and "the chief (worker 0) wrote the model" in logs[1]
    # only the chief writes: worker 1's output folder was never made
    assert not os.path.exists(outs[1])
    assert [s for s, _ in checkpoint_dirs(outs[0])] == [3, 6]
    log = json.load(open(os.path.join(outs[0], "training.json")))
    assert log["device"] == "MultiWorkerMirroredStrategy, 2 replicas"
    assert [h["step"] for h in log["history"]] == [3, 6]

    # the same data, seed and global batch in this one process
    single = str(tmp_path / "single")
    assert run(train_args(single)) == 0
    mine, theirs = read_weights(outs[0]), read_weights(single)
    assert sorted(mine) == sorted(theirs)
    worst = max(float(np.abs(mine[k] - theirs[k]).max()) for k in mine)
    print(f"two workers vs one process: largest weight difference {worst:.2e}")
    assert worst < WEIGHT_TOLERANCE, worst
    moved = max(float(np.abs(theirs[k] - read_weights(os.path.join(single, "checkpoints", "step-0000003"))[k]).max())
                for k in theirs)
    assert moved > 50 * WEIGHT_TOLERANCE  # the runs really trained: the tolerance is far below a step's change
    one = json.load(open(os.path.join(single, "training.json")))
    for a, b in zip(log["history"], one["history"]):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=LOSS_RTOL)
        assert a["r_loss"] == pytest.approx(b["r_loss"], rel=1e-4)

    # resumed on both workers (worker 1 has no copy of the run: it starts from the chief's
    # checkpoint), it goes on like a resumed one-process run
    logs = run_workers(["--steps", "9", "--resume"])
    assert "finished at step 9" in logs[1]
    assert not os.path.exists(outs[1])
    assert run(train_args(single) + ["--steps", "9", "--resume"]) == 0
    mine, theirs = read_weights(outs[0]), read_weights(single)
    worst = max(float(np.abs(mine[k] - theirs[k]).max()) for k in mine)
    print(f"resumed: largest weight difference {worst:.2e}")
    assert worst < WEIGHT_TOLERANCE, worst
    log = json.load(open(os.path.join(outs[0], "training.json")))
    assert [h["step"] for h in log["history"]] == [3, 6, 9]

    # the chief's model is a model like any other: it loads and decodes
    model = load_model(None, outs[0], device="cpu")
    z = 2 * np.random.default_rng(0).standard_normal((4, model.config.z_size)).astype(np.float32)
    tokens = model.decode_tokens(z)
    assert tokens.shape == (4, 32) and tokens.min() >= 0 and tokens.max() < 512
    same = load_model(None, single, device="cpu").decode_tokens(z)
    assert (tokens == same).mean() > 0.95


def test_worker_flags_are_checked(capsys, monkeypatch):
    from cli import run
    from core.errors import UserError
    from core.musicvae.distribute import parse_workers, tf_config

    monkeypatch.delenv("TF_CONFIG", raising=False)  # put back as it was, whatever a check wrote
    base = train_args("/nonexistent/out")
    assert run(base + ["--workers", "127.0.0.1:1", "--worker-index", "0"]) == 2
    assert "two or more host:port" in capsys.readouterr().err
    assert run(base + ["--workers", "127.0.0.1:1,127.0.0.1:x", "--worker-index", "0"]) == 2
    assert "is not host:port" in capsys.readouterr().err
    assert run(base + ["--workers", "a:1,b:2"]) == 2
    assert "--worker-index" in capsys.readouterr().err
    assert run(base + ["--worker-index", "1"]) == 2
    assert "needs --workers" in capsys.readouterr().err
    assert run(base + ["--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert parse_workers("a:1, b:2") == ["a:1", "b:2"]
    assert tf_config(["a:1", "b:2"], 1) == {"cluster": {"worker": ["a:1", "b:2"]},
                                            "task": {"type": "worker", "index": 1}}
    with pytest.raises(UserError, match="between 0 and 1"):
        tf_config(["a:1", "b:2"], 2)
    assert "TF_CONFIG" not in os.environ  # nothing was half set up by the refused commands


def test_cluster_from_tf_config(monkeypatch):
    from core.errors import UserError
    from core.musicvae.distribute import cluster_from_env

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert cluster_from_env() is None
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2", "c:3"]},
                                                "task": {"type": "worker", "index": 2}}))
    c = cluster_from_env()
    assert (c.index, c.count, c.is_chief) == (2, 3, False)
    # TensorFlow's layout with a separate chief task: the chief is worker 0, the others follow
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:2"]},
                                                "task": {"type": "worker", "index": 0}}))
    assert (cluster_from_env().index, cluster_from_env().count) == (1, 2)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}))
    assert cluster_from_env() is None  # one worker: an ordinary run
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(UserError, match="TF_CONFIG"):
        cluster_from_env()


def test_worker_parts_of_a_batch_make_the_whole_batch():
    """Each worker reads only its rows of the global batch; together they are the batch a
    one-process run reads, transposition included."""
    from core.musicvae.training import BatchStream

    rng = np.random.default_rng(0)
    tokens = np.zeros((40, 32), np.int64)
    tokens[:, ::4] = rng.integers(2, 80, (40, 8))
    whole = BatchStream(tokens, "melody", 8, seed=5, transpose=(-5, 5))
    parts = [BatchStream(tokens, "melody", 8, seed=5, transpose=(-5, 5)) for _ in range(2)]
    for _ in range(7):  # across an epoch boundary (40 windows, 8 a batch)
        want = whole.next()
        got = np.concatenate([p.next(part=(i, 2)) for i, p in enumerate(parts)])
        np.testing.assert_array_equal(got, want)
    assert parts[0].state() == parts[1].state() == whole.state()


def test_mirrored_replicas_train_like_one_device():
    """MirroredStrategy (several GPUs; here two logical CPU devices made in a fresh process) takes
    the same steps as the one-device trainer."""
    code = r"""
import os, sys
sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from test_training import tiny, melody_windows, settings
from core.musicvae.training import Trainer, BatchStream
cfg = tiny("cat-mel_2bar_small")
data = melody_windows(64, 0)
st = settings(batch_size=16, learning_rate=1e-3)
one = Trainer(cfg, st, strategy=None)
two = Trainer(cfg, st, strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
assert two.replicas == 2
a, b = BatchStream(data, "melody", 16, 1, (-5, 5)), BatchStream(data, "melody", 16, 1, (-5, 5))
for step in range(4):
    x, y = one.train_step(a.next(), step, 0), two.train_step(b.next(), step, 0)
    assert abs(x["loss"] - y["loss"]) <= 1e-5 * abs(x["loss"]), (x, y)
w1, w2 = one.graph.numpy_weights(), two.graph.numpy_weights()
print("worst", max(float(np.abs(w1[k] - w2[k]).max()) for k in w1))
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    worst = float(done.stdout.split("worst")[-1])
    assert worst < WEIGHT_TOLERANCE, worst
