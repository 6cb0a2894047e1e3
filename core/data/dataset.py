"""Training examples for each architecture, from a folder of MIDI files or the built-in corpus.

    ds = build_dataset("path/to/midi", "melody", token)          # 2-bar melody windows
    ds = build_dataset("corpus", "trio", token, bars=16)          # 16-bar trios from music21
    inputs, outputs, lengths = ds.arrays("train")                 # one-hot, ready for training
    for inputs, outputs, lengths in ds.batches(64, seed=1, transpose=(-5, 5)): ...

How windows are made (following Magenta's converters, see core/musicvae/converters.py):

- melody: every pitched track that is not a bass (role melody, or other with a program below 32,
  Magenta's melody programs) is read on its own as a monophonic line (highest note wins, a new
  onset cuts the sounding note). The line is split where a silence of `gap_bars` bars (default 1)
  follows a note, as note_seq's melody extraction does, and windows of `bars` bars are cut from
  each part every `hop_bars` bars.
- drums: drum tracks mapped to the 9 drum classes, split at `gap_bars` (default 1) empty bars.
- trio: one melody track, one bass track and one drum track, in every combination (as
  Magenta's TrioConverter; MAX_TRIO_COMBINATIONS, when set, caps them per file); a window
  counts when each of the three plays within `gap_bars` (default 2) bars of every bar of it
  (Magenta's coverage rule).

The built-in corpus ("corpus", or "corpus:ryans,chorales" for some collections; see
core/data/corpus.py) gives folk melodies and chorale sopranos for melody windows. For trios a
tune is paired with its real bass (chorales) or a root bass from its implied harmony (folk,
core/data/harmony.py), and with drums from the pattern generator in a genre picked from the tune
(core/data/drum_patterns.py). The drum corpus is generated: `drum_sequences` sequences of
`drum_bars` bars per genre.

Windows are stored as compact tokens and expanded to one-hot per batch. Identical windows are
kept once; the train / held-out split is by source file (a stable hash of its path), and a
held-out window that also occurs in the training set is removed from the held-out set.
Transposition is applied per batch (`batches(transpose=...)`), only by amounts that keep every
note inside the model's range. Datasets are cached under the cache folder, keyed on the files'
paths, sizes and modification times and on the settings, so a second run starts at once.
"""
from __future__ import annotations

import array
import atexit
import dataclasses
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from core.errors import UserError
from core.musicvae import converters as cv
from core.song import Note
from core.song_files import MIDI

DATASET_VERSION = 3  # 3: trios from every track combination (was: the first 4)
MAX_TRIO_COMBINATIONS = None  # every combination (midi_io's instrument limit bounds them)
DEFAULT_GAP_BARS = {"melody": 1, "drums": 1, "trio": 2}
MEL_PROGRAMS = range(0, 32)


@dataclass(frozen=True)
class DataSettings:
    kind: str
    bars: int
    hop_bars: int = 1
    held_out: float = 0.1
    gap_bars: int | None = None  # None: the kind's default (melody 1, drums 1, trio 2)
    dedup: bool = True
    limit_files: int | None = None
    drum_sequences: int = 40  # generated drum corpus: sequences per genre
    drum_bars: int = 16
    seed: int = 0

    @property
    def gap(self) -> int:
        return DEFAULT_GAP_BARS[self.kind] if self.gap_bars is None else int(self.gap_bars)

    @property
    def steps(self) -> int:
        return self.bars * cv.STEPS_PER_BAR


@dataclass
class Piece:
    """The material of one piece: note lists per part (each list is one candidate instrument)."""

    source: str  # the file it came from (the unit of the train / held-out split)
    name: str
    length: float  # beats
    parts: dict[str, list[list[Note]]]


# ----------------------------------------------------------------- the dataset
@dataclass
class Dataset:
    kind: str
    bars: int
    train: np.ndarray  # tokens [n, steps] (melody, drums) or [n, steps, 3] (trio), int16
    held_out: np.ndarray
    train_source: np.ndarray  # index into `sources` for each window
    held_out_source: np.ndarray
    sources: list[str]
    stats: dict

    @property
    def steps(self) -> int:
        return self.bars * cv.STEPS_PER_BAR

    def tokens(self, split: str = "train") -> np.ndarray:
        if split not in ("train", "held_out"):
            raise ValueError("split is 'train' or 'held_out'")
        return self.train if split == "train" else self.held_out

    def held_out_pick(self, n: int, seed: int = 0) -> np.ndarray:
        """Indices of up to n held-out windows, a seeded random choice in their stored order.

        The held-out windows are grouped by source, and one big source (an Essen file holds
        thousands of songs) can fill the first thousand; a random pick samples every source."""
        total = len(self.held_out)
        if n >= total:
            return np.arange(total)
        return np.sort(np.random.default_rng(seed).choice(total, size=max(n, 0), replace=False))

    def arrays(self, split: str = "train", drum_input: str = "roll", dtype=np.float32
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(inputs, outputs, lengths) of a whole split as one-hot arrays."""
        t = self.tokens(split)
        return (cv.tokens_to_inputs(t, self.kind, drum_input, dtype), cv.tokens_to_outputs(t, self.kind, dtype),
                np.full(len(t), self.steps, np.int32))

    def batches(self, batch_size: int, seed: int = 0, split: str = "train", transpose: tuple[int, int] | None = None,
                drum_input: str = "roll", shuffle: bool = True, dtype=np.float32
                ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """One pass over a split in batches of one-hot (inputs, outputs, lengths).

        With `transpose` (lo, hi) each melody or trio window is moved by a random number of
        semitones in lo..hi, chosen among the amounts that keep all its notes in 21..108.
        """
        t = self.tokens(split)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(t)) if shuffle else np.arange(len(t))
        for i in range(0, len(order), batch_size):
            chunk = t[order[i:i + batch_size]].astype(np.int64)
            if transpose is not None and self.kind != "drums":
                chunk = np.stack([_random_transpose(rng, w, self.kind, transpose) for w in chunk])
            yield (cv.tokens_to_inputs(chunk, self.kind, drum_input, dtype), cv.tokens_to_outputs(chunk, self.kind, dtype),
                   np.full(len(chunk), self.steps, np.int32))

    def save(self, path: str) -> None:
        from core.atomic_write import atomic_write_bytes

        buf = io.BytesIO()
        np.savez_compressed(buf, train=self.train, held_out=self.held_out, train_source=self.train_source,
                            held_out_source=self.held_out_source,
                            meta=np.frombuffer(json.dumps({"kind": self.kind, "bars": self.bars,
                                                           "sources": self.sources, "stats": self.stats,
                                                           "version": DATASET_VERSION}).encode(), np.uint8))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str) -> "Dataset":
        with np.load(path) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("version") != DATASET_VERSION:
                raise ValueError("dataset cache from another version")
            return cls(meta["kind"], meta["bars"], z["train"], z["held_out"], z["train_source"],
                       z["held_out_source"], meta["sources"], meta["stats"])

    def save_dir(self, folder: str) -> None:
        """The dataset as a folder of .npy files (what the streamed build writes; load_dir maps them)."""
        from core.atomic_write import atomic_write_bytes

        os.makedirs(folder, exist_ok=True)
        for name in ("train", "held_out", "train_source", "held_out_source"):
            np.save(os.path.join(folder, name + ".npy"), np.asarray(getattr(self, name)))
        atomic_write_bytes(os.path.join(folder, "meta.json"), json.dumps(
            {"kind": self.kind, "bars": self.bars, "sources": self.sources, "stats": self.stats,
             "version": DATASET_VERSION}).encode())

    @classmethod
    def load_dir(cls, folder: str) -> "Dataset":
        """A dataset folder with its windows memory-mapped (read from disk as batches need them)."""
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("version") != DATASET_VERSION:
            raise ValueError("dataset cache from another version")
        arrays = {n: np.load(os.path.join(folder, n + ".npy"), mmap_mode="r")
                  for n in ("train", "held_out", "train_source", "held_out_source")}
        return cls(meta["kind"], meta["bars"], arrays["train"], arrays["held_out"], arrays["train_source"],
                   arrays["held_out_source"], meta["sources"], meta["stats"])

    def summary(self) -> str:
        s = self.stats
        return (f"{self.kind}, {self.bars} bars: {len(self.train)} training and {len(self.held_out)} held-out "
                f"windows from {s.get('sources_used', len(self.sources))} sources "
                f"({s.get('duplicates_removed', 0)} duplicates removed)")


def _random_transpose(rng, window: np.ndarray, kind: str, span: tuple[int, int]) -> np.ndarray:
    lo, hi = span
    cols = [window] if kind == "melody" else [window[:, 0], window[:, 1]]
    on = np.concatenate([c[c >= cv.FIRST_NOTE_CLASS] for c in cols])
    if on.size == 0:
        return window
    lo = max(lo, cv.FIRST_NOTE_CLASS - int(on.min()))
    hi = min(hi, cv.MELODY_DEPTH - 1 - int(on.max()))
    if hi < lo:
        return window
    return cv.transpose_tokens(window, kind, int(rng.integers(lo, hi + 1)))


# ----------------------------------------------------------------- windows from one piece
def _melody_segments(col: np.ndarray, gap_steps: int) -> list[tuple[int, int]]:
    """(start bar, end bar) of the melodies note_seq would extract, split at long silences."""
    segs = []
    start_bar = None
    last_off = None  # step where the sound stopped
    sounding = False
    for step, t in enumerate(col.tolist()):
        if t >= cv.FIRST_NOTE_CLASS:
            if start_bar is not None and not sounding and step - last_off >= gap_steps:
                segs.append((start_bar, math.ceil(last_off / cv.STEPS_PER_BAR)))
                start_bar = None
            if start_bar is None:
                start_bar = step // cv.STEPS_PER_BAR
            sounding = True
        elif t == cv.NOTE_OFF and sounding:
            sounding, last_off = False, step
    if start_bar is not None:
        end = len(col) if sounding else last_off
        segs.append((start_bar, max(math.ceil(end / cv.STEPS_PER_BAR), start_bar + 1)))
    return segs


def _drum_segments(col: np.ndarray, gap_steps: int) -> list[tuple[int, int]]:
    hits = np.nonzero(col)[0].tolist()
    segs = []
    start = None
    gap_start = 0
    for h in hits:
        if start is not None and h - gap_start >= gap_steps:
            segs.append((start, math.ceil(gap_start / cv.STEPS_PER_BAR)))
            start = None
        if start is None:
            start = h // cv.STEPS_PER_BAR
        gap_start = h + 1
    if start is not None:
        segs.append((start, math.ceil(gap_start / cv.STEPS_PER_BAR)))
    return segs


def _windows_in(segs, bars: int, hop: int) -> list[tuple[int, int]]:
    """(segment start bar, window start bar) for every window inside a segment."""
    out = []
    for a, b in segs:
        for s in range(a, b - bars + 1, hop):
            out.append((a, s))
    return out


def _coverage(notes: list[Note], total_bars: int, gap: int) -> np.ndarray:
    cov = np.zeros(total_bars, bool)
    for n in notes:
        a = int(cv.quantize_beat(n.start) // cv.STEPS_PER_BAR)
        b = max(math.ceil(cv.quantize_beat(n.end) / cv.STEPS_PER_BAR), a + 1)
        cov[a:min(b, total_bars)] = True
    if gap <= 0:
        return cov
    out = cov.copy()
    for j in range(total_bars):
        out[j] = cov[max(0, j - gap):j + gap + 1].any()
    return out


def piece_windows(piece: Piece, settings: DataSettings, report: cv.ConversionReport) -> list[np.ndarray]:
    """Every window of one piece as tokens."""
    kind, bars, hop = settings.kind, settings.bars, settings.hop_bars
    total_bars = max(1, math.ceil(piece.length / 4.0 - 1e-9))
    steps = total_bars * cv.STEPS_PER_BAR
    gap_steps = settings.gap * cv.STEPS_PER_BAR
    w = bars * cv.STEPS_PER_BAR
    out = []
    if kind == "melody":
        for notes in piece.parts.get("melody", []):
            col = cv.melody_tokens(notes, steps, report, "melody", out_of_range="drop")
            for seg_start, b in _windows_in(_melody_segments(col, gap_steps), bars, hop):
                win = col[b * 16:b * 16 + w].copy()
                if b == seg_start:  # a new melody starts clean: no note off before its first note
                    first = np.argmax(win >= cv.FIRST_NOTE_CLASS)
                    win[:first][win[:first] == cv.NOTE_OFF] = cv.NO_EVENT
                if not cv.window_is_silent(win, kind):
                    out.append(win)
    elif kind == "drums":
        for notes in piece.parts.get("drums", []):
            col = cv.drum_tokens(notes, steps, report)
            for _, b in _windows_in(_drum_segments(col, gap_steps), bars, hop):
                win = col[b * 16:b * 16 + w]
                if not cv.window_is_silent(win, kind):
                    out.append(win.copy())
    else:
        mels, basses, drums = (piece.parts.get(p, []) for p in cv.TRIO_PARTS)
        combos = [(m, b, d) for m in range(len(mels)) for b in range(len(basses)) for d in range(len(drums))]
        for mi, bi, di in combos[:MAX_TRIO_COMBINATIONS]:
            cov = (_coverage(mels[mi], total_bars, settings.gap) & _coverage(basses[bi], total_bars, settings.gap)
                   & _coverage(drums[di], total_bars, settings.gap))
            cols = np.stack([cv.melody_tokens(mels[mi], steps, report, "melody", out_of_range="drop"),
                             cv.melody_tokens(basses[bi], steps, report, "bass", out_of_range="drop"),
                             cv.drum_tokens(drums[di], steps, report)], axis=-1)
            for b in range(0, total_bars - bars + 1, hop):
                if cov[b:b + bars].all():
                    out.append(cols[b * 16:b * 16 + w].copy())
    return out


# ----------------------------------------------------------------- pieces from the sources
def midi_files(folder: str) -> list[str]:
    out = []
    for dirpath, dirnames, names in os.walk(folder):
        dirnames.sort()
        for n in sorted(names):
            if MIDI.matches(n):
                out.append(os.path.join(dirpath, n))
    return out


def _source_files(what: str, source: str, collections: tuple[str, ...], settings: DataSettings) -> list[str]:
    """The files a folder or corpus source reads, in the order the windows are kept."""
    if what == "folder":
        files = midi_files(source)
        return files[:settings.limit_files] if settings.limit_files else files
    from core.data import corpus

    return corpus.corpus_files(collections, settings.limit_files)


def song_piece(song, source: str, kind: str, notes_by_track: dict | None = None) -> tuple[Piece | None, str | None]:
    """The parts of an imported Song for a kind; (None, reason) when it has none.

    notes_by_track: the song's notes per track id when the caller has them already (the folder
    scan asks for three kinds of one song)."""
    bar_beats = {ts.beats_per_bar for ts in song.time_signatures}
    if not bar_beats <= {2.0, 4.0}:
        return None, "not in 4/4 or 2/4"
    if notes_by_track is not None:
        pass
    elif song.sections:
        notes_by_track = song.rendered_notes()
    else:
        notes_by_track = {}
        for clip in song.clips.values():
            for tid, ns in clip.notes.items():
                notes_by_track.setdefault(tid, []).extend(ns)
    parts: dict[str, list[list[Note]]] = {"melody": [], "bass": [], "drums": []}
    for track in song.tracks:
        ns = notes_by_track.get(track.id) or []
        if not ns:
            continue
        if track.is_drum:
            parts["drums"].append(ns)
        elif track.role == "bass":
            parts["bass"].append(ns)
        elif track.role == "melody" or (track.role == "other" and track.program in MEL_PROGRAMS):
            parts["melody"].append(ns)
    need = cv.PARTS[kind]
    if not all(parts[p] for p in need):
        missing = [p for p in need if not parts[p]]
        return None, f"no {' / '.join(missing)} track"
    length = max(n.end for p in parts.values() for ns in p for n in ns)
    return Piece(source, os.path.basename(source), length, {p: parts[p] for p in need}), None


def _folder_pieces(folder: str, settings: DataSettings, token, stats: dict) -> list[Piece]:
    files = _source_files("folder", folder, (), settings)
    pieces = []
    for i, path in enumerate(files):
        _progress(token, 0.8 * i / max(len(files), 1), f"reading {os.path.basename(path)}")
        pieces.extend(_folder_file_pieces(path, folder, settings, stats))
    return pieces


def _folder_file_pieces(path: str, folder: str, settings: DataSettings, stats: dict) -> list[Piece]:
    from core.errors import MidiFileError
    from core.midi_io import import_midi

    try:
        song = import_midi(path)
    except MidiFileError as exc:
        _count(stats, "skipped", "unreadable MIDI file")
        stats.setdefault("unreadable", []).append(exc.message)
        return []
    piece, reason = song_piece(song, os.path.relpath(path, folder), settings.kind)
    if piece is None:
        _count(stats, "skipped", reason)
        return []
    return [piece]


def _corpus_pieces(collections: tuple[str, ...], settings: DataSettings, token, stats: dict) -> list[Piece]:
    from core.data import corpus, drum_patterns, harmony

    if settings.kind == "drums":
        pieces = []
        for genre in drum_patterns.GENRE_NAMES:
            for j in range(settings.drum_sequences):
                notes = drum_patterns.generate(genre, settings.drum_bars, seed=(settings.seed, j))
                pieces.append(Piece(f"generated/{genre}/{j}", f"{genre} {j}", settings.drum_bars * 4.0,
                                    {"drums": [notes]}))
        stats["generated_drum_sequences"] = len(pieces)
        return pieces
    files = corpus.corpus_files(collections, settings.limit_files)
    pieces = []
    for i, path in enumerate(files):
        _progress(token, 0.8 * i / max(len(files), 1), f"reading {os.path.basename(path)}")
        pieces.extend(_corpus_file_pieces(path, settings, stats))
    return pieces


def _corpus_file_pieces(path: str, settings: DataSettings, stats: dict, use_cache: bool = True) -> list[Piece]:
    """The pieces of the tunes in one corpus file (each tune with its bass and drums for trios)."""
    from core.data import corpus, drum_patterns, harmony

    result = corpus.load_file(path, use_cache=use_cache)
    for reason, n in result.skipped.items():
        _count(stats, "skipped", reason, n)
    pieces = []
    for tune in result.tunes:
        parts: dict[str, list[list[Note]]] = {"melody": [tune.melody]}
        if settings.kind == "trio":
            bass = tune.bass
            if bass is None:
                bass = harmony.root_bass(tune.melody, tune.length, seed=drum_patterns.seed_from(tune.id))
                _count(stats, "generated", "root bass")
            genre, phrase = fitting_groove(tune)
            _count(stats, "drum_genres", genre)
            # drums start with the first full bar (none under a pickup), phrases from there
            first_bar = math.ceil(tune.shift / 4.0 - 1e-9) * 4.0
            drums = drum_patterns.generate(genre, int((tune.length - first_bar) // 4), seed=tune.id,
                                           phrase_bars=phrase, start_beat=first_bar)
            parts.update(bass=[bass], drums=[drums])
        pieces.append(Piece(tune.source, tune.title, tune.length, parts))
    return pieces


# Genres that suit each kind of tune: slow chorales get laid-back grooves, 2/4 reels and
# polkas driving ones, 4/4 hornpipes, marches and strathspeys (often dotted) straight or swung.
CHORALE_GROOVES = ("half-time", "hip-hop", "reggae", "bossa nova")
TWO_FOUR_GROOVES = ("rock", "disco", "house", "drum and bass", "funk")
FOUR_FOUR_GROOVES = ("rock", "shuffle", "funk", "hip-hop", "bossa nova")


def fitting_groove(tune) -> tuple[str, int]:
    """(genre, phrase length in 4/4 bars) for the drums under a corpus tune, stable per tune."""
    from core.data import drum_patterns

    if tune.bass is not None:  # chorales: phrases of two 4/4 bars between fermatas, in fours
        return drum_patterns.pick_genre(tune.id, CHORALE_GROOVES), 4
    if tune.bar_beats == 2.0:  # eight 2/4 bars make a phrase: four 4/4 bars
        return drum_patterns.pick_genre(tune.id, TWO_FOUR_GROOVES), 4
    return drum_patterns.pick_genre(tune.id, FOUR_FOUR_GROOVES), 8


# ----------------------------------------------------------------- building
def parse_source(source: str) -> tuple[str, tuple[str, ...]]:
    """("folder", ()) or ("corpus", collections) from a source string."""
    from core.data.corpus import COLLECTIONS, FOLK

    s = str(source)
    if s == "corpus" or s.startswith("corpus:"):
        names = tuple(x.strip() for x in s[7:].split(",") if x.strip()) if ":" in s else FOLK + ("chorales",)
        if "folk" in names:
            names = tuple(n for n in names if n != "folk") + FOLK
        unknown = [n for n in names if n not in COLLECTIONS and n != "drums"]
        if unknown:
            raise UserError(f'Unknown corpus collection(s) {", ".join(unknown)} in "{s}". '
                            f'Known: {", ".join(COLLECTIONS)}, folk, drums.')
        return "corpus", tuple(n for n in names if n != "drums")
    return "folder", ()


def _cache_key(source: str, settings: DataSettings) -> str:
    what, collections = parse_source(source)
    entries = []
    if what == "folder":
        files = midi_files(source)
        if settings.limit_files:
            files = files[:settings.limit_files]
        for p in files:
            st = os.stat(p)
            entries.append((os.path.relpath(p, source), st.st_size, st.st_mtime_ns))
        origin = os.path.abspath(source)
    elif settings.kind != "drums":
        from core.data import corpus

        import music21

        for p in corpus.corpus_files(collections, settings.limit_files):
            st = os.stat(p)
            entries.append((os.path.relpath(p, corpus.corpus_root()), st.st_size, st.st_mtime_ns))
        origin = f"music21 {music21.__version__} {collections}"
    else:
        origin = "generated drums"
    blob = json.dumps({"v": DATASET_VERSION, "origin": origin, "files": entries,
                       "settings": dataclasses.asdict(settings)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def held_out_sources(sources: list[str], fraction: float) -> set[str]:
    """A stable choice of held-out sources: the lowest hashes, at least one when there are two or more."""
    uniq = sorted(set(sources), key=lambda s: hashlib.sha1(s.encode()).hexdigest())
    if fraction <= 0 or len(uniq) < 2:
        return set()
    n = min(max(1, int(round(fraction * len(uniq)))), len(uniq) - 1)
    return set(uniq[:n])


def build_dataset(source: str, kind: str, token=None, *, bars: int | None = None, hop_bars: int = 1,
                  held_out: float = 0.1, gap_bars: int | None = None, dedup: bool = True,
                  limit_files: int | None = None, drum_sequences: int = 40, drum_bars: int = 16,
                  seed: int = 0, use_cache: bool = True, jobs: int | None = None) -> Dataset:
    """Windows for `kind` (melody, drums, trio) from a MIDI folder or "corpus[:collections]".

    A job: `token` (core.jobs.JobToken or None) gets progress and can cancel. Raises UserError
    when the folder is missing or yields no windows.
    `jobs` (None: all in memory, in this process): read the files in that many processes and
    stream the windows to disk (build_streamed); the result is the same dataset, memory-mapped.
    """
    cv._check_kind(kind)
    settings = DataSettings(kind, bars or cv.DEFAULT_BARS[kind], hop_bars, held_out, gap_bars, dedup,
                            limit_files, drum_sequences, drum_bars, seed)
    what, collections = parse_source(source)
    if what == "folder":
        if not os.path.isdir(source):
            raise UserError(f'The data folder "{source}" does not exist or is not a folder.')
        if not midi_files(source):
            raise UserError(f'The data folder "{source}" holds no MIDI files ({", ".join(MIDI.extensions)}).')
    _progress(token, 0.0, "checking the dataset cache")
    cache_file = None
    if use_cache:
        from core.paths import cache_dir

        folder = os.path.join(str(cache_dir()), "datasets")
        os.makedirs(folder, exist_ok=True)
        cache_file = os.path.join(folder, _cache_key(source, settings) + ".npz")
        if os.path.isdir(cache_file[:-4] + ".d"):  # written by a streamed build
            try:
                ds = Dataset.load_dir(cache_file[:-4] + ".d")
                ds.stats["from_cache"] = True
                _progress(token, 1.0, "dataset loaded from the cache")
                return ds
            except (OSError, ValueError, KeyError):
                shutil.rmtree(cache_file[:-4] + ".d", ignore_errors=True)
        if os.path.exists(cache_file):
            try:
                ds = Dataset.load(cache_file)
                ds.stats["from_cache"] = True
                _progress(token, 1.0, "dataset loaded from the cache")
                return ds
            except (OSError, ValueError, KeyError):
                pass  # rebuilt below
    stats: dict = {"source": str(source), "settings": dataclasses.asdict(settings)}
    if jobs is not None and not (what == "corpus" and kind == "drums"):  # generated drums: nothing to read
        if cache_file:
            out = cache_file[:-4] + ".d"
        else:
            out = tempfile.mkdtemp(prefix="latent-dataset-")
            atexit.register(shutil.rmtree, out, True)
        ds = build_streamed(what, source, collections, settings, out, jobs, token, stats)
        ds.stats["from_cache"] = False
        _progress(token, 1.0, ds.summary())
        return ds
    if what == "folder":
        pieces = _folder_pieces(source, settings, token, stats)
    else:
        pieces = _corpus_pieces(collections, settings, token, stats)
    report = cv.ConversionReport()
    per_source: list[tuple[str, list[np.ndarray]]] = []
    for i, piece in enumerate(pieces):
        if i % 20 == 0:
            _progress(token, 0.8 + 0.15 * i / max(len(pieces), 1), f"cutting windows ({i}/{len(pieces)})")
        per_source.append((piece.source, piece_windows(piece, settings, report)))
    stats["dropped_notes"] = report.counts()
    stats["windows_before_dedup"] = sum(len(w) for _, w in per_source)
    ds = _assemble(per_source, settings, stats)
    if len(ds.train) + len(ds.held_out) == 0:
        skipped = "; ".join(f"{n} {r}" for r, n in stats.get("skipped", {}).items())
        raise UserError(f'No {settings.bars}-bar {kind} windows could be made from "{source}"'
                        + (f" (skipped: {skipped})." if skipped else "."))
    if cache_file:
        try:
            ds.save(cache_file)
        except OSError:
            pass  # a missing cache costs time only
    stats["from_cache"] = False
    _progress(token, 1.0, ds.summary())
    return ds


def _assemble(per_source, settings: DataSettings, stats: dict) -> Dataset:
    sources = sorted({s for s, _ in per_source})
    index = {s: i for i, s in enumerate(sources)}
    held = held_out_sources([s for s, w in per_source if w], settings.held_out)
    splits = {"train": ([], []), "held_out": ([], [])}
    seen: dict[str, set[bytes]] = {"train": set(), "held_out": set()}
    dup = 0
    for name in ("train", "held_out"):
        for src, wins in per_source:
            if (src in held) != (name == "held_out"):
                continue
            for w in wins:
                w = w.astype(np.int16)
                key = w.tobytes()
                if settings.dedup and (key in seen[name] or (name == "held_out" and key in seen["train"])):
                    dup += 1
                    continue
                seen[name].add(key)
                splits[name][0].append(w)
                splits[name][1].append(index[src])
    shape = (0, settings.steps) + ((3,) if settings.kind == "trio" else ())

    def stack(ws):
        return np.stack(ws) if ws else np.zeros(shape, np.int16)

    stats["duplicates_removed"] = dup
    stats["sources_used"] = len({s for s, w in per_source if w})
    stats["held_out_sources"] = sorted(held)
    return Dataset(settings.kind, settings.bars, stack(splits["train"][0]), stack(splits["held_out"][0]),
                   np.asarray(splits["train"][1], np.int32), np.asarray(splits["held_out"][1], np.int32),
                   sources, stats)


def _progress(token, fraction: float, message: str) -> None:
    if token is not None:
        token.progress(fraction, message)


def _count(stats: dict, group: str, key: str, n: int = 1) -> None:
    d = stats.setdefault(group, {})
    d[key] = d.get(key, 0) + n


# ----------------------------------------------------------------- parallel, streamed building
WINDOW_HASH_BYTES = 8
STREAM_CHUNK_BYTES = 1 << 20  # read from the stream at a time when the split arrays are written


def window_hashes(windows: np.ndarray) -> np.ndarray:
    """A 64-bit digest per window (uint64), what the streamed build deduplicates on instead of
    keeping every window's bytes in memory (two different windows share one with probability
    about n^2 / 2^65: none in a 170k-file set)."""
    rows = np.ascontiguousarray(windows, np.int16).reshape(len(windows), -1)
    return np.array([int.from_bytes(hashlib.blake2b(r.tobytes(), digest_size=WINDOW_HASH_BYTES).digest(), "little")
                     for r in rows], np.uint64)


def _file_windows(task) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], dict, dict]:
    """One file, in a worker process: ([(source, windows int16, hashes)], stats, dropped-note counts)."""
    what, path, root, settings, parse_cache = task
    stats: dict = {}
    if what == "folder":
        pieces = _folder_file_pieces(path, root, settings, stats)
    else:
        pieces = _corpus_file_pieces(path, settings, stats, use_cache=parse_cache)
    report = cv.ConversionReport()
    shape = (0, settings.steps) + ((3,) if settings.kind == "trio" else ())
    out = []
    for piece in pieces:
        wins = piece_windows(piece, settings, report)
        arr = np.stack(wins).astype(np.int16) if wins else np.zeros(shape, np.int16)
        out.append((piece.source, arr, window_hashes(arr)))
    return out, stats, report.counts()


def _merge_stats(into: dict, part: dict) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            for k, n in value.items():
                _count(into, key, k, n)
        elif isinstance(value, list):
            into.setdefault(key, []).extend(value)
        else:
            into[key] = value


def _results_in_order(tasks, jobs: int):
    """_file_windows of each task, in task order; with jobs > 1 from a pool of `jobs` processes
    (spawned: the parent may hold threads, TensorFlow or Qt), with at most 4 * jobs files in
    flight so finished results never pile up in memory."""
    if jobs <= 1:
        for t in tasks:
            yield _file_windows(t)
        return
    import collections
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = collections.deque()
        it = iter(tasks)
        try:
            for t in it:
                pending.append(pool.submit(_file_windows, t))
                if len(pending) >= 4 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def build_streamed(what: str, source: str, collections: tuple[str, ...], settings: DataSettings, out: str,
                   jobs: int, token=None, stats: dict | None = None, parse_cache: bool = True) -> Dataset:
    """The dataset build_dataset makes, built for collections that do not fit in memory.

    The files are read by `jobs` processes; each file's windows are appended to a stream file on
    disk as they arrive, and only a source index and a 64-bit digest per window stay in memory.
    Then the split by source (held_out_sources), the deduplication (on the digests: train first,
    then held-out windows that are new to both) and the copying into out/train.npy and
    out/held_out.npy run over the stream in chunks. The folder is written as out.partial and
    renamed when whole; the result is memory-mapped (Dataset.load_dir).
    """
    stats = {} if stats is None else stats
    files = _source_files(what, source, collections, settings)
    root = source if what == "folder" else ""
    work = out + ".partial"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    window_shape = (settings.steps,) + ((3,) if settings.kind == "trio" else ())
    row_bytes = int(np.prod(window_shape)) * 2
    source_ids: dict[str, int] = {}
    with_windows: set[int] = set()
    window_source, digests = array.array("i"), array.array("Q")  # 12 bytes a window, nothing per file
    dropped: dict[str, int] = {}
    total = 0
    try:
        with open(os.path.join(work, "stream.bin"), "wb") as stream:
            tasks = ((what, path, root, settings, parse_cache) for path in files)
            for i, (pieces, part_stats, part_dropped) in enumerate(_results_in_order(tasks, jobs)):
                _progress(token, 0.85 * i / max(len(files), 1),
                          f"reading files in {jobs} process{'es' if jobs > 1 else ''} ({i}/{len(files)}, "
                          f"{total} windows)")
                _merge_stats(stats, part_stats)
                for k, n in part_dropped.items():
                    dropped[k] = dropped.get(k, 0) + n
                for src, wins, hashes in pieces:
                    sid = source_ids.setdefault(src, len(source_ids))
                    if len(wins):
                        with_windows.add(sid)
                        stream.write(np.ascontiguousarray(wins, np.int16).tobytes())
                        window_source.extend([sid] * len(wins))
                        digests.extend(hashes.tolist())
                        total += len(wins)
        stats["dropped_notes"] = dropped
        stats["windows_before_dedup"] = total
        names = list(source_ids)
        sources = sorted(names)
        index = np.array(_positions(names, sources), np.int32)  # first-seen id -> sorted position
        held = held_out_sources([names[i] for i in sorted(with_windows)], settings.held_out)
        is_held_source = np.array([n in held for n in names], bool)
        src = np.frombuffer(window_source, np.int32) if len(window_source) else np.zeros(0, np.int32)
        dig = np.frombuffer(digests, np.uint64) if len(digests) else np.zeros(0, np.uint64)
        del window_source, digests
        held_rows = is_held_source[src] if len(src) else np.zeros(0, bool)
        keep = np.ones(total, bool)
        if settings.dedup:
            train_pos = np.nonzero(~held_rows)[0]
            _, first = np.unique(dig[train_pos], return_index=True)
            keep[train_pos] = False
            keep[train_pos[first]] = True
            held_pos = np.nonzero(held_rows)[0]
            _, first = np.unique(dig[held_pos], return_index=True)
            keep[held_pos] = False
            fresh = held_pos[first]
            keep[fresh[~np.isin(dig[fresh], dig[train_pos])]] = True
        stats["duplicates_removed"] = int(total - keep.sum())
        stats["sources_used"] = len(with_windows)
        stats["held_out_sources"] = sorted(held)
        _progress(token, 0.9, "writing the training and held-out windows")
        for name, rows in (("train", keep & ~held_rows), ("held_out", keep & held_rows)):
            # plain appends after the .npy header (a memory map would keep the written pages resident)
            step = max(1, STREAM_CHUNK_BYTES // row_bytes)
            with open(os.path.join(work, name + ".npy"), "wb") as out_file, \
                    open(os.path.join(work, "stream.bin"), "rb") as f:
                np.lib.format.write_array_header_1_0(out_file, {
                    "descr": np.lib.format.dtype_to_descr(np.dtype(np.int16)), "fortran_order": False,
                    "shape": (int(rows.sum()),) + window_shape})
                for a in range(0, total, step):
                    n = min(step, total - a)
                    chunk = np.frombuffer(f.read(n * row_bytes), np.int16).reshape((n,) + window_shape)
                    out_file.write(np.ascontiguousarray(chunk[rows[a:a + n]]).tobytes())
            np.save(os.path.join(work, name + "_source.npy"), index[src[rows]] if len(src) else np.zeros(0, np.int32))
        os.remove(os.path.join(work, "stream.bin"))
        kept = int(keep.sum())
        if kept == 0:
            skipped = "; ".join(f"{n} {r}" for r, n in stats.get("skipped", {}).items())
            raise UserError(f'No {settings.bars}-bar {settings.kind} windows could be made from "{source}"'
                            + (f" (skipped: {skipped})." if skipped else "."))
        with open(os.path.join(work, "meta.json"), "w", encoding="utf-8") as f:
            json.dump({"kind": settings.kind, "bars": settings.bars, "sources": sources, "stats": stats,
                       "version": DATASET_VERSION}, f)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Dataset.load_dir(out)


def _positions(names: list[str], sources: list[str]) -> list[int]:
    where = {n: i for i, n in enumerate(sources)}
    return [where[n] for n in names]
