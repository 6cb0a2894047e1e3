"""Training on the musician's own MIDI files: the runs the "Train on my MIDI…" dialog starts.

    request = RunRequest(folder="~/midi/band", kind="melody", name="band-melodies", base="mel_2bar", steps=300)
    run_dir = new_run(request)                    # checks, writes run.json into runs_dir()/NAME-DATE
    outcome = run_job(train_run, run_dir)         # trains, writes the model card, installs the model

A run is a folder under core.paths.runs_dir() holding `run.json` (what was asked: folder, kind,
base model or none, name, steps) beside what core/musicvae/training.py writes (checkpoints,
training.json, model.json). `train_run` is a Job: it builds the dataset (cached), fine-tunes
the base model (or trains one from random weights, "from scratch"), and when it reaches its
last step writes the model card (what it was trained on, held-out numbers before and after,
sample statistics), refits the code prior when the base model had one, and installs the
result under the run's name (core/models/install.py), after which the run's checkpoints are
deleted. A cancelled token is a pause: the job writes a checkpoint and returns
`RunOutcome(paused=True)`; `train_run` on the same folder later resumes from that checkpoint,
in this process or in one started after the app was closed or crashed (`unfinished_runs`).

The step count a musician picks is "this many more steps". A fine-tune keeps the base model's
global step (its KL weight stays where its training left it) and starts the learning rate's
decay again at FINETUNE_LR; Adam starts afresh.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field

from core.errors import UserError

RUN_FILE = "run.json"
KINDS = ("melody", "drums", "trio")
BASES = {"melody": "mel_2bar", "drums": "drums_2bar", "trio": "trio_16bar"}
DEFAULT_STEPS = {"melody": 300, "drums": 300, "trio": 60}  # a few minutes on two CPU cores
SCRATCH_STEPS = {"melody": 5000, "drums": 5000, "trio": 3000}
DEFAULT_BATCH = {"melody": 64, "drums": 64, "trio": 32}
FINETUNE_LR = 5e-4
SCRATCH_LR = 1e-3
CARD_SAMPLES = 64


@dataclass
class RunRequest:
    folder: str
    kind: str
    name: str  # the installed model's name
    base: str | None  # a model's name or folder to fine-tune; None: from scratch
    steps: int  # steps this run trains
    keep: int = 2  # checkpoints kept
    batch_size: int | None = None  # None: DEFAULT_BATCH[kind]
    learning_rate: float | None = None  # None: FINETUNE_LR, or SCRATCH_LR from scratch
    seed: int = 0
    device: str | None = None
    eval_samples: int = 32

    @classmethod
    def from_dict(cls, d: dict) -> "RunRequest":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class RunInfo:
    """An unfinished run found on disk."""

    path: str
    request: RunRequest
    step: int  # its newest checkpoint's step (its start step when it has none)
    start_step: int
    target_step: int
    created: str

    @property
    def done_fraction(self) -> float:
        span = max(self.target_step - self.start_step, 1)
        return min(max((self.step - self.start_step) / span, 0.0), 1.0)

    def describe(self) -> str:
        r = self.request
        how = f"fine-tuning {r.base}" if r.base else "from scratch"
        return (f"{r.name}: {how} on {os.path.basename(r.folder.rstrip(os.sep)) or r.folder}, "
                f"step {self.step - self.start_step} of {self.target_step - self.start_step}, started {self.created}")


@dataclass
class RunOutcome:
    run_dir: str
    paused: bool
    step: int
    target_step: int
    installed_name: str | None = None
    installed_path: str | None = None
    card: dict = field(default_factory=dict)
    seconds: float = 0.0


# ----------------------------------------------------------------- requests and run folders
def base_config(base: str | None, kind: str):
    """The config a run trains: the base model's (sizes included); from scratch, the embedded
    model's of that kind (the same sizes, random weights)."""
    from core.musicvae.configs import MusicVAEConfig
    from core.musicvae.training import resolve_init_from

    folder = resolve_init_from(base if base else BASES[kind])[1][-1][1]
    try:
        with open(os.path.join(folder, "model.json"), encoding="utf-8") as f:
            cfg = MusicVAEConfig.from_dict(json.load(f)["config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f'the model in "{folder}" cannot be read: {exc}') from None
    if cfg.data != kind:
        raise UserError(f"{base} models {cfg.data}, not {kind}: pick a {kind} model to fine-tune")
    return cfg


def check_request(req: RunRequest) -> None:
    from core.models import catalogue
    from core.models.install import check_name

    if req.kind not in KINDS:
        raise UserError(f"unknown kind {req.kind!r}; known: {', '.join(KINDS)}")
    check_name(req.name)
    if os.path.isdir(os.path.join(catalogue.installed_dir(create=False), req.name)):
        raise UserError(f"a model named {req.name} is installed already: choose another name for the result")
    if not os.path.isdir(os.path.expanduser(req.folder)):
        raise UserError(f'"{req.folder}" does not exist or is not a folder')
    if int(req.steps) < 1:
        raise UserError(f"the number of steps must be at least 1, got {req.steps}")
    if int(req.keep) < 1:
        raise UserError(f"at least one checkpoint must be kept, got {req.keep}")


def new_run(req: RunRequest, root: str | None = None) -> str:
    """Check a request, the disk space it needs, and make its run folder; returns the folder."""
    from core import paths
    from core.musicvae.training import check_disk_space, start_step

    check_request(req)
    req.folder = os.path.abspath(os.path.expanduser(req.folder))
    cfg = base_config(req.base, req.kind)
    root = str(root or paths.runs_dir())
    check_disk_space(root, cfg, req.keep)
    start = start_step(req.base) if req.base else 0
    run_dir = os.path.join(root, f"{req.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while os.path.exists(run_dir):
        n += 1
        run_dir = os.path.join(root, f"{req.name}-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
    os.makedirs(run_dir)
    _write_run(run_dir, {"request": asdict(req), "start_step": start, "target_step": start + int(req.steps),
                         "created": time.strftime("%Y-%m-%d %H:%M")})
    return run_dir


def _write_run(run_dir: str, meta: dict) -> None:
    from core.atomic_write import atomic_write_bytes

    atomic_write_bytes(os.path.join(run_dir, RUN_FILE), (json.dumps(meta, indent=1) + "\n").encode())


def read_run(run_dir: str) -> tuple[RunRequest, dict]:
    try:
        with open(os.path.join(run_dir, RUN_FILE), encoding="utf-8") as f:
            meta = json.load(f)
        return RunRequest.from_dict(meta["request"]), meta
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f'"{run_dir}" is not a training run the app started ({RUN_FILE} cannot be read: {exc})') from None


def unfinished_runs(root: str | None = None) -> list[RunInfo]:
    """Runs that have not installed their model yet, newest first (the dialog offers to resume them)."""
    from core import paths
    from core.musicvae.training import checkpoint_dirs

    root = str(root or paths.runs_dir())
    out = []
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        path = os.path.join(root, name)
        if not os.path.isfile(os.path.join(path, RUN_FILE)):
            continue
        try:
            req, meta = read_run(path)
        except UserError:
            continue
        if meta.get("installed"):
            continue
        found = checkpoint_dirs(path)
        start = int(meta.get("start_step", 0))
        out.append(RunInfo(path, req, found[-1][0] if found else start, start,
                           int(meta.get("target_step", start + req.steps)), str(meta.get("created", ""))))
    return sorted(out, key=lambda r: os.path.getmtime(os.path.join(r.path, RUN_FILE)), reverse=True)


def discard_run(run_dir: str, root: str | None = None) -> None:
    """Delete an unfinished run's folder (only folders inside the runs folder holding a run.json)."""
    from core import paths

    root = os.path.realpath(str(root or paths.runs_dir()))
    real = os.path.realpath(run_dir)
    if os.path.dirname(real) != root or not os.path.isfile(os.path.join(real, RUN_FILE)):
        raise UserError(f'"{run_dir}" is not a run folder of this app; it was left alone')
    shutil.rmtree(real, ignore_errors=True)


# ----------------------------------------------------------------- the job
def run_settings(req: RunRequest, meta: dict):
    from core.musicvae.training import TrainSettings

    start, target = int(meta.get("start_step", 0)), int(meta["target_step"])
    steps = target - start
    every = max(10, steps // 8)  # about eight points on the held-out curve
    return TrainSettings(
        steps=target, batch_size=int(req.batch_size or DEFAULT_BATCH[req.kind]),
        learning_rate=float(req.learning_rate or (FINETUNE_LR if req.base else SCRATCH_LR)),
        decay_from=start, checkpoint_every=max(20, steps // 4), keep_checkpoints=int(req.keep),
        eval_every=every, eval_examples=256, eval_samples=int(req.eval_samples), seed=int(req.seed),
        device=req.device, name=req.name)


class RunProgress:
    """A token for train(): its fraction (global step / target step) becomes the share of this
    run's own steps done, so a fine-tune from step 23,000 starts its bar at 0, not at 99%."""

    def __init__(self, token, start: int, target: int):
        self.token, self.start, self.target = token, start, target

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def check(self) -> None:
        self.token.check()

    def progress(self, fraction: float, message: str = "") -> None:
        done = fraction * self.target - self.start
        self.token.progress(min(max(done / max(self.target - self.start, 1), 0.0), 1.0), message)


STEP_RE = re.compile(r"^step (\d+)/(\d+)\s+loss (\S+)\s+acc (\S+)\s+kl (\S+)\s+(\S+) steps/s\s+ETA (\S+)"
                     r"(?:.*held-out free-running acc (\S+))?")


def parse_step_message(message: str) -> dict | None:
    """The numbers of one of train()'s step messages (see core/musicvae/training.py), for the
    dialog's plot; None for any other message."""
    m = STEP_RE.match(message or "")
    if not m:
        return None
    try:
        out = {"step": int(m.group(1)), "steps": int(m.group(2)), "loss": float(m.group(3)),
               "accuracy": float(m.group(4)), "kl": float(m.group(5)), "steps_per_second": float(m.group(6)),
               "eta": m.group(7)}
        if m.group(8):
            out["held_out_accuracy"] = float(m.group(8))
    except ValueError:
        return None
    return out


def train_run(token, run_dir: str) -> RunOutcome:
    """Train (or resume) the run in run_dir and install its model when it reaches its last step."""
    from core.data.dataset import build_dataset
    from core.models.catalogue import device_description
    from core.models.install import Span
    from core.musicvae.training import checkpoint_dirs, resolve_init_from, train

    req, meta = read_run(run_dir)
    if meta.get("installed"):
        raise UserError(f"the run in {run_dir} is finished; its model is installed as {req.name}")
    cfg = base_config(req.base, req.kind)
    start, target = int(meta.get("start_step", 0)), int(meta["target_step"])
    token.progress(0.0, f"device: {device_description()}")
    dataset = build_dataset(req.folder, req.kind, Span(token, 0.0, 0.0), bars=cfg.bars)
    resume = bool(checkpoint_dirs(run_dir))
    init_from = None if resume or not req.base else resolve_init_from(req.base)[0]
    settings = run_settings(req, meta)
    t0 = time.monotonic()
    result = train(RunProgress(token, start, target), cfg, dataset, run_dir, settings, resume=resume,
                   data_description=req.folder, init_from=init_from)
    if result.cancelled:
        return RunOutcome(run_dir, True, result.step, target, seconds=time.monotonic() - t0)
    card = finish_run(Span(token, 0.0, 1.0), run_dir, req, meta, dataset, result.history)
    return RunOutcome(run_dir, False, result.step, target, meta.get("installed_name"), meta.get("installed"),
                      card, time.monotonic() - t0)


def finish_run(token, run_dir: str, req: RunRequest, meta: dict, dataset, history: list[dict]) -> dict:
    """Model card, code prior (when the base had one), install under the run's name; returns the card."""
    import numpy as np

    from core.atomic_write import atomic_write_bytes
    from core.models.install import Span, install_from_path
    from core.musicvae.evaluate import write_model_card

    token.progress(0.0, "writing the model card")
    card = write_model_card(run_dir, dataset, token=Span(token, 0.0, 0.6), samples=CARD_SAMPLES,
                            max_examples=256, data_description=req.folder)
    start = int(meta.get("start_step", 0))
    before = next((h for h in history if h.get("step") == start), None)
    after = history[-1] if history else None
    how = f"fine-tuned from {req.base}" if req.base else "trained from scratch"
    windows = len(dataset.train) + len(dataset.held_out)
    card["summary"] = (f"{how} on {os.path.basename(req.folder.rstrip(os.sep))} ({windows} windows), "
                       f"{int(meta['target_step']) - start} steps")
    card["trained_on"] = {"folder": req.folder, "kind": req.kind, "sources": len(dataset.sources),
                          "train_windows": int(len(dataset.train)), "held_out_windows": int(len(dataset.held_out)),
                          "base": req.base, "steps": int(meta["target_step"]) - start}
    if before and after:
        card["fine_tune"] = {k: {"before": before.get(k), "after": after.get(k)}
                             for k in ("r_loss", "kl", "free_running_accuracy", "teacher_forced_accuracy", "kl_bits")}
        # the VAE's own loss on held-out windows: reconstruction plus KL (the negative ELBO, nats per window)
        card["fine_tune"]["loss"] = {w: h["r_loss"] + h["kl"] for w, h in (("before", before), ("after", after))}
    if req.base:
        from core.musicvae.training import resolve_init_from

        base_dir = resolve_init_from(req.base)[0]
        with open(os.path.join(base_dir, "model.json"), encoding="utf-8") as f:
            base_prior = json.load(f).get("code_prior")
        if base_prior and len(dataset.train) >= 2:  # the base sampled from its fitted prior: so does the result
            from core.musicvae.code_prior import fit_to_codes

            token.progress(0.6, "fitting the code prior to the new codes")
            pick = np.sort(np.random.default_rng(0).choice(len(dataset.train), min(4096, len(dataset.train)),
                                                           replace=False))
            prior = fit_to_codes(Span(token, 0.6, 0.8), run_dir, dataset.train[pick])
            prior.save(run_dir, {"windows": int(len(pick)), "data": req.folder, "seed": 0})
    atomic_write_bytes(os.path.join(run_dir, "model-card.json"), (json.dumps(card, indent=1) + "\n").encode())
    token.progress(0.8, f"installing {req.name}")
    installed = install_from_path(Span(token, 0.8, 1.0), run_dir, name=req.name,
                                  origin={"trained_on": req.folder, "base": req.base, "run": run_dir})
    meta.update(installed=installed.path, installed_name=installed.name)
    _write_run(run_dir, meta)
    shutil.rmtree(os.path.join(run_dir, "checkpoints"), ignore_errors=True)  # the installed copy is the model now
    token.progress(1.0, f"installed {installed.name}")
    return card
