"""Sequence model folders: build, save, load.

A folder holds `model.json` (format "latent-studio-seq", the architecture and its sizes, what
it was trained on), `weights.npz` (arrays by variable name, stored as float16 to halve the
size) and its cards (`MODEL_CARD.md` to read, `model-card.json` with the numbers).
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from core.errors import UserError

FORMAT = "latent-studio-seq"
VERSION = 1
# The embedded model Continue and Rewrite use unless told otherwise: its held-out NLL is lower at
# every position and its continuations stay in key (docs/sequence-models.md).
DEFAULT_MODEL = "seq_transformer"


def build(config: dict, seed: int = 0):
    """A fresh model from a config dict ({"arch": "transformer" | "lstm", sizes...})."""
    cfg = dict(config)
    arch = cfg.pop("arch", None)
    if arch == "transformer":
        from core.seq.transformer import SeqTransformer, TransformerConfig

        return SeqTransformer(TransformerConfig(**cfg), seed=seed)
    if arch == "lstm":
        from core.seq.lstm import LSTMConfig, SeqLSTM

        return SeqLSTM(LSTMConfig(**cfg), seed=seed)
    raise UserError(f'Unknown sequence model architecture "{arch}" (expected transformer or lstm).')


def read_meta(path: str) -> dict | None:
    """model.json of a sequence model folder, or None when the folder holds something else."""
    f = os.path.join(path, "model.json")
    try:
        with open(f, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def is_seq_model(path: str) -> bool:
    return read_meta(str(path)) is not None


def save(model, folder: str, name: str, training: dict | None = None) -> str:

    os.makedirs(folder, exist_ok=True)
    weights = {k: v.astype(np.float16) for k, v in model.get_weights().items()}
    tmp = os.path.join(folder, "weights.tmp.npz")
    np.savez(tmp, **weights)
    os.replace(tmp, os.path.join(folder, "weights.npz"))
    meta = {"format": FORMAT, "version": VERSION, "name": name, "kind": "sequence",
            "config": model.config.to_dict(), "storage": "float16", "weights": "weights.npz",
            "parameters": model.parameter_count(), "training": training or {}}
    with open(os.path.join(folder, "model.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    return folder


def load(path: str, name: str | None = None):
    """A sequence model from its folder; UserError when the folder is not one or is damaged."""
    meta = read_meta(path)
    if meta is None:
        raise UserError(f'"{path}" holds no sequence model (no model.json of format {FORMAT}).')
    if int(meta.get("version", 0)) > VERSION:
        raise UserError(f'The sequence model in "{path}" needs a newer Latent Studio (format {meta["version"]}).')
    model = build(meta["config"])
    weights = os.path.join(path, meta.get("weights", "weights.npz"))
    if os.path.isfile(weights) and not zipfile.is_zipfile(weights):
        # np.load would try it as a pickle and answer with advice about allow_pickle
        raise UserError(f'The weights of the sequence model in "{path}" are damaged: '
                        f'{os.path.basename(weights)} is not a weights archive (.npz).')
    try:
        with np.load(weights, allow_pickle=False) as z:
            model.set_weights({k: z[k] for k in z.files})
    except Exception as exc:  # noqa: BLE001 - as core/musicvae/checkpoint.py says: a damaged member is a
        # BadZipFile (CRC), a damaged array header a TokenError or SyntaxError, a wrong size a ValueError
        raise UserError(f'The weights of the sequence model in "{path}" cannot be read: {exc}') from None
    model.name = name or meta.get("name") or os.path.basename(os.path.normpath(path))
    model.path = path
    model.meta = meta
    model.kind = "sequence"
    model.z_size = 0  # no latent code (the model process reports z_size for every model)
    model.device = "CPU"
    return model
