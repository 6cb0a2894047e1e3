"""MIDI import and export.

Import reads type 0 and type 1 files into a Song: every instrument (a MIDI track, split by
channel and program) becomes a Track, all notes go into one Clip placed by one Section.
Export writes a type 1 file: a conductor track (title, tempo changes, time signatures, a
marker at each section) and one MIDI track per Song track.

Times are kept in ticks and divided by the file's resolution, so beats are exact (no detour
through seconds). The bytes are read and written by core.smf rather than through pretty_midi:
pretty_midi's note list goes through seconds and closes every open note of a pitch at the
first note-off (overlapping notes of one pitch would be lost), and mido, underneath it, builds
one checked object per event, which made large files take many seconds. Notes are paired
here first in, first out. pretty_midi supplies the General MIDI instrument names; the tests
check both directions against files written and read by mido and pretty_midi.

Anything wrong with a file raises MidiFileError naming the file and the problem; no other
exception leaves this module.
"""
from __future__ import annotations

import os
import struct
import traceback
from collections import deque

from core import smf
from core.atomic_write import atomic_write_bytes
from core.errors import MidiFileError
from core.quantize import round_up_to_bar
from core.song import Clip, Note, Section, Song, TempoChange, TimeSignature, Track

MAX_NOTES = 1_000_000
MAX_TRACKS = 128
MAX_SECONDS = 24 * 3600.0
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_BPM = 999.0
MIN_BPM = 1.0
EXPORT_TICKS_PER_BEAT = 960  # divisible by 3 (triplets) and by 64 (1/256 notes)
END_OF_TRACK_SLACK_BEATS = 1 / 8
DRUM_CHANNEL = 9
VALID_DENOMINATORS = (1, 2, 4, 8, 16, 32)
DEFAULT_TEMPO_US = 500_000  # 120 BPM, the MIDI default


class _Problem(Exception):
    """Internal: a problem with the file's content, turned into MidiFileError with its path."""


def _fail(path: str, problem: str, detail: str | None = None) -> MidiFileError:
    return MidiFileError(f'Cannot import MIDI file "{path}": {problem}.', detail)


def gm_instrument_name(program: int, is_drum: bool = False) -> str:
    if is_drum:
        return "Drums"
    try:
        from pretty_midi import program_to_instrument_name

        return program_to_instrument_name(int(program))
    except Exception:  # an odd program number must not break an import
        return f"Program {program}"


# ====================================================================== import
def import_midi(path: str | os.PathLike) -> Song:
    """Read a type 0 or type 1 MIDI file into a new Song (see the module docstring)."""
    path = os.fspath(path)
    return import_midi_bytes(_read_file(path), path)


def import_midi_bytes(data: bytes, path: str = "<memory>") -> Song:
    """Like `import_midi` for bytes already read; `path` names them in messages and the title."""
    try:
        parsed = _parse(bytes(data))
        return _build_song(parsed, os.path.splitext(os.path.basename(path))[0] or "Imported")
    except _Problem as exc:
        raise _fail(path, str(exc)) from None
    except MemoryError:
        raise _fail(path, "it is too large to load into memory") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a damaged file
        raise _fail(path, f"the data is damaged ({type(exc).__name__}: {exc})",
                    traceback.format_exc()) from None


def _read_file(path: str) -> bytes:
    try:
        if os.path.isdir(path):
            raise _fail(path, "it is a folder, not a file")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise _fail(path, f"it is {size / 1e6:.0f} MB, too large for a MIDI file "
                              f"(the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB)")
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise _fail(path, "the file does not exist") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except OSError as exc:
        raise _fail(path, exc.strerror or str(exc)) from None


def _parse(data: bytes):
    """(format, division, [(start, end) of each track chunk], data) of a Standard MIDI File."""
    if not data:
        raise _Problem("the file is empty")
    if data[:4] == b"RIFF" and b"MThd" in data[:64]:  # RMID: a standard MIDI file in a RIFF wrapper
        data = data[data.index(b"MThd"):]
    if data[:4] != b"MThd":
        kind = "it looks like a text file" if _looks_like_text(data) else "it has no MIDI header"
        raise _Problem(f"not a MIDI file ({kind})")
    if len(data) >= 12:
        (declared,) = struct.unpack(">H", data[10:12])
        if declared > MAX_TRACKS:
            raise _Problem(f"it has {declared} tracks, more than the {MAX_TRACKS} allowed")
    try:
        fmt, _ntrks, division, chunks = smf.read_header(data)
    except smf.Truncated as exc:
        raise _Problem(f"the file is truncated ({exc})") from None
    except smf.SmfError as exc:
        raise _Problem(f"the data is damaged ({exc})") from None
    return fmt, division, chunks, data


def _looks_like_text(data: bytes) -> bool:
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 32 or b in b"\t\r\n\f" for b in head)


def _build_song(parsed, title: str) -> Song:
    fmt, division, chunks, data = parsed
    if fmt == 2:
        raise _Problem("it is a type 2 (sequential patterns) file; only type 0 and 1 are supported")
    if fmt > 2:
        raise _Problem(f"it declares an unknown format {fmt}")
    if division & 0x8000:
        raise _Problem("it uses SMPTE time code instead of beats, which is not supported")
    tpb = division
    if tpb == 0:
        raise _Problem("its resolution is zero ticks per beat")
    if not chunks:
        raise _Problem("it contains no tracks")
    try:
        return _collect(data, chunks, tpb, title)
    except smf.Truncated as exc:
        raise _Problem(f"the file is truncated ({exc})") from None
    except smf.SmfError as exc:
        raise _Problem(f"the data is damaged ({exc})") from None


def _collect(data: bytes, chunks, tpb: int, title: str) -> Song:
    tempos: list[tuple[int, int, int]] = []  # (tick, order, microseconds per beat)
    signatures: list[tuple[int, int, int, int]] = []  # (tick, order, numerator, denominator power)
    first_program: dict[int, tuple[int, int]] = {}  # channel -> (tick, program)
    parsed = []  # per MIDI track: (name, instruments, channel programs, volumes)
    note_count = 0
    order = 0
    max_tick = 0
    NOTE_ON, NOTE_OFF, PROGRAM, CONTROL = smf.NOTE_ON, smf.NOTE_OFF, smf.PROGRAM, smf.CONTROL

    for start_byte, end_byte in chunks:
        tick = 0
        name = None
        programs: dict[int, int] = {}
        touched: dict[int, int] = {}  # channels with a program change -> last program
        volumes: dict[int, float] = {}
        open_notes: dict[tuple[int, int], deque] = {}
        instruments: dict[tuple[int, int], list] = {}  # (channel, program) -> [(s, e, pitch, vel)]
        for ev in smf.events(data, start_byte, end_byte):
            tick += ev[0]
            kind = ev[1]
            if kind is None:
                continue
            if kind == NOTE_ON:
                ch = ev[2]
                prog = programs.get(ch)
                if prog is None:
                    prog = first_program.get(ch, (0, 0))[1]
                queue = open_notes.get((ch, ev[3]))
                if queue is None:
                    queue = open_notes[(ch, ev[3])] = deque()
                queue.append((tick, ev[4], prog))
            elif kind == NOTE_OFF:
                queue = open_notes.get((ev[2], ev[3]))
                if queue:
                    start, vel, prog = queue.popleft()  # first in, first out
                    if start < tick:
                        lst = instruments.get((ev[2], prog))
                        if lst is None:
                            lst = instruments[(ev[2], prog)] = []
                        lst.append((start, tick, ev[3], vel))
                        note_count += 1
                        if note_count > MAX_NOTES:
                            raise _Problem(f"it has more than {MAX_NOTES:,} notes")
                    # a note ended at the tick it began is silent: dropped
            elif kind == PROGRAM:
                ch = ev[2]
                programs[ch] = touched[ch] = ev[3]
                if ch not in first_program or tick < first_program[ch][0]:
                    first_program[ch] = (tick, ev[3])
            elif kind == CONTROL:
                if ev[3] == 7:
                    volumes.setdefault(ev[2], ev[4] / 127.0)
            else:
                order += 1
                if kind == smf.TEMPO:
                    tempos.append((tick, order, ev[2]))
                elif kind == smf.TIME_SIGNATURE:
                    signatures.append((tick, order, ev[2], ev[3]))
                elif kind == smf.TRACK_NAME and name is None and ev[2].strip():
                    name = ev[2].strip()
        # notes still sounding at the end of the track end there
        for (ch, pitch), queue in open_notes.items():
            for start, vel, prog in queue:
                if start < tick:
                    instruments.setdefault((ch, prog), []).append((start, tick, pitch, vel))
                    note_count += 1
        if note_count > MAX_NOTES:
            raise _Problem(f"it has more than {MAX_NOTES:,} notes")
        max_tick = max(max_tick, tick)
        parsed.append((name, instruments, touched, volumes))

    song = Song(title=title)
    song.tempos = _tempo_map(tempos, tpb)
    song.time_signatures = _signature_map(signatures, tpb)
    seconds = song.beat_to_seconds(max_tick / tpb)
    if seconds > MAX_SECONDS:
        raise _Problem(f"it lasts {seconds / 3600:.0f} hours; files longer than "
                       f"{MAX_SECONDS / 3600:.0f} hours are refused as damaged")

    clip_notes: dict[str, list[Note]] = {}
    melody_taken = False
    new_tracks = []
    for name, instruments, touched, volumes in parsed:
        keys = sorted(instruments, key=lambda k: (k[0], min(n[0] for n in instruments[k])))
        if not keys and touched:  # an instrument track without notes keeps its setup
            ch = min(touched)
            keys = [(ch, touched[ch])]
            instruments = {keys[0]: []}
        for ch, prog in keys:
            is_drum = ch == DRUM_CHANNEL
            label = gm_instrument_name(prog, is_drum)
            if not name:
                track_name = label
            elif len(keys) > 1:
                track_name = f"{name} ({label}, ch {ch + 1})"
            else:
                track_name = name
            notes = [Note(p, s / tpb, e / tpb, v) for s, e, p, v in instruments[(ch, prog)]]
            role = _guess_role(is_drum, prog, notes, melody_taken)
            melody_taken = melody_taken or role == "melody"
            track = Track(track_name, role, program=int(prog), is_drum=is_drum,
                          volume=float(volumes.get(ch, 1.0)))
            new_tracks.append(track)
            if notes:
                clip_notes[track.id] = notes

    for track in new_tracks:
        song.add_track(track)
    if clip_notes:
        last_end = max(n.end for ns in clip_notes.values() for n in ns)
        # The end of the last track counts too (a file may end with silence), less a little slack:
        # many writers (pretty_midi among them) put the end-of-track a tick after the last note-off,
        # which must not add an empty bar.
        length = round_up_to_bar(song.time_signatures,
                                 max(last_end, max_tick / tpb - END_OF_TRACK_SLACK_BEATS))
        clip = song.add_clip(Clip(title, length, clip_notes, origin="imported"))
        song.add_section(Section("imported", clip.id, 0.0, length))
    return song


def _guess_role(is_drum: bool, program: int, notes: list[Note], melody_taken: bool) -> str:
    if is_drum:
        return "drums"
    if 32 <= program <= 39:
        return "bass"
    if notes:
        pitches = sorted(n.pitch for n in notes)
        if pitches[len(pitches) // 2] < 48:  # median below C3
            return "bass"
    return "other" if melody_taken else "melody"


def _tempo_map(events, tpb: int) -> list[TempoChange]:
    by_tick: dict[int, int] = {}
    for tick, _order, tempo in sorted(events):
        if tempo <= 0:
            raise _Problem("it sets a tempo of zero")
        bpm = 60_000_000.0 / tempo
        if not MIN_BPM <= bpm <= MAX_BPM:
            raise _Problem(f"it sets an impossible tempo of {bpm:.0f} BPM")
        by_tick[tick] = tempo  # the last one at a tick wins
    if 0 not in by_tick:
        by_tick[0] = DEFAULT_TEMPO_US
    return [TempoChange(t / tpb, 60_000_000.0 / us) for t, us in sorted(by_tick.items())]


def _signature_map(events, tpb: int) -> list[TimeSignature]:
    by_tick: dict[int, tuple[int, int]] = {}
    for tick, _order, num, power in sorted(events):
        den = 2 ** power if power < 16 else 0
        if not (1 <= num <= 64 and den in VALID_DENOMINATORS):
            raise _Problem(f"it has an invalid time signature {num}/{den or f'2^{power}'}")
        by_tick[tick] = (num, den)
    if 0 not in by_tick:
        by_tick[0] = (4, 4)
    return [TimeSignature(t / tpb, n, d) for t, (n, d) in sorted(by_tick.items())]


# ====================================================================== export
def export_midi(song: Song, path: str | os.PathLike, sections=None, clip=None,
                ticks_per_beat: int = EXPORT_TICKS_PER_BEAT) -> str:
    """Write the song (or part of it) as a type 1 MIDI file; returns the path written.

    By default the whole arrangement is written (`Song.rendered_notes`). `sections` (a list of
    Sections, or one) limits it to those sections, kept at their song positions; `clip` (a Clip
    or a clip id, also accepted in place of `sections`) writes that one clip alone from beat 0,
    with a marker named after its label or name. A song without sections gives a file with
    the tracks and tempo but no notes. Raises MidiFileError if the file cannot be written; the
    target is then left as it was.
    """
    path = os.fspath(path)
    try:
        data = midi_bytes(song, sections=sections, clip=clip, ticks_per_beat=ticks_per_beat)
    except MidiFileError as exc:
        raise MidiFileError(f'Cannot export MIDI file "{path}": {exc.message}', exc.detail) from None
    except Exception as exc:  # noqa: BLE001 - a value that cannot be encoded
        raise MidiFileError(f'Cannot export MIDI file "{path}": {exc}.', traceback.format_exc()) from None
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise MidiFileError(f'Cannot write MIDI file "{path}": {exc.strerror or exc}.') from None
    return path


def midi_bytes(song: Song, sections=None, clip=None,
               ticks_per_beat: int = EXPORT_TICKS_PER_BEAT) -> bytes:
    """The bytes of the MIDI file `export_midi` would write."""
    if not 480 <= ticks_per_beat <= 0x7FFF:
        raise ValueError("the export resolution must be 480 to 32767 ticks per beat")
    tpb = int(ticks_per_beat)
    if isinstance(sections, (Clip, str)):  # export_midi(song, path, clip) works too
        sections, clip = None, sections
    elif isinstance(sections, Section):
        sections = [sections]

    def tick(beat: float) -> int:
        return max(int(round(beat * tpb)), 0)

    if clip is not None:
        c = song.clip(clip) if isinstance(clip, str) else clip
        notes = {tid: list(ns) for tid, ns in c.notes.items()}
        end_beat = c.length
        markers = [(0.0, c.label or c.name)]
    else:
        view = song
        if sections is not None:
            import copy

            view = copy.copy(song)
            view.sections = sorted(sections, key=lambda s: s.start)
        notes = view.rendered_notes()
        end_beat = max((s.end for s in view.sections), default=0.0)
        markers = [(s.start, s.label) for s in view.sections]

    last = max([tick(end_beat)] + [tick(n.end) for ns in notes.values() for n in ns])
    conductor = [(0, 0, 0, smf.text_meta(0x03, song.title or "Untitled"))]
    for ts in song.time_signatures:
        if int(ts.denominator) not in VALID_DENOMINATORS or not 1 <= int(ts.numerator) <= 255:
            raise MidiFileError(f"The time signature {ts.numerator}/{ts.denominator} cannot be "
                                "written to a MIDI file.")
        conductor.append((tick(ts.beat), 1, 0, smf.time_signature_meta(ts.numerator, ts.denominator)))
    for tc in song.tempos:
        us = min(max(int(round(60_000_000.0 / tc.bpm)), 1), 0xFFFFFF)
        conductor.append((tick(tc.beat), 2, 0, smf.tempo_meta(us)))
    for beat, label in markers:
        conductor.append((tick(beat), 3, 0, smf.text_meta(0x06, str(label))))
    chunks = [_chunk(conductor, last)]

    for track, ch in zip(song.tracks, _assign_channels(song.tracks)):
        events = [(0, 0, 0, smf.text_meta(0x03, track.name)),
                  (0, 1, 0, bytes((0xC0 | ch, min(max(int(track.program), 0), 127))))]
        if track.volume < 1.0:
            value = min(max(int(round(track.volume * 127)), 0), 127)
            events.append((0, 2, 0, bytes((0xB0 | ch, 7, value))))
        on, off = 0x90 | ch, 0x80 | ch
        for n in notes.get(track.id, []):
            pitch = min(max(int(n.pitch), 0), 127)
            vel = min(max(int(n.velocity), 1), 127)
            start = tick(n.start)
            end = max(tick(n.end), start + 1)
            # at one tick: note-offs before note-ons, so a repeated pitch restarts cleanly
            events.append((start, 4, pitch, bytes((on, pitch, vel))))
            events.append((end, 3, pitch, bytes((off, pitch, 0))))
        chunks.append(_chunk(events, last))
    return smf.file_bytes(chunks, tpb, fmt=1)


def _chunk(events, end_tick: int) -> bytes:
    """events: (tick, priority at that tick, pitch, bytes) in any order."""
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return smf.track_chunk([(e[0], e[3]) for e in events], end_tick)


def _assign_channels(tracks) -> list[int]:
    """Drums on channel 10 (index 9); other tracks on the remaining channels in turn."""
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    out, i = [], 0
    for t in tracks:
        if t.is_drum:
            out.append(DRUM_CHANNEL)
        else:
            out.append(melodic[i % len(melodic)])
            i += 1
    return out
