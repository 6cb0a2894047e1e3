"""Clips <-> MusicVAE tensors, with the encodings of Magenta's music_vae/data.py.

Numpy only (no TensorFlow). Times in a Clip are beats; the models work on 16th-note steps
(4 per beat, 16 per 4/4 bar).

Every kind is first turned into integer *tokens*, one row per step:

- melody: one class per step (0 no event, 1 note off, 2 + pitch - 21 note on; pitches 21..108).
- drums:  a 9-bit mask per step (bit k set when drum class k is hit; see DRUM_TYPE_PITCHES).
- trio:   three columns per step: melody class, bass class, drum mask.

Tokens are compact (a 16-bar trio is 256 x 3 small integers), so datasets store them and
expand to one-hot tensors per batch with `tokens_to_inputs` / `tokens_to_outputs`:

- melody: inputs = outputs = one-hot over 90 classes.
- drums:  inputs = the 9-bit roll plus a "no hit" bit (10 wide, as cat-drums_2bar_small's
  DrumsConverter(roll_input=True)); outputs = one-hot over the 512 hit combinations
  (class = sum of 2**k). `drum_input="onehot"` gives 512-wide one-hot inputs instead.
- trio:   inputs = outputs = melody 0:90 | bass 90:180 | drums 180:692, each one-hot.

Magenta's melody rules are kept exactly (note_seq's Melody.from_quantized_sequence with
ignore_polyphonic_notes=True): notes are quantized to the nearest step (halves up, a note is at
least one step long), sorted by start and then by pitch, highest first; of the notes starting on
one step only the highest is kept, and a later onset cuts the note that is still sounding.
Decoding follows Melody.to_sequence: a note lasts until the next note on or note off, or to the
end of the sequence. Drum hits decode as one-step notes on each class's first pitch
(36, 38, 42, 46, 45, 48, 50, 49, 51) at velocity 80, bass and melody notes at velocity 80.

What a conversion had to change or drop is told in a `ConversionReport`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from core.song import Clip, Note, Song, Track, sort_notes

STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16  # the models assume 4/4 bars of 16 sixteenth notes

MIN_PITCH = 21
MAX_PITCH = 108
NO_EVENT = 0
NOTE_OFF = 1
FIRST_NOTE_CLASS = 2
MELODY_DEPTH = MAX_PITCH - MIN_PITCH + 1 + FIRST_NOTE_CLASS  # 90

# note_seq's DEFAULT_DRUM_TYPE_PITCHES: every GM1/GM2 drum pitch grouped into 9 drum types.
# The first pitch of each type is the one written when decoding.
DRUM_TYPE_PITCHES: tuple[tuple[int, ...], ...] = (
    (36, 35),  # kick
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),  # snare
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),  # closed hi-hat
    (46, 67, 72, 74, 79, 81, 26),  # open hi-hat
    (45, 29, 41, 43, 61, 64, 84),  # low tom
    (48, 47, 60, 63, 77, 86, 87),  # mid tom
    (50, 30, 62, 76, 83),  # high tom
    (49, 52, 55, 57, 58),  # crash
    (51, 53, 59, 82),  # ride
)
DRUM_CLASS_NAMES = ("kick", "snare", "closed hi-hat", "open hi-hat", "low tom", "mid tom",
                    "high tom", "crash", "ride")
DRUM_CLASSES = len(DRUM_TYPE_PITCHES)  # 9
DRUM_CLASS_PITCHES = tuple(p[0] for p in DRUM_TYPE_PITCHES)  # 36 38 42 46 45 48 50 49 51
DRUM_PITCH_TO_CLASS = {p: k for k, pitches in enumerate(DRUM_TYPE_PITCHES) for p in pitches}
DRUM_ROLL_DEPTH = DRUM_CLASSES + 1  # 10
DRUM_DEPTH = 2 ** DRUM_CLASSES  # 512

TRIO_PARTS = ("melody", "bass", "drums")
TRIO_DEPTHS = (MELODY_DEPTH, MELODY_DEPTH, DRUM_DEPTH)
TRIO_DEPTH = sum(TRIO_DEPTHS)  # 692
TRIO_SLICES = {"melody": slice(0, 90), "bass": slice(90, 180), "drums": slice(180, 692)}

OUTPUT_VELOCITY = 80
BASS_PROGRAM = 33  # Magenta writes decoded trio bass as electric bass (finger)

KINDS = ("melody", "drums", "trio")
PARTS = {"melody": ("melody",), "drums": ("drums",), "trio": TRIO_PARTS}
DEFAULT_BARS = {"melody": 2, "drums": 2, "trio": 16}

# Reasons a note can be dropped or changed (keys of ConversionReport.counts()).
REASONS = {
    "polyphony": "a higher note starts on the same step (only the highest is kept)",
    "out_of_range": f"pitch outside {MIN_PITCH}..{MAX_PITCH}",
    "outside_window": "starts outside the converted steps",
    "unknown_drum_pitch": "pitch is not a General MIDI drum sound",
    "same_drum_class": "another sound of the same drum class is hit on that step",
    "zero_velocity": "velocity 0 (a silent note)",
    "unused_track": "its track has no part in this model",
}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown data kind {kind!r}; expected one of {KINDS}")


def input_depth(kind: str, drum_input: str = "roll") -> int:
    _check_kind(kind)
    if kind == "melody":
        return MELODY_DEPTH
    if kind == "drums":
        return DRUM_ROLL_DEPTH if drum_input == "roll" else DRUM_DEPTH
    return TRIO_DEPTH


def output_depth(kind: str) -> int:
    _check_kind(kind)
    return {"melody": MELODY_DEPTH, "drums": DRUM_DEPTH, "trio": TRIO_DEPTH}[kind]


def quantize_beat(beat: float) -> int:
    """The nearest 16th-note step to a time in beats, halves rounding up (as note_seq does)."""
    return int(math.floor(beat * STEPS_PER_QUARTER + 0.5 + 1e-6))


# ----------------------------------------------------------------- the report
@dataclass
class DroppedNote:
    part: str  # melody / bass / drums, or the track's role for unused tracks
    note: Note
    reason: str  # a key of REASONS
    track_id: str | None = None


@dataclass
class ConversionReport:
    """What a conversion dropped or changed, so the caller can tell the user."""

    dropped: list[DroppedNote] = field(default_factory=list)
    transposed: list[tuple[str, Note, int]] = field(default_factory=list)  # (part, note, semitones)
    shortened: list[tuple[str, Note, float]] = field(default_factory=list)  # (part, note, new end)
    warnings: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.dropped or self.transposed or self.shortened or self.warnings)

    def drop(self, part: str, note: Note, reason: str, track_id: str | None = None) -> None:
        self.dropped.append(DroppedNote(part, note, reason, track_id))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.dropped:
            out[d.reason] = out.get(d.reason, 0) + 1
        return out

    def merge(self, other: "ConversionReport") -> "ConversionReport":
        self.dropped.extend(other.dropped)
        self.transposed.extend(other.transposed)
        self.shortened.extend(other.shortened)
        for w in other.warnings:
            self.warn(w)
        return self

    def summary(self) -> str:
        """One readable paragraph, empty when nothing was lost."""
        parts = []
        for reason, n in sorted(self.counts().items()):
            parts.append(f"{n} note{'s' if n != 1 else ''} dropped: {REASONS.get(reason, reason)}")
        if self.transposed:
            parts.append(f"{len(self.transposed)} note(s) moved by octaves into {MIN_PITCH}..{MAX_PITCH}")
        if self.shortened:
            parts.append(f"{len(self.shortened)} note(s) shortened by a later note (one note at a time)")
        parts.extend(self.warnings)
        return "; ".join(parts)


# ----------------------------------------------------------------- which notes feed which part
def track_roles(tracks) -> dict[str, tuple[str, bool]]:
    """track id -> (role, is_drum) from a Song, Tracks, or a mapping id -> role or id -> Track."""
    if isinstance(tracks, Song):
        tracks = tracks.tracks
    out: dict[str, tuple[str, bool]] = {}
    if isinstance(tracks, Mapping):
        for tid, v in tracks.items():
            if isinstance(v, Track):
                out[tid] = (v.role, v.is_drum)
            else:
                out[tid] = (str(v), str(v) == "drums")
        return out
    for t in tracks:
        out[t.id] = (t.role, t.is_drum)
    return out


def part_notes(clip: Clip, tracks, kind: str, report: ConversionReport,
               part_tracks: Mapping[str, Sequence[str]] | None = None
               ) -> dict[str, list[tuple[str, Note]]]:
    """The clip's notes for each part of `kind`, as (track id, note) pairs.

    By default melody takes the melody-role tracks, bass the bass-role tracks and drums the
    drum tracks (is_drum or role drums). A melody model given a clip without melody notes reads
    the first pitched track that has notes (a bass line can be encoded as a melody). Notes of
    tracks that feed no part are reported as dropped. `part_tracks` (part -> track ids)
    overrides the choice.
    """
    _check_kind(kind)
    roles = track_roles(tracks)
    parts = PARTS[kind]
    chosen: dict[str, list[str]] = {p: [] for p in parts}
    if part_tracks is not None:
        for p in parts:
            chosen[p] = list(part_tracks.get(p, ()))
    else:
        for tid in clip.notes:
            role, is_drum = roles.get(tid, ("other", False))
            if "drums" in chosen and (is_drum or role == "drums"):
                chosen["drums"].append(tid)
            elif not is_drum and role in chosen and role != "drums":
                chosen[role].append(tid)
        if kind == "melody" and not any(clip.notes.get(t) for t in chosen["melody"]):
            for role in ("bass", "other"):
                cands = [t for t in clip.notes if clip.notes[t] and roles.get(t, ("other", False))[0] == role
                         and not roles.get(t, ("other", False))[1]]
                if cands:
                    chosen["melody"] = cands[:1]
                    report.warn(f"no melody track in the clip; the {role} track was read as the melody")
                    break
    used = {t for ts in chosen.values() for t in ts}
    for tid, notes in clip.notes.items():
        if tid not in used:
            role = roles.get(tid, ("other", False))[0]
            for n in notes:
                report.drop(role, n, "unused_track", tid)
    for p, ts in chosen.items():
        if len([t for t in ts if clip.notes.get(t)]) > 1:
            report.warn(f"{len(ts)} tracks feed the {p} part; their notes were merged")
    return {p: [(t, n) for t in ts for n in clip.notes.get(t, [])] for p, ts in chosen.items()}


# ----------------------------------------------------------------- melody
def _sounding(notes: Iterable[Note | tuple[str, Note]], report: ConversionReport,
              part: str) -> Iterator[tuple[str | None, Note]]:
    """(track id or None, note) for each note that sounds; zero-velocity notes go to the report."""
    for item in notes:
        tid, n = item if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Note) \
            else (None, item)
        if n.velocity <= 0:
            report.drop(part, n, "zero_velocity", tid)
        else:
            yield tid, n


def melody_tokens(notes: Iterable[Note | tuple[str, Note]], steps: int,
                  report: ConversionReport | None = None, part: str = "melody",
                  out_of_range: str = "transpose") -> np.ndarray:
    """Monophonic melody classes for `steps` steps from any notes (Magenta's extraction rules).

    `out_of_range` is "transpose" (move by octaves into 21..108) or "drop" (Magenta's
    OneHotMelodyConverter drops them). Returns an int array of length `steps`.
    """
    if report is None:
        report = ConversionReport()
    if out_of_range not in ("transpose", "drop"):
        raise ValueError("out_of_range must be 'transpose' or 'drop'")
    quantized = []  # (start, -pitch, end, pitch, original note, track id)
    for tid, n in _sounding(notes, report, part):
        pitch = int(n.pitch)
        if not MIN_PITCH <= pitch <= MAX_PITCH:
            if out_of_range == "drop":
                report.drop(part, n, "out_of_range", tid)
                continue
            while pitch < MIN_PITCH:
                pitch += 12
            while pitch > MAX_PITCH:
                pitch -= 12
            report.transposed.append((part, n, pitch - int(n.pitch)))
        s = quantize_beat(n.start)
        e = quantize_beat(n.end)
        if e <= s:
            e = s + 1
        if s < 0 or s >= steps:
            report.drop(part, n, "outside_window", tid)
            continue
        quantized.append((s, -pitch, e, pitch, n, tid))
    quantized.sort(key=lambda q: (q[0], q[1]))

    # Events as in note_seq: -2 no event, -1 note off, >= 0 a pitch; grown note by note.
    events: list[int] = []
    last_on = -1
    last_note = None
    for s, _, e, pitch, n, tid in quantized:
        if events:
            if s == last_on:  # a higher note already starts here
                report.drop(part, n, "polyphony", tid)
                continue
            last_off = _last_off(events, last_on)
            if s < last_off:
                report.shortened.append((part, last_note, s / STEPS_PER_QUARTER))
        _add_melody_note(events, pitch, s, e)
        last_on, last_note = s, n
    arr = np.full(steps, NO_EVENT, dtype=np.int64)
    ev = np.asarray(events[:steps], dtype=np.int64)
    if len(ev):
        arr[:len(ev)] = np.where(ev >= 0, ev - MIN_PITCH + FIRST_NOTE_CLASS,
                                 np.where(ev == -1, NOTE_OFF, NO_EVENT))
    return arr


def _last_off(events: list[int], last_on: int) -> int:
    for i in range(last_on + 1, len(events)):
        if events[i] == -1:
            return i
    return len(events)


def _add_melody_note(events: list[int], pitch: int, start: int, end: int) -> None:
    # Melody._add_note: resize to end + 1 (growing ends a sustained note, shrinking cuts),
    # then pitch at start, holds, note off at end.
    old = len(events)
    if end + 1 > old:
        events.extend([-2] * (end + 1 - old))
        for i in range(old - 1, -1, -1):
            if events[i] == -1:
                break
            if events[i] != -2:
                events[old] = -1
                break
    else:
        del events[end + 1:]
    events[start] = pitch
    for i in range(start + 1, end):
        events[i] = -2
    events[end] = -1


def melody_notes(tokens: Sequence[int] | np.ndarray, start_beat: float = 0.0,
                 velocity: int = OUTPUT_VELOCITY) -> list[Note]:
    """Notes from melody classes, as Melody.to_sequence reads them."""
    out: list[Note] = []
    cur_pitch = None
    cur_start = 0
    step_len = 1.0 / STEPS_PER_QUARTER
    toks = np.asarray(tokens).astype(np.int64).tolist()
    for step, t in enumerate(toks):
        if t >= FIRST_NOTE_CLASS:
            if cur_pitch is not None:
                out.append(Note(cur_pitch, start_beat + cur_start * step_len, start_beat + step * step_len, velocity))
            cur_pitch, cur_start = t - FIRST_NOTE_CLASS + MIN_PITCH, step
        elif t == NOTE_OFF and cur_pitch is not None:
            out.append(Note(cur_pitch, start_beat + cur_start * step_len, start_beat + step * step_len, velocity))
            cur_pitch = None
    if cur_pitch is not None:
        out.append(Note(cur_pitch, start_beat + cur_start * step_len, start_beat + len(toks) * step_len, velocity))
    return sort_notes(out)


# ----------------------------------------------------------------- drums
def drum_tokens(notes: Iterable[Note | tuple[str, Note]], steps: int,
                report: ConversionReport | None = None, part: str = "drums") -> np.ndarray:
    """9-bit drum masks for `steps` steps; every GM drum pitch maps to its class."""
    if report is None:
        report = ConversionReport()
    arr = np.zeros(steps, dtype=np.int64)
    for tid, n in _sounding(notes, report, part):
        k = DRUM_PITCH_TO_CLASS.get(int(n.pitch))
        if k is None:
            report.drop(part, n, "unknown_drum_pitch", tid)
            continue
        s = quantize_beat(n.start)
        if s < 0 or s >= steps:
            report.drop(part, n, "outside_window", tid)
            continue
        bit = 1 << k
        if arr[s] & bit:
            report.drop(part, n, "same_drum_class", tid)
            continue
        arr[s] |= bit
    return arr


def drum_notes(tokens: Sequence[int] | np.ndarray, start_beat: float = 0.0,
               velocity: int = OUTPUT_VELOCITY) -> list[Note]:
    """One-step notes on each class's output pitch, as DrumTrack.to_sequence writes them."""
    out = []
    step_len = 1.0 / STEPS_PER_QUARTER
    for step, mask in enumerate(np.asarray(tokens).astype(np.int64).tolist()):
        for k in range(DRUM_CLASSES):
            if mask >> k & 1:
                t0 = start_beat + step * step_len
                out.append(Note(DRUM_CLASS_PITCHES[k], t0, t0 + step_len, velocity))
    return sort_notes(out)


def drum_roll(masks: np.ndarray, dtype=np.float32) -> np.ndarray:
    """[..., steps] masks -> [..., steps, 10]: the 9 class bits and a final "no hit" bit."""
    masks = np.asarray(masks, dtype=np.int64)
    bits = (masks[..., None] >> np.arange(DRUM_CLASSES)) & 1
    nor = (masks == 0)[..., None]
    return np.concatenate([bits, nor], axis=-1).astype(dtype)


def one_hot(tokens: np.ndarray, depth: int, dtype=np.float32) -> np.ndarray:
    tokens = np.asarray(tokens, dtype=np.int64)
    out = np.zeros(tokens.shape + (depth,), dtype=dtype)
    np.put_along_axis(out, tokens[..., None], 1, axis=-1)
    return out


# ----------------------------------------------------------------- tokens <-> tensors
def tokens_to_outputs(tokens: np.ndarray, kind: str, dtype=np.float32) -> np.ndarray:
    """Decoder targets: [..., steps] (or [..., steps, 3] for the trio) -> one-hot [..., steps, depth]."""
    _check_kind(kind)
    tokens = np.asarray(tokens)
    if kind == "melody":
        return one_hot(tokens, MELODY_DEPTH, dtype)
    if kind == "drums":
        return one_hot(tokens, DRUM_DEPTH, dtype)
    return np.concatenate([one_hot(tokens[..., i], d, dtype) for i, d in enumerate(TRIO_DEPTHS)], axis=-1)


def tokens_to_inputs(tokens: np.ndarray, kind: str, drum_input: str = "roll", dtype=np.float32) -> np.ndarray:
    """Encoder inputs; only drums differ from the outputs (the 10-wide roll by default)."""
    if kind == "drums" and drum_input == "roll":
        return drum_roll(tokens, dtype)
    return tokens_to_outputs(tokens, kind, dtype)


def tensors_to_tokens(tensor: np.ndarray, kind: str) -> np.ndarray:
    """One-hot (or logits / probabilities) [..., steps, depth] -> tokens by argmax per part.

    Integer arrays that are already tokens ([..., steps] or trio [..., steps, 3]) pass through.
    A 10-wide drum roll is read back to masks.
    """
    _check_kind(kind)
    t = np.asarray(tensor)
    if np.issubdtype(t.dtype, np.integer):
        already = (t.ndim >= 2 and t.shape[-1] == 3) if kind == "trio" else \
            (t.ndim == 1 or t.shape[-1] not in (MELODY_DEPTH, DRUM_DEPTH, DRUM_ROLL_DEPTH))
        if already:
            return t.astype(np.int64)
    if kind == "trio":
        if t.shape[-1] != TRIO_DEPTH:
            raise ValueError(f"trio tensors are {TRIO_DEPTH} wide, got {t.shape[-1]}")
        return np.stack([np.argmax(t[..., TRIO_SLICES[p]], axis=-1) for p in TRIO_PARTS], axis=-1)
    if kind == "drums" and t.shape[-1] == DRUM_ROLL_DEPTH:
        bits = (t[..., :DRUM_CLASSES] > 0.5).astype(np.int64)
        return (bits << np.arange(DRUM_CLASSES)).sum(-1)
    want = output_depth(kind)
    if t.shape[-1] != want:
        raise ValueError(f"{kind} tensors are {want} wide, got {t.shape[-1]}")
    return np.argmax(t, axis=-1).astype(np.int64)


# ----------------------------------------------------------------- clips
def clip_steps(clip: Clip) -> int:
    """The clip's length rounded up to whole 4/4 bars, in steps (at least one bar)."""
    bars = max(1, math.ceil(clip.length * STEPS_PER_QUARTER / STEPS_PER_BAR - 1e-9))
    return bars * STEPS_PER_BAR


def clip_to_tokens(clip: Clip, tracks, kind: str, steps: int | None = None, *,
                   out_of_range: str = "transpose",
                   part_tracks: Mapping[str, Sequence[str]] | None = None
                   ) -> tuple[np.ndarray, ConversionReport]:
    """Tokens for the first `steps` steps of a clip (default: its length in whole bars)."""
    _check_kind(kind)
    report = ConversionReport()
    if isinstance(tracks, Song) and tracks.beats_per_bar != 4.0:
        report.warn(f"the models assume 4/4 bars; this song is in "
                    f"{tracks.time_signatures[0].numerator}/{tracks.time_signatures[0].denominator}")
    if steps is None:
        steps = clip_steps(clip)
    notes = part_notes(clip, tracks, kind, report, part_tracks)
    cols = []
    for p in PARTS[kind]:
        if p == "drums":
            cols.append(drum_tokens(notes[p], steps, report, p))
        else:
            cols.append(melody_tokens(notes[p], steps, report, p, out_of_range))
    if clip.length * STEPS_PER_QUARTER > steps + 1e-9 and any(d.reason == "outside_window" for d in report.dropped):
        report.warn(f"the clip is longer than the model's {steps // STEPS_PER_BAR} bars; "
                    f"only the first {steps // STEPS_PER_BAR} were used")
    tokens = cols[0] if len(cols) == 1 else np.stack(cols, axis=-1)
    return tokens, report


def clip_to_tensors(clip: Clip, tracks, kind: str, steps: int | None = None, *,
                    drum_input: str = "roll", out_of_range: str = "transpose",
                    part_tracks: Mapping[str, Sequence[str]] | None = None, dtype=np.float32
                    ) -> tuple[np.ndarray, np.ndarray, ConversionReport]:
    """(inputs [steps, input depth], outputs [steps, output depth], report) for one clip.

    `tracks` is the Song (or its tracks, or a mapping track id -> role) that says which track
    plays which part. Notes after `steps` are dropped and reported; use `clip_windows` to cut a
    long clip into model-length windows.
    """
    tokens, report = clip_to_tokens(clip, tracks, kind, steps, out_of_range=out_of_range,
                                    part_tracks=part_tracks)
    return (tokens_to_inputs(tokens, kind, drum_input, dtype), tokens_to_outputs(tokens, kind, dtype),
            report)


def clips_to_batch(clips: Sequence[Clip], tracks, kind: str, steps: int, *, drum_input: str = "roll",
                   out_of_range: str = "transpose", dtype=np.float32
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[ConversionReport]]:
    """Stacked (inputs [n, steps, d_in], outputs [n, steps, d_out], lengths [n], reports)."""
    toks, reports = [], []
    for c in clips:
        t, r = clip_to_tokens(c, tracks, kind, steps, out_of_range=out_of_range)
        toks.append(t)
        reports.append(r)
    if not toks:
        shape = (0, steps)
        return (np.zeros(shape + (input_depth(kind, drum_input),), dtype),
                np.zeros(shape + (output_depth(kind),), dtype), np.zeros(0, np.int32), [])
    tokens = np.stack(toks)
    return (tokens_to_inputs(tokens, kind, drum_input, dtype), tokens_to_outputs(tokens, kind, dtype),
            np.full(len(clips), steps, np.int32), reports)


def tokens_to_notes(tokens: np.ndarray, kind: str, start_beat: float = 0.0,
                    velocity: int = OUTPUT_VELOCITY) -> dict[str, list[Note]]:
    """part -> notes for one sequence of tokens."""
    _check_kind(kind)
    tokens = np.asarray(tokens)
    cols = [tokens] if kind != "trio" else [tokens[:, i] for i in range(3)]
    out = {}
    for p, col in zip(PARTS[kind], cols):
        out[p] = (drum_notes(col, start_beat, velocity) if p == "drums"
                  else melody_notes(col, start_beat, velocity))
    return out


def tensors_to_notes(tensor: np.ndarray, kind: str, start_beat: float = 0.0,
                     velocity: int = OUTPUT_VELOCITY) -> dict[str, list[Note]]:
    """part -> notes from one decoded sequence (one-hot, probabilities or tokens)."""
    return tokens_to_notes(tensors_to_tokens(tensor, kind), kind, start_beat, velocity)


def tensors_to_clip(tensor: np.ndarray, kind: str, track_ids: Mapping[str, str], *,
                    name: str = "Clip", origin: str = "sampled", model: str | None = None,
                    latent=None, label: str | None = None, velocity: int = OUTPUT_VELOCITY) -> Clip:
    """A Clip from one decoded sequence; `track_ids` maps each part (role) to a track id.

    The caller makes sure the tracks exist (Song.ensure_track(role)). The clip is as long as the
    sequence (steps / 4 beats). Parts without notes get no entry.
    """
    tokens = tensors_to_tokens(tensor, kind)
    steps = tokens.shape[0]
    missing = [p for p in PARTS[kind] if p not in track_ids]
    if missing:
        raise ValueError(f"no track id given for part(s) {missing}")
    notes = tokens_to_notes(tokens, kind, 0.0, velocity)
    clip_notes = {}
    for p, ns in notes.items():
        if ns:
            clip_notes.setdefault(track_ids[p], []).extend(ns)
    clip_notes = {tid: sort_notes(ns) for tid, ns in clip_notes.items()}
    lat = None if latent is None else [float(x) for x in np.asarray(latent).ravel()]
    return Clip(name=name, length=steps / STEPS_PER_QUARTER, notes=clip_notes, latent=lat,
                model=model, origin=origin, label=label)


def batch_to_clips(tensors: np.ndarray, kind: str, track_ids: Mapping[str, str], *,
                   name: str = "Clip", origin: str = "sampled", model: str | None = None,
                   latents=None) -> list[Clip]:
    """One Clip per sequence of a batch [n, steps, depth]; names get a running number."""
    out = []
    for i in range(len(tensors)):
        lat = None if latents is None else latents[i]
        out.append(tensors_to_clip(tensors[i], kind, track_ids, name=f"{name} {i + 1}",
                                   origin=origin, model=model, latent=lat))
    return out


# ----------------------------------------------------------------- windows
@dataclass
class Window:
    start_bar: int
    tokens: np.ndarray  # [steps] or [steps, 3]

    @property
    def start_beat(self) -> float:
        return self.start_bar * STEPS_PER_BAR / STEPS_PER_QUARTER


def window_count(total_bars: int, bars: int, hop_bars: int = 1) -> int:
    """How many windows of `bars` fit in `total_bars` stepping `hop_bars` (Magenta's slicing)."""
    if total_bars < bars:
        return 0
    return (total_bars - bars) // hop_bars + 1


def slice_windows(tokens: np.ndarray, bars: int, hop_bars: int = 1) -> list[Window]:
    """Windows cut from a long token sequence by bar, as Magenta slices extracted events."""
    total_bars = len(tokens) // STEPS_PER_BAR
    w = bars * STEPS_PER_BAR
    return [Window(b, tokens[b * STEPS_PER_BAR:b * STEPS_PER_BAR + w])
            for b in range(0, hop_bars * window_count(total_bars, bars, hop_bars), hop_bars)]


def clip_windows(clip: Clip, tracks, kind: str, bars: int | None = None, hop_bars: int = 1, *,
                 out_of_range: str = "transpose", pad_short: bool = False, skip_silent: bool = False,
                 part_tracks: Mapping[str, Sequence[str]] | None = None
                 ) -> tuple[list[Window], ConversionReport]:
    """Cut a clip into model-length windows of `bars` bars, one every `hop_bars` bars.

    The whole clip is encoded first and then sliced, so a window that starts in the middle of
    a note sees its hold (no event), exactly as Magenta slices a long melody. A clip shorter
    than one window gives no window unless `pad_short`. `skip_silent` leaves out windows
    without any note on or hit.
    """
    _check_kind(kind)
    bars = bars or DEFAULT_BARS[kind]
    steps = clip_steps(clip)
    if pad_short:
        steps = max(steps, bars * STEPS_PER_BAR)
    tokens, report = clip_to_tokens(clip, tracks, kind, steps, out_of_range=out_of_range,
                                    part_tracks=part_tracks)
    windows = slice_windows(tokens, bars, hop_bars)
    if skip_silent:
        windows = [w for w in windows if not window_is_silent(w.tokens, kind)]
    return windows, report


def window_is_silent(tokens: np.ndarray, kind: str) -> bool:
    """True when no part has a note on (melody, bass) or a hit (drums) in the window."""
    t = np.asarray(tokens)
    if kind == "melody":
        return not np.any(t >= FIRST_NOTE_CLASS)
    if kind == "drums":
        return not np.any(t > 0)
    return (not np.any(t[:, 0] >= FIRST_NOTE_CLASS) and not np.any(t[:, 1] >= FIRST_NOTE_CLASS)
            and not np.any(t[:, 2] > 0))


def transpose_tokens(tokens: np.ndarray, kind: str, semitones: int) -> np.ndarray | None:
    """Melody (and trio melody + bass) tokens moved by semitones; None if a note leaves 21..108."""
    t = np.array(tokens, dtype=np.int64, copy=True)
    if kind == "drums" or semitones == 0:
        return t
    cols = [t] if kind == "melody" else [t[..., 0], t[..., 1]]
    for col in cols:
        on = col >= FIRST_NOTE_CLASS
        if not on.any():
            continue
        moved = col[on] + semitones
        if moved.min() < FIRST_NOTE_CLASS or moved.max() >= MELODY_DEPTH:
            return None
        col[on] = moved
    return t
