"""Training a sequence model as a job: `train(token, settings)`.

Adam with a warm-up and a cosine decay, gradient clipping, teacher forcing on windows from
core/seq/data.py. Checkpoints (`OUT/checkpoints/step-N.npz`: weights, Adam's moments, the step)
every `checkpoint_every` steps and when the job is cancelled, so `resume` goes on from the newest
one. At the end (and at each checkpoint) the model folder is written into OUT (model.json,
weights.npz; see core/seq/model.py). Progress and the held-out loss go to the token and to
OUT/log.jsonl.
"""
from __future__ import annotations

import glob
import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from core.errors import JobCancelled, UserError
from core.musicvae.lazy_tf import tf
from core.seq import data as sd
from core.seq import events as ev
from core.seq import model as sm


@dataclass
class SeqTrainSettings:
    arch: str
    out: str
    steps: int
    name: str = "seq"
    batch: int = 16
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup: int = 50
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_every: int = 200
    eval_every: int = 200
    eval_windows: int = 32
    keep: int = 3
    resume: bool = False
    collections: tuple = ()  # corpus collections (empty: folk and chorales)
    drum_sequences: int = 40
    limit_files: int | None = None
    infill_share: float = 0.4
    sizes: dict = field(default_factory=dict)  # d_model, layers, heads, d_ff / units, d_embed; max_len
    time_budget_s: float | None = None  # stop (and save) once this much wall time has passed


def model_config(arch: str, sizes: dict) -> dict:
    if arch == "transformer":
        from core.seq.transformer import TransformerConfig as C
    elif arch == "lstm":
        from core.seq.lstm import LSTMConfig as C
    else:
        raise UserError(f'--arch is transformer or lstm, not "{arch}"')
    known = set(C.__dataclass_fields__)
    unknown = set(sizes) - known
    if unknown:
        raise UserError(f"{arch} has no size(s) {', '.join(sorted(unknown))}; it has {', '.join(sorted(known))}")
    return C(**sizes).to_dict()


def _checkpoints(out: str) -> list[tuple[int, str]]:
    found = []
    for p in glob.glob(os.path.join(out, "checkpoints", "step-*.npz")):
        m = re.search(r"step-(\d+)\.npz$", p)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def lr_at(step: int, s: SeqTrainSettings, time_frac: float = 0.0) -> float:
    """Warm-up, then a cosine decay to min_lr over the steps, or over the time budget when
    that runs out first (time_frac: the share of it used)."""
    if step < s.warmup:
        return s.lr * (step + 1) / s.warmup
    frac = min(1.0, max((step - s.warmup) / max(1, s.steps - s.warmup), time_frac))
    return s.min_lr + 0.5 * (s.lr - s.min_lr) * (1 + math.cos(math.pi * frac))


def masked_nll(model, batch):
    """(sum of -log p over real targets, count) for a padded batch (B, L + 1)."""
    inp, tgt = batch[:, :-1], batch[:, 1:]
    logits = model.logits(inp)
    mask = tf.cast(tf.not_equal(tgt, ev.PAD), tf.float32)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tgt, logits=logits)
    return ce * mask, mask


def train(token, s: SeqTrainSettings) -> dict:
    """A job: train, checkpoint, write the model folder; returns a summary dict."""
    os.makedirs(os.path.join(s.out, "checkpoints"), exist_ok=True)
    cfg = model_config(s.arch, s.sizes)
    token.progress(0.0, "reading the corpus")
    pieces = sd.corpus_pieces(s.collections or None, drum_sequences=s.drum_sequences,
                              limit_files=s.limit_files, seed=s.seed)
    train_p, held_p = sd.split(pieces)
    if not train_p:
        raise UserError("no training pieces")
    model = sm.build(cfg, seed=s.seed)
    max_len = cfg["max_len"]
    sampler = sd.ExampleSampler(train_p, max_len, seed=s.seed, infill_share=s.infill_share)
    held = sd.held_out_windows(held_p, max_len, limit=s.eval_windows)
    variables = model.variables
    m = [tf.Variable(tf.zeros_like(v)) for v in variables]
    v2 = [tf.Variable(tf.zeros_like(v)) for v in variables]
    b1, b2, eps = 0.9, 0.98, 1e-9
    step = 0
    log_path = os.path.join(s.out, "log.jsonl")
    seconds_before = 0.0
    if s.resume:
        cks = _checkpoints(s.out)
        if not cks:
            raise UserError(f'--resume: no checkpoint in "{s.out}/checkpoints"')
        with np.load(cks[-1][1]) as z:
            model.set_weights({k[2:]: z[k] for k in z.files if k.startswith("w:")})
            for i in range(len(variables)):
                m[i].assign(z[f"m:{i}"])
                v2[i].assign(z[f"v:{i}"])
            step = int(z["step"])
            seconds_before = float(z["seconds"]) if "seconds" in z.files else 0.0
            sampler.rng = np.random.default_rng((s.seed, step))
    elif _checkpoints(s.out):
        raise UserError(f'"{s.out}" already holds checkpoints: add --resume to go on, or choose another --out')

    @tf.function(reduce_retracing=True)
    def train_step(batch, lr, t):
        with tf.GradientTape() as tape:
            ce, mask = masked_nll_train(batch)
            loss = tf.reduce_sum(ce) / tf.maximum(tf.reduce_sum(mask), 1.0)
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]  # embeddings: sparse
        grads, norm = tf.clip_by_global_norm(grads, s.grad_clip)
        for var, g, mi, vi in zip(variables, grads, m, v2):
            mi.assign(b1 * mi + (1 - b1) * g)
            vi.assign(b2 * vi + (1 - b2) * g * g)
            mhat = mi / (1 - tf.pow(b1, t))
            vhat = vi / (1 - tf.pow(b2, t))
            var.assign_sub(lr * mhat / (tf.sqrt(vhat) + eps))
        return loss, norm

    def masked_nll_train(batch):
        inp, tgt = batch[:, :-1], batch[:, 1:]
        logits = model.logits(inp, training=True)
        mask = tf.cast(tf.not_equal(tgt, ev.PAD), tf.float32)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tgt, logits=logits) * mask, mask

    @tf.function(reduce_retracing=True)
    def eval_batch(batch):
        ce, mask = masked_nll(model, batch)
        return tf.reduce_sum(ce), tf.reduce_sum(mask)

    def evaluate() -> float | None:
        if len(held) == 0:
            return None
        tot, cnt = 0.0, 0.0
        for i in range(0, len(held), 16):
            a, b = eval_batch(tf.constant(held[i:i + 16]))
            tot += float(a)
            cnt += float(b)
        return tot / max(cnt, 1.0)

    def checkpoint(seconds):
        path = os.path.join(s.out, "checkpoints", f"step-{step}.npz")
        arrays = {f"w:{k}": a for k, a in model.get_weights().items()}
        for i in range(len(variables)):
            arrays[f"m:{i}"] = m[i].numpy()
            arrays[f"v:{i}"] = v2[i].numpy()
        tmp = path + ".tmp.npz"
        np.savez(tmp, step=step, seconds=seconds, **arrays)
        os.replace(tmp, path)
        for _, old in _checkpoints(s.out)[:-s.keep]:
            os.remove(old)
        sm.save(model, s.out, s.name, training_info(seconds))

    def training_info(seconds):
        return {"steps": step, "seconds": round(seconds, 1), "train_pieces": len(train_p),
                "held_out_pieces": len(held_p), "settings": {k: (list(v) if isinstance(v, tuple) else v)
                                                              for k, v in asdict(s).items() if k != "out"}}

    started = time.monotonic()
    losses = []
    last_eval = None
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            while step < s.steps:
                token.check()
                seconds = seconds_before + time.monotonic() - started
                if s.time_budget_s and time.monotonic() - started > s.time_budget_s:
                    break
                batch = sampler.batch(s.batch)
                time_frac = (time.monotonic() - started) / s.time_budget_s if s.time_budget_s else 0.0
                lr = lr_at(step, s, time_frac)
                loss, norm = train_step(tf.constant(batch), tf.constant(lr, tf.float32),
                                        tf.constant(float(step + 1)))
                step += 1
                losses.append(float(loss))
                if step % s.eval_every == 0 or step == s.steps:
                    last_eval = evaluate()
                if step % 10 == 0 or step == s.steps:
                    rec = {"step": step, "loss": float(np.mean(losses[-10:])), "grad_norm": float(norm),
                           "lr": lr, "seconds": round(seconds, 1)}
                    if last_eval is not None and step % s.eval_every == 0:
                        rec["held_out_nll"] = last_eval
                    log.write(json.dumps(rec) + "\n")
                    log.flush()
                    token.progress(step / s.steps, f"step {step}/{s.steps}  loss {rec['loss']:.3f}"
                                   + (f"  held-out {last_eval:.3f}" if last_eval is not None else ""))
                if step % s.checkpoint_every == 0:
                    checkpoint(seconds_before + time.monotonic() - started)
    except JobCancelled:
        checkpoint(seconds_before + time.monotonic() - started)
        raise
    seconds = seconds_before + time.monotonic() - started
    final = evaluate()
    checkpoint(seconds)
    return {"steps": step, "seconds": seconds, "held_out_nll": final, "train_pieces": len(train_p),
            "held_out_pieces": len(held_p), "parameters": model.parameter_count(), "out": s.out}
