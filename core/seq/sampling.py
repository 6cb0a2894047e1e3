"""Sampling bars from a sequence model: a batch of rows from one prompt, with a grammar mask.

The mask keeps every row a well-formed stream (core/seq/events.py), so even a briefly trained
model writes notes that decode: after BAR comes the first part's TRK, the parts follow in the
prompt's order and no others, POS only moves forward inside a part, a melody or bass PITCH is
always followed by a DUR, drum pitches stay within the General MIDI kit, and a bar ends with
BAR only once every part has had its turn. Rows stop once they have written the bars asked for.

When a row reaches the model's window (max_len) the context slides: the model is primed again
on BOS plus the most recent tokens (half a window), and generation goes on from there.
"""
from __future__ import annotations

import time

import numpy as np

from core.seq import events as ev

DRUM_LO, DRUM_HI = 35, 81
MAX_TOKENS_PER_BAR = 400


class _Row:
    def __init__(self, order):
        self.order = order
        self.part = len(order) - 1  # the prompt ended a bar
        self.pos = 99
        self.need_dur = False
        self.force_bar = True
        self.bars = 0
        self.in_bar = 0
        self.done = False
        self.out: list[int] = []

    def allowed(self, bars_wanted: int) -> np.ndarray:
        m = np.zeros(ev.VOCAB_SIZE, bool)
        last = self.part == len(self.order) - 1
        if self.force_bar:
            m[ev.BAR] = True
            return m
        if self.need_dur:
            m[ev.DUR0:ev.VOCAB_SIZE] = True
            return m
        if self.part < 0:
            m[ev.trk(self.order[0])] = True
            return m
        if self.in_bar > MAX_TOKENS_PER_BAR:  # a runaway bar: move on
            if last:
                m[ev.BAR] = True
            else:
                m[ev.trk(self.order[self.part + 1])] = True
            return m
        start = self.pos + 1 if self.pos >= 0 else 0
        if start < ev.STEPS_PER_BAR:
            m[ev.POS0 + start:ev.PITCH0] = True
        if self.pos >= 0:
            if self.order[self.part] == "drums":
                m[ev.PITCH0 + DRUM_LO:ev.PITCH0 + DRUM_HI + 1] = True
            else:
                m[ev.PITCH0:ev.DUR0] = True
        if last:
            m[ev.BAR] = True
            if self.bars >= bars_wanted:
                m[ev.EOS] = True
        else:
            m[ev.trk(self.order[self.part + 1])] = True
        return m

    def feed(self, t: int, bars_wanted: int) -> None:
        if self.done:
            return
        if t == ev.EOS or (t == ev.BAR and self.bars >= bars_wanted):
            self.done = True
            return
        self.out.append(t)
        self.in_bar += 1
        self.force_bar = False
        if t == ev.BAR:
            self.bars += 1
            self.part, self.pos, self.in_bar = -1, 99, 0
        elif ev.TRK0 <= t < ev.POS0:
            self.part = self.order.index(ev.PARTS[t - ev.TRK0])
            self.pos = -1
        elif ev.POS0 <= t < ev.PITCH0:
            self.pos = t - ev.POS0
        elif ev.PITCH0 <= t < ev.DUR0:
            self.need_dur = self.order[self.part] != "drums"
        elif ev.DUR0 <= t < ev.VOCAB_SIZE:
            self.need_dur = False


def prompt_parts(ids) -> list[str]:
    """The parts a prompt's stream holds, in stream order."""
    found = {ev.PARTS[t - ev.TRK0] for t in ids if ev.TRK0 <= t < ev.POS0}
    return [p for p in ev.PARTS if p in found]


def sample_bars(model, prompt: list[int], n: int, bars: int, temperature: float = 1.0, seed=None,
                token=None, use_cache: bool = True, parts: list[str] | None = None,
                progress: tuple[float, float] = (0.0, 1.0), message: str = "Generating") -> list[list[int]]:
    """n rows of `bars` new bars (the tokens from the first BAR on) after `prompt`.

    `use_cache=False` recomputes the whole window for every token (for the benchmark).
    `token` (a job token) is checked every few tokens and told the progress.
    """
    if not 1 <= n <= 64:
        raise ValueError("n must be 1..64")
    if temperature <= 0:
        raise ValueError("temperature must be above 0")
    rng = np.random.default_rng(seed)
    order = parts or prompt_parts(prompt) or ["melody"]
    rows = [_Row(order) for _ in range(n)]
    max_len = model.max_len
    history = np.tile(np.asarray(prompt, np.int32), (n, 1))

    def restart(hist):
        keep = max_len // 2
        if hist.shape[1] > max_len:
            hist = np.concatenate([np.full((n, 1), ev.BOS, np.int32), hist[:, -(keep - 1):]], axis=1)
        return hist

    history = restart(history)
    logits, state = model.prime(history) if use_cache else (model.full_logits_last(history), None)
    steps = 0
    budget = bars * (MAX_TOKENS_PER_BAR + 8) + 8
    last_report = time.monotonic()
    while not all(r.done for r in rows) and steps < budget:
        masks = np.stack([r.allowed(bars) for r in rows])
        # a draw from softmax(logits / temperature) over the allowed tokens, by the Gumbel-max trick
        z = logits.astype(np.float64) / temperature + rng.gumbel(size=logits.shape)
        picks = np.where(masks, z, -np.inf).argmax(axis=1).astype(np.int32)
        picks[[i for i, r in enumerate(rows) if r.done]] = ev.BAR
        for r, t in zip(rows, picks):
            r.feed(int(t), bars)
        steps += 1
        if all(r.done for r in rows):
            break
        history = np.concatenate([history, picks[:, None]], axis=1)
        if history.shape[1] > max_len:
            history = restart(history)
            logits, state = model.prime(history) if use_cache else (model.full_logits_last(history), None)
        elif use_cache:
            logits, state = model.step(state, picks)
        else:
            logits = model.full_logits_last(history)
        if token is not None and steps % 16 == 0:
            token.check()
            now = time.monotonic()
            if now - last_report > 0.2:
                done = np.mean([min(r.bars / bars, 1.0) for r in rows])
                token.progress(progress[0] + (progress[1] - progress[0]) * done, message)
                last_report = now
    return [r.out for r in rows]
