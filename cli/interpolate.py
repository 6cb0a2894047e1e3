"""`python main.py interpolate`: clips along the latent path between two MIDI files.

    python main.py interpolate --model NAME_OR_PATH [--config CONFIG] --from A.mid --to B.mid --steps 5 --out DIR

Both files are encoded (their mu), the codes are joined by spherical interpolation with both
ends included, and every point is decoded (argmax unless --temperature is given). Like Magenta's
music_vae_generate in interpolate mode. Notes the model cannot represent are reported. The
clips come from core.generation.interpolate, the job the window runs.
"""
from __future__ import annotations

import time

import numpy as np

from core.errors import UserError
from cli.sample import add_model_arguments, file_stem, generate, open_model, song_for, write_clips

MAX_STEPS = 66  # generation.interpolate's 64 codes between, and the two ends


def register(subparsers) -> None:
    p = subparsers.add_parser("interpolate", help="interpolate between two MIDI files with a MusicVAE model",
                              description="Encode two MIDI files and write the clips along the latent "
                                          "path between them, ends included.")
    add_model_arguments(p)
    p.add_argument("--from", dest="source", required=True, metavar="A.mid", help="start MIDI file")
    p.add_argument("--to", dest="target", required=True, metavar="B.mid", help="end MIDI file")
    p.add_argument("--steps", type=int, default=5, help="clips written, both ends included (default 5)")
    p.add_argument("--temperature", type=float, default=None, help="sampling temperature (default: argmax)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.set_defaults(func=run)


def read_clip(path: str):
    from core.midi_io import import_midi

    song = import_midi(path)
    if not song.clips:
        raise UserError(f"{path} contains no notes")
    return song, next(iter(song.clips.values()))


def assign_trio_parts(song) -> None:
    """Pitched tracks get trio parts by program, as Magenta's trio converter does: bass
    programs (32..39) play bass, the others melody (the importer's role guess goes by pitch)."""
    for t in list(song.tracks):
        if not t.is_drum and t.role != "drums":
            song.update_track(t.id, role="bass" if 32 <= t.program <= 39 else "melody")


def run(args) -> int:
    if not 2 <= args.steps <= MAX_STEPS:
        raise UserError(f"--steps must be within 2 (the two ends) and {MAX_STEPS}")
    from core import generation

    song_a, clip_a = read_clip(args.source)
    song_b, clip_b = read_clip(args.target)
    model = open_model(args)
    if model.kind == "trio":
        assign_trio_parts(song_a)
        assign_trio_parts(song_b)
    _, _, reports = model.clips_to_inputs([clip_a, clip_b], [song_a, song_b])
    for path, rep in zip((args.source, args.target), reports):
        if not rep.clean:
            print(f"note: {path}: {rep.summary()}")
    t0 = time.perf_counter()
    song, ids = song_for(model, song_a.tempo)
    clips = generate(model, ids, generation.interpolate, clip_a, clip_b, args.steps - 2, tracks=song_a,
                     tracks_b=song_b, temperature=args.temperature, seed=args.seed, ends=True)
    distance = float(np.linalg.norm(np.subtract(clips[0].latent, clips[-1].latent)))
    print(f"encoded, interpolated and decoded {len(clips)} clip(s) in {time.perf_counter() - t0:.1f} s; "
          f"distance between the codes {distance:.2f}")
    for path, clip in zip(write_clips(song, clips, args.out, file_stem(model, "interp")), clips):
        print(f"wrote {path} ({clip.note_count()} notes)")
    return 0
