"""Statistics of token windows, to compare samples with training data (model cards).

For melody and bass parts: note ons per bar, the pitch range (mean of each window's lowest and
highest pitch, and the overall lowest and highest) and the share of notes in each window's
detected key. For drums: hits per bar (a step with several classes counts each class).

Resemblance to a style given by its windows: `style_resemblance` for melody and bass lines
(key-relative pitch-class histogram and notes per bar), `drum_resemblance` for drum parts
(where in the bar each drum class is hit, and hits per bar).
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


# ----------------------------------------------------------------- resemblance to a style
def key_relative_histogram(row: np.ndarray) -> np.ndarray | None:
    """The duration-weighted pitch-class histogram of one melody window, turned so its detected
    tonic is pitch class 0 and summing to 1; None for a silent window."""
    from core.data.harmony import pitch_class_histogram

    notes = cv.melody_notes(row)
    if not notes:
        return None
    h = pitch_class_histogram(notes)
    if h.sum() <= 0:
        return None
    tonic, _ = detect_key(notes)
    return np.roll(h, -tonic) / h.sum()


def _window_profiles(tokens: np.ndarray, profile, rate, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(profile [n, width], rate per bar [n]) of the windows whose `profile(row)` is not None."""
    t = np.asarray(tokens)
    profs, rates = [], []
    bars = t.shape[1] / cv.STEPS_PER_BAR
    for row in t:
        p = profile(row)
        if p is None:
            continue
        profs.append(np.ravel(p))
        rates.append(rate(row) / bars)
    return np.asarray(profs).reshape(-1, width), np.asarray(rates, float)


def _profiles(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(histograms [n, 12], notes per bar [n]) of the windows that sound."""
    return _window_profiles(tokens, key_relative_histogram, lambda row: (row >= cv.FIRST_NOTE_CLASS).sum(), 12)


def _resemblance(profiles, samples: np.ndarray, style: np.ndarray, what: str, distance: str, rate: str,
                 close: str) -> dict:
    """The test both resemblance measures share. `profiles(windows)` gives (one profile per
    sounding window [m, k], one rate per sounding window [m]). A sample resembles the style when
    its profile is at most as far (L1) from the style's mean profile as the style's own median
    window is, and its rate lies between the style's 10th and 90th percentiles. `distance`,
    `rate` and `close` name the mean distance, the mean rate and the share of close profiles in
    the result (the style's own mean distance and rate get the prefix "style_")."""
    s_prof, s_rate = profiles(style)
    if not len(s_prof):
        raise ValueError(f"the style's {what} are all silent")
    mean = s_prof.mean(axis=0)
    s_dist = np.abs(s_prof - mean).sum(axis=1)
    limit = float(np.median(s_dist))
    lo, hi = (float(x) for x in np.percentile(s_rate, [10, 90]))
    prof, rates = profiles(samples)
    dist = np.abs(prof - mean).sum(axis=1) if len(prof) else np.zeros(0)
    near, dense = dist <= limit, (rates >= lo) & (rates <= hi)
    n = len(np.asarray(samples))

    def share(mask):
        return float(mask.sum() / n) if n else 0.0

    return {"share": share(near & dense), distance: float(dist.mean()) if len(dist) else None,
            f"style_{distance}": float(s_dist.mean()), rate: float(rates.mean()) if len(rates) else 0.0,
            f"style_{rate}": float(s_rate.mean()), close: share(near),
            "share_density_in_range": share(dense), "silent": int(n - len(prof))}


def style_resemblance(samples: np.ndarray, style: np.ndarray) -> dict:
    """How much melody windows (`samples`, [n, T]) resemble a style given by its windows (`style`).

    A sample resembles the style when both hold:
    - its key-relative pitch-class histogram is at most as far (L1) from the style's mean
      histogram as the style's own median window is;
    - its notes per bar lie between the style's 10th and 90th percentiles.
    Returns the share of samples that resemble it (silent samples count as not resembling), the
    mean histogram distance and the mean notes per bar of the samples beside the style's.
    """
    return _resemblance(_profiles, samples, style, "windows", "pc_distance", "notes_per_bar", "share_pc_close")


# ----------------------------------------------------------------- drums: rhythm
def onset_profile(row: np.ndarray) -> np.ndarray | None:
    """Where in the bar one drum window's hits fall: [16 steps, 9 classes] counts summed over
    its bars, summing to 1; None for a window without a hit. A one-drop (kick on beat 3 only)
    and a rock beat (kick on 1 and 3, snare on 2 and 4) put their weight in different cells even
    at the same hits per bar."""
    masks = np.asarray(row, dtype=np.int64).reshape(-1, cv.STEPS_PER_BAR)
    bits = (masks[..., None] >> np.arange(cv.DRUM_CLASSES)) & 1  # [bars, 16, 9]
    prof = bits.sum(axis=0).astype(float)
    total = prof.sum()
    return prof / total if total > 0 else None


def _drum_profiles(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(onset profiles [n, 16 * 9], hits per bar [n]) of the windows that have a hit."""
    return _window_profiles(tokens, onset_profile, lambda row: sum(bin(int(m)).count("1") for m in row),
                            cv.STEPS_PER_BAR * cv.DRUM_CLASSES)


def drum_resemblance(samples: np.ndarray, style: np.ndarray) -> dict:
    """How much drum windows (`samples`, [n, T] of class masks) resemble a style given by its
    windows (`style`), the way `style_resemblance` does it for melodies:

    A sample resembles the style when both hold:
    - its onset profile (which class is hit on which 16th of the bar, `onset_profile`) is at
      most as far (L1) from the style's mean profile as the style's own median window is;
    - its hits per bar lie between the style's 10th and 90th percentiles.
    Returns the share that resemble it (windows without a hit count as not resembling), each
    condition's share, the mean profile distance and the mean hits per bar beside the style's.
    """
    return _resemblance(_drum_profiles, samples, style, "drum windows", "onset_distance", "hits_per_bar",
                        "share_onsets_close")
