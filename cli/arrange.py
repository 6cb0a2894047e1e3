"""`python main.py arrange`: a whole song from a model and a song form, written as MIDI.

    python main.py arrange --model MODEL --form "intro verse chorus verse chorus bridge chorus outro" \\
        --out song.mid [--bars-per-section N] [--temperature T] [--seed S] [--save song.lstudio]

One clip is generated per distinct label and reused at each repeat of that label, so every
chorus plays the same notes. A 2-bar model's clip repeats to fill an N-bar section (or, with
--vary, alternates with variations of itself); a 16-bar model makes sections of up to 16
bars. The MIDI file has a marker named after each section.
"""
from __future__ import annotations

import sys
import time

from core import song_files
from core.errors import UserError

DEFAULT_BARS = 8


def register(subparsers) -> None:
    from cli.sample import add_model_arguments

    p = subparsers.add_parser(
        "arrange", help="generate a whole song from a song form (one clip per section label)",
        description="Lay out a song form as sections, fill each distinct label with one clip from "
                    "the model (reused at every repeat) and write a type 1 MIDI file with a marker "
                    "per section.")
    add_model_arguments(p)
    p.add_argument("--form", default=None,
                   help='section labels in order, e.g. "intro verse chorus verse chorus bridge chorus '
                        'outro" (the default)')
    p.add_argument("--out", required=True, help="the MIDI file to write")
    p.add_argument("--bars-per-section", type=int, default=DEFAULT_BARS, metavar="N",
                   help=f"bars in each section (default {DEFAULT_BARS}); a shorter clip repeats to fill")
    p.add_argument("--temperature", type=float, default=0.5, help="sampling temperature (default 0.5)")
    p.add_argument("--seed", type=int, default=None, help="seed for a reproducible song")
    p.add_argument("--vary", type=float, default=None, metavar="SIMILARITY",
                   help="with a 2-bar model, fill each section with the clip and variations of it "
                        "(A A' A A'') instead of repeating it; 0..1, how close a variation stays "
                        "(try 0.8)")
    p.add_argument("--save", default=None, metavar="PROJECT",
                   help="also save the song as a Latent Studio project (.lstudio)")
    p.add_argument("--tempo", type=float, default=120.0, help="song tempo in BPM (default 120)")
    p.add_argument("--title", default=None, help="song title (default: the output file's name)")
    p.set_defaults(func=run)


def _check(args) -> list[str]:
    from core.arrangement import DEFAULT_FORM, parse_form

    labels = parse_form(args.form if args.form is not None else DEFAULT_FORM)
    if args.bars_per_section < 1:
        raise UserError("--bars-per-section must be at least 1")
    if args.temperature < 0:
        raise UserError("--temperature must be 0 or more")
    if args.vary is not None and not 0.0 <= args.vary <= 1.0:
        raise UserError("--vary must be within 0 and 1")
    if not 1.0 <= args.tempo <= 999.0:
        raise UserError("--tempo must be within 1..999 BPM")
    if not song_files.MIDI.matches(args.out):
        raise UserError(f"--out {args.out}: give a MIDI file name ending in .mid")
    if args.save and not song_files.PROJECT.matches(args.save):
        raise UserError(f"--save {args.save}: give a project file name ending in .lstudio")
    return labels


def build_song(model, labels: list[str], bars: int, temperature: float, seed, tempo: float,
               title: str, on_progress=None, vary: float | None = None):
    """A new Song laid out from `labels` and filled from `model` (one clip per label)."""
    from core import arrangement as arr
    from core import generation
    from core.jobs import JobToken
    from core.song import Song

    model_bars = int(model.config.bars)
    if model.config.hierarchical and bars > model_bars:
        raise UserError(f"{model.name} makes clips of {model_bars} bars: use --bars-per-section "
                        f"{model_bars} or less (asked for {bars})")
    song = Song(title=title, tempo=tempo)
    song.set_sections(arr.template_sections(labels, song.beats_per_bar, bars))
    generation.fill(song, model, temperature=temperature, seed=seed, token=JobToken(on_progress), vary=vary)
    return song


def run(args) -> int:
    import os

    from cli.sample import open_model
    from core.midi_io import export_midi

    labels = _check(args)
    model = open_model(args)
    title = args.title or os.path.splitext(os.path.basename(args.out))[0] or "Song"

    def progress(fraction: float, message: str) -> None:
        if message:
            print(f"  {message}", file=sys.stderr)

    t0 = time.perf_counter()
    song = build_song(model, labels, args.bars_per_section, args.temperature, args.seed,
                      args.tempo, title, progress, args.vary)
    print(f"generated {len(song.clips)} clip(s) for {len(song.sections)} sections in "
          f"{time.perf_counter() - t0:.1f} s" + (f" (seed {args.seed})" if args.seed is not None else ""))
    bpb = song.beats_per_bar
    for s in song.sections:
        clip = song.clips.get(s.clip_id) if s.clip_id else None
        what = f"{clip.name} ({clip.length / bpb:g} bars, {clip.note_count()} notes)" if clip else "empty"
        print(f"  bar {s.start / bpb + 1:>4g}  {s.label:<12} {s.length / bpb:g} bars  {what}")
    export_midi(song, args.out)
    print(f"wrote {args.out} ({song.length_bars():g} bars, {song.beat_to_seconds(song.length_beats()):.1f} s)")
    if args.save:
        from core.project import save_project

        save_project(song, args.save)
        print(f"saved {args.save}")
    return 0
