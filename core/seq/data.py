"""Training sequences for the sequence models, from the built-in corpus.

Pieces are the corpus tunes as core/data/dataset.py makes trios of them: the melody, the real
bass (chorales) or a root bass from the implied harmony (folk), and generated drums in a genre
that fits the tune; plus the generated drum corpus on its own (`drum_sequences` sequences of
`drum_bars` bars per genre). The train / held-out split is by source with the same rule as the
MusicVAE data (`core.data.dataset.held_out_sources`, 10 % of the sources by a stable hash).

Each example takes one piece, a set of its parts (melody alone, melody and bass, melody and
drums, all three; drums alone for the drum corpus), a random transposition of the pitched parts
and a run of whole bars that fits the model's window; with probability `infill_share` the run
becomes an infill example (1 to 4 of its bars moved behind FILL, see core/seq/events.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.seq import events as ev

PART_SETS = (("melody",), ("melody", "bass"), ("melody", "drums"), ("melody", "bass", "drums"))
PART_SET_WEIGHTS = (0.35, 0.2, 0.1, 0.35)


@dataclass
class SeqPiece:
    source: str
    title: str
    bars: int
    parts: dict  # part -> list[Note]

    def part_sets(self) -> tuple[tuple[str, ...], ...]:
        if set(self.parts) == {"drums"}:
            return (("drums",),)
        return PART_SETS


def corpus_pieces(collections=None, token=None, drum_sequences: int = 40, drum_bars: int = 16,
                  limit_files: int | None = None, seed: int = 0) -> list[SeqPiece]:
    """The corpus as pieces with melody, bass and drums, and the generated drum corpus."""
    from core.data import corpus, drum_patterns, harmony
    from core.data.dataset import fitting_groove

    collections = tuple(collections or (corpus.FOLK + ("chorales",)))
    if "folk" in collections:
        collections = tuple(c for c in collections if c != "folk") + corpus.FOLK
    unknown = [c for c in collections if c not in corpus.COLLECTIONS and c != "drums"]
    if unknown:
        from core.errors import UserError

        raise UserError(f"unknown corpus collection(s) {', '.join(unknown)}; known: "
                        f"{', '.join(corpus.COLLECTIONS)}, folk, drums (the generated drums alone)")
    tunes_from = tuple(c for c in collections if c != "drums")
    pieces: list[SeqPiece] = []
    files = corpus.corpus_files(tunes_from, limit_files) if tunes_from else []
    for i, path in enumerate(files):
        if token is not None:
            token.progress(0.5 * i / max(len(files), 1), f"reading the corpus ({i}/{len(files)})")
        for tune in corpus.load_file(path).tunes:
            bass = tune.bass
            if bass is None:
                bass = harmony.root_bass(tune.melody, tune.length, seed=drum_patterns.seed_from(tune.id))
            genre, phrase = fitting_groove(tune)
            first_bar = math.ceil(tune.shift / 4.0 - 1e-9) * 4.0
            drums = drum_patterns.generate(genre, int((tune.length - first_bar) // 4), seed=tune.id,
                                           phrase_bars=phrase, start_beat=first_bar)
            pieces.append(SeqPiece(tune.source, tune.title, ev.bar_count(tune.length),
                                   {"melody": tune.melody, "bass": bass, "drums": drums}))
    for genre in drum_patterns.GENRE_NAMES:
        for j in range(drum_sequences):
            notes = drum_patterns.generate(genre, drum_bars, seed=(seed, j))
            pieces.append(SeqPiece(f"generated/{genre}/{j}", f"{genre} {j}", drum_bars, {"drums": notes}))
    return pieces


def split(pieces: list[SeqPiece], held_out: float = 0.1) -> tuple[list[SeqPiece], list[SeqPiece]]:
    from core.data.dataset import held_out_sources

    held = held_out_sources([p.source for p in pieces], held_out)
    return [p for p in pieces if p.source not in held], [p for p in pieces if p.source in held]


def transpose_tokens(ids: list[int], semitones: int) -> list[int]:
    """Shift melody and bass pitches (not drums) by `semitones`, keeping them in 0..127."""
    if not semitones:
        return list(ids)
    out = []
    drums = False
    for t in ids:
        if ev.TRK0 <= t < ev.POS0:
            drums = ev.PARTS[t - ev.TRK0] == "drums"
        elif ev.PITCH0 <= t < ev.DUR0 and not drums:
            t = min(max(t + semitones, ev.PITCH0), ev.DUR0 - 1)
        out.append(t)
    return out


class ExampleSampler:
    """Random training sequences (lists of ids, at most max_len + 1 long) from pieces."""

    def __init__(self, pieces: list[SeqPiece], max_len: int, seed: int = 0, infill_share: float = 0.4,
                 transpose: tuple[int, int] = (-5, 5)):
        if not pieces:
            raise ValueError("no pieces to sample from")
        self.pieces = pieces
        self.max_len = max_len
        self.rng = np.random.default_rng(seed)
        self.infill_share = infill_share
        self.transpose = transpose
        self._bars: dict = {}
        # longer pieces are drawn more often, in proportion to their bars
        w = np.array([max(p.bars, 1) for p in pieces], np.float64)
        self.weights = w / w.sum()

    def piece_bars(self, i: int, parts: tuple[str, ...]) -> list[list[int]]:
        key = (i, parts)
        if key not in self._bars:
            p = self.pieces[i]
            self._bars[key] = ev.bar_tokens({k: p.parts[k] for k in parts}, p.bars)
        return self._bars[key]

    def sample(self) -> list[int]:
        rng = self.rng
        i = int(rng.choice(len(self.pieces), p=self.weights))
        piece = self.pieces[i]
        sets = piece.part_sets()
        if len(sets) == 1:
            parts = sets[0]
        else:
            parts = sets[int(rng.choice(len(sets), p=PART_SET_WEIGHTS))]
        bars = self.piece_bars(i, parts)
        start = int(rng.integers(0, len(bars)))
        if rng.random() < 0.25:
            start = 0  # pieces' beginnings are worth seeing whole
        infill = rng.random() < self.infill_share
        budget = self.max_len + 1 - (6 if infill else 2)
        stop, used = start, 0
        while stop < len(bars) and used + len(bars[stop]) + (1 if infill else 0) <= budget:
            used += len(bars[stop]) + (1 if infill else 0)
            stop += 1
        if stop == start:  # one bar longer than the window: cut it
            seq = ev.continue_example([bars[start][:self.max_len]])[: self.max_len + 1]
        elif infill and stop - start >= 2:
            run = bars[start:stop]
            k = int(rng.integers(1, min(4, len(run) - 1) + 1))
            a = int(rng.integers(0, len(run) - k + 1))
            seq = ev.infill_example(run, a, a + k)
        else:
            seq = ev.continue_example(bars[start:stop], ends_piece=stop == len(bars))
        lo, hi = self.transpose
        shift = int(rng.integers(lo, hi + 1)) if hi > lo else 0
        return transpose_tokens(seq[: self.max_len + 1], shift)

    def batch(self, size: int) -> np.ndarray:
        out = np.zeros((size, self.max_len + 1), np.int32)
        for r in range(size):
            s = self.sample()
            out[r, :len(s)] = s
        return out


def held_out_windows(pieces: list[SeqPiece], max_len: int, parts=("melody", "bass", "drums"),
                     limit: int | None = None) -> np.ndarray:
    """Fixed evaluation windows: each held-out piece from its first bar, as many bars as fit
    max_len + 1 tokens, with the given parts (those the piece has); padded with PAD."""
    rows = []
    for p in pieces:
        have = tuple(x for x in parts if x in p.parts)
        if not have:
            continue
        bars = ev.bar_tokens({k: p.parts[k] for k in have}, p.bars)
        seq = ev.continue_example(bars, ends_piece=True)[: max_len + 1]
        row = np.zeros(max_len + 1, np.int32)
        row[:len(seq)] = seq
        rows.append(row)
        if limit and len(rows) >= limit:
            break
    return np.stack(rows) if rows else np.zeros((0, max_len + 1), np.int32)
