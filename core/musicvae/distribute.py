"""Training on several devices or machines with TensorFlow's own tf.distribute.

Which strategy a training run uses (`choose_strategy`):

- TF_CONFIG names a cluster of more than one worker (or `main.py train --workers ... --worker-index I`
  wrote it, `set_cluster`): MultiWorkerMirroredStrategy. Every worker holds a copy of the
  variables; gradients are summed across workers each step (collective all-reduce over gRPC).
- otherwise, TensorFlow sees several GPUs and no device was forced: MirroredStrategy over them.
- otherwise: None, the one-device path (Trainer keeps its original code, so its numbers are
  exactly those of a run without this module).

MultiWorkerMirroredStrategy has to be created before TensorFlow starts its runtime (it sets up
the collective ops), so a process makes one strategy, once (`choose_strategy` caches it), before
any model is built. TF_CONFIG is read then; changing it later has no effect.

How the data is split (see training.BatchStream.next): every worker draws the same global batch
order from the seed; global replica r (worker index x local replicas + local replica) trains on
rows [r*b, (r+1)*b) of each global batch, b = batch / replicas. So a run on W workers sees the
batches a one-process run with the same seed and batch size sees, and its result equals that
run's up to the order in which floating-point sums are taken.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from core.errors import UserError

_cache: dict = {}


@dataclass(frozen=True)
class Cluster:
    workers: tuple[str, ...]
    index: int

    @property
    def count(self) -> int:
        return len(self.workers)

    @property
    def is_chief(self) -> bool:
        return self.index == 0


def parse_workers(text: str) -> list[str]:
    """host:port,host:port -> a checked list; a UserError names what is wrong."""
    out = [w.strip() for w in str(text).split(",") if w.strip()]
    if len(out) < 2:
        raise UserError(f"--workers takes two or more host:port addresses separated by commas, got {text!r}")
    for w in out:
        host, sep, port = w.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError(f"--workers: {w!r} is not host:port (e.g. 192.168.1.20:12345)")
    if len(set(out)) != len(out):
        raise UserError(f"--workers lists an address twice: {text!r}")
    return out


def tf_config(workers: list[str], index: int) -> dict:
    """TensorFlow's TF_CONFIG for worker `index` of `workers` (worker 0 is the chief)."""
    if not 0 <= int(index) < len(workers):
        raise UserError(f"--worker-index must be between 0 and {len(workers) - 1} for {len(workers)} workers, "
                        f"got {index}")
    return {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": int(index)}}


def set_cluster(workers: str, index: int | None) -> Cluster:
    """Write TF_CONFIG for this process from --workers / --worker-index (before TensorFlow starts)."""
    if index is None:
        raise UserError("--workers needs --worker-index (0 on the chief, 1, 2, ... on the others)")
    listed = parse_workers(workers)
    os.environ["TF_CONFIG"] = json.dumps(tf_config(listed, index))
    return Cluster(tuple(listed), int(index))


def cluster_from_env() -> Cluster | None:
    """The cluster TF_CONFIG describes, or None when it is unset or names one worker."""
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        conf = json.loads(raw)
        workers = list(conf["cluster"].get("worker", [])) + list(conf["cluster"].get("chief", []))
        task = conf["task"]
        kind, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"TF_CONFIG is not a TensorFlow cluster description ({exc}): {raw[:200]}") from None
    if conf["cluster"].get("chief"):
        # TF's own layout with a separate "chief" task: the chief is task 0 of the cluster
        chief = list(conf["cluster"]["chief"])
        workers = chief + list(conf["cluster"].get("worker", []))
        index = 0 if kind == "chief" else index + len(chief)
    elif kind != "worker":
        raise UserError(f"TF_CONFIG task type {kind!r}: training runs as 'worker' (or 'chief') tasks only")
    if len(workers) < 2:
        return None
    if not 0 <= index < len(workers):
        raise UserError(f"TF_CONFIG task index {index} is outside its cluster of {len(workers)} workers")
    return Cluster(tuple(workers), index)


def choose_strategy(device: str | None = None):
    """The tf.distribute strategy of this process (see the module docstring), or None for one device.
    Made once per process."""
    if "strategy" in _cache:
        return _cache["strategy"]
    from core.musicvae.lazy_tf import tf

    cluster = cluster_from_env()
    strategy = None
    if cluster is not None:
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.AUTO)
        try:
            strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        except RuntimeError as exc:  # TensorFlow's runtime was started before the strategy
            raise UserError("Could not set up training on several workers: TensorFlow was already running "
                            "in this process when the cluster was configured.", detail=str(exc)) from None
    elif not device:
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            strategy = tf.distribute.MirroredStrategy([d.name for d in gpus])
    _cache["strategy"] = strategy
    return strategy


def describe(strategy) -> str:
    """A short line for logs: which strategy, how many replicas."""
    if strategy is None:
        return "one device"
    name = type(strategy).__name__
    name = {"CollectiveAllReduceStrategy": "MultiWorkerMirroredStrategy"}.get(name, name)  # TF's class behind the name
    return f"{name}, {strategy.num_replicas_in_sync} replicas"


def writes_files() -> bool:
    """False on the non-chief workers of a multi-worker run (TF_CONFIG), which write nothing."""
    cluster = cluster_from_env()
    return cluster is None or cluster.is_chief


def is_chief(strategy) -> bool:
    """Whether this process writes checkpoints, logs and the model: always, except on the
    non-chief workers of a multi-worker run."""
    if strategy is None:
        return True
    cluster = cluster_from_env()
    return cluster is None or cluster.is_chief
