"""Statistics of token windows, to compare samples with training data (model cards).

For melody and bass parts: note ons per bar, the pitch range (mean of each window's lowest and
highest pitch, and the overall lowest and highest) and the share of notes in each window's
detected key. For drums: hits per bar (a step with several classes counts each class).
"""
from __future__ import annotations

import numpy as np

from core.data.harmony import detect_key, share_in_key
from core.musicvae import converters as cv


def _part_columns(tokens: np.ndarray, kind: str) -> dict[str, np.ndarray]:
    t = np.asarray(tokens)
    if t.ndim == 1 or (kind == "trio" and t.ndim == 2):
        t = t[None]
    if kind == "trio":
        return {p: t[..., i] for i, p in enumerate(cv.TRIO_PARTS)}
    return {kind: t}


def window_stats(tokens: np.ndarray, kind: str) -> dict:
    """Per-part statistics over a batch of token windows ([n, steps] or trio [n, steps, 3])."""
    out = {}
    for part, cols in _part_columns(tokens, kind).items():
        n, steps = cols.shape
        bars = steps / cv.STEPS_PER_BAR
        if part == "drums":
            hits = np.array([sum(bin(int(m)).count("1") for m in row) for row in cols])
            out[part] = {"windows": int(n), "hits_per_bar": float(hits.mean() / bars) if n else 0.0}
            continue
        ons = cols >= cv.FIRST_NOTE_CLASS
        pitches = np.where(ons, cols - cv.FIRST_NOTE_CLASS + cv.MIN_PITCH, 0)
        lows, highs, keys = [], [], []
        for row, prow, on in zip(cols, pitches, ons):
            if not on.any():
                continue
            lows.append(prow[on].min())
            highs.append(prow[on].max())
            notes = cv.melody_notes(row)
            keys.append(share_in_key(notes, detect_key(notes)))
        out[part] = {
            "windows": int(n),
            "notes_per_bar": float(ons.sum(1).mean() / bars) if n else 0.0,
            "mean_low": float(np.mean(lows)) if lows else None,
            "mean_high": float(np.mean(highs)) if highs else None,
            "lowest": int(min(lows)) if lows else None,
            "highest": int(max(highs)) if highs else None,
            "share_in_key": float(np.mean(keys)) if keys else None,
        }
    return out
