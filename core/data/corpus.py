"""The built-in corpus: folk melodies and Bach chorales that ship inside the music21 package.

No download: music21 installs its corpus files with the package. Collections used:

- "ryans":      Ryan's Mammoth Collection (about 1,059 ABC files, one tune each)
- "oneills":    O'Neill's Music of Ireland, 1850 (39 ABC files of about 50 tunes)
- "essen":      the Essen folk song collection (31 ABC files of hundreds of songs)
- "nottingham": the Nottingham folk music database (when the corpus holds it)
- "chorales":   433 Bach chorales (MusicXML): the Soprano part as the melody, the Bass part as the
                 bass (by part name; some chorales add horns or oboes)

Each score becomes a `Tune` with note times in beats (quarter notes), tempo-free. Repeats are
written out (music21's expandRepeats; the score is used as written if that fails), tied notes
are merged, chords keep their top note, grace notes are skipped. A pickup bar is shifted so
that the first full bar starts on a 4/4 bar line. The models work in 4/4, so only tunes whose
bar is 2 or 4 beats (2/4, 4/4, 2/2, C) are kept; jigs (6/8), waltzes (3/4) and the like are
left out and counted. Folk tunes get no bass here; `harmony.root_bass` makes one on request.

Parsing is slow (an O'Neill file takes seconds, an Essen file much longer), so each file's tunes
are cached as JSON under the cache folder (`core.paths.cache_dir()/corpus`, redirected with
LATENT_STUDIO_CACHE), keyed on the file's path, size, mtime and the converter version.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field

from core.song import Note, sort_notes

CORPUS_VERSION = 4
COLLECTIONS = {
    "ryans": "ryansMammoth",
    "oneills": "oneills1850",
    "essen": "essenFolksong",
    "nottingham": "nottingham-dataset",
    "chorales": "bach",
}
FOLK = ("ryans", "oneills", "essen", "nottingham")
ALLOWED_BAR_BEATS = (2.0, 4.0)


@dataclass
class Tune:
    source: str  # corpus-relative path, e.g. "ryansMammoth/7thRegimentReel.abc"
    index: int  # position of the tune in its file (ABC files hold many)
    title: str
    bar_beats: float  # the notated bar (2 or 4 beats)
    length: float  # beats, whole 4/4 bars
    melody: list[Note]
    bass: list[Note] | None = None  # real bass line (chorales); None for folk tunes
    shift: float = 0.0  # beats added at the start to put the first full bar on a bar line

    @property
    def id(self) -> str:
        return f"{self.source}#{self.index}"

    def to_dict(self) -> dict:
        d = {"source": self.source, "index": self.index, "title": self.title, "bar_beats": self.bar_beats,
             "length": self.length, "shift": self.shift, "melody": [list(n) for n in self.melody]}
        d["bass"] = None if self.bass is None else [list(n) for n in self.bass]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Tune":
        return cls(d["source"], d["index"], d["title"], d["bar_beats"], d["length"],
                   [Note(*n) for n in d["melody"]],
                   None if d["bass"] is None else [Note(*n) for n in d["bass"]], d.get("shift", 0.0))


@dataclass
class FileResult:
    tunes: list[Tune] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def corpus_root() -> str:
    import music21  # only needed here; a light import (no parsing)

    return os.path.join(os.path.dirname(music21.__file__), "corpus")


def corpus_files(collections=("ryans", "oneills", "essen", "nottingham", "chorales"),
                 limit: int | None = None) -> list[str]:
    """Absolute paths of the collections' files, sorted; `limit` files in all at most.

    With a limit the collections take turns, so a small limit still samples each of them.
    """
    root = corpus_root()
    per = []
    for name in collections:
        if name not in COLLECTIONS:
            raise ValueError(f"unknown corpus collection {name!r}; expected some of {tuple(COLLECTIONS)}")
        folder = os.path.join(root, COLLECTIONS[name])
        files = []
        if os.path.isdir(folder):
            for dirpath, _, names in os.walk(folder):
                for n in names:
                    if n.lower().endswith((".abc", ".mxl", ".xml", ".musicxml", ".krn")):
                        files.append(os.path.join(dirpath, n))
        per.append(sorted(files))
    out = []
    i = 0
    while any(i < len(f) for f in per):
        for f in per:
            if i < len(f):
                out.append(f[i])
        i += 1
    return out[:limit] if limit is not None else out


def _cache_path(path: str) -> str:
    from core.paths import cache_dir

    st = os.stat(path)
    rel = os.path.relpath(path, corpus_root())
    key = hashlib.sha256(f"{rel}|{st.st_size}|{st.st_mtime_ns}|{CORPUS_VERSION}".encode()).hexdigest()[:24]
    folder = os.path.join(str(cache_dir()), "corpus")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{key}.json")


def load_file(path: str, use_cache: bool = True) -> FileResult:
    """The tunes of one corpus file, from the cache when it holds them."""
    cache = _cache_path(path) if use_cache else None
    if cache and os.path.exists(cache):
        try:
            with open(cache, encoding="utf-8") as f:
                d = json.load(f)
            return FileResult([Tune.from_dict(t) for t in d["tunes"]], d.get("skipped", {}))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is rebuilt
    result = parse_file(path)
    if cache:
        from core.atomic_write import atomic_write_bytes

        data = json.dumps({"tunes": [t.to_dict() for t in result.tunes], "skipped": result.skipped})
        try:
            atomic_write_bytes(cache, data.encode("utf-8"))
        except OSError:
            pass  # no cache is slower, not wrong
    return result


def parse_file(path: str) -> FileResult:
    """Parse one corpus file with music21 (slow) into tunes."""
    from music21 import converter, stream

    rel = os.path.relpath(path, corpus_root())
    result = FileResult()
    try:
        parsed = converter.parse(path)
    except Exception:  # noqa: BLE001 - music21 raises many kinds on odd files
        result.skip("unreadable file")
        return result
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    is_chorale = rel.replace(os.sep, "/").startswith(COLLECTIONS["chorales"] + "/")
    for i, score in enumerate(scores):
        try:
            tune = _score_to_tune(score, rel, i, is_chorale, result)
        except Exception:  # noqa: BLE001 - a damaged tune must not stop the corpus
            result.skip("could not convert")
            continue
        if tune is not None:
            result.tunes.append(tune)
    return result


def _score_to_tune(score, rel: str, index: int, is_chorale: bool, result: FileResult) -> Tune | None:
    from music21 import stream

    try:
        expanded = score.expandRepeats()
    except Exception:  # noqa: BLE001 - malformed repeat marks: use the score as written
        expanded = score
    parts = list(expanded.parts) if expanded.parts else [expanded]
    if is_chorale:
        if len(parts) < 2:
            result.skip("chorale without separate parts")
            return None
        mel_part, bass_part = _named_part(parts, "soprano", 0).stripTies(), _named_part(parts, "bass", -1).stripTies()
    else:
        mel_part, bass_part = parts[0].stripTies(), None
    measures = list(mel_part.getElementsByClass(stream.Measure))
    if not measures:
        result.skip("no bars")
        return None
    layout = measure_layout([(float(m.barDuration.quarterLength), float(m.duration.quarterLength),
                              float(getattr(m, "paddingLeft", 0.0) or 0.0)) for m in measures])
    if isinstance(layout, str):
        result.skip(layout)
        return None
    bar, starts = layout
    melody = _measure_notes(measures, starts)
    if len(melody) < 4:
        result.skip("fewer than 4 notes")
        return None
    bass = None
    if bass_part is not None:
        bass_measures = list(bass_part.getElementsByClass(stream.Measure))
        if len(bass_measures) != len(measures):
            result.skip("parts with different bars")
            return None
        bass = _measure_notes(bass_measures, starts)
    end = max(n.end for n in melody + (bass or []))
    length = max(4.0, math.ceil(end / 4.0 - 1e-9) * 4.0)
    title = ""
    md = getattr(score, "metadata", None)
    if md is not None and md.title:
        title = str(md.title)
    return Tune(rel.replace(os.sep, "/"), index, title or os.path.basename(rel), bar, length, melody, bass,
                starts[0])


def _named_part(parts, name: str, fallback: int):
    """The part called `name` (some chorales add horns or oboes above the choir), else parts[fallback]."""
    for p in parts:
        if (p.partName or "").strip().lower() == name:
            return p
    return parts[fallback]


def measure_layout(measures: list[tuple[float, float, float]]) -> tuple[float, list[float]] | str:
    """Where each notated bar goes on the 4/4 grid: (main bar length, start beat per bar).

    `measures` holds (notated bar length, filled length, left padding) per bar. The main bar is
    the most common notated length; it must be 2 or 4 beats, and at most a tenth of the bars (or
    two) may have another notated length, else a reason (str) is returned. A short first bar is
    a pickup: it ends on the first 4/4 bar line. Short bars later on (a repeat's shortened last
    bar, an odd 1/8 bar some ABC files use) are written as they come, and the next full bar
    starts on the next bar line, so the downbeats stay on the grid.
    """
    eps = 1e-6
    if not measures:
        return "no bars"
    counts: dict[float, int] = {}
    for bar_len, _, _ in measures:
        counts[bar_len] = counts.get(bar_len, 0) + 1
    main = max(counts, key=lambda b: (counts[b], b))
    if main not in ALLOWED_BAR_BEATS:
        return f"bar of {main:g} beats (not 2 or 4)"
    if len(measures) - counts[main] > max(2, len(measures) // 10):
        return "changes time signature"
    starts = []
    first_len = measures[0][1] if measures[0][2] <= 0 else main - measures[0][2]
    if len(measures) > 1 and eps < first_len < main - eps:  # a pickup
        pos = 4.0 - first_len % 4.0
        starts.append(pos)
        pos += first_len
        rest = measures[1:]
    else:
        pos = 0.0
        rest = measures
    for bar_len, filled, _ in rest:
        full = abs(bar_len - main) < eps and filled >= main - eps
        if full:
            off = pos % main
            if off > eps and main - off > eps:
                pos += main - off  # back onto the bar line
        starts.append(pos)
        pos += filled if filled > eps else bar_len
    return main, starts


def _measure_notes(measures, starts: list[float]) -> list[Note]:
    from music21 import harmony as m21harmony

    notes = []
    for m, base in zip(measures, starts):
        for el in m.flatten().notes:
            if isinstance(el, m21harmony.Harmony):  # chord symbols above the staff are not notes
                continue
            ql = float(el.duration.quarterLength)
            if ql <= 0:  # grace notes
                continue
            start = base + float(el.offset)
            pitch = max(p.midi for p in el.pitches) if el.isChord else el.pitch.midi
            notes.append(Note(int(pitch), start, start + ql, 90))
    return sort_notes(notes)


def load_tunes(collections=("ryans", "oneills", "essen", "nottingham", "chorales"), limit_files: int | None = None,
               token=None, use_cache: bool = True, files: list[str] | None = None
               ) -> tuple[list[Tune], dict[str, int]]:
    """Tunes of the collections (or of the given corpus files) and the counts of what was skipped."""
    paths = files if files is not None else corpus_files(collections, limit_files)
    tunes: list[Tune] = []
    skipped: dict[str, int] = {}
    for i, p in enumerate(paths):
        if token is not None:
            token.progress(i / max(len(paths), 1), f"reading {os.path.basename(p)}")
        r = load_file(p, use_cache)
        tunes.extend(r.tunes)
        for k, v in r.skipped.items():
            skipped[k] = skipped.get(k, 0) + v
    return tunes, skipped
