"""Training a MusicVAE: the job, its schedule, checkpoints and resume.

    from core.jobs import run_job
    result = run_job(train, cfg, dataset, "runs/mel", TrainSettings(steps=20000))

`train(token, cfg, dataset, out_dir, settings, resume=False)` is a Job (core/jobs.py): progress
and the loss, accuracy and ETA go to `token.progress`; a cancelled token makes it save a
checkpoint and return (`result.cancelled`). The forward pass is in training_graph.py.

The objective is Magenta's (music_vae/base_model.py):
    loss = mean_batch(sum_steps cross-entropy) + beta * mean_batch(max(KL - free_bits * ln 2, 0))
    beta = max_beta * (1 - beta_rate ** step)
    learning rate = (lr - min_lr) * decay_rate ** max(step - decay_from, 0) + min_lr (decay_from 0,
    as Magenta, unless a later stage restarts the decay), Adam (TF1 update rule),
    gradients clipped by their global norm.
Scheduled sampling (optional) feeds each sequence its own draw instead of the target with
probability p: constant p = rate, or the inverse sigmoid p = 1 - k / (k + exp(step / k)), k = rate.

The output folder:
    model.json, weights.npz    the newest weights in Latent Studio's format (load_model(None, DIR))
    training.json              settings, config, evaluation history, time spent
    checkpoints/step-NNNNNNN/  model.json + weights.npz + optimizer.npz + state.json (the last N)
A checkpoint is written into step-NNNNNNN.partial and renamed when whole, and it counts only
with its state.json (written last), so a run killed while saving resumes from the previous one.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from contextlib import nullcontext as _nothing
from dataclasses import dataclass, field

import numpy as np

from core.errors import JobCancelled, UserError
from core.musicvae.configs import MusicVAEConfig

CHECKPOINTS = "checkpoints"
SAMPLING_SCHEDULES = ("none", "constant", "inverse_sigmoid")
LOG_NAME = "training.json"


@dataclass
class TrainSettings:
    steps: int
    batch_size: int = 64
    learning_rate: float = 1e-3
    decay_rate: float = 0.9999
    min_learning_rate: float = 1e-5
    decay_from: int = 0  # the global step the decay counts from (a later stage can anneal on its own)
    grad_clip: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    sampling_schedule: str = "none"
    sampling_rate: float = 0.0
    transpose: tuple[int, int] | None = (-5, 5)
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    eval_every: int = 500
    eval_examples: int = 512
    eval_samples: int = 128  # samples at temperature 0.5 per evaluation (notes per bar, in key); 0: none
    seed: int = 0
    storage: str = "float32"  # of the final model.json/weights.npz (checkpoints keep float32)
    device: str | None = None
    name: str | None = None
    xla: bool = False  # compile the train step with XLA (slower first step, faster later ones)

    def __post_init__(self):
        if self.steps < 1:
            raise UserError(f"the number of training steps must be at least 1, got {self.steps}")
        if self.batch_size < 1:
            raise UserError(f"the batch size must be at least 1, got {self.batch_size}")
        if self.sampling_schedule not in SAMPLING_SCHEDULES:
            raise UserError(f"unknown sampling schedule {self.sampling_schedule!r}; "
                            f"known: {', '.join(SAMPLING_SCHEDULES)}")
        if self.storage not in ("float32", "float16"):
            raise UserError(f"storage must be float32 or float16, not {self.storage!r}")
        if self.transpose is not None:
            self.transpose = (int(self.transpose[0]), int(self.transpose[1]))

    def learning_rate_at(self, step: int) -> float:
        decayed = self.decay_rate ** max(step - self.decay_from, 0)
        return (self.learning_rate - self.min_learning_rate) * decayed + self.min_learning_rate

    def sampling_probability_at(self, step: int) -> float:
        if self.sampling_schedule == "constant":
            return self.sampling_rate
        if self.sampling_schedule == "inverse_sigmoid":
            k = self.sampling_rate
            return 1.0 - k / (k + math.exp(min(step / k, 700.0)))
        return 0.0


def beta_at(cfg: MusicVAEConfig, step: int) -> float:
    """Magenta's KL weight: max_beta * (1 - beta_rate ** step)."""
    return cfg.max_beta * (1.0 - cfg.beta_rate ** step)


@dataclass
class TrainResult:
    out_dir: str
    step: int
    cancelled: bool
    seconds: float
    last_loss: float | None
    history: list[dict] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # training loss of each step of this run


# ----------------------------------------------------------------- batches
def transpose_batch(tokens: np.ndarray, kind: str, span: tuple[int, int], rng: np.random.Generator,
                    uniforms: np.ndarray | None = None) -> np.ndarray:
    """Each melody (or trio melody + bass) window moved by a random amount in span, among the
    amounts that keep its notes within the model's range (21..108). Drums are returned as is.
    `uniforms` (one per window) replace the draws from rng: a worker's rows of a global batch
    move as they would in the whole batch."""
    from core.musicvae import converters as cv

    if kind == "drums" or span is None:
        return tokens
    t = np.array(tokens, dtype=np.int64, copy=True)
    cols = t[..., None] if kind == "melody" else t[..., :2]
    on = cols >= cv.FIRST_NOTE_CLASS
    axes = tuple(range(1, cols.ndim))
    low = np.where(on, cols, cv.MELODY_DEPTH).min(axis=axes)
    high = np.where(on, cols, -1).max(axis=axes)
    lo = np.maximum(span[0], cv.FIRST_NOTE_CLASS - low)
    hi = np.minimum(span[1], cv.MELODY_DEPTH - 1 - high)
    ok = on.any(axis=axes) & (hi >= lo)
    u = rng.random(len(t)) if uniforms is None else uniforms
    shift = np.where(ok, lo + np.floor(u * (hi - lo + 1)).astype(np.int64), 0)
    cols += np.where(on, shift.reshape((-1,) + (1,) * (cols.ndim - 1)), 0)
    if kind == "melody":
        t = cols[..., 0]
    else:
        t[..., :2] = cols
    return t


class BatchStream:
    """Endless shuffled batches of training tokens; its position (epoch, offset) is saved in
    checkpoints so a resumed run sees the batches it would have seen."""

    def __init__(self, tokens: np.ndarray, kind: str, batch_size: int, seed: int, transpose=None,
                 epoch: int = 0, offset: int = 0):
        self.tokens, self.kind, self.batch_size, self.seed = tokens, kind, batch_size, seed
        self.transpose = transpose
        self.epoch, self.offset = epoch, offset
        self._order = None

    def _perm(self):
        if self._order is None:
            self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.tokens))
        return self._order

    def next(self, part: tuple[int, int] | None = None) -> np.ndarray:
        """The next batch; with `part` (index, count) only rows [index*b, (index+1)*b) of it,
        b = batch_size / count: a worker of a distributed run reads its own share of each global
        batch (the same order on every worker, from the seed), and nothing else."""
        n = len(self.tokens)
        take = []
        while len(take) < self.batch_size:
            order = self._perm()
            need = self.batch_size - len(take)
            take.extend(order[self.offset:self.offset + need].tolist())
            self.offset += need
            if self.offset >= n:
                self.epoch, self.offset, self._order = self.epoch + 1, 0, None
        if part is not None and part[1] > 1:
            return self._part(take, *part)
        batch = self.tokens[np.asarray(take)].astype(np.int64)
        if self.transpose is not None:
            rng = np.random.default_rng([self.seed, self.epoch, self.offset, 1])
            batch = transpose_batch(batch, self.kind, self.transpose, rng)
        return batch.astype(np.int32)

    def _part(self, take: list[int], index: int, count: int) -> np.ndarray:
        per = self.batch_size // count
        rows = slice(index * per, (index + 1) * per)
        batch = self.tokens[np.asarray(take[rows])].astype(np.int64)
        if self.transpose is not None:
            rng = np.random.default_rng([self.seed, self.epoch, self.offset, 1])
            batch = transpose_batch(batch, self.kind, self.transpose, rng, rng.random(self.batch_size)[rows])
        return batch.astype(np.int32)

    def state(self) -> dict:
        return {"epoch": self.epoch, "offset": self.offset}


# ----------------------------------------------------------------- the trainer
class Trainer:
    """A TrainGraph with its Adam state and the compiled train and evaluation steps."""

    def __init__(self, cfg: MusicVAEConfig, settings: TrainSettings, weights=None, strategy="auto",
                 optimizer=None):
        """`strategy`: a tf.distribute strategy, None (one device) or "auto" (distribute.choose_strategy).
        `optimizer`: Adam state as optimizer_state() gives it; like `weights` it becomes the
        variables' initial values, which a multi-worker run copies from the chief to every worker."""
        from core.musicvae import distribute
        from core.musicvae.lazy_tf import tf
        from core.musicvae.model import pick_device
        from core.musicvae.training_graph import TrainGraph

        self.cfg, self.settings = cfg, settings
        self.strategy = distribute.choose_strategy(settings.device) if strategy == "auto" else strategy
        self.replicas = self.strategy.num_replicas_in_sync if self.strategy is not None else 1
        self.is_chief = distribute.is_chief(self.strategy)
        if settings.batch_size % self.replicas:
            raise UserError(f"the batch size ({settings.batch_size}) must be a multiple of the number of "
                            f"replicas training together ({self.replicas}: {distribute.describe(self.strategy)})")
        self.strategy_description = distribute.describe(self.strategy)
        cluster = distribute.cluster_from_env() if self.strategy is not None else None
        # this worker's share of each global batch (BatchStream.next(part=...)); None: all of it
        self.data_part = (cluster.index, cluster.count) if cluster is not None else None
        self.device = pick_device(settings.device)
        with (tf.device(self.device) if self.strategy is None else self.strategy.scope()):
            self.graph = TrainGraph(cfg, weights, seed=settings.seed)
            self.m = [tf.Variable(self._slot(optimizer, "m", n, v), trainable=False)
                      for n, v in zip(self.graph.names, self.graph.variables)]
            self.v = [tf.Variable(self._slot(optimizer, "v", n, v), trainable=False)
                      for n, v in zip(self.graph.names, self.graph.variables)]
            self.adam_step = tf.Variable(0.0 if optimizer is None else float(optimizer["adam_step"]),
                                         trainable=False)
        self.free_nats = float(cfg.free_bits) * math.log(2.0)
        token_shape = [None, cfg.steps] + ([len(cfg.output_depths)] if cfg.data == "trio" else [])
        spec = tf.TensorSpec(token_shape, tf.int32)
        self.sampling = settings.sampling_schedule != "none"
        scalar = tf.TensorSpec([], tf.float32)
        step_fn = self._train_step if self.strategy is None else self._distributed_step
        self._train_fn = tf.function(step_fn, input_signature=[
            spec, tf.TensorSpec([2], tf.int32), scalar, scalar, scalar], autograph=False,
            jit_compile=bool(settings.xla) and self.strategy is None)
        self._eval_fn = tf.function(self._eval_step, input_signature=[spec], autograph=False)
        self._free_fn = tf.function(self._free_run, input_signature=[tf.TensorSpec([None, cfg.z_size], tf.float32)])
        self._sample_fn = tf.function(self._sample, input_signature=[
            tf.TensorSpec([None, cfg.z_size], tf.float32), tf.TensorSpec([2], tf.int32), scalar])
        self._encode_fn = tf.function(self.graph.encode, input_signature=[spec])

    # -------------------------------------------------------- compiled steps
    def _loss_terms(self, tokens, seed, sample_probability):
        from core.musicvae.lazy_tf import tf
        from core.musicvae.training_graph import kl_divergence

        g = self.graph
        mu, sigma = g.encode(tokens)
        z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed)
        if self.sampling:
            logits, _ = g.stepwise(z, tokens, sample_probability, greedy=False,
                                   seed=tf.random.experimental.stateless_fold_in(seed, 1))
        else:
            logits = g.teacher_forced_logits(z, tokens)
        r_loss, correct, count = g.reconstruction(logits, tokens)
        return r_loss, kl_divergence(mu, sigma), correct / count

    def _train_step(self, tokens, seed, beta, learning_rate, sample_probability):
        from core.musicvae.lazy_tf import tf

        s = self.settings
        with tf.GradientTape() as tape:
            r_loss, kl, accuracy = self._loss_terms(tokens, seed, sample_probability)
            kl_cost = tf.maximum(kl - self.free_nats, 0.0)
            loss = tf.reduce_mean(r_loss) + beta * tf.reduce_mean(kl_cost)
        grads = tape.gradient(loss, self.graph.variables)
        grads = [tf.convert_to_tensor(g) for g in grads]
        grads, norm = tf.clip_by_global_norm(grads, s.grad_clip)
        self.adam_step.assign_add(1.0)
        t = self.adam_step
        lr_t = learning_rate * tf.sqrt(1.0 - tf.pow(s.beta2, t)) / (1.0 - tf.pow(s.beta1, t))
        for var, g, m, v in zip(self.graph.variables, grads, self.m, self.v):
            m.assign(s.beta1 * m + (1.0 - s.beta1) * g)
            v.assign(s.beta2 * v + (1.0 - s.beta2) * tf.square(g))
            var.assign_sub(lr_t * m / (tf.sqrt(v) + s.epsilon))
        return {"loss": loss, "r_loss": tf.reduce_mean(r_loss), "kl": tf.reduce_mean(kl),
                "accuracy": accuracy, "grad_norm": norm}

    # -------------------------------------------------------- tf.distribute
    @staticmethod
    def _slot(optimizer, kind, name, var):
        from core.musicvae.lazy_tf import tf

        if optimizer is None:
            return tf.zeros_like(var)
        return np.asarray(optimizer[kind + "|" + name.replace("/", "|")], np.float32)

    def _distributed_step(self, tokens, seed, beta, learning_rate, sample_probability):
        """The train step under a strategy: `tokens` are this worker's rows of the global batch,
        each local replica takes its share, the gradients are summed over all replicas and
        every copy of the variables gets the same Adam update."""
        from core.musicvae.lazy_tf import tf

        outs = self.strategy.run(self._replica_step, args=(tokens, seed, beta, learning_rate, sample_probability))
        # one collective for all the numbers: loss, r_loss and kl are already divided by the replica count
        total = self.strategy.reduce(tf.distribute.ReduceOp.SUM, outs, axis=None)
        return dict(zip(("loss", "r_loss", "kl", "accuracy", "grad_norm"), tf.unstack(total)))

    def _replica_step(self, tokens, seed, beta, learning_rate, sample_probability):
        from core.musicvae.lazy_tf import tf
        from core.musicvae.training_graph import kl_divergence

        s = self.settings
        ctx = tf.distribute.get_replica_context()
        replicas = self.replicas
        rid = ctx.replica_id_in_sync_group  # global: worker index * local replicas + local replica
        local = len(self.strategy.extended.worker_devices)
        per = s.batch_size // replicas
        k = rid % local
        mine = tokens[k * per:(k + 1) * per]
        g = self.graph
        with tf.GradientTape() as tape:
            mu, sigma = g.encode(mine)
            # the rows of the global batch's noise that a one-device run gives these windows
            noise = tf.random.stateless_normal([s.batch_size, self.cfg.z_size], seed)[rid * per:(rid + 1) * per]
            z = mu + sigma * noise
            if self.sampling:  # each replica draws its own scheduled-sampling choices
                logits, _ = g.stepwise(z, mine, sample_probability, greedy=False,
                                       seed=tf.random.experimental.stateless_fold_in(
                                           tf.random.experimental.stateless_fold_in(seed, 1), rid))
            else:
                logits = g.teacher_forced_logits(z, mine)
            r_loss, correct, count = g.reconstruction(logits, mine)
            kl = kl_divergence(mu, sigma)
            kl_cost = tf.maximum(kl - self.free_nats, 0.0)
            # this replica's share of the global mean: summed over replicas it is the one-device loss
            loss = (tf.reduce_mean(r_loss) + beta * tf.reduce_mean(kl_cost)) / replicas
        grads = [tf.convert_to_tensor(x) for x in tape.gradient(loss, g.variables)]
        grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, grads)
        grads, norm = tf.clip_by_global_norm(grads, s.grad_clip)
        ctx.merge_call(self._apply_adam, args=(grads, learning_rate))
        return tf.stack([loss, tf.reduce_mean(r_loss) / replicas, tf.reduce_mean(kl) / replicas,
                         correct / count / replicas, norm / replicas])

    def _apply_adam(self, strategy, grads, learning_rate):
        """The Adam update of _train_step, in cross-replica context: each copy of each variable
        is updated on its own device from its replica's (all-reduced, so equal) gradient."""
        from core.musicvae.lazy_tf import tf

        s = self.settings
        self.adam_step.assign_add(1.0)
        t = self.adam_step.read_value()
        lr_t = learning_rate * tf.sqrt(1.0 - tf.pow(s.beta2, t)) / (1.0 - tf.pow(s.beta1, t))

        def update(var, g, m, v):
            m.assign(s.beta1 * m + (1.0 - s.beta1) * g)
            v.assign(s.beta2 * v + (1.0 - s.beta2) * tf.square(g))
            return var.assign_sub(lr_t * m / (tf.sqrt(v) + s.epsilon))

        for var, g, m, v in zip(self.graph.variables, grads, self.m, self.v):
            strategy.extended.update(var, update, args=(g, m, v), group=False)

    def agree(self, values: list[int]) -> list[int]:
        """The chief's values of a few whole numbers (the start step, the batch stream's place):
        under a strategy a variable's initial value comes from the chief, so every worker
        starts where the chief's checkpoint says. Without a strategy: the values themselves."""
        if self.strategy is None:
            return list(values)
        from core.musicvae.lazy_tf import tf

        with self.strategy.scope():
            var = tf.Variable(np.asarray(values, np.int64), trainable=False)
        return [int(x) for x in var.numpy()]

    def _eval_step(self, tokens):
        """Teacher-forced and free-running (argmax from mu) counts, losses and KL of a batch."""
        from core.musicvae.lazy_tf import tf
        from core.musicvae.training_graph import kl_divergence

        g = self.graph
        mu, sigma = g.encode(tokens)
        r_loss, correct, count = g.reconstruction(g.teacher_forced_logits(mu, tokens), tokens)
        _, chosen = g.stepwise(mu)
        target = tokens if self.cfg.data == "trio" else tokens[..., None]
        free = tf.reduce_sum(tf.cast(tf.equal(chosen, target), tf.float32))
        return {"tf_correct": correct, "count": count, "free_correct": free,
                "r_loss": tf.reduce_sum(r_loss), "kl": tf.reduce_sum(kl_divergence(mu, sigma))}

    def _free_run(self, z):
        return self.graph.stepwise(z)[1]

    def _sample(self, z, seed, temperature):
        return self.graph.stepwise(z, greedy=False, seed=seed, temperature=temperature)[1]

    # -------------------------------------------------------- python API
    def train_step(self, tokens: np.ndarray, step: int, seed: int) -> dict:
        """One step on `tokens`: the whole batch, or under a multi-worker strategy this worker's
        rows of it (BatchStream.next(part=...))."""
        from core.musicvae.lazy_tf import tf

        s = self.settings
        with (tf.device(self.device) if self.strategy is None else _nothing()):
            out = self._train_fn(tf.constant(tokens, tf.int32),
                                 tf.constant(np.random.default_rng([s.seed, step, seed]).integers(0, 2 ** 31 - 1, 2),
                                             tf.int32),
                                 tf.constant(beta_at(self.cfg, step), tf.float32),
                                 tf.constant(s.learning_rate_at(step), tf.float32),
                                 tf.constant(s.sampling_probability_at(step), tf.float32))
        return {k: float(v) for k, v in out.items()}

    def evaluate(self, tokens: np.ndarray, batch_size: int = 128) -> dict:
        """Held-out numbers: teacher-forced and free-running accuracy, KL and loss (from mu)."""
        from core.musicvae.lazy_tf import tf

        total: dict[str, float] = {}
        with tf.device(self.device):
            for a in range(0, len(tokens), batch_size):
                out = self._eval_fn(tf.constant(tokens[a:a + batch_size], tf.int32))
                for k, v in out.items():
                    total[k] = total.get(k, 0.0) + float(v)
        n = len(tokens)
        if not n:
            return {}
        return {"examples": n, "teacher_forced_accuracy": total["tf_correct"] / total["count"],
                "free_running_accuracy": total["free_correct"] / total["count"],
                "r_loss": total["r_loss"] / n, "kl": total["kl"] / n,
                "kl_bits": total["kl"] / n / math.log(2.0)}

    def encode(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma) [n, z] of full-length token windows."""
        from core.musicvae.lazy_tf import tf

        with tf.device(self.device):
            mu, sigma = self._encode_fn(tf.constant(tokens, tf.int32))
        return mu.numpy(), sigma.numpy()

    def encode_mu(self, tokens: np.ndarray) -> np.ndarray:
        return self.encode(tokens)[0]

    def free_run_tokens(self, z: np.ndarray) -> np.ndarray:
        """Argmax decoding of the training graph, step by step: [n, T, cores]."""
        from core.musicvae.lazy_tf import tf

        with tf.device(self.device):
            return self._free_fn(tf.constant(z, tf.float32)).numpy()

    def sample_tokens(self, n: int, temperature: float = 0.5, seed: int = 0, z=None) -> np.ndarray:
        """n samples from z ~ N(0, I) (or the given z) drawn at `temperature` by the training
        graph: [n, T] or [n, T, 3]."""
        from core.musicvae.lazy_tf import tf

        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.cfg.z_size)).astype(np.float32) if z is None else np.asarray(z, np.float32)
        with tf.device(self.device):
            out = self._sample_fn(tf.constant(z), tf.constant(rng.integers(0, 2 ** 31 - 1, 2), tf.int32),
                                  tf.constant(temperature, tf.float32)).numpy()
        return out if self.cfg.data == "trio" else out[..., 0]

    def sample_statistics(self, data_stats: dict, n: int, temperature: float = 0.5) -> dict:
        """What the model card measures of samples, cheaply, during training: notes per bar of
        each part as a ratio to the data's (`data_stats`, from evaluate.window_statistics) and the
        share of melody and bass notes in key."""
        from core.musicvae.evaluate import compare_statistics, window_statistics

        stats = window_statistics(self.sample_tokens(n, temperature), self.cfg.data)
        out = {"temperature": temperature, "count": n,
               "notes_per_bar_ratio": compare_statistics(stats, data_stats)["notes_per_bar_ratio"]}
        if stats.get("share_in_key") is not None:
            out["share_in_key"] = stats["share_in_key"]
        return out

    # -------------------------------------------------------- optimizer state
    def optimizer_state(self) -> dict[str, np.ndarray]:
        out = {"adam_step": np.asarray(self.adam_step.numpy())}
        for name, m, v in zip(self.graph.names, self.m, self.v):
            out["m|" + name.replace("/", "|")] = m.numpy()
            out["v|" + name.replace("/", "|")] = v.numpy()
        return out

    def load_optimizer_state(self, arrays) -> None:
        self.adam_step.assign(float(arrays["adam_step"]))
        for name, m, v in zip(self.graph.names, self.m, self.v):
            m.assign(arrays["m|" + name.replace("/", "|")])
            v.assign(arrays["v|" + name.replace("/", "|")])


# ----------------------------------------------------------------- checkpoints
def checkpoint_dirs(out_dir: str) -> list[tuple[int, str]]:
    """Complete checkpoints (step, folder), oldest first."""
    root = os.path.join(out_dir, CHECKPOINTS)
    found = []
    if os.path.isdir(root):
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if name.startswith("step-") and name[5:].isdigit() and os.path.isfile(os.path.join(path, "state.json")):
                found.append((int(name[5:]), path))
    return sorted(found)


def _write_json(path: str, data: dict) -> None:
    from core.atomic_write import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def save_checkpoint(trainer: Trainer, out_dir: str, step: int, state: dict, keep: int) -> str:
    from core.atomic_write import atomic_write_bytes
    from core.musicvae.checkpoint import save_model
    import io

    if not trainer.is_chief:  # in a multi-worker run only the chief (worker 0) writes
        return None
    folder = os.path.join(out_dir, CHECKPOINTS, f"step-{step:07d}")
    final = folder
    folder += ".partial"  # written aside, then renamed: a checkpoint is whole or absent
    try:
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        save_model(folder, trainer.cfg, trainer.graph.numpy_weights(), storage="float32",
                   extra={"name": trainer.settings.name or trainer.cfg.name, "step": step})
        buf = io.BytesIO()
        np.savez(buf, **trainer.optimizer_state())
        atomic_write_bytes(os.path.join(folder, "optimizer.npz"), buf.getvalue())
        _write_json(os.path.join(folder, "state.json"), dict(state, step=step))
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.replace(folder, final)
    except OSError as exc:  # a full disk, mostly: the half-written folder goes, the older checkpoints stay
        shutil.rmtree(folder, ignore_errors=True)
        kept = checkpoint_dirs(out_dir)
        raise UserError(f'Could not write the checkpoint of step {step} in "{out_dir}": {exc.strerror or exc}. '
                        + (f"The checkpoint of step {kept[-1][0]} is kept; free some space and continue "
                           "with --resume." if kept else "No earlier checkpoint exists."),
                        detail=repr(exc)) from None
    folder = final
    for _, old in checkpoint_dirs(out_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    root = os.path.join(out_dir, CHECKPOINTS)
    for name in os.listdir(root):  # checkpoints cut off by a killed run: a whole model's size each
        if name.startswith("step-") and name.endswith(".partial"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    return folder


def load_checkpoint(folder: str) -> tuple[MusicVAEConfig, dict, dict, dict]:
    """(config, weights, optimizer arrays, state) of a checkpoint folder.

    A model folder that is no checkpoint (an embedded or installed model: model.json and
    weights.npz, no optimizer.npz or state.json) gives optimizer None (Adam starts afresh) and
    the state {"step": the step its model.json records}, so the KL weight and the learning
    rate's decay go on from where that model's training left them."""
    from core.musicvae.checkpoint import load_weights

    cfg, weights, source = load_weights(None, folder)
    if not os.path.isfile(os.path.join(folder, "state.json")):
        meta = getattr(source, "meta", None) or {}
        step = meta.get("step") if isinstance(meta.get("step"), int) else 0
        return cfg, weights, None, {"step": max(int(step), 0)}
    with np.load(os.path.join(folder, "optimizer.npz")) as z:
        opt = {k: z[k] for k in z.files}
    with open(os.path.join(folder, "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    return cfg, weights, opt, state


def resolve_init_from(init_from: str) -> tuple[str, list[tuple[int, str]]]:
    """(folder, [(step, folder to load)]) for what `--init-from` names: a run folder (its newest
    checkpoint), a model folder (an embedded, installed or trained model: model.json and
    weights.npz) or the name of an embedded or installed model (core/models/catalogue.py)."""
    path = os.path.expanduser(str(init_from))
    if os.path.isdir(path):
        found = checkpoint_dirs(path)
        if found:
            return path, found[-1:]
        if os.path.isfile(os.path.join(path, "model.json")):
            return path, [(-1, path)]
        raise UserError(f'"{init_from}" holds no training checkpoint (checkpoints/step-N) and no model '
                        "(model.json); give a run folder, a model folder or a model's name")
    from core.models.catalogue import find_model

    try:
        entry = find_model(str(init_from))
    except UserError as exc:
        raise UserError(f"--init-from {init_from!r}: no training checkpoint or model there: it is no folder, "
                        f"and {exc.message}") from None
    return entry.path, [(-1, entry.path)]


def start_step(init_from: str | None, out_dir: str | None = None) -> int:
    """The global step a run starts at: its own newest checkpoint's, else init_from's, else 0
    (so a caller can ask for "N more steps")."""
    found = checkpoint_dirs(out_dir) if out_dir else []
    if found:
        return found[-1][0]
    if not init_from:
        return 0
    _, source = resolve_init_from(init_from)
    step, folder = source[-1]
    if step >= 0:
        return step
    try:
        with open(os.path.join(folder, "model.json"), encoding="utf-8") as f:
            value = json.load(f).get("step")
        return max(int(value), 0) if isinstance(value, int) else 0
    except (OSError, ValueError):
        return 0


# ----------------------------------------------------------------- disk space and divergence
def checkpoint_bytes(cfg: MusicVAEConfig) -> int:
    """What one checkpoint takes: the float32 weights and Adam's two moment arrays of the same size."""
    return 3 * 4 * cfg_parameter_count(cfg)


def cfg_parameter_count(cfg: MusicVAEConfig) -> int:
    from core.musicvae.variables import expected_variables

    return int(sum(int(np.prod(shape)) for shape in expected_variables(cfg).values()))


def disk_space_needed(cfg: MusicVAEConfig, keep: int) -> int:
    """Bytes a run needs free: `keep` checkpoints, the one being written beside them, and the
    final model (counted as a whole checkpoint: a safe margin)."""
    return checkpoint_bytes(cfg) * (max(int(keep), 1) + 2)


def check_disk_space(out_dir: str, cfg: MusicVAEConfig, keep: int, free: int | None = None) -> int:
    """Raise a UserError saying how much is needed and free when the disk holding out_dir is too
    full for the run; returns the bytes needed. `free` (tests) stands in for the real free space."""
    need = disk_space_needed(cfg, keep)
    if free is None:
        probe = os.path.abspath(out_dir)
        while not os.path.exists(probe) and os.path.dirname(probe) != probe:
            probe = os.path.dirname(probe)
        try:
            free = shutil.disk_usage(probe).free
        except OSError:
            return need  # cannot tell: the checkpoint writer still reports a full disk cleanly
    if need > free:
        raise UserError(f'Not enough free disk space for this training run in "{out_dir}": about '
                        f"{need / 1e6:.0f} MB are needed ({max(int(keep), 1)} checkpoints kept, one being "
                        f"written and the final model), {free / 1e6:.0f} MB are free. Free some space, "
                        "keep fewer checkpoints or choose another folder.")
    return need


def diverged(out_dir: str, step: int, loss: float) -> UserError:
    """The error a run stops with when its loss stops being a number: nothing more is written,
    so the last checkpoint (written before the loss went bad) stays the one a resume starts from."""
    kept = checkpoint_dirs(out_dir)
    where = (f"The checkpoint of step {kept[-1][0]} is kept and loads as before; resume from it with a "
             "lower learning rate." if kept else "No checkpoint had been written yet.")
    return UserError(f"Training stopped: the loss became {loss} at step {step} (the model diverged). {where}",
                     detail=f"out_dir={out_dir}")


def save_final_model(trainer: Trainer, out_dir: str, step: int, extra: dict) -> str:
    from core.musicvae.checkpoint import save_model

    if not trainer.is_chief:
        return None
    try:
        return save_model(out_dir, trainer.cfg, trainer.graph.numpy_weights(), storage=trainer.settings.storage,
                          extra=dict(extra, name=trainer.settings.name or trainer.cfg.name, step=step))
    except OSError as exc:  # each file is replaced whole (atomic writes): the previous model stays readable
        raise UserError(f'Could not write the trained model in "{out_dir}": {exc.strerror or exc}. '
                        "The last checkpoint is kept; free some space and continue with --resume.",
                        detail=repr(exc)) from None


# ----------------------------------------------------------------- the job
def _fmt_time(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def _check_data(cfg: MusicVAEConfig, dataset) -> None:
    if dataset.kind != cfg.data:
        raise UserError(f"config {cfg.name} models {cfg.data}, but the data holds {dataset.kind} windows")
    want = (cfg.steps,) + ((len(cfg.output_depths),) if cfg.data == "trio" else ())
    if tuple(dataset.train.shape[1:]) != want:
        raise UserError(f"config {cfg.name} needs windows of {cfg.steps} steps ({cfg.bars} bars), "
                        f"the data holds {list(dataset.train.shape[1:])}")
    if len(dataset.train) == 0:
        raise UserError("the data holds no training windows")


def train(token, cfg: MusicVAEConfig, dataset, out_dir: str, settings: TrainSettings, resume: bool = False,
          data_description: str | None = None, init_from: str | None = None) -> TrainResult:
    """Train (or with `resume` continue) a model into out_dir; a Job (see the module docstring).

    `dataset` is a core.data.dataset.Dataset.
    `init_from` (a new run only) is another run's folder: its newest checkpoint gives the
    weights, the Adam state and the step count (so the KL and learning-rate schedules go on where
    they were), and the run continues on this dataset: fine-tuning, or more data.
    """
    _check_data(cfg, dataset)
    existing = checkpoint_dirs(out_dir)
    if existing and not resume:
        raise UserError(f'"{out_dir}" already holds a training run (step {existing[-1][0]}); '
                        f"pass --resume to continue it or choose another output folder")
    source = existing
    if init_from and not existing:
        init_from, source = resolve_init_from(init_from)
    from core.musicvae import distribute

    if distribute.writes_files():  # the non-chief workers of a multi-worker run write nothing
        check_disk_space(out_dir, cfg, settings.keep_checkpoints)
        os.makedirs(out_dir, exist_ok=True)
    weights, opt, state = None, None, {}
    if source:
        ck_cfg, weights, opt, state = load_checkpoint(source[-1][1])
        if (ck_cfg.enc_rnn_size, ck_cfg.dec_rnn_size, ck_cfg.z_size, ck_cfg.decoder, ck_cfg.data) != \
                (cfg.enc_rnn_size, cfg.dec_rnn_size, cfg.z_size, cfg.decoder, cfg.data):
            raise UserError(f'the checkpoint in "{source[-1][1]}" has other layer sizes '
                            f"(enc {list(ck_cfg.enc_rnn_size)}, dec {list(ck_cfg.dec_rnn_size)}, z {ck_cfg.z_size}) "
                            f"than asked for (enc {list(cfg.enc_rnn_size)}, dec {list(cfg.dec_rnn_size)}, z {cfg.z_size})")
    stages = list(state.get("stages", []))
    if source is not existing:  # a new run from another one: new data, so the batch stream starts afresh
        stages.append({"from": os.path.abspath(init_from), "step": int(state.get("step", 0)),
                       "data": data_description})
        state = {k: v for k, v in state.items() if k != "stream"}
    start = int(state.get("step", 0))
    if source is not existing and start >= settings.steps:
        raise UserError(f"{init_from} is at step {start} already and this run is asked to stop at step "
                        f"{settings.steps}: ask for more steps (--steps +N trains N more)")
    history = list(state.get("history", []))
    spent = float(state.get("seconds", 0.0))
    if token is not None:
        token.progress(start / settings.steps, f"building the model ({'resuming at step %d' % start if start else 'new'})")
    trainer = Trainer(cfg, settings, weights, optimizer=opt)
    place = state.get("stream", {})
    start, epoch, offset = trainer.agree([start, place.get("epoch", 0), place.get("offset", 0)])
    stream = BatchStream(dataset.train, cfg.data, settings.batch_size, settings.seed, settings.transpose,
                         epoch=epoch, offset=offset)
    held = dataset.held_out[dataset.held_out_pick(settings.eval_examples)]
    held_stats = None
    if len(held) and settings.eval_samples:
        from core.musicvae.evaluate import window_statistics

        held_stats = window_statistics(held, cfg.data)

    def evaluate(step, train_loss, seconds):
        ev = trainer.evaluate(held)
        if held_stats is not None:
            ev["samples"] = trainer.sample_statistics(held_stats, settings.eval_samples)
        ev.update(step=step, train_loss=train_loss, seconds=seconds)
        history.append(ev)
    log = {"config": cfg.to_dict(), "settings": _settings_dict(settings), "data": data_description,
           "train_windows": int(len(dataset.train)), "held_out_windows": int(len(dataset.held_out)),
           "device": trainer.device if trainer.strategy is None else trainer.strategy_description,
           "parameters": trainer.graph.parameter_count()}

    if stages:
        log["stages"] = stages

    def snapshot(step):
        return {"stream": stream.state(), "history": history, "seconds": spent, "stages": stages}

    if source is not existing and settings.eval_every and len(held):
        evaluate(start, None, spent)  # where the model starts on the new data: the "before" of a fine-tune
    step = start
    losses: list[float] = []
    cancelled = False
    t0 = t_first = time.monotonic()
    run_start_step = start
    last = None
    try:
        while step < settings.steps:
            if token is not None and token.cancelled:
                cancelled = True
                break
            last = trainer.train_step(stream.next(part=trainer.data_part), step, 0)
            step += 1
            losses.append(last["loss"])
            if not math.isfinite(last["loss"]):
                raise diverged(out_dir, step, last["loss"])
            now = time.monotonic()
            if step == run_start_step + 1:  # the first step traces (and maybe compiles) the graph
                t_first = now
                rate = 1.0 / max(now - t0, 1e-9)
            else:
                rate = (step - run_start_step - 1) / max(now - t_first, 1e-9)
            if settings.eval_every and step % settings.eval_every == 0 and len(held) and trainer.is_chief:
                evaluate(step, last["loss"], spent + now - t0)
            if settings.checkpoint_every and step % settings.checkpoint_every == 0 and step < settings.steps:
                save_checkpoint(trainer, out_dir, step, dict(snapshot(step), seconds=spent + time.monotonic() - t0),
                                settings.keep_checkpoints)
                if trainer.is_chief:
                    _write_json(os.path.join(out_dir, LOG_NAME), dict(log, step=step, history=history,
                                                                       seconds=spent + time.monotonic() - t0))
            if token is not None:
                msg = (f"step {step}/{settings.steps}  loss {last['loss']:.3f}  acc {last['accuracy']:.3f}  "
                       f"kl {last['kl']:.1f}  {rate:.2f} steps/s  ETA {_fmt_time((settings.steps - step) / rate)}")
                if history and history[-1]["step"] == step:
                    msg += f"  held-out free-running acc {history[-1]['free_running_accuracy']:.3f}"
                    if "samples" in history[-1]:
                        ratios = history[-1]["samples"]["notes_per_bar_ratio"]
                        msg += "  samples' notes/bar vs data " + " ".join(
                            f"{p} {r:.2f}" for p, r in ratios.items() if r is not None)
                token.progress(step / settings.steps, msg)
    except JobCancelled:
        cancelled = True
    spent += time.monotonic() - t0
    if not cancelled and len(held) and trainer.is_chief and (not history or history[-1]["step"] != step):
        evaluate(step, last["loss"] if last else None, spent)
    if step > start or not existing:  # nothing new to save when a finished run is resumed (or copied)
        save_checkpoint(trainer, out_dir, step, dict(snapshot(step), seconds=spent), settings.keep_checkpoints)
    log.update(step=step, history=history, seconds=spent, cancelled=cancelled)
    save_final_model(trainer, out_dir, step, {"training": {k: log[k] for k in (
        "data", "train_windows", "held_out_windows", "parameters", "seconds")} | {"steps": step}
        | ({"stages": stages} if stages else {})})
    if trainer.is_chief:
        _write_json(os.path.join(out_dir, LOG_NAME), log)
    if token is not None and not cancelled:
        token.progress(1.0, f"done: step {step}, " + (
            f"held-out free-running accuracy {history[-1]['free_running_accuracy']:.3f}" if history else
            f"loss {last['loss']:.3f}" if last else "nothing to do"))
    return TrainResult(out_dir, step, cancelled, spent, last["loss"] if last else None, history, losses)


def _settings_dict(settings: TrainSettings) -> dict:
    d = dataclasses.asdict(settings)
    d["transpose"] = list(settings.transpose) if settings.transpose else None
    return d
