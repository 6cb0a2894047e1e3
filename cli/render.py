"""`python main.py render IN(.mid|.lstudio) OUT.wav`: render a song (or one clip) to a WAV file.

Uses the built-in synthesizer unless --soundfont names an .sf2 file (or --soundfont auto picks
the first General MIDI SoundFont found in a usual place).
"""
from __future__ import annotations

import os
import sys
import time

from core.errors import UserError


def _load(path: str):
    if not os.path.isfile(path):
        raise UserError(f"No such file: {path}")
    from core.song_files import MIDI, load_song

    loaded = load_song(path)  # MIDI or project, chosen as `convert` and `info` choose
    song = loaded.song
    if loaded.kind == MIDI.name and not song.sections and song.clips:
        from core.song import Section  # an imported file is one clip; play it whole

        clip = next(iter(song.clips.values()))
        song.add_section(Section("all", clip.id, 0.0, clip.length))
    return song


def _presets(values: list[str] | None) -> dict[str, str]:
    from core.audio.synth import PRESETS

    out = {}
    for v in values or []:
        key, _, name = v.rpartition("=")
        key = key or "*"
        if name not in PRESETS:
            raise UserError(f"--preset {v!r}: unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
        out[key] = name
    return out


def _soundfont(value: str | None) -> str | None:
    if not value:
        return None
    from core.audio import soundfont

    if value == "auto":
        found = soundfont.find_soundfont()
        if found is None:
            raise UserError("--soundfont auto: no General MIDI SoundFont found in the usual places "
                            "(on Debian/Ubuntu: sudo apt-get install fluid-soundfont-gm)")
        value = found
    if not os.path.isfile(value):
        raise UserError(f"SoundFont not found: {value}")
    ok, why = soundfont.available()
    if not ok:
        raise UserError(why)
    return value


def cmd_render(args) -> int:
    from core.audio.render import render_song, write_wav

    song = _load(args.input)
    options = dict(presets=_presets(args.preset), soundfont=_soundfont(args.soundfont),
                   master=args.volume, metronome=args.metronome)
    if args.clip:
        matches = [c for c in song.clips.values() if args.clip in (c.id, c.name)]
        if not matches:
            names = ", ".join(sorted(c.name for c in song.clips.values())) or "none"
            raise UserError(f"{args.input}: no clip named {args.clip!r} (clips: {names})")
        options["clip_id"] = matches[0].id
    elif not song.sections and not song.clips:
        raise UserError(f"{args.input}: the song has no notes to render")
    t0 = time.perf_counter()
    audio = render_song(song, **options)
    took = time.perf_counter() - t0
    if not len(audio):
        raise UserError(f"{args.input}: nothing to render (the arrangement is empty)")
    write_wav(args.output, audio)
    seconds = len(audio) / 44100
    peak = float(abs(audio).max()) if len(audio) else 0.0
    print(f"wrote {args.output}: {seconds:.1f} s, peak {peak:.3f}, "
          f"rendered in {took:.2f} s ({seconds / max(took, 1e-9):.0f}x real time)"
          + (f" with {options['soundfont']}" if options["soundfont"] else " with the built-in synth"),
          file=sys.stdout)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "render", help="render a .mid or .lstudio file to a WAV file",
        description="Render the arrangement (or one clip) to 16-bit stereo WAV at 44.1 kHz.")
    p.add_argument("input", help="a .mid/.midi file or a .lstudio project")
    p.add_argument("output", help="the .wav file to write")
    p.add_argument("--soundfont", metavar="FILE.sf2",
                   help="play through a General MIDI SoundFont ('auto': find one in the usual places)")
    p.add_argument("--preset", action="append", metavar="[TRACK=]NAME",
                   help="built-in preset for every melodic track, or for a role/track id "
                        "(piano, pluck, saw_lead, sub_bass, pad); repeatable, e.g. --preset bass=sub_bass")
    p.add_argument("--clip", metavar="NAME", help="render only this clip (name or id)")
    p.add_argument("--volume", type=float, default=0.7, help="master volume 0..1 (default 0.7)")
    p.add_argument("--metronome", action="store_true", help="add a click on every beat")
    p.set_defaults(func=cmd_render)
