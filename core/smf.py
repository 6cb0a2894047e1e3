"""Standard MIDI File bytes: a small, strict reader and writer.

Only what Latent Studio uses is decoded: notes, program changes, controllers, tempo, time
signature and track names (other events are read past). Building one mido message object
per event made a 200,000-note file take many seconds to read and write; this works on plain
tuples and is several times faster. The tests check it against files written and read by
mido and pretty_midi.

`read(data)` raises SmfError (a plain message, no file name) for anything malformed;
core.midi_io turns that into a MidiFileError naming the file.
"""
from __future__ import annotations

import struct
from typing import Iterator

# event kinds yielded by `events`
NOTE_ON, NOTE_OFF, PROGRAM, CONTROL, TEMPO, TIME_SIGNATURE, TRACK_NAME, MARKER = range(8)
_DATA_LENGTH = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}


class SmfError(Exception):
    """The bytes are not a well-formed Standard MIDI File."""


class Truncated(SmfError):
    """The data ends before a chunk or an event is complete."""


def read_header(data: bytes) -> tuple[int, int, int, list[tuple[int, int]]]:
    """(format, declared track count, division, [(start, end) of each MTrk chunk])."""
    if len(data) < 14:
        raise Truncated("the header is incomplete")
    if data[:4] != b"MThd":
        raise SmfError("no MIDI header")
    (hlen,) = struct.unpack(">L", data[4:8])
    if hlen < 6:
        raise SmfError(f"the header is {hlen} bytes long, less than the 6 required")
    fmt, ntrks, division = struct.unpack(">HHH", data[8:14])
    pos = 8 + hlen
    chunks = []
    while len(chunks) < ntrks:
        if pos + 8 > len(data):
            raise Truncated(f"it declares {ntrks} tracks but holds only {len(chunks)}")
        cid = data[pos:pos + 4]
        (clen,) = struct.unpack(">L", data[pos + 4:pos + 8])
        start, end = pos + 8, pos + 8 + clen
        if cid == b"MTrk":
            if end > len(data):
                raise Truncated(f"track {len(chunks) + 1} ends in the middle")
            chunks.append((start, end))
        elif not cid.isalnum():
            raise SmfError(f"a damaged chunk header at byte {pos}")
        pos = end  # other chunk kinds are skipped
    return fmt, ntrks, division, chunks


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def events(data: bytes, start: int, end: int) -> Iterator[tuple]:
    """The decoded events of one track chunk as (delta, kind, ...) tuples.

    NOTE_ON/NOTE_OFF: (delta, kind, channel, pitch, velocity); a note-on with velocity 0 is
    NOTE_OFF. PROGRAM: (delta, kind, channel, program). CONTROL: (delta, kind, channel,
    controller, value). TEMPO: (delta, kind, microseconds per beat). TIME_SIGNATURE: (delta,
    kind, numerator, denominator power of two). TRACK_NAME / MARKER: (delta, kind, text).
    Events that matter to nothing here come back as (delta, None) so that time still advances.
    """
    pos = start
    status = None
    while pos < end:
        # delta time: a variable-length number of at most 4 bytes
        delta = 0
        for i in range(4):
            if pos >= end:
                raise Truncated("a track ends in the middle of an event")
            b = data[pos]
            pos += 1
            delta = (delta << 7) | (b & 0x7F)
            if b < 0x80:
                break
        else:
            raise SmfError("an event has an invalid delta time")
        if pos >= end:
            raise Truncated("a track ends in the middle of an event")
        b = data[pos]
        if b >= 0x80:
            pos += 1
            if b < 0xF0:
                status = b
        elif status is None:
            raise SmfError("an event has running status without a previous status")
        else:
            b = status  # running status: the byte at pos is data
        if b == 0xFF:
            if pos >= end:
                raise Truncated("a track ends in the middle of an event")
            mtype = data[pos]
            length, pos = _varlen(data, pos + 1, end)
            payload = data[pos:pos + length]
            pos += length
            if pos > end:
                raise Truncated("a track ends in the middle of a meta event")
            if mtype == 0x2F:
                yield (delta, None)
                return
            if mtype == 0x51:
                if length != 3:
                    raise SmfError(f"a tempo event has {length} bytes instead of 3")
                yield (delta, TEMPO, (payload[0] << 16) | (payload[1] << 8) | payload[2])
            elif mtype == 0x58:
                if length < 2:
                    raise SmfError("a time signature event is too short")
                yield (delta, TIME_SIGNATURE, payload[0], payload[1])
            elif mtype == 0x03:
                yield (delta, TRACK_NAME, _text(payload))
            elif mtype == 0x06:
                yield (delta, MARKER, _text(payload))
            else:
                yield (delta, None)
        elif b in (0xF0, 0xF7):
            length, pos = _varlen(data, pos, end)
            pos += length
            if pos > end:
                raise Truncated("a track ends in the middle of a system exclusive message")
            yield (delta, None)
        elif b >= 0xF0:
            raise SmfError(f"undefined status byte 0x{b:02x}")
        else:
            hi, ch = b & 0xF0, b & 0x0F
            n = _DATA_LENGTH[hi]
            if pos + n > end:
                raise Truncated("a track ends in the middle of an event")
            d1 = data[pos]
            d2 = data[pos + 1] if n == 2 else 0
            if d1 >= 0x80 or d2 >= 0x80:
                raise SmfError(f"a data byte is out of range at byte {pos}")
            pos += n
            if hi == 0x90:
                yield (delta, NOTE_ON if d2 else NOTE_OFF, ch, d1, d2)
            elif hi == 0x80:
                yield (delta, NOTE_OFF, ch, d1, d2)
            elif hi == 0xC0:
                yield (delta, PROGRAM, ch, d1)
            elif hi == 0xB0:
                yield (delta, CONTROL, ch, d1, d2)
            else:
                yield (delta, None)


def _varlen(data: bytes, pos: int, end: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        if pos >= end:
            raise Truncated("a track ends in the middle of an event")
        b = data[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, pos
    raise SmfError("an event has an invalid length")


# ====================================================================== writing
def varlen(value: int) -> bytes:
    """A number as a MIDI variable-length quantity (0 .. 0x0FFFFFFF)."""
    if not 0 <= value <= 0x0FFFFFFF:
        raise ValueError(f"{value} does not fit a MIDI variable-length number")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def meta(mtype: int, payload: bytes) -> bytes:
    return bytes((0xFF, mtype)) + varlen(len(payload)) + payload


def text_meta(mtype: int, text: str) -> bytes:
    return meta(mtype, text.encode("utf-8"))


def tempo_meta(us_per_beat: int) -> bytes:
    return meta(0x51, int(us_per_beat).to_bytes(3, "big"))


def time_signature_meta(numerator: int, denominator: int) -> bytes:
    power = max(int(denominator), 1).bit_length() - 1
    return meta(0x58, bytes((int(numerator), power, 24, 8)))


def track_chunk(events: list[tuple[int, bytes]], end_tick: int) -> bytes:
    """An MTrk chunk from (absolute tick, event bytes) already in order; adds end of track."""
    body = bytearray()
    now = 0
    for tick, raw in events:
        body += varlen(tick - now)
        body += raw
        now = tick
    body += varlen(max(end_tick - now, 0)) + b"\xff\x2f\x00"
    return b"MTrk" + struct.pack(">L", len(body)) + bytes(body)


def file_bytes(tracks: list[bytes], ticks_per_beat: int, fmt: int = 1) -> bytes:
    return b"MThd" + struct.pack(">LHHH", 6, fmt, len(tracks), ticks_per_beat) + b"".join(tracks)
