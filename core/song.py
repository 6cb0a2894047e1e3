"""The document model: Note, Track, Clip, Section and Song.

Times are in beats (quarter notes) from the start of the clip or song. The Song is the
single source of truth; widgets repaint from it. Every edit goes through a Song method,
which announces the change to subscribers (plain callables, no Qt), so that undo commands
and views stay in step with the data.
"""
from __future__ import annotations

import base64
import bisect
import copy
import dataclasses
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple

STEPS_PER_QUARTER = 4
ROLES = ("melody", "bass", "drums", "other")
ORIGINS = ("sampled", "imported", "interpolated", "similar", "attribute", "section space", "drawn",
           "continued", "infilled")


class Note(NamedTuple):
    """One note. Immutable, so a list of notes can be copied by reference for undo."""

    pitch: int
    start: float  # beats
    end: float  # beats
    velocity: int = 80

    @property
    def duration(self) -> float:
        return self.end - self.start


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Track:
    """A named instrument part."""

    name: str
    role: str = "other"  # melody / bass / drums / other
    program: int = 0  # General MIDI program 0..127
    is_drum: bool = False
    volume: float = 1.0  # 0..1
    mute: bool = False
    solo: bool = False
    id: str = field(default_factory=lambda: new_id("trk"))

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown track role {self.role!r}; expected one of {ROLES}")


@dataclass
class Clip:
    """The notes of one musical idea, per track id, with its latent code when it has one.

    `notes` maps a track id to that track's notes (sorted by start, then pitch).
    `length` is in beats. `latent` is a list of floats (the model's z or mu), `model` names the
    model that made or encoded it, `origin` says where it came from (see ORIGINS).
    """

    name: str
    length: float
    notes: dict[str, list[Note]] = field(default_factory=dict)
    latent: list[float] | None = None
    model: str | None = None
    origin: str = "drawn"
    label: str | None = None
    id: str = field(default_factory=lambda: new_id("clip"))

    def track_notes(self, track_id: str) -> list[Note]:
        return self.notes.get(track_id, [])

    def note_count(self) -> int:
        return sum(len(v) for v in self.notes.values())

    def all_notes(self) -> Iterable[tuple[str, Note]]:
        for tid, notes in self.notes.items():
            for n in notes:
                yield tid, n


@dataclass
class Section:
    """A labelled use of a clip in the song. The clip repeats to fill `length` beats."""

    label: str
    clip_id: str | None
    start: float  # beats from the song start
    length: float  # beats
    id: str = field(default_factory=lambda: new_id("sec"))

    @property
    def end(self) -> float:
        return self.start + self.length


@dataclass
class TempoChange:
    beat: float
    bpm: float


@dataclass
class TimeSignature:
    beat: float
    numerator: int = 4
    denominator: int = 4

    @property
    def beats_per_bar(self) -> float:
        return self.numerator * 4.0 / self.denominator


def default_track(role: str) -> Track:
    """A new track for a role with the defaults the models write (bass on program 33, as Magenta)."""
    name, program, is_drum = {"melody": ("Melody", 0, False), "bass": ("Bass", 33, False),
                              "drums": ("Drums", 0, True), "other": ("Other", 0, False)}[role]
    return Track(name, role, program=program, is_drum=is_drum)


def sort_notes(notes: Iterable[Note]) -> list[Note]:
    return sorted(notes, key=lambda n: (n.start, n.pitch, n.end, n.velocity))


# ====================================================================== as plain data
# The song's content as JSON-ready data. It is both Song.snapshot() (undo checks, tests)
# and the body of a project file: core.project reads it back, checking every field, and
# writes it to disk. It lives here, with the classes it describes, so that the document
# needs nothing from the file layer.
FORMAT = "latent-studio-project"
SCHEMA = 1


def _note_row(n: Note) -> list:
    return [int(n.pitch), float(n.start), float(n.end), int(n.velocity)]


def _clip_dict(c: "Clip") -> dict:
    notes = {tid: [_note_row(n) for n in sort_notes(ns)] for tid, ns in sorted(c.notes.items()) if ns}
    return {
        "id": c.id,
        "name": c.name,
        "length": float(c.length),
        "origin": c.origin,
        "label": c.label,
        "model": c.model,
        "latent": None if c.latent is None else [float(x) for x in c.latent],
        "notes": notes,
    }


def song_to_dict(song: "Song") -> dict:
    """The song's whole content as plain data, with the project header (format, schema).

    Deterministic: equal content gives equal dicts (note lists sorted, empty note lists left
    out). The order of the clip library is content, like track order: the clips are listed in
    the order the musician sees them (`Song.clips` keeps it), so a saved or recovered song
    shows its clips as they were. Sections are listed by start.
    "loop" is present only when the song has a loop region."""
    doc = {
        "format": FORMAT,
        "schema": SCHEMA,
        "title": song.title,
        "tempos": [[float(t.beat), float(t.bpm)] for t in sorted(song.tempos, key=lambda t: t.beat)],
        "time_signatures": [[float(t.beat), int(t.numerator), int(t.denominator)]
                            for t in sorted(song.time_signatures, key=lambda t: t.beat)],
        "tracks": [{
            "id": t.id, "name": t.name, "role": t.role, "program": int(t.program),
            "is_drum": bool(t.is_drum), "volume": float(t.volume), "mute": bool(t.mute),
            "solo": bool(t.solo),
        } for t in song.tracks],
        "clips": [_clip_dict(c) for c in song.clips.values()],  # library order
        "sections": [{
            "id": s.id, "label": s.label, "clip_id": s.clip_id, "start": float(s.start),
            "length": float(s.length),
        } for s in sorted(song.sections, key=lambda s: (s.start, s.id))],
    }
    if getattr(song, "loop", None) is not None:  # written only when set (older files have none)
        doc["loop"] = [float(song.loop[0]), float(song.loop[1])]
    if getattr(song, "spaces", None):  # section spaces, written only when there are some
        doc["spaces"] = [{"model": e.model, "label": e.label, "data": base64.b64encode(e.data).decode("ascii")}
                         for _key, e in sorted(song.spaces.items())]
    return doc


def space_key(model: str, label: str) -> tuple[str, str]:
    """How the song files a section space: (model name, label trimmed and in lower case)."""
    return str(model), " ".join(str(label).split()).lower()


class Song:
    """Tempo, time signature, tracks, the clip library and the arrangement.

    Subscribers registered with `subscribe(callback)` are called as
    `callback(event: str, **details)` after every change. Events:
    "tracks", "clip_added" (clip_id; index when not added at the end), "clip_removed",
    "clip_changed" (clip_id, track_id),
    "sections", "tempo", "meta", "loop", "spaces", "reset".

    `spaces` holds the song's section spaces by (model name, label) (see `space_key`): entries
    with `model`, `label` and `data` (the .space file's bytes), core.section_space.StoredSpace.
    The song only keeps and saves them; reading them is core.section_space's business.
    """

    def __init__(self, title: str = "Untitled", tempo: float = 120.0, numerator: int = 4,
                 denominator: int = 4):
        self.title = title
        self.tempos: list[TempoChange] = [TempoChange(0.0, float(tempo))]
        self.time_signatures: list[TimeSignature] = [TimeSignature(0.0, numerator, denominator)]
        self.tracks: list[Track] = []
        self.clips: dict[str, Clip] = {}
        self.sections: list[Section] = []
        self.loop: tuple[float, float] | None = None  # the loop region (beats), when one is set
        self.spaces: dict[tuple[str, str], object] = {}  # (model, label) -> section space entry
        self._subscribers: list[Callable] = []

    # ----------------------------------------------------------------- events
    def subscribe(self, callback: Callable) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _emit(self, event: str, **details) -> None:
        for cb in list(self._subscribers):
            cb(event, **details)

    # ----------------------------------------------------------------- timing
    @property
    def tempo(self) -> float:
        return self.tempos[0].bpm

    @property
    def beats_per_bar(self) -> float:
        return self.time_signatures[0].beats_per_bar

    def set_tempo(self, bpm: float) -> None:
        if not 1.0 <= bpm <= 999.0:
            raise ValueError(f"tempo {bpm} BPM is outside 1..999")
        self.tempos[0] = TempoChange(0.0, float(bpm))
        self._emit("tempo")

    def set_time_signature(self, numerator: int, denominator: int) -> None:
        if numerator < 1 or denominator not in (1, 2, 4, 8, 16, 32):
            raise ValueError(f"invalid time signature {numerator}/{denominator}")
        self.time_signatures[0] = TimeSignature(0.0, numerator, denominator)
        self._emit("tempo")

    def beat_to_seconds(self, beat: float) -> float:
        """Seconds at a beat, following every tempo change."""
        seconds = 0.0
        changes = sorted(self.tempos, key=lambda t: t.beat)
        for i, tc in enumerate(changes):
            nxt = changes[i + 1].beat if i + 1 < len(changes) else None
            if nxt is not None and beat > nxt:
                seconds += (nxt - tc.beat) * 60.0 / tc.bpm
            else:
                return seconds + (beat - tc.beat) * 60.0 / tc.bpm
        return seconds

    def seconds_to_beat(self, seconds: float) -> float:
        beat = 0.0
        elapsed = 0.0
        changes = sorted(self.tempos, key=lambda t: t.beat)
        for i, tc in enumerate(changes):
            nxt = changes[i + 1].beat if i + 1 < len(changes) else None
            span = None if nxt is None else (nxt - tc.beat) * 60.0 / tc.bpm
            if span is not None and seconds > elapsed + span:
                elapsed += span
                beat = nxt
            else:
                return tc.beat + (seconds - elapsed) * tc.bpm / 60.0
        return beat

    # ----------------------------------------------------------------- tracks
    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    def track_for_role(self, role: str) -> Track | None:
        for t in self.tracks:
            if t.role == role:
                return t
        return None

    def add_track(self, track: Track, index: int | None = None) -> Track:
        if index is None:
            self.tracks.append(track)
        else:
            self.tracks.insert(index, track)
        self._emit("tracks")
        return track

    def remove_track(self, track_id: str) -> tuple[int, Track, dict[str, list[Note]]]:
        """Remove a track and its notes in every clip; returns what undo needs."""
        idx = next(i for i, t in enumerate(self.tracks) if t.id == track_id)
        track = self.tracks.pop(idx)
        removed = {cid: c.notes.pop(track_id) for cid, c in self.clips.items() if track_id in c.notes}
        self._emit("tracks")
        return idx, track, removed

    def update_track(self, track_id: str, **changes) -> dict:
        """Change track attributes (name, program, volume, mute, solo ...); returns the old values."""
        t = self.track(track_id)
        old = {k: getattr(t, k) for k in changes}
        for k, v in changes.items():
            if not hasattr(t, k) or k == "id":
                raise AttributeError(k)
            setattr(t, k, v)
        self._emit("tracks")
        return old

    def ensure_track(self, role: str) -> Track:
        """The first track of a role, created with sensible defaults if missing."""
        t = self.track_for_role(role)
        if t is not None:
            return t
        return self.add_track(default_track(role))

    # ----------------------------------------------------------------- clips
    # `clips` is the library in the musician's order: new clips go at the end unless an index
    # says where (a duplicate goes right after its original; undoing a removal puts a clip
    # back where it was). Project files keep this order.
    def add_clip(self, clip: Clip, index: int | None = None) -> Clip:
        """Add a clip at the end of the library, or at `index` in its order."""
        for tid in clip.notes:
            self.track(tid)  # raises KeyError for notes on an unknown track
        clip.notes = {tid: sort_notes(ns) for tid, ns in clip.notes.items()}
        if index is None or index >= len(self.clips) or clip.id in self.clips:
            # (a clip with an id the song has replaces that clip in its place)
            self.clips[clip.id] = clip
            self._emit("clip_added", clip_id=clip.id)
        else:
            items = list(self.clips.items())
            items.insert(max(int(index), 0), (clip.id, clip))
            self._put_clips(items)
            self._emit("clip_added", clip_id=clip.id, index=max(int(index), 0))
        return clip

    def set_clip_order(self, clip_ids: list[str]) -> None:
        """Put the library in this order (every clip of the song, each once)."""
        if sorted(clip_ids) != sorted(self.clips):
            raise ValueError("a new clip order must name every clip of the song once")
        self._put_clips([(cid, self.clips[cid]) for cid in clip_ids])
        self._emit("clips_reordered")

    def _put_clips(self, items: list) -> None:
        self.clips.clear()  # the same dict: whoever holds it sees the new order
        self.clips.update(items)

    def clip_index(self, clip_id: str) -> int:
        """Where a clip stands in the library's order. Raises KeyError for an unknown clip."""
        for i, cid in enumerate(self.clips):
            if cid == clip_id:
                return i
        raise KeyError(clip_id)

    def remove_clip(self, clip_id: str) -> Clip:
        """Remove a clip; sections that used it stay in the arrangement with an empty slot
        (clip_id None), so the song never names a clip it does not have."""
        clip = self.clips.pop(clip_id)
        if any(sec.clip_id == clip_id for sec in self.sections):
            self.set_sections([dataclasses.replace(sec, clip_id=None) if sec.clip_id == clip_id
                               else sec for sec in self.sections])
        self._emit("clip_removed", clip_id=clip_id)
        return clip

    def clip(self, clip_id: str) -> Clip:
        return self.clips[clip_id]

    def set_notes(self, clip_id: str, track_id: str, notes: Iterable[Note]) -> list[Note]:
        """Replace one track's notes in a clip; returns the previous list (for undo)."""
        clip = self.clips[clip_id]
        self.track(track_id)
        old = clip.notes.get(track_id, [])
        new = sort_notes(notes)
        if new:
            clip.notes[track_id] = new
        else:
            clip.notes.pop(track_id, None)
        self._emit("clip_changed", clip_id=clip_id, track_id=track_id)
        return old

    def add_notes(self, clip_id: str, track_id: str, notes: Iterable[Note]) -> list[Note]:
        clip = self.clips[clip_id]
        return self.set_notes(clip_id, track_id, list(clip.track_notes(track_id)) + list(notes))

    def remove_notes(self, clip_id: str, track_id: str, notes: Iterable[Note]) -> list[Note]:
        """Remove the given notes (one occurrence each); returns the previous list."""
        remaining = list(self.clips[clip_id].track_notes(track_id))
        for n in notes:
            remaining.remove(n)
        return self.set_notes(clip_id, track_id, remaining)

    def update_clip(self, clip_id: str, **changes) -> dict:
        """Change clip attributes (name, length, label, latent ...); returns the old values."""
        clip = self.clips[clip_id]
        old = {k: getattr(clip, k) for k in changes}
        for k, v in changes.items():
            if k in ("id", "notes") or not hasattr(clip, k):
                raise AttributeError(k)
            setattr(clip, k, v)
        self._emit("clip_changed", clip_id=clip_id, track_id=None)
        return old

    # ----------------------------------------------------------------- arrangement
    def set_sections(self, sections: list[Section]) -> list[Section]:
        """Replace the arrangement; returns the previous one (for undo)."""
        old = self.sections
        self.sections = sorted(sections, key=lambda s: s.start)
        self._emit("sections")
        return old

    def add_section(self, section: Section) -> Section:
        self.set_sections(self.sections + [section])
        return section

    def set_loop(self, start: float | None, end: float | None = None) -> tuple[float, float] | None:
        """Set the loop region in beats (None: no loop); returns the previous one (for undo)."""
        old = self.loop
        if start is None:
            self.loop = None
        else:
            if end is None or not 0.0 <= start < end:
                raise ValueError(f"a loop must end after it starts (got {start} to {end})")
            self.loop = (float(start), float(end))
        self._emit("loop")
        return old

    # ----------------------------------------------------------------- section spaces
    def set_space(self, entry) -> object | None:
        """Keep a section space entry under its (model, label); returns the one it replaces."""
        key = space_key(entry.model, entry.label)
        old = self.spaces.get(key)
        self.spaces = {**self.spaces, key: entry}
        self._emit("spaces")
        return old

    def remove_space(self, model: str, label: str) -> object:
        """Drop the section space of (model, label); returns it (KeyError when there is none)."""
        key = space_key(model, label)
        spaces = dict(self.spaces)
        entry = spaces.pop(key)
        self.spaces = spaces
        self._emit("spaces")
        return entry

    def length_beats(self) -> float:
        if self.sections:
            return max(s.end for s in self.sections)
        return max((c.length for c in self.clips.values()), default=0.0)

    def length_bars(self) -> float:
        """Bars up to the end, counted across every time-signature change."""
        from core.timemap import MeterMap

        return MeterMap(self.time_signatures).bars_at(self.length_beats())

    def rendered_notes(self) -> dict[str, list[Note]]:
        """Every note of the arrangement in song time, per track id (clips repeated to fill)."""
        out: dict[str, list[Note]] = {t.id: [] for t in self.tracks}
        for sec in self.sections:
            clip = self.clips.get(sec.clip_id) if sec.clip_id else None
            if clip is None or clip.length <= 0:
                continue
            for rep in itertools.count():
                offset = rep * clip.length
                if offset >= sec.length - 1e-9:
                    break
                for tid, notes in clip.notes.items():
                    for n in notes:
                        if n.start + offset >= sec.length - 1e-9:
                            break
                        end = min(n.end + offset, sec.length)
                        out.setdefault(tid, []).append(
                            Note(n.pitch, sec.start + n.start + offset, sec.start + end, n.velocity))
        return {tid: sort_notes(ns) for tid, ns in out.items()}

    def arranged_note_count(self) -> int:
        """How many notes the arrangement plays: `rendered_notes()` counted without building
        them (a clip repeated to fill its section counts once per repeat; the clip library's
        unplaced clips count nothing)."""
        starts: dict[str, list[float]] = {}
        total = 0
        for sec in self.sections:
            clip = self.clips.get(sec.clip_id) if sec.clip_id else None
            if clip is None or clip.length <= 0:
                continue
            if clip.id not in starts:
                starts[clip.id] = sorted(n.start for ns in clip.notes.values() for n in ns)
            first = starts[clip.id]
            for rep in itertools.count():
                offset = rep * clip.length
                if offset >= sec.length - 1e-9:
                    break
                total += bisect.bisect_left(first, sec.length - 1e-9 - offset)
        return total

    # ----------------------------------------------------------------- whole document
    def replace_with(self, other: "Song") -> None:
        """Take over another song's content (used by Open / Import), keeping subscribers."""
        subs = self._subscribers
        self.__dict__.update(copy.copy(other.__dict__))
        self._subscribers = subs
        self._emit("reset")

    def snapshot(self) -> dict:
        """A deep, comparable copy of the content (for tests and undo checks)."""
        return song_to_dict(self)

    def __repr__(self) -> str:
        return (f"Song({self.title!r}, {self.tempo:g} BPM, {len(self.tracks)} tracks, "
                f"{len(self.clips)} clips, {len(self.sections)} sections)")
