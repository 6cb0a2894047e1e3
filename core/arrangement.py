"""The arrangement: song-form templates and edits of the section list, without Qt.

A song is laid out as Sections (label, clip, start, length in beats). A section that names a
clip plays it from its start, repeated to fill the section; several sections may name the same
clip, so a chorus edited once changes at every repeat until one of them is made unique (its
clip copied). A section without a clip is an empty *slot*, waiting to be filled.

Every edit here is a pure function: it takes the current sections and returns a *new* list of
*new* Section objects, leaving the old list untouched, so an undo command can keep the old list
and put it back. Edits ripple: inserting, removing or resizing a section moves every later
section by the same amount, so sections never overlap and the gaps a song already has are kept.

Filling slots with a model:

    plan = plan_fill(song)                         # which labels need a new clip, which reuse one
    clips, parts = generation.fill_job(token, model, plan.requests, 0.5, 1)   # the model, a Job
    change = fill_change(song, plan, clips, parts) # new tracks, new clips, new sections
    apply_change(song, change)                     # (the GUI wraps this in an undo command)

The model runs in core.generation; this module imports no model code at all, so the document
side never loads the ML engine. Generated clips are keyed by part name ("melody", "bass",
"drums") until `fill_change` maps the parts onto the song's tracks (`assign_tracks`).
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

from core.errors import UserError
from core.song import Clip, Note, Section, Song, Track, default_track, new_id

EPS = 1e-6
MODEL_BAR_BEATS = 4.0  # the models think in 4/4 bars of 16 sixteenth notes
MAX_LABEL_LENGTH = 40
MAX_FORM_SECTIONS = 200

# The common section names, in the order a menu offers them.
LABELS = ("intro", "verse", "pre-chorus", "chorus", "bridge", "solo", "breakdown", "outro")

DEFAULT_FORM = "intro verse chorus verse chorus bridge chorus outro"

# Song-form templates: name -> labels in order.
FORMS: dict[str, str] = {
    "Pop: intro, verse, chorus x2, bridge, chorus, outro": DEFAULT_FORM,
    "Pop with pre-chorus": "intro verse pre-chorus chorus verse pre-chorus chorus bridge chorus outro",
    "Verse / chorus loop": "verse chorus verse chorus",
    "AABA (32-bar standard)": "verse verse bridge verse",
    "Build and drop": "intro verse breakdown chorus verse breakdown chorus outro",
}

# Bars a template gives each label when no length is asked for.
TEMPLATE_BARS = {"intro": 4, "outro": 4, "breakdown": 4}
TEMPLATE_DEFAULT_BARS = 8


# ====================================================================== forms and templates
def normalise_label(label: str) -> str:
    """A label as stored: trimmed, inner spaces single, lower case. Raises UserError if empty."""
    text = " ".join(str(label).split()).lower()
    if not text:
        raise UserError("A section needs a name (for example verse or chorus).")
    if len(text) > MAX_LABEL_LENGTH:
        raise UserError(f"The section name \"{text[:20]}...\" is too long "
                        f"(at most {MAX_LABEL_LENGTH} characters).")
    return text


def parse_form(form: str | Sequence[str]) -> list[str]:
    """Labels from a form such as "intro verse chorus" or "intro, verse, pre-chorus".

    Words are separated by spaces, commas, semicolons or pipes; a hyphen stays inside a label
    (pre-chorus). A list of labels is accepted as it is. Raises UserError for an empty form.
    """
    if isinstance(form, str):
        words = [w for w in re.split(r"[\s,;|]+", form) if w]
    else:
        words = [str(w) for w in form]
    if not words:
        raise UserError("The song form is empty: give the section names in order, "
                        f'for example "{DEFAULT_FORM}".')
    if len(words) > MAX_FORM_SECTIONS:
        raise UserError(f"The song form has {len(words)} sections; at most {MAX_FORM_SECTIONS} "
                        "are allowed.")
    return [normalise_label(w) for w in words]


def template_bars(label: str) -> int:
    return TEMPLATE_BARS.get(label, TEMPLATE_DEFAULT_BARS)


def template_sections(form: str | Sequence[str], beats_per_bar: float,
                      bars: int | Mapping[str, int] | None = None, start: float = 0.0) -> list[Section]:
    """Empty slots, one per label of the form, laid end to end from `start`.

    `bars` is one length for every section, a mapping label -> bars, or None for the template
    defaults (intro and outro 4 bars, the rest 8).
    """
    labels = parse_form(form)
    out = []
    at = float(start)
    for label in labels:
        if bars is None:
            n = template_bars(label)
        elif isinstance(bars, Mapping):
            n = bars.get(label, template_bars(label))
        else:
            n = bars
        if not (isinstance(n, (int, float)) and n > 0):
            raise UserError(f"A section must be at least one bar long (got {n} for {label}).")
        length = float(n) * beats_per_bar
        out.append(Section(label, None, at, length))
        at += length
    return out


# ====================================================================== reading the arrangement
def ordered(sections: Iterable[Section]) -> list[Section]:
    """Sections in song order (by start; ties keep their given order)."""
    return sorted(sections, key=lambda s: s.start)


def index_of(sections: Sequence[Section], section_id: str) -> int:
    for i, s in enumerate(sections):
        if s.id == section_id:
            return i
    raise UserError(f"The section {section_id} is not in the song any more.")


def find_section(sections: Sequence[Section], section_id: str) -> Section:
    return sections[index_of(sections, section_id)]


def arrangement_end(sections: Iterable[Section]) -> float:
    return max((s.end for s in sections), default=0.0)


def sections_sharing(sections: Iterable[Section], clip_id: str | None) -> list[Section]:
    """Sections that play this clip."""
    if clip_id is None:
        return []
    return [s for s in sections if s.clip_id == clip_id]


def clip_for_label(sections: Iterable[Section], label: str, skip: Iterable[str] = ()) -> str | None:
    """The clip the first section of this label plays (sections in `skip` are not asked)."""
    skip = set(skip)
    for s in ordered(sections):
        if s.label == label and s.clip_id is not None and s.id not in skip:
            return s.clip_id
    return None


def insertion_beat(sections: Sequence[Section], index: int) -> float:
    """Where a section inserted at `index` (of the ordered list) starts."""
    secs = ordered(sections)
    if index < len(secs):
        return secs[max(index, 0)].start
    return arrangement_end(secs)


# ====================================================================== edits (pure)
def _copy_all(sections: Iterable[Section]) -> list[Section]:
    return [replace(s) for s in ordered(sections)]


def _shift_from(sections: list[Section], beat: float, delta: float, skip: str | None = None) -> None:
    """Move (in place, on copies) every section starting at or after `beat` by `delta` beats."""
    for i, s in enumerate(sections):
        if s.id != skip and s.start >= beat - EPS:
            sections[i] = replace(s, start=max(0.0, s.start + delta))


def insert_section(sections: Sequence[Section], index: int, label: str, clip_id: str | None,
                   length: float) -> tuple[list[Section], Section]:
    """Insert a new section before the one at `index` (or at the end); later ones move right."""
    if length <= EPS:
        raise UserError("A section must be longer than zero.")
    out = _copy_all(sections)
    index = min(max(int(index), 0), len(out))
    at = insertion_beat(out, index)
    _shift_from(out, at, length)
    new = Section(normalise_label(label), clip_id, at, float(length))
    out.append(new)
    return ordered(out), new


def insert_at_beat(sections: Sequence[Section], beat: float, label: str, clip_id: str | None,
                   length: float) -> tuple[list[Section], Section]:
    """Insert at the section boundary nearest to `beat` (the end when past the last section)."""
    return insert_section(sections, nearest_boundary(sections, beat), label, clip_id, length)


def nearest_boundary(sections: Sequence[Section], beat: float) -> int:
    """The insertion index whose boundary is nearest to `beat`."""
    secs = ordered(sections)
    if not secs:
        return 0
    bounds = [s.start for s in secs] + [secs[-1].end]
    return min(range(len(bounds)), key=lambda i: (abs(bounds[i] - beat), i))


def remove_sections(sections: Sequence[Section], section_ids: Iterable[str],
                    ripple: bool = True) -> list[Section]:
    """Remove sections; with `ripple` the later ones move left to close the space."""
    ids = set(section_ids)
    out = _copy_all(sections)
    for sid in ids:
        index_of(out, sid)  # raises for an unknown id
    # remove from the last to the first so each shift uses the positions before it
    for s in sorted((s for s in out if s.id in ids), key=lambda s: -s.start):
        out = [x for x in out if x.id != s.id]
        if ripple:
            _shift_from(out, s.end, -s.length)
    return ordered(out)


def move_section(sections: Sequence[Section], section_id: str, new_index: int) -> list[Section]:
    """Move a section to `new_index` of the song order (0 = first); the others close up and make room."""
    secs = ordered(sections)
    moving = find_section(secs, section_id)
    rest = remove_sections(secs, [section_id])
    new_index = min(max(int(new_index), 0), len(rest))
    at = insertion_beat(rest, new_index)
    _shift_from(rest, at, moving.length)
    rest.append(replace(moving, start=at))
    return ordered(rest)


def duplicate_sections(sections: Sequence[Section],
                       section_ids: Iterable[str]) -> tuple[list[Section], list[Section]]:
    """Copies of the sections (same clip, same label) placed right after the last of them.

    Returns (new sections, the copies). The copies keep their order and spacing.
    """
    secs = ordered(sections)
    ids = set(section_ids)
    chosen = [s for s in secs if s.id in ids]
    if not chosen:
        raise UserError("Choose a section to duplicate.")
    span_start = chosen[0].start
    span_end = max(s.end for s in chosen)
    out = _copy_all(secs)
    _shift_from(out, span_end, span_end - span_start)
    copies = [Section(s.label, s.clip_id, span_end + (s.start - span_start), s.length)
              for s in chosen]
    return ordered(out + copies), copies


def resize_section(sections: Sequence[Section], section_id: str, new_length: float,
                   ripple: bool = True) -> list[Section]:
    """Change a section's length; with `ripple` the later sections move by the difference."""
    if new_length <= EPS:
        raise UserError("A section must be longer than zero.")
    out = _copy_all(sections)
    i = index_of(out, section_id)
    old = out[i]
    if ripple:
        _shift_from(out, old.end, float(new_length) - old.length, skip=old.id)
    out[i] = replace(old, length=float(new_length))
    return ordered(out)


def rename_section(sections: Sequence[Section], section_id: str, label: str) -> list[Section]:
    label = normalise_label(label)
    return [replace(s, label=label) if s.id == section_id else replace(s) for s in ordered(sections)]


def assign_clip(sections: Sequence[Section], section_ids: Iterable[str], clip_id: str | None) -> list[Section]:
    """The given sections play `clip_id` (None empties them)."""
    ids = set(section_ids)
    for sid in ids:
        index_of(sections, sid)
    return [replace(s, clip_id=clip_id) if s.id in ids else replace(s) for s in ordered(sections)]


def share_by_label(sections: Sequence[Section], section_id: str) -> list[Section]:
    """Every section with this section's label plays this section's clip."""
    src = find_section(sections, section_id)
    return [replace(s, clip_id=src.clip_id) if s.label == src.label else replace(s)
            for s in ordered(sections)]


def copy_clip(clip: Clip, name: str | None = None) -> Clip:
    """A copy of a clip with a new id (notes are immutable tuples, so the lists are copied shallowly)."""
    return Clip(name=name or clip.name, length=clip.length,
                notes={tid: list(ns) for tid, ns in clip.notes.items()},
                latent=None if clip.latent is None else list(clip.latent), model=clip.model,
                origin=clip.origin, label=clip.label)


def unique_clip_name(song: Song, base: str) -> str:
    names = {c.name for c in song.clips.values()}
    if base not in names:
        return base
    for k in range(2, 10_000):
        cand = f"{base} {k}"
        if cand not in names:
            return cand
    return f"{base} {new_id('x')}"


def make_unique(song: Song, section_id: str) -> tuple[Clip | None, list[Section]]:
    """Give one section its own copy of its clip, so editing it no longer changes the others.

    Returns (the new clip, the new sections); (None, unchanged copy) when the section already
    has a clip of its own or is an empty slot.
    """
    sec = find_section(song.sections, section_id)
    if sec.clip_id is None or sec.clip_id not in song.clips:
        return None, _copy_all(song.sections)
    if len(sections_sharing(song.sections, sec.clip_id)) < 2:
        return None, _copy_all(song.sections)
    old = song.clips[sec.clip_id]
    base = old.name.rstrip()
    clip = copy_clip(old, unique_clip_name(song, f"{base} ({sec.label})"
                                           if sec.label.lower() not in base.lower() else base))
    return clip, assign_clip(song.sections, [section_id], clip.id)


def _tile(notes, period: float, length: float) -> list[Note]:
    """Notes of a clip `period` beats long, repeated from 0 to fill `length` beats (cut there)."""
    notes = sorted(notes, key=lambda n: (n.start, n.pitch))
    if period <= EPS:
        return [n for n in notes if n.start < length - EPS]
    out = []
    for rep in range(max(math.ceil(length / period - EPS), 1)):
        offset = rep * period
        for n in notes:
            start = n.start + offset
            if start >= length - EPS:
                break
            out.append(Note(n.pitch, start, min(n.end + offset, length), n.velocity))
    return out


def replace_part(song: Song, section_id: str, track_id: str, clip_id: str) -> tuple[Clip, list[Section]]:
    """A clip dropped on one lane of a section: the section gets a new clip that keeps every
    other part of its clip and takes this lane's part from the dropped clip.

    The lane's part is the dropped clip's notes on that track, or, when it has a part on one
    other track only (a melody dropped on a lead lane), that part, unless one is drums and the
    other is not. The new clip is as long as the section's clip; when the dropped clip is
    longer, a whole number of the section clip's lengths that holds it (at most the section's
    length), so neither part is cut short. Both parts repeat to fill it. Only this section
    changes (like a drop of a whole clip); its repeats keep the old clip.

    Returns (the new clip, the new sections). Raises UserError when the dropped clip has no
    part for the lane.
    """
    sec = find_section(song.sections, section_id)
    src = song.clips.get(clip_id)
    if src is None:
        raise UserError("That clip is no longer in the library.")
    try:
        track = song.track(track_id)
    except KeyError:
        raise UserError("That track is no longer in the song.") from None
    part = src.notes.get(track_id)
    if not part:
        parts = [(tid, ns) for tid, ns in src.notes.items() if ns]
        if len(parts) == 1:
            try:
                other_drum = song.track(parts[0][0]).is_drum
            except KeyError:
                other_drum = track.is_drum
            if other_drum == track.is_drum:
                part = parts[0][1]
    if not part:
        raise UserError(f"{src.name} has no part that fits the {track.name} lane; "
                        f"drop it on the section's name to replace the whole section.")
    base = song.clips.get(sec.clip_id) if sec.clip_id else None
    base_len = base.length if base is not None and base.length > EPS else src.length
    length = base_len
    if src.length > base_len + EPS:
        reps = math.ceil(src.length / base_len - EPS)
        most = max(math.ceil(sec.length / base_len - EPS), 1)
        length = base_len * min(reps, most)
    notes = {}
    if base is not None:
        for tid, ns in base.notes.items():
            if tid != track_id and ns:
                notes[tid] = _tile(ns, base_len, length)
    notes[track_id] = _tile(part, src.length, length)
    name = f"{base.name} + {src.name}" if base is not None else src.name
    clip = Clip(unique_clip_name(song, name), length, notes, origin="drawn",
                label=(base.label if base is not None else None) or src.label)
    return clip, assign_clip(song.sections, [section_id], clip.id)


def snap_length(length: float, beats_per_bar: float, minimum_bars: float = 1.0) -> float:
    """A length rounded to whole bars (at least `minimum_bars`)."""
    bars = max(round(length / beats_per_bar), minimum_bars)
    return bars * beats_per_bar


def bars_to_fit(clip_length: float, beats_per_bar: float) -> float:
    """A section length in whole bars that holds the clip once (at least one bar)."""
    if clip_length <= EPS:
        return beats_per_bar
    return max(math.ceil(clip_length / beats_per_bar - EPS), 1) * beats_per_bar


# ====================================================================== changes to a song
@dataclass
class ArrangementChange:
    """What an arrangement edit adds and the sections it leaves; `apply_change` applies it."""

    sections: list[Section]
    new_clips: list[Clip] = field(default_factory=list)
    new_tracks: list[Track] = field(default_factory=list)


def apply_change(song: Song, change: ArrangementChange) -> list[Section]:
    """Add the change's tracks and clips, then set its sections; returns the old sections."""
    for t in change.new_tracks:
        if not any(x.id == t.id for x in song.tracks):
            song.add_track(t)
    for c in change.new_clips:
        if c.id not in song.clips:
            song.add_clip(c)
    return song.set_sections(list(change.sections))


def revert_change(song: Song, change: ArrangementChange, old_sections: list[Section]) -> None:
    """Undo `apply_change`: old sections back, the added clips and tracks removed."""
    song.set_sections(list(old_sections))
    for c in reversed(change.new_clips):
        if c.id in song.clips:
            song.remove_clip(c.id)
    for t in reversed(change.new_tracks):
        if any(x.id == t.id for x in song.tracks):
            song.remove_track(t.id)


# ====================================================================== filling slots with a model
@dataclass
class FillPlan:
    """Which sections a fill changes and how.

    requests: label -> clip length in model bars, for the labels that need a new clip.
    reuse: section id -> clip id, for sections that take the clip another section of their label
    already plays. targets: every section the fill assigns a clip to (song order).
    """

    requests: dict[str, int]
    reuse: dict[str, str]
    targets: list[str]
    replaced: dict[str, str | None] = field(default_factory=dict)  # label -> clip it replaces

    @property
    def empty(self) -> bool:
        return not self.targets


def _model_bars(length_beats: float) -> int:
    return max(int(math.ceil(length_beats / MODEL_BAR_BEATS - EPS)), 1)


def plan_fill(song: Song, section_ids: Iterable[str] | None = None, regenerate: bool = False,
              max_bars: int | None = None) -> FillPlan:
    """Plan a fill: one clip per distinct label, reused at each repeat.

    By default every empty slot is filled. With `section_ids`, only those (empty ones, unless
    `regenerate`). A label some other section already plays a clip for reuses that clip, unless
    `regenerate`: then the label gets a new clip, and every section of that label that played
    the old clip (or was empty) takes the new one. `max_bars` caps a request at the model's
    length (the clip then repeats to fill longer sections).
    """
    secs = ordered(song.sections)

    def empty(s: Section) -> bool:  # a clip deleted from the library leaves the slot empty
        return s.clip_id is None or s.clip_id not in song.clips

    if section_ids is None:
        chosen = [s for s in secs if empty(s)]
    else:
        ids = set(section_ids)
        chosen = [s for s in secs if s.id in ids]
        if not regenerate:
            chosen = [s for s in chosen if empty(s)]
    requests: dict[str, int] = {}
    reuse: dict[str, str] = {}
    targets: list[str] = []
    replaced: dict[str, str | None] = {}
    if regenerate:
        # the chosen sections' clips are replaced wherever a section of the same label plays them
        old_by_label: dict[str, set] = {}
        for s in chosen:
            old_by_label.setdefault(s.label, set()).add(s.clip_id)
        for s in secs:
            olds = old_by_label.get(s.label)
            if olds is not None and (s.clip_id in olds or empty(s)):
                targets.append(s.id)
                bars = _model_bars(s.length)
                requests[s.label] = max(requests.get(s.label, 0), bars)
                if not empty(s):
                    replaced.setdefault(s.label, s.clip_id)
    else:
        for s in chosen:
            existing = clip_for_label(secs, s.label, skip=[x.id for x in chosen])
            if existing is not None and existing in song.clips:
                reuse[s.id] = existing
            else:
                requests[s.label] = max(requests.get(s.label, 0), _model_bars(s.length))
            targets.append(s.id)
    if max_bars is not None:
        requests = {k: min(v, int(max_bars)) for k, v in requests.items()}
    return FillPlan(requests, reuse, targets, replaced)


def label_title(label: str) -> str:
    return label[:1].upper() + label[1:]


def part_tracks(song: Song, parts: Iterable[str]) -> tuple[dict[str, str], list[Track]]:
    """(part -> track id, tracks to add): the song's first track of each role, else a new one."""
    mapping: dict[str, str] = {}
    new: list[Track] = []
    for part in parts:
        role = part if part in ("melody", "bass", "drums") else "other"
        existing = song.track_for_role(role)
        if existing is None:
            existing = next((t for t in new if t.role == role), None)
        if existing is None:
            existing = default_track(role) if role == part else Track(part.title(), role)
            new.append(existing)
        mapping[part] = existing.id
    return mapping, new


def assign_tracks(clips: Iterable[Clip], mapping: Mapping[str, str]) -> list[Clip]:
    """Re-key generated clips' notes from part names to track ids, in place; returns the clips.

    The one rule for every path that brings model output into a song (Fill, Generate,
    Steer): a part the mapping names moves to its track; a part it does not name keeps its
    key, and empty note lists are left out. Keeping, not dropping, because dropping would
    throw notes away without a word; a key that is no track of the song is refused by
    Song.add_clip (a KeyError naming it), so a mapping that misses a part fails loudly, and
    re-keying clips already keyed by track ids changes nothing.
    """
    clips = list(clips)
    for clip in clips:
        notes: dict[str, list] = {}
        for part, ns in clip.notes.items():
            if ns:
                notes.setdefault(mapping.get(part, part), []).extend(ns)
        clip.notes = notes
    return clips


def fill_change(song: Song, plan: FillPlan, clips: Mapping[str, Clip],
                parts: Iterable[str] | None = None) -> ArrangementChange:
    """The change that puts generated clips (keyed by part name) and reused clips into the slots.

    Sections deleted since the plan was made are skipped; a label without a generated clip
    leaves its sections as they are.
    """
    if parts is None:
        parts = sorted({p for c in clips.values() for p in c.notes})
    mapping, new_tracks = part_tracks(song, parts) if clips else ({}, [])
    new_clips: dict[str, Clip] = {}
    for label, clip in clips.items():
        c = copy.copy(clip)  # the caller's clip stays keyed by part
        (c,) = assign_tracks([c], mapping)
        c.name = unique_clip_name(song, c.name)
        new_clips[label] = c
    present = {s.id for s in song.sections}
    sections = []
    for s in ordered(song.sections):
        if s.id in plan.targets and s.id in present:
            if s.id in plan.reuse:
                sections.append(replace(s, clip_id=plan.reuse[s.id]))
            elif s.label in new_clips:
                sections.append(replace(s, clip_id=new_clips[s.label].id))
            else:
                sections.append(replace(s))
        else:
            sections.append(replace(s))
    # every part gets its track, even one this sample left silent, so later fills land there too
    return ArrangementChange(sections, list(new_clips.values()), new_tracks)
