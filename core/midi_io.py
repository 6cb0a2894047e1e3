"""MIDI import and export through mido.

Import reads type 0 and type 1 files into a Song: every instrument (a MIDI track, split by
channel and program) becomes a Track, all notes go into one Clip placed by one Section.
Export writes a type 1 file: a conductor track (title, tempo changes, time signatures, a
marker at each section) and one MIDI track per Song track.

mido decodes and encodes the bytes. Times are kept in ticks and divided by the file's
resolution, so beats are exact (no detour through seconds). Notes are paired here, first in,
first out: pretty_midi's note list closes every open note of a pitch at the first note-off,
so overlapping notes of one pitch would be lost. pretty_midi supplies the General MIDI
instrument names; the tests check both directions against files written and read by mido and
pretty_midi.

Reading is lazy. `mido.MidiFile` builds a message object for every event of every track
before returning, a few hundred bytes each: a 64 MB file could need gigabytes before the note
limit was ever checked. So the track chunks are found here from their headers (with mido's
header readers) and each is read one event at a time, every event decoded by mido (see
`_messages`); notes and changes are counted as they arrive and the file is refused once a
limit is passed, holding only the file's bytes, the compact tuples kept so far and at most
DECODED_CACHE decoded messages.

Anything wrong with a file raises MidiFileError naming the file and the problem; no other
exception leaves this module (mido's OSError, EOFError, ValueError, KeyError, IndexError ...
are all turned into it). Cancelling the optional job token raises JobCancelled.
"""
from __future__ import annotations

import io
import os
import traceback
from collections import deque

import mido
from mido.midifiles import midifiles as mido_smf
from mido.messages.specs import SPEC_BY_STATUS
from mido.midifiles.meta import build_meta_message

from core.atomic_write import atomic_write_bytes
from core.errors import JobCancelled, MidiFileError
from core.song import Clip, Note, Section, Song, TempoChange, TimeSignature, Track
from core.timemap import MeterMap

MAX_NOTES = 1_000_000
MAX_CHANGES = 1_000_000  # tempo and time-signature events together
MAX_TRACKS = 128
# Song tracks made from one file (a MIDI track splits into one per channel and program): a
# file of 90 KB cycling through every program on every channel made 8,192 of them, and the
# song, the timeline and the piano roll slowed with their square (34 s for the first paint)
MAX_INSTRUMENTS = 256
MAX_SECONDS = 24 * 3600.0
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_BPM = 999.0
MIN_BPM = 1.0
EXPORT_TICKS_PER_BEAT = 960  # divisible by 3 (triplets) and by 64 (1/256 notes)
END_OF_TRACK_SLACK_BEATS = 1 / 8
DRUM_CHANNEL = 9
VALID_DENOMINATORS = (1, 2, 4, 8, 16, 32)
DEFAULT_TEMPO_US = 500_000  # 120 BPM, the MIDI default
CHECK_EVERY = 4096  # events between two looks at the job token
DECODED_CACHE = 65_536  # distinct messages kept for reuse by one import or export (about 20 MB)
MESSAGE_LENGTH = {status: spec["length"] for status, spec in SPEC_BY_STATUS.items()}  # mido's table
# meta events whose content matters here; the others are skipped undecoded, so that a
# malformed key signature or SMPTE offset (which mido refuses to decode) cannot spoil a file
USED_META = {0x03: "track_name", 0x51: "set_tempo", 0x58: "time_signature"}
END_OF_TRACK = 0x2F


class _Problem(Exception):
    """Internal: a problem with the file's content, turned into MidiFileError with its path."""


class _Truncated(_Problem):
    """Internal: the bytes stop before a chunk or an event is complete."""


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
def import_midi(path: str | os.PathLike, token=None) -> Song:
    """Read a type 0 or type 1 MIDI file into a new Song (see the module docstring).

    `token` (a core.jobs.JobToken, optional) receives progress and can cancel the import.
    """
    path = os.fspath(path)
    return import_midi_bytes(_read_file(path), path, token=token)


def import_midi_bytes(data: bytes, path: str = "<memory>", token=None) -> Song:
    """Like `import_midi` for bytes already read; `path` names them in messages and the title."""
    try:
        parsed = _parse(bytes(data))
        return _build_song(parsed, os.path.splitext(os.path.basename(path))[0] or "Imported", token)
    except JobCancelled:
        raise
    except _Truncated as exc:
        raise _fail(path, f"the file is truncated ({exc})") from None
    except _Problem as exc:
        raise _fail(path, str(exc)) from None
    except EOFError:  # mido ran out of bytes inside an event
        raise _fail(path, "the file is truncated (a track ends in the middle of an event)") from None
    except MemoryError:
        raise _fail(path, "it is too large to load into memory") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure (mido: OSError, ValueError ...) is damage
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
    f = io.BytesIO(data)
    try:
        fmt, ntrks, division = mido_smf.read_file_header(f)
    except EOFError:
        raise _Truncated("the header is incomplete") from None
    # mido unpacks the three header words as signed numbers
    fmt, ntrks, division = fmt & 0xFFFF, ntrks & 0xFFFF, division & 0xFFFF
    if ntrks > MAX_TRACKS:  # before a single chunk is looked at: 65,535 empty tracks cost nothing
        raise _Problem(f"it has {ntrks} tracks, more than the {MAX_TRACKS} allowed")
    chunks = []
    while len(chunks) < ntrks:
        pos = f.tell()
        try:
            cid, size = mido_smf.read_chunk_header(f)
        except EOFError:
            raise _Truncated(f"it declares {ntrks} tracks but holds only {len(chunks)}") from None
        start, end = pos + 8, pos + 8 + size
        if cid == b"MTrk":
            if end > len(data):
                raise _Truncated(f"track {len(chunks) + 1} ends in the middle")
            chunks.append((start, end))
        elif not cid.isalnum():
            raise _Problem(f"the data is damaged (a damaged chunk header at byte {pos})")
        f.seek(end)  # chunks of other kinds are skipped, as the standard asks
    return fmt, division, chunks, data


def _looks_like_text(data: bytes) -> bool:
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 32 or b in b"\t\r\n\f" for b in head)


def _messages(data: bytes, start: int, end: int, decoded: dict, every=None):
    """(delta ticks, message) for each event of one track chunk; the message is None for
    events that matter to nothing here but their time.

    This follows mido's own `read_track` (mido's byte reader, its table of message lengths,
    its decoding and checks), with these differences:
    - it yields instead of building the whole track;
    - the chunk is read from its own buffer, so an event running past the chunk's end is an
      EOFError rather than a read into the next chunk; it stops at the end-of-track event;
    - a delta time or length of more than 4 bytes is refused (see _read_varlen);
    - system exclusive data and the meta events nothing here uses are skipped undecoded;
    - only channel messages set running status;
    - each distinct byte string is decoded by mido once: a file repeats the same few
      thousand note-ons and note-offs, and a checked mido object per event made an import
      about four times slower. Tempo and time-signature events are kept the same way.
      `decoded` holds those messages (their `.time` is meaningless), at most DECODED_CACHE.
    `every(byte position)` is called every CHECK_EVERY events.
    """
    f = io.BytesIO(data[start:end])
    size = end - start
    read_byte, read = mido_smf.read_byte, f.read
    from_bytes = mido.Message.from_bytes
    running = None
    count = 0
    while f.tell() < size:
        count += 1
        if every is not None and count % CHECK_EVERY == 0:
            every(start + f.tell())
        delta = _read_varlen(f)
        status = read_byte(f)
        if status < 0x80:  # running status: this byte is the first data byte
            if running is None:
                raise _Problem("the data is damaged (running status without a previous status)")
            raw = bytes((running, status)) + read(MESSAGE_LENGTH[running] - 2)
        elif status < 0xF0:
            running = status
            raw = bytes((status,)) + read(MESSAGE_LENGTH[status] - 1)
        elif status == 0xFF:
            kind = read_byte(f)
            length = _read_varlen(f)
            if kind in USED_META:
                if length > mido_smf.MAX_MESSAGE_LENGTH:
                    raise _Problem(f"the data is damaged (a meta event of {length:,} bytes)")
                raw = bytes((0xFF, kind)) + read(length)
                msg = decoded.get(raw)
                if msg is None:
                    if len(raw) != length + 2:
                        raise EOFError
                    payload = list(raw[2:])
                    if kind == 0x51 and length != 3:
                        raise _Problem(f"the data is damaged (a tempo event has {length} bytes instead of 3)")
                    if kind == 0x58:
                        if length < 2:
                            raise _Problem("the data is damaged (a time signature event is too short)")
                        payload = payload[:4] + [24, 8][length - 2:]  # the metronome bytes may be missing
                    msg = build_meta_message(kind, payload)
                    if len(decoded) < DECODED_CACHE and length <= 4:  # not the names: seen once
                        decoded[raw] = msg
                yield delta, msg
                continue
            if kind == END_OF_TRACK:
                return
            _skip(f, length, size)
            yield delta, None
            continue
        elif status in (0xF0, 0xF7):
            _skip(f, _read_varlen(f), size)
            yield delta, None
            continue
        else:  # a stray system message (a clock, a song position ...): read past, unused
            length = MESSAGE_LENGTH.get(status)
            if length is None:
                raise _Problem(f"the data is damaged (undefined status byte 0x{status:02x})")
            _skip(f, length - 1, size)
            yield delta, None
            continue
        msg = decoded.get(raw)
        if msg is None:
            if len(raw) != MESSAGE_LENGTH[raw[0]]:
                raise EOFError
            if any(b > 127 for b in raw[1:]):  # mido would say so in its own words
                raise _Problem(f"the data is damaged (a data byte over 127 after status 0x{raw[0]:02x})")
            msg = from_bytes(raw)  # mido decodes and checks it
            if len(decoded) < DECODED_CACHE:
                decoded[raw] = msg
        yield delta, msg


def _read_varlen(f) -> int:
    """A variable-length number (a delta time or a length): at most 4 bytes, as the standard says.

    mido's `read_variable_int` reads on while the top bit is set, with no limit: a run of
    0xFF bytes became one ever-longer integer, at a cost growing with the square of the run
    (160 KB of them took 2.3 s, a 1 MB file minutes).
    """
    value = 0
    for _ in range(4):
        byte = f.read(1)
        if not byte:
            raise EOFError
        b = byte[0]
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value
    raise _Problem("the data is damaged (a delta time or length longer than 4 bytes)")


def _skip(f, length: int, size: int) -> None:
    if f.tell() + length > size:
        raise EOFError
    f.seek(length, io.SEEK_CUR)


def _text(text: str) -> str:
    """mido decodes text as latin-1 (every byte kept); UTF-8 is read as UTF-8."""
    raw = text.encode("latin-1", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def _too_many_instruments() -> str:
    return (f"it has more than {MAX_INSTRUMENTS} instruments (pairs of a channel and a program "
            "with notes); a song shows at most that many tracks")


def _build_song(parsed, title: str, token=None) -> Song:
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
    return _collect(data, chunks, tpb, title, token)


def _collect(data: bytes, chunks, tpb: int, title: str, token=None) -> Song:
    tempos: list[tuple[int, int, int]] = []  # (tick, order, microseconds per beat)
    signatures: list[tuple[int, int, int, int]] = []  # (tick, order, numerator, denominator)
    first_program: dict[int, tuple[int, int]] = {}  # channel -> (tick, program)
    parsed = []  # per MIDI track: (name, instruments, channel programs, volumes)
    note_count = 0
    instrument_count = 0  # (channel, program) pairs with notes, over all tracks
    order = 0
    max_tick = 0
    # a file whose ticks pass this lasts more than MAX_SECONDS even at the fastest tempo allowed:
    # refused as soon as it is seen instead of after the whole file is read
    tick_limit = MAX_SECONDS * MAX_BPM / 60.0 * tpb
    total = max(len(data), 1)
    decoded: dict = {}  # channel messages decoded by mido, by their bytes (see _messages)

    def every(pos: int) -> None:
        if token is not None:
            token.progress(0.95 * pos / total, "Reading MIDI events")

    for start_byte, end_byte in chunks:
        tick = 0
        name = None
        programs: dict[int, int] = {}
        touched: dict[int, int] = {}  # channels with a program change -> last program
        volumes: dict[int, float] = {}
        open_notes: dict[tuple[int, int], deque] = {}
        pending = 0  # notes begun and not yet ended: they count towards the limit too
        instruments: dict[tuple[int, int], list] = {}  # (channel, program) -> [(s, e, pitch, vel)]
        for delta, msg in _messages(data, start_byte, end_byte, decoded, every):
            tick += delta
            if msg is None:
                continue
            kind = msg.type
            if kind == "note_on" and msg.velocity:
                if tick > tick_limit:
                    raise _Problem(f"it lasts more than {MAX_SECONDS / 3600:.0f} hours; files that "
                                   "long are refused as damaged")
                ch = msg.channel
                prog = programs.get(ch)
                if prog is None:
                    prog = first_program.get(ch, (0, 0))[1]
                queue = open_notes.get((ch, msg.note))
                if queue is None:
                    queue = open_notes[(ch, msg.note)] = deque()
                queue.append((tick, msg.velocity, prog))
                pending += 1
                if note_count + pending > MAX_NOTES:
                    raise _Problem(f"it has more than {MAX_NOTES:,} notes")
            elif kind == "note_off" or kind == "note_on":  # a note-on of velocity 0 ends a note
                queue = open_notes.get((msg.channel, msg.note))
                if queue:
                    start, vel, prog = queue.popleft()  # first in, first out
                    pending -= 1
                    if start < tick:
                        lst = instruments.get((msg.channel, prog))
                        if lst is None:
                            lst = instruments[(msg.channel, prog)] = []
                            instrument_count += 1
                            if instrument_count > MAX_INSTRUMENTS:
                                raise _Problem(_too_many_instruments())
                        lst.append((start, tick, msg.note, vel))
                        note_count += 1
                    # a note ended at the tick it began is silent: dropped
            elif kind == "program_change":
                ch = msg.channel
                programs[ch] = touched[ch] = msg.program
                if ch not in first_program or tick < first_program[ch][0]:
                    first_program[ch] = (tick, msg.program)
            elif kind == "control_change":
                if msg.control == 7:
                    volumes.setdefault(msg.channel, msg.value / 127.0)
            elif kind == "set_tempo" or kind == "time_signature":
                order += 1
                if kind == "set_tempo":
                    tempos.append((tick, order, msg.tempo))
                else:
                    signatures.append((tick, order, msg.numerator, msg.denominator))
                if order > MAX_CHANGES:
                    raise _Problem(f"it has more than {MAX_CHANGES:,} tempo and time-signature changes")
            elif kind == "track_name" and name is None and msg.name.strip():
                name = _text(msg.name).strip()
        if tick > tick_limit:
            raise _Problem(f"it lasts more than {MAX_SECONDS / 3600:.0f} hours; files that "
                           "long are refused as damaged")
        # notes still sounding at the end of the track end there
        for (ch, pitch), queue in open_notes.items():
            for start, vel, prog in queue:
                if start < tick:
                    if (ch, prog) not in instruments:
                        instruments[(ch, prog)] = []
                        instrument_count += 1
                        if instrument_count > MAX_INSTRUMENTS:
                            raise _Problem(_too_many_instruments())
                    instruments[(ch, prog)].append((start, tick, pitch, vel))
                    note_count += 1
        max_tick = max(max_tick, tick)
        parsed.append((name, instruments, touched, volumes))

    if token is not None:
        token.progress(0.95, "Building the song")

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
        length = MeterMap(song.time_signatures).round_up_to_bar(
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
    for tick, _order, num, den in sorted(events):
        if not (1 <= num <= 64 and den in VALID_DENOMINATORS):
            shown = den if den <= 1024 else f"2^{den.bit_length() - 1}"
            raise _Problem(f"it has an invalid time signature {num}/{shown}")
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
    meta = mido.MetaMessage
    conductor = [(0, 0, 0, meta("track_name", name=_utf8(song.title or "Untitled")))]
    for ts in song.time_signatures:
        if int(ts.denominator) not in VALID_DENOMINATORS or not 1 <= int(ts.numerator) <= 255:
            raise MidiFileError(f"The time signature {ts.numerator}/{ts.denominator} cannot be "
                                "written to a MIDI file.")
        conductor.append((tick(ts.beat), 1, 0, meta("time_signature", numerator=int(ts.numerator),
                                                   denominator=int(ts.denominator))))
    for tc in song.tempos:
        us = min(max(int(round(60_000_000.0 / tc.bpm)), 1), 0xFFFFFF)
        conductor.append((tick(tc.beat), 2, 0, meta("set_tempo", tempo=us)))
    for beat, label in markers:
        conductor.append((tick(beat), 3, 0, meta("marker", text=_utf8(str(label)))))
    made: dict = {}  # note messages, shared between events (see _track)
    tracks = [_track(conductor, last, made)]

    message = mido.Message
    for track, ch in zip(song.tracks, _assign_channels(song.tracks)):
        events = [(0, 0, 0, meta("track_name", name=_utf8(track.name))),
                  (0, 1, 0, message("program_change", channel=ch,
                                    program=min(max(int(track.program), 0), 127)))]
        if track.volume < 1.0:
            value = min(max(int(round(track.volume * 127)), 0), 127)
            events.append((0, 2, 0, message("control_change", channel=ch, control=7, value=value)))
        for n in notes.get(track.id, []):
            pitch = min(max(int(n.pitch), 0), 127)
            vel = min(max(int(n.velocity), 1), 127)
            start = tick(n.start)
            end = max(tick(n.end), start + 1)
            # at one tick: note-offs before note-ons, so a repeated pitch restarts cleanly;
            # a note's message is made once its delta time is known (see _track)
            events.append((start, 4, pitch, ("note_on", ch, vel)))
            events.append((end, 3, pitch, ("note_off", ch, 0)))
        tracks.append(_track(events, last, made))
    out = io.BytesIO()
    mido.MidiFile(type=1, ticks_per_beat=tpb, tracks=tracks).save(file=out)
    return out.getvalue()


def _utf8(text: str) -> str:
    """Text for mido, which writes each character as one latin-1 byte: the UTF-8 bytes of `text`."""
    return text.encode("utf-8").decode("latin-1")


def _track(events, end_tick: int, made: dict) -> mido.MidiTrack:
    """events: (tick, priority at that tick, pitch, message or note) in any order.

    A note is ("note_on" or "note_off", channel, velocity), turned into a message here with its
    delta time. Notes repeat: one message object serves every event with the same bytes and
    delta (`made` holds them; the track is only written, never changed), and its values were
    clamped into range when listed, so mido's per-message checks are skipped. Building a
    checked message per note was half the export time.
    """
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    track = mido.MidiTrack()
    append, message = track.append, mido.Message
    now = 0
    for tick, _prio, pitch, what in events:
        if type(what) is tuple:
            key = (what, pitch, tick - now)
            msg = made.get(key)
            if msg is None:
                msg = message(what[0], skip_checks=True, channel=what[1], note=pitch,
                              velocity=what[2], time=tick - now)
                if len(made) < DECODED_CACHE:
                    made[key] = msg
            append(msg)
        else:
            what.time = tick - now  # a message made for this track alone
            append(what)
        now = tick
    append(mido.MetaMessage("end_of_track", time=max(end_tick - now, 0)))
    return track


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
