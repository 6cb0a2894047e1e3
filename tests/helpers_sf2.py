"""Writes a tiny but valid SoundFont 2 file: one looped sine wave, one melodic preset and one
drum-kit preset (bank 128), so SoundFont rendering can be tested without a 140 MB GM font."""
from __future__ import annotations

import struct

import numpy as np

SINE_RATE = 44000
SINE_HZ = 440.0  # 100 samples per period at 44 kHz: a seamless loop


def _chunk(tag: bytes, data: bytes) -> bytes:
    if len(data) % 2:
        data += b"\0"
    return tag + struct.pack("<I", len(data)) + data


def _list(kind: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def _name(text: str) -> bytes:
    return text.encode("ascii")[:19].ljust(20, b"\0")


def sine_soundfont_bytes(periods: int = 200) -> bytes:
    n = int(SINE_RATE / SINE_HZ) * periods
    wave = (np.sin(2 * np.pi * SINE_HZ * np.arange(n) / SINE_RATE) * 20000).astype("<i2")
    smpl = wave.tobytes() + b"\0" * 92  # 46 zero samples after each sample, as the spec asks
    info = _list(b"INFO", _chunk(b"ifil", struct.pack("<HH", 2, 1)),
                 _chunk(b"isng", b"EMU8000\0"), _chunk(b"INAM", b"Test sine\0"))
    sdta = _list(b"sdta", _chunk(b"smpl", smpl))
    # two presets (melodic 0:0 and drums 128:0) share one instrument
    phdr = (_name("Sine") + struct.pack("<HHHIII", 0, 0, 0, 0, 0, 0)
            + _name("Sine kit") + struct.pack("<HHHIII", 0, 128, 1, 0, 0, 0)
            + _name("EOP") + struct.pack("<HHHIII", 0, 0, 2, 0, 0, 0))
    pbag = struct.pack("<HH", 0, 0) + struct.pack("<HH", 1, 0) + struct.pack("<HH", 2, 0)
    pmod = b"\0" * 10
    pgen = struct.pack("<HH", 41, 0) + struct.pack("<HH", 41, 0) + struct.pack("<HH", 0, 0)
    inst = _name("Sine") + struct.pack("<H", 0) + _name("EOI") + struct.pack("<H", 1)
    ibag = struct.pack("<HH", 0, 0) + struct.pack("<HH", 2, 0)
    imod = b"\0" * 10
    igen = (struct.pack("<HH", 54, 1)  # sampleModes: loop continuously
            + struct.pack("<HH", 53, 0)  # sampleID (must come last)
            + struct.pack("<HH", 0, 0))
    shdr = (_name("sine") + struct.pack("<IIIIIBbHH", 0, n, 0, n, SINE_RATE, 69, 0, 0, 1)
            + _name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0))
    pdta = _list(b"pdta", _chunk(b"phdr", phdr), _chunk(b"pbag", pbag), _chunk(b"pmod", pmod),
                 _chunk(b"pgen", pgen), _chunk(b"inst", inst), _chunk(b"ibag", ibag),
                 _chunk(b"imod", imod), _chunk(b"igen", igen), _chunk(b"shdr", shdr))
    body = b"sfbk" + info + sdta + pdta
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_sine_soundfont(path) -> str:
    with open(path, "wb") as f:
        f.write(sine_soundfont_bytes())
    return str(path)
