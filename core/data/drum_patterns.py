"""A drum-pattern generator grounded in how drummers play common grooves.

No drum data set ships with any package, so the drum model learns from generated patterns.
Each genre is a set of step-probability grids on the 16th-note grid (16 steps a 4/4 bar):
one row per sound, one character per step. A character gives the chance of a hit and its
loudness:

    X  always, accented      x  always, normal      h  always, soft (off-beat hats)
    o  often (65 %)          s  sometimes (35 %)    r  rarely (15 %)
    G  ghost note, often     g  ghost note, now and then (snare ghosts, velocity ~35)
    -  never

Bars are sampled from the grids, so core hits (kick on one, the backbeat) stay put while
ghost notes, pickups and open hats change from bar to bar. A phrase (4 or 8 bars) is built
from two sampled bars, A and B, in a musical order (A A A B or A B A B), its last bar ends
with a fill (snare rolls, tom runs or both, one or two beats long) and the next phrase starts
with a crash over the kick. Swung grooves (shuffle, reggae one drop) are written the way
Magenta's 16th-grid data holds them: the swung eighth lands on the last 16th of the beat
(the triplet's third part, 2/3 of a beat, rounds to step 3 of 4).

Everything is deterministic for a given seed. Notes are one 16th long, on General MIDI drum
pitches that the drum converter maps to its nine classes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from core.song import Note, sort_notes

STEPS_PER_BAR = 16
STEP = 0.25  # beats

# General MIDI drum pitches used here
KICK, RIM, SNARE, CLAP = 36, 37, 38, 39
CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 42, 44, 46
FLOOR_TOM, LOW_TOM, MID_TOM, HIGH_TOM = 41, 45, 48, 50
CRASH, RIDE, RIDE_BELL, COWBELL = 49, 51, 53, 56

# character -> (probability, velocity)
_CELLS = {
    "X": (1.0, 112), "x": (1.0, 92), "h": (1.0, 64), "o": (0.65, 86), "s": (0.35, 82),
    "r": (0.15, 78), "G": (0.7, 38), "g": (0.3, 33), "-": (0.0, 0),
}


@dataclass(frozen=True)
class Genre:
    name: str
    description: str
    tempo: tuple[int, int]  # typical BPM range (for the docs and for playback of samples)
    grids: dict[int, str]  # GM pitch -> grid (16 or 32 characters; '|' and spaces ignored)
    swing: bool = False
    fill_styles: tuple[str, ...] = ("snare", "toms", "mixed")
    crash_chance: float = 0.9
    kick_with_crash: bool = True  # the one drop keeps beat 1 empty even under a crash


GENRES: dict[str, Genre] = {g.name: g for g in [
    Genre("rock", "straight 8th hi-hats, kick on 1 and 3 with pickups, snare backbeat on 2 and 4, "
          "occasional ghost notes and an open hat on the last off-beat", (96, 140), {
              KICK: "X-----r-x-o---r-",
              SNARE: "----X--g----X--g",
              CLOSED_HAT: "x-h-x-h-x-h-x-h-",
              OPEN_HAT: "--------------r-",
          }, crash_chance=1.0),
    Genre("funk", "busy 16th hi-hats accented on the beat, syncopated kick, backbeat with many "
          "snare ghost notes, open hat barks", (92, 116), {
              KICK: "X--s--o-x-o--s--",
              SNARE: "-g-gX--g-g-GX-g-",
              CLOSED_HAT: "xhhhxhhhxhhhxhhh",
              OPEN_HAT: "------s-------s-",
          }),
    Genre("hip-hop", "boom-bap: heavy kick on 1 and the and of 3, hard snare on 2 and 4, "
          "laid-back 8th hats with a few 16th pickups", (80, 100), {
              KICK: "X--r---s--X---r-",
              SNARE: "----X------g X--g",
              CLOSED_HAT: "x-h-x-h-x-h-x-hr",
              OPEN_HAT: "--------------r-",
          }),
    Genre("house", "four-on-the-floor kick, clap on 2 and 4, open hats on every off-beat, "
          "soft 16th closed hats", (118, 128), {
              KICK: "X---X---X---X---",
              CLAP: "----x-------x---",
              SNARE: "--------------g-",
              OPEN_HAT: "--x---x---x---x-",
              CLOSED_HAT: "h--sh--sh--sh--s",
          }, fill_styles=("snare",), crash_chance=0.8),
    Genre("reggae", "one drop: kick and cross-stick together on beat 3 only, nothing on beat 1, "
          "swung 8th hats (the off-beat on the last 16th of the beat)", (70, 90), {
              KICK: "--------X-------",
              RIM: "--------x-------",
              SNARE: "-----------g---g",
              CLOSED_HAT: "x--hx--hx--hx--h",
              OPEN_HAT: "-------r--------",
          }, swing=True, fill_styles=("snare", "toms"), crash_chance=0.5, kick_with_crash=False),
    Genre("bossa nova", "kick in the dotted-8th and 16th surdo pattern, cross-stick playing the "
          "two-bar bossa clave, steady 8th hats", (120, 150), {
              KICK: "x--hx--hx--hx--h",
              RIM: "x-----x-----x---|----x-----x-----",
              CLOSED_HAT: "x-h-x-h-x-h-x-h-",
              SNARE: "-----------g----",
          }, fill_styles=("snare",), crash_chance=0.4),
    Genre("shuffle", "blues shuffle: swung 8ths on the ride (on the beat and on its last 16th), "
          "foot hi-hat on 2 and 4, backbeat snare with triplet ghost notes", (90, 130), {
              KICK: "X-------x--s----",
              SNARE: "---gX--g---gX--g",
              RIDE: "x--hx--hx--hx--h",
              PEDAL_HAT: "----x-------x---",
          }, swing=True),
    Genre("disco", "four-on-the-floor kick, snare on 2 and 4, open hat on every off-beat, "
          "16th closed hats around it", (110, 130), {
              KICK: "X---X---X---X---",
              SNARE: "----X--g----X--g",
              OPEN_HAT: "--x---x---x---x-",
              CLOSED_HAT: "xh-hxh-hxh-hxh-h",
          }, crash_chance=0.8),
    Genre("drum and bass", "two-step at a fast tempo: kick on 1 and the and of 3, snare on 2 and 4, "
          "ghost snares between, 8th hats with 16th pickups", (165, 178), {
              KICK: "X------r--x---r-",
              SNARE: "----X--g-g--X--g",
              CLOSED_HAT: "x-hsx-hsx-hsx-hs",
              RIDE: "r-------r-------",
          }),
    Genre("half-time", "half-time feel: snare only on beat 3, kick on 1 with syncopated pickups, "
          "8th hats with 16th ghosts", (130, 160), {
              KICK: "X-----r---x---r-",
              SNARE: "---g---gX-----g-",
              CLOSED_HAT: "x-h-x-h-x-h-x-h-",
              OPEN_HAT: "------r-------r-",
          }),
]}

GENRE_NAMES = tuple(GENRES)


def _parse(grid: str) -> list[tuple[float, int]]:
    cells = [c for c in grid if c not in "| "]
    if len(cells) not in (16, 32):
        raise ValueError(f"a grid has 16 or 32 steps, got {len(cells)}: {grid!r}")
    return [_CELLS[c] for c in cells]


_PARSED = {name: {p: _parse(g) for p, g in genre.grids.items()} for name, genre in GENRES.items()}


def seed_from(*parts) -> int:
    """A stable integer seed from any values (Python's hash() changes between runs)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _humanize(rng, velocity: int, spread: float = 5.0) -> int:
    return int(np.clip(round(velocity + rng.normal(0.0, spread)), 1, 127))


def _sample_bar(rng, genre: Genre, bar_in_pattern: int) -> dict[int, list[int]]:
    """step -> [(pitch, velocity)] for one bar sampled from the genre's grids."""
    hits: dict[int, dict[int, int]] = {}
    for pitch, cells in _PARSED[genre.name].items():
        offset = (bar_in_pattern % (len(cells) // STEPS_PER_BAR)) * STEPS_PER_BAR
        for step in range(STEPS_PER_BAR):
            prob, vel = cells[offset + step]
            if prob > 0 and (prob >= 1.0 or rng.random() < prob):
                hits.setdefault(step, {})[pitch] = vel
    for step, h in hits.items():  # an open hat chokes the closed one
        if OPEN_HAT in h:
            h.pop(CLOSED_HAT, None)
    return hits


def _fill(rng, genre: Genre, length: int) -> dict[int, dict[int, int]]:
    """A fill over the last `length` steps of a bar (positions relative to the fill start)."""
    style = genre.fill_styles[int(rng.integers(len(genre.fill_styles)))]
    if genre.swing:  # triplet feel on the 16th grid: 0, 1/3, 2/3 of a beat -> steps 0, 1, 3
        steps = [b + s for b in range(0, length, 4) for s in (0, 1, 3)]
    else:
        dense = rng.random() < 0.6
        steps = list(range(length)) if dense else list(range(0, length, 2))
    toms = [HIGH_TOM, MID_TOM, LOW_TOM, FLOOR_TOM]
    out: dict[int, dict[int, int]] = {}
    n = len(steps)
    for i, st in enumerate(steps):
        if rng.random() < 0.12 and i not in (0, n - 1):
            continue  # leave a gap now and then
        vel = int(70 + 45 * i / max(n - 1, 1))  # crescendo into the next downbeat
        if style == "snare" or (style == "mixed" and i < n // 2):
            pitch = SNARE
        else:
            frac = i / max(n - 1, 1) if style == "toms" else (i - n // 2) / max(n - n // 2 - 1, 1)
            pitch = toms[min(int(frac * len(toms)), len(toms) - 1)]
        out.setdefault(st, {})[pitch] = vel
        if st % 4 == 0 and rng.random() < 0.5:
            out[st][KICK] = 90
    return out


def generate(genre: str, bars: int, seed=0, *, phrase_bars: int | None = None, fills: bool = True,
             crashes: bool = True, start_beat: float = 0.0) -> list[Note]:
    """Drum notes for `bars` 4/4 bars of a genre; the same arguments give the same notes.

    `phrase_bars` (4 or 8; chosen from the seed when None) sets where fills (the last bar of a
    phrase) and crashes (the first beat of a phrase) go.
    """
    if genre not in GENRES:
        raise ValueError(f"unknown genre {genre!r}; expected one of {GENRE_NAMES}")
    g = GENRES[genre]
    rng = np.random.default_rng(seed_from("drums", genre, seed))
    if phrase_bars is None:
        phrase_bars = 4 if rng.random() < 0.5 else 8
    two_bar = any(len(c) == 2 * STEPS_PER_BAR for c in _PARSED[genre].values())
    notes: list[Note] = []
    bar = 0
    while bar < bars:
        a, b = _sample_bar(rng, g, 0), _sample_bar(rng, g, 1)
        order = "AB" * (phrase_bars // 2) if rng.random() < 0.5 else "A" * (phrase_bars - 1) + "B"
        for i, which in enumerate(order):
            if bar >= bars:
                break
            hits = a if which == "A" else b
            if which == "A" and bar % 2 == 1 and two_bar:
                hits = _sample_bar(rng, g, 1)  # the second bar of a two-bar grid (the clave)
            hits = {s: dict(h) for s, h in hits.items()}
            if rng.random() < 0.3:  # small changes so that no two bars are copies
                extra = _sample_bar(rng, g, bar)
                for s, h in extra.items():
                    for p, v in h.items():
                        if v < 60 or p == OPEN_HAT:
                            hits.setdefault(s, {})[p] = v
            if crashes and i == 0 and rng.random() < g.crash_chance:
                hits.setdefault(0, {})[CRASH] = 108
                if g.kick_with_crash:
                    hits[0][KICK] = max(hits[0].get(KICK, 0), 100)
                hits[0].pop(CLOSED_HAT, None)
                hits[0].pop(OPEN_HAT, None)
            if fills and i == phrase_bars - 1:
                length = int(rng.choice([4, 8, 8, 12], p=[0.45, 0.25, 0.15, 0.15]))
                start = STEPS_PER_BAR - length
                for s in range(start, STEPS_PER_BAR):
                    hits.pop(s, None)
                for s, h in _fill(rng, g, length).items():
                    hits[start + s] = h
            for step in sorted(hits):
                for pitch, vel in sorted(hits[step].items()):
                    t = start_beat + (bar * STEPS_PER_BAR + step) * STEP
                    notes.append(Note(pitch, t, t + STEP, _humanize(rng, vel)))
            bar += 1
    return sort_notes(notes)


def pick_genre(seed, choices: tuple[str, ...] = GENRE_NAMES) -> str:
    """A genre chosen from a seed (for pairing tunes with drums)."""
    return choices[seed_from("genre", seed) % len(choices)]


def steps_of(notes: list[Note], pitch: int, bar: int) -> list[int]:
    """The 16th steps within `bar` where `pitch` is hit (handy for checks and docs)."""
    lo, hi = bar * 4.0, (bar + 1) * 4.0
    return sorted({int(round((n.start - lo) / STEP)) for n in notes if n.pitch == pitch and lo <= n.start < hi})
