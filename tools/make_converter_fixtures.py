"""Record what Magenta's own converters make of random notes, as a fixture for tests/test_converters.py.

Runs in the separate Magenta reference environment (see ../shared/MUSICVAE.md), not the project's:

    TF_USE_LEGACY_KERAS=1 /path/to/magenta-ref/bin/python tools/make_converter_fixtures.py \
        tests/fixtures/magenta_converters.json

Cases (seeded, so the file is reproducible): random polyphonic melodies with out-of-range and
silent notes through OneHotMelodyConverter, random GM and non-GM drum hits through
DrumsConverter(roll_input=True), random token sequences decoded by both, and random trios
through TrioConverter. Times are on a 1/32-beat grid (exact in binary) plus some triplets, at
120 quarter notes per minute, so seconds * 2 = beats.
"""
import json
import random
import sys

import numpy as np

from magenta.models.music_vae import data
from note_seq.protobuf import music_pb2

QPM = 120.0
SEC = 60.0 / QPM  # seconds per beat


def _time(rng, lo, hi):
    if rng.random() < 0.2:
        return round(rng.randrange(int(lo * 3), int(hi * 3)) / 3.0, 6)
    return rng.randrange(int(lo * 32), int(hi * 32)) / 32.0


def _seq(notes, beats):
    ns = music_pb2.NoteSequence()
    ns.tempos.add(qpm=QPM)
    ns.time_signatures.add(numerator=4, denominator=4)
    ns.ticks_per_quarter = 220
    for pitch, start, end, vel, instrument, program, is_drum in notes:
        ns.notes.add(pitch=pitch, start_time=start * SEC, end_time=end * SEC, velocity=vel,
                     instrument=instrument, program=program, is_drum=is_drum)
    ns.total_time = beats * SEC
    return ns


def _notes_out(ns):
    return sorted([n.pitch, round(n.start_time / SEC, 6), round(n.end_time / SEC, 6), n.velocity, n.program,
                   bool(n.is_drum)] for n in ns.notes)


def melody_cases(rng, n):
    conv = data.OneHotMelodyConverter(gap_bars=None, pad_to_total_time=True, max_tensors_per_notesequence=None,
                                      presplit_on_time_changes=False)
    out = []
    for _ in range(n):
        starts = [_time(rng, 0, 8) for _ in range(rng.randint(1, 6))]
        notes = []
        for _ in range(rng.randint(1, 14)):
            s = rng.choice(starts) if rng.random() < 0.4 else _time(rng, 0, 8)
            e = min(s + max(_time(rng, 0, 3), 1 / 32), 8.0)
            if e <= s:
                continue
            pitch = rng.randint(15, 115) if rng.random() < 0.15 else rng.randint(40, 90)
            vel = 0 if rng.random() < 0.05 else rng.randint(1, 127)
            notes.append([pitch, s, e, vel])
        t = conv.to_tensors(_seq([(p, s, e, v, 0, 0, False) for p, s, e, v in notes], 8.0))
        tokens = np.argmax(t.outputs[0], -1)[:32].tolist() if t.outputs else [0] * 32
        tokens += [0] * (32 - len(tokens))
        out.append({"notes": notes, "steps": 32, "tokens": tokens})
    return out


def melody_decode_cases(rng, n):
    conv = data.OneHotMelodyConverter()
    out = []
    for _ in range(n):
        toks = [0 if (r := rng.random()) < 0.5 else 1 if r < 0.65 else rng.randint(2, 89) for _ in range(32)]
        ns = conv.from_tensors(np.eye(90)[toks][None])[0]
        out.append({"tokens": toks, "notes": _notes_out(ns)})
    return out


def drum_cases(rng, n):
    conv = data.DrumsConverter(gap_bars=None, pad_to_total_time=True, roll_input=True,
                               max_tensors_per_notesequence=None, presplit_on_time_changes=False)
    gm = [p for ps in data.REDUCED_DRUM_PITCH_CLASSES for p in ps]
    out = []
    for _ in range(n):
        notes = []
        for _ in range(rng.randint(1, 24)):
            s = _time(rng, 0, 8)
            pitch = rng.choice(gm) if rng.random() < 0.85 else rng.randint(0, 127)
            notes.append([pitch, s, min(s + 0.25, 8.0) if s + 0.25 <= 8.0 else 8.0, rng.randint(1, 127)])
        notes = [x for x in notes if x[2] > x[1]]
        t = conv.to_tensors(_seq([(p, s, e, v, 9, 0, True) for p, s, e, v in notes], 8.0))
        if t.outputs:
            roll = np.asarray(t.inputs[0], int)[:32].tolist()
            classes = np.argmax(t.outputs[0], -1)[:32].tolist()
        else:
            roll, classes = [[0] * 9 + [1]] * 32, [0] * 32
        out.append({"notes": notes, "steps": 32, "roll": roll, "classes": classes})
    return out


def drum_decode_cases(rng, n):
    conv = data.DrumsConverter()
    out = []
    for _ in range(n):
        toks = [0 if rng.random() < 0.5 else rng.randint(1, 511) for _ in range(32)]
        ns = conv.from_tensors(np.eye(512)[toks][None])[0]
        out.append({"tokens": toks, "notes": _notes_out(ns)})
    return out


def trio_cases(rng, n):
    conv = data.TrioConverter(slice_bars=2, gap_bars=2, max_tensors_per_notesequence=None)
    out = []
    for _ in range(n):
        mel, bass, drums = [], [], []
        t = 0.0
        while t < 8:
            d = rng.choice([0.25, 0.5, 1.0, 1.5])
            mel.append([rng.randint(55, 90), t, min(t + d, 8.0), 90])
            t += d
        t = 0.0
        while t < 8:
            d = rng.choice([1.0, 2.0])
            bass.append([rng.randint(28, 55), t, min(t + d, 8.0), 90])
            t += d
        for s in range(0, 32):
            if rng.random() < 0.4:
                drums.append([rng.choice([36, 38, 42, 46, 49, 51, 45, 48, 50, 44, 37]), s / 4, s / 4 + 0.25, 90])
        notes = ([(p, s, e, v, 0, 0, False) for p, s, e, v in mel] + [(p, s, e, v, 1, 33, False) for p, s, e, v in bass]
                 + [(p, s, e, v, 9, 0, True) for p, s, e, v in drums])
        tensors = conv.to_tensors(_seq(notes, 8.0))
        if not tensors.outputs:
            continue
        o = tensors.outputs[0]
        tokens = np.stack([np.argmax(o[:, :90], -1), np.argmax(o[:, 90:180], -1), np.argmax(o[:, 180:], -1)], -1)
        decoded = conv.from_tensors(o[None])[0]
        out.append({"melody": mel, "bass": bass, "drums": drums, "tokens": tokens.tolist(),
                    "decoded": _notes_out(decoded)})
    return out


def main():
    rng = random.Random(20261121)
    fixture = {
        "note": "made by tools/make_converter_fixtures.py with magenta 2.1.4 and note-seq",
        "melody_encode": melody_cases(rng, 120),
        "melody_decode": melody_decode_cases(rng, 40),
        "drums_encode": drum_cases(rng, 80),
        "drums_decode": drum_decode_cases(rng, 30),
        "trio": trio_cases(rng, 12),
    }
    with open(sys.argv[1], "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print({k: len(v) for k, v in fixture.items() if isinstance(v, list)})


if __name__ == "__main__":
    main()
