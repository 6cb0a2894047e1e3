"""Write a realistic 16-bar trio (melody, bass, drums) as a MIDI file, for looking at the window.

    python tools/demo_trio.py out.mid [--bars 16] [--tempo 104]

A I-vi-IV-V progression in C major: a stepwise melody with rests and a few long notes, a
root-fifth bass line, and a kick / snare / hats groove with a fill every fourth bar. The
tests use `write_trio` to get a file that looks like real music.
"""
from __future__ import annotations

import argparse
import random

CHORDS = [(60, "C"), (57, "Am"), (53, "F"), (55, "G")]  # roots, one chord per bar
SCALE = [0, 2, 4, 5, 7, 9, 11]
KICK, SNARE, CLOSED_HAT, OPEN_HAT, CRASH, TOM_HI, TOM_LO = 36, 38, 42, 46, 49, 50, 45


def _chord_tones(root: int, minor: bool) -> list[int]:
    return [root, root + (3 if minor else 4), root + 7]


def write_trio(path: str, bars: int = 16, tempo: float = 104.0, seed: int = 7) -> str:
    import pretty_midi  # noqa: PLC0415

    rng = random.Random(seed)
    beat = 60.0 / tempo
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    melody = pretty_midi.Instrument(program=73, name="Flute melody")
    bass = pretty_midi.Instrument(program=33, name="Finger bass")
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="Drums")

    def note(inst, pitch, start_beats, length_beats, velocity):
        inst.notes.append(pretty_midi.Note(int(velocity), int(pitch), start_beats * beat,
                                           (start_beats + length_beats) * beat))

    pitch = 72
    for bar in range(bars):
        root, name = CHORDS[bar % 4]
        tones = _chord_tones(root + 12, name.endswith("m"))
        t0 = bar * 4.0
        # melody: phrases of 4 bars, the last bar of a phrase holds a long chord tone
        if bar % 4 == 3:
            target = min(tones, key=lambda p: abs(p - pitch))
            note(melody, target, t0, 0.5, 84)
            note(melody, target + 12 if target < 70 else target, t0 + 1.0, 2.5, 92)
            pitch = target
        else:
            pos = 0.0
            while pos < 4.0:
                length = rng.choice([0.5, 0.5, 0.5, 1.0, 1.0, 0.25, 1.5])
                length = min(length, 4.0 - pos)
                if rng.random() < 0.12 and pos > 0:
                    pos += length  # a rest
                    continue
                step = rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3])
                degree = SCALE.index((pitch - 60) % 12) if (pitch - 60) % 12 in SCALE else 0
                octave = (pitch - 60) // 12
                degree += step
                octave += degree // 7
                degree %= 7
                pitch = max(67, min(86, 60 + 12 * octave + SCALE[degree]))
                if pos in (0.0, 2.0):
                    pitch = min(tones + [t + 12 for t in tones], key=lambda p: abs(p - pitch))
                velocity = 96 if pos in (0.0, 2.0) else rng.randint(66, 86)
                note(melody, pitch, t0 + pos, length * 0.95, velocity)
                pos += length
        # bass: root on 1, fifth on 3, a passing note before the next bar
        b = root - 24
        note(bass, b, t0, 1.5, 100)
        note(bass, b, t0 + 1.5, 0.5, 78)
        note(bass, b + 7, t0 + 2.0, 1.0, 90)
        next_root = CHORDS[(bar + 1) % 4][0] - 24
        note(bass, next_root + (1 if next_root < b else -1), t0 + 3.0, 0.75, 80)
        # drums
        if bar % 4 == 0:
            note(drums, CRASH, t0, 1.0, 100)
        for i in range(8):
            pos = i * 0.5
            if bar % 4 == 3 and pos >= 3.0:
                continue
            hat = OPEN_HAT if i == 7 and bar % 2 == 1 else CLOSED_HAT
            note(drums, hat, t0 + pos, 0.25, 90 if i % 2 == 0 else 62)
        for pos in (0.0, 1.5, 2.5):
            note(drums, KICK, t0 + pos, 0.25, 110 if pos == 0 else 92)
        for pos in (1.0, 3.0):
            if not (bar % 4 == 3 and pos == 3.0):
                note(drums, SNARE, t0 + pos, 0.25, 104)
        if bar % 4 == 3:  # a fill
            for k, (drum, pos) in enumerate([(TOM_HI, 3.0), (TOM_HI, 3.25), (TOM_LO, 3.5),
                                             (SNARE, 3.75)]):
                note(drums, drum, t0 + pos, 0.25, 88 + 4 * k)

    pm.instruments.extend([melody, bass, drums])
    pm.write(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--tempo", type=float, default=104.0)
    args = parser.parse_args()
    write_trio(args.out, args.bars, args.tempo)
    print(args.out)


if __name__ == "__main__":
    main()
