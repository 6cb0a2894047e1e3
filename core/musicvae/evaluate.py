"""The numbers of a model card: held-out reconstruction, KL and sample statistics.

- Reconstruction on held-out windows, from mu (no noise): teacher-forced accuracy (each step
  reads the true previous token) and free-running accuracy (argmax decoding fed back on itself,
  as the app decodes), both over every token of every part; the mean cross-entropy per sequence
  and the KL to the prior (nats and bits).
- Sample statistics at a temperature (0.5 by default, Magenta's) over a few hundred samples from
  the model's random codes (model.random_z: its code prior when it has one, code_prior.py, else
  z ~ N(0, I)), decoded by the inference engine, beside the same statistics of the training data:
  the share of melody and bass notes inside the key detected per clip (Krumhansl-Kessler
  profiles over the clip's pitch-class durations, major or minor, core/data/harmony.py), notes
  (drum hits) per bar for each part, and the pitch range per clip.

`write_model_card(model_dir, dataset)` writes model-card.json beside model.json.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np

TARGETS = {  # issue 4: what an embedded model must reach on held-out data
    "melody": {"free_running_accuracy": 0.90},
    "drums": {"free_running_accuracy": 0.90},
    "trio": {"free_running_accuracy": 0.70},
}
SHARE_IN_KEY_TARGET = 0.90
NOTES_PER_BAR_TOLERANCE = 0.25


# ----------------------------------------------------------------- statistics of token windows
def window_statistics(tokens: np.ndarray, kind: str) -> dict:
    """Statistics of a set of windows ([n, T] or [n, T, 3] tokens)."""
    from core.data.harmony import detect_key, share_in_key
    from core.musicvae import converters as cv

    tokens = np.asarray(tokens)
    n = len(tokens)
    parts = cv.PARTS[kind]
    bars = tokens.shape[1] / cv.STEPS_PER_BAR if n else 1
    counts = {p: [] for p in parts}
    ranges = {p: [] for p in parts if p != "drums"}
    lows = {p: [] for p in ranges}
    highs = {p: [] for p in ranges}
    in_key = total_pitched = 0
    for w in tokens:
        notes = cv.tokens_to_notes(w, kind)
        for p in parts:
            counts[p].append(len(notes[p]) / bars)
            if p in ranges and notes[p]:
                pitches = [x.pitch for x in notes[p]]
                ranges[p].append(max(pitches) - min(pitches))
                lows[p].append(min(pitches))
                highs[p].append(max(pitches))
        pitched = [x for p in parts if p != "drums" for x in notes[p]]
        if pitched:
            share = share_in_key(pitched, detect_key(pitched))
            in_key += share * len(pitched)
            total_pitched += len(pitched)
    out: dict = {"windows": int(n), "notes_per_bar": {p: float(np.mean(v)) if v else 0.0 for p, v in counts.items()}}
    if ranges:
        out["share_in_key"] = float(in_key / total_pitched) if total_pitched else None
        out["pitch_range"] = {p: float(np.mean(v)) if v else 0.0 for p, v in ranges.items()}
        out["lowest_pitch"] = {p: float(np.percentile(v, 5)) if v else None for p, v in lows.items()}
        out["highest_pitch"] = {p: float(np.percentile(v, 95)) if v else None for p, v in highs.items()}
        out["silent_windows"] = {p: float(np.mean([c == 0 for c in counts[p]])) if n else 0.0 for p in ranges}
        out["onsets_by_sixteenth"] = {p: onsets_by_sixteenth(tokens if tokens.ndim == 2 else tokens[..., parts.index(p)])
                                      for p in ranges}
    return out


def onsets_by_sixteenth(tokens: np.ndarray) -> list[float] | None:
    """Of melody-encoded tokens [n, T]: the share of steps that start a note at each of the four
    sixteenths of a beat (on the beat, the second sixteenth, the off-beat eighth, the fourth).
    Where samples are sparser than the data, this shows which part of the beat they leave out."""
    from core.musicvae.converters import FIRST_NOTE_CLASS, STEPS_PER_QUARTER

    tokens = np.asarray(tokens)
    if not tokens.size:
        return None
    onset = tokens >= FIRST_NOTE_CLASS
    return [float(onset[:, k::STEPS_PER_QUARTER].mean()) for k in range(STEPS_PER_QUARTER)]


def compare_statistics(samples: dict, data: dict) -> dict:
    """Sample / data ratios of notes per bar and pitch range."""
    out = {"notes_per_bar_ratio": {}, "pitch_range_ratio": {}}
    for p, v in samples["notes_per_bar"].items():
        d = data["notes_per_bar"].get(p) or 0.0
        out["notes_per_bar_ratio"][p] = float(v / d) if d else None
    for p, v in samples.get("pitch_range", {}).items():
        d = data["pitch_range"].get(p) or 0.0
        out["pitch_range_ratio"][p] = float(v / d) if d else None
    return out


# ----------------------------------------------------------------- evaluation
def reconstruction(model_dir: str, tokens: np.ndarray, device=None, batch_size: int = 128,
                   groups: dict[str, np.ndarray] | None = None) -> dict:
    """Held-out reconstruction numbers of a saved model (see the module docstring); with
    `groups` (name -> mask over tokens) also both accuracies per group, under "by_collection"."""
    from core.musicvae.checkpoint import load_weights
    from core.musicvae.training import Trainer, TrainSettings

    cfg, weights, _ = load_weights(None, model_dir)
    trainer = Trainer(cfg, TrainSettings(steps=1, device=device), weights)
    tokens = np.asarray(tokens, np.int32)
    out = trainer.evaluate(tokens, batch_size=batch_size)
    if groups:
        keep = ("examples", "teacher_forced_accuracy", "free_running_accuracy")
        out["by_collection"] = {g: {k: v for k, v in trainer.evaluate(tokens[m], batch_size=batch_size).items()
                                    if k in keep} for g, m in groups.items()}
    return out


def held_out_groups(dataset, pick: np.ndarray) -> dict[str, np.ndarray]:
    """Masks over the picked held-out windows by collection (the first folder of each source path)."""
    if not len(dataset.sources):
        return {}
    names = np.array([dataset.sources[i].replace(os.sep, "/").split("/")[0] if "/" in dataset.sources[i] else ""
                      for i in np.asarray(dataset.held_out_source)[pick]])
    return {g: names == g for g in sorted(set(names.tolist())) if g}


def sample_tokens(model, n: int, temperature: float = 0.5, seed: int = 0) -> np.ndarray:
    """Tokens of n samples from the prior, decoded by the inference engine ([n, T] or [n, T, 3])."""
    z = model.random_z(n, seed)
    return model.decode_tokens(z, temperature=temperature, seed=seed)


def decode_seconds(model, batch: int = 8, repeats: int = 3) -> float:
    """The best of `repeats` timings of decoding a batch at temperature 0.5 (after a warm-up)."""
    z = model.random_z(batch, 0)
    model.decode_tokens(z, temperature=0.5, seed=0)
    best = float("inf")
    for i in range(repeats):
        t = time.perf_counter()
        model.decode_tokens(z, temperature=0.5, seed=i)
        best = min(best, time.perf_counter() - t)
    return best


def model_parameters(model_dir: str) -> int:
    with np.load(os.path.join(model_dir, "weights.npz")) as z:
        return sum(int(z[k].size) for k in z.files)


def _folder_megabytes(folder: str) -> float:
    return sum(os.path.getsize(os.path.join(folder, f)) for f in ("model.json", "weights.npz")
               if os.path.exists(os.path.join(folder, f))) / 1e6


def write_model_card(model_dir: str, dataset, token=None, samples: int = 256, temperature: float = 0.5,
                     max_examples: int = 1024, device=None, data_description: str | None = None,
                     seed: int = 0, data_windows: int = 4096) -> dict:
    """Evaluate a saved model against a dataset and write model_dir/model-card.json; returns the card.

    The samples' statistics are compared with those of up to `data_windows` random training
    windows: the data's side of each ratio should not add noise of its own to the samples'."""
    from core.atomic_write import atomic_write_bytes
    from core.errors import UserError
    from core.musicvae import load_model

    def progress(f, m):
        if token is not None:
            token.progress(f, m)

    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    model = load_model(None, model_dir, device=device)
    cfg = model.config
    if dataset.kind != cfg.data:
        raise UserError(f"{model_dir} models {cfg.data}, but the data holds {dataset.kind} windows")
    pick = dataset.held_out_pick(max_examples, seed)
    held = dataset.held_out[pick]
    progress(0.1, f"reconstructing {len(held)} held-out windows")
    groups = held_out_groups(dataset, pick)  # one line per collection: a mixed corpus can hide a weak one
    rec = reconstruction(model_dir, held, device=device, groups=groups if len(groups) > 1 else None) \
        if len(held) else {}
    progress(0.5, f"sampling {samples} clips at temperature {temperature}")
    sampled = sample_tokens(model, samples, temperature, seed)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(dataset.train), size=min(max(samples, data_windows), len(dataset.train)), replace=False)
    sample_stats = window_statistics(sampled, cfg.data)
    data_stats = window_statistics(dataset.train[pick], cfg.data)
    comparison = compare_statistics(sample_stats, data_stats)
    prior = None
    if model.prior is not None:  # what plain N(0, I) codes would give, beside the prior's
        z = np.random.default_rng(seed).standard_normal((samples, model.z_size)).astype(np.float32)
        plain = window_statistics(model.decode_tokens(z, temperature=temperature, seed=seed), cfg.data)
        plain_cmp = compare_statistics(plain, data_stats)
        spread = model.prior.spread()
        prior = {**meta.get("code_prior", {}), "spread_median": float(np.median(spread)),
                 "spread_range": [float(spread.min()), float(spread.max())],
                 "mean_norm": float(np.linalg.norm(model.prior.mean)),
                 "samples_from_standard_normal": {"notes_per_bar_ratio": plain_cmp["notes_per_bar_ratio"],
                                                  "share_in_key": plain.get("share_in_key")}}
    progress(0.9, "timing the decoder")
    speed = decode_seconds(model)

    targets = {}
    want = TARGETS[cfg.data]["free_running_accuracy"]
    got = rec.get("free_running_accuracy")
    targets["free_running_accuracy"] = {"target": want, "value": got, "met": got is not None and got >= want}
    if "share_in_key" in sample_stats:
        v = sample_stats["share_in_key"]
        targets["share_in_key"] = {"target": SHARE_IN_KEY_TARGET, "value": v,
                                   "met": v is not None and v >= SHARE_IN_KEY_TARGET}
    for p, r in comparison["notes_per_bar_ratio"].items():
        targets[f"notes_per_bar_{p}"] = {"target": f"within {NOTES_PER_BAR_TOLERANCE:.0%} of the data's",
                                         "value": r, "met": r is not None and abs(r - 1) <= NOTES_PER_BAR_TOLERANCE}
    training = dict(meta.get("training") or {})
    log_path = os.path.join(model_dir, "training.json")
    history = []
    if os.path.exists(log_path):
        with open(log_path, encoding="utf-8") as f:
            log = json.load(f)
        history = log.get("history", [])
        training.setdefault("settings", log.get("settings"))
    card = {
        "name": meta.get("name", cfg.name),
        "config": cfg.name,
        "kind": cfg.data,
        "sizes": {"enc_rnn_size": list(cfg.enc_rnn_size), "dec_rnn_size": list(cfg.dec_rnn_size),
                  "z_size": cfg.z_size, "steps": cfg.steps, "bars": cfg.bars},
        "kl_settings": {"free_bits": cfg.free_bits, "max_beta": cfg.max_beta, "beta_rate": cfg.beta_rate},
        "storage": meta.get("storage"),
        "size_mb": round(_folder_megabytes(model_dir), 2),
        "parameters": int(model_parameters(model_dir)),
        "data": {"source": data_description or dataset.stats.get("source"), "summary": dataset.summary(),
                 "train_windows": int(len(dataset.train)), "held_out_windows": int(len(dataset.held_out))},
        "training": {"steps": meta.get("step"), "seconds": training.get("seconds"),
                     "settings": training.get("settings")},
        "held_out": rec,
        "samples": {"temperature": temperature, "count": samples,
                    "codes_from": "code prior (prior.npz)" if prior else "N(0, I)", **sample_stats},
        "code_prior": prior,
        "training_data": data_stats,
        "samples_vs_data": comparison,
        "decode_batch8_seconds": round(speed, 4),
        "device": model.device,
        "targets": targets,
        "history": history[-20:],
    }
    atomic_write_bytes(os.path.join(model_dir, "model-card.json"),
                       (json.dumps(card, indent=1) + "\n").encode())
    progress(1.0, "model card written")
    return card
