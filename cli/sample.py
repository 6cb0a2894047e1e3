"""`python main.py sample`: new clips from random latent codes, written as MIDI files.

    python main.py sample --model NAME_OR_PATH [--config CONFIG] -n 8 --temperature 0.5 --out DIR [--seed S]

Like Magenta's music_vae_generate in sample mode. One MIDI file per sample. The clips come
from core.generation.sample, the job the window runs, decoded in fixed chunks so that a seed
gives the same files on every run.
"""
from __future__ import annotations

import os
import time

from core.errors import UserError


def add_model_arguments(p) -> None:
    p.add_argument("--model", required=True,
                   help="checkpoint: a Magenta .tar, a folder, a TF1 prefix, a Latent Studio model folder, "
                        "or the name of an installed model")
    p.add_argument("--config", default=None,
                   help="model config (cat-mel_2bar_big, cat-mel_2bar_small, cat-drums_2bar_small, "
                        "hierdec-mel_16bar, hierdec-trio_16bar); read from the model when it says")
    p.add_argument("--device", default=None, help="cpu or gpu (default: the GPU when there is one)")
    p.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                   help="weights read each step in float32 (exact) or bfloat16 (faster on some CPUs)")


def register(subparsers) -> None:
    p = subparsers.add_parser("sample", help="sample new clips from a MusicVAE model into MIDI files",
                              description="Sample clips from random latent codes and write one MIDI "
                                          "file per clip.")
    add_model_arguments(p)
    p.add_argument("-n", "--num", type=int, default=8, help="how many clips (default 8)")
    p.add_argument("--temperature", type=float, default=0.5, help="sampling temperature (default 0.5)")
    p.add_argument("--seed", type=int, default=None, help="seed for reproducible samples")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--tempo", type=float, default=120.0, help="tempo of the MIDI files (BPM)")
    p.set_defaults(func=run)


def open_model(args):
    from core.musicvae import load_model
    from core.musicvae.model_paths import resolve_model

    config, path = resolve_model(args.model, args.config)
    t0 = time.perf_counter()
    model = load_model(config, path, device=args.device, precision=args.precision, name=_own_name(path))
    print(f"loaded {model} from {model.source} in {time.perf_counter() - t0:.1f} s")
    return model


def _own_name(path: str) -> str | None:
    """The name a Latent Studio model folder gives itself in model.json (trio_16bar), if any: the
    files it writes are named after it rather than after its config."""
    import json

    try:
        with open(os.path.join(path, "model.json"), encoding="utf-8") as f:
            name = json.load(f).get("name")
    except (OSError, ValueError, AttributeError):
        return None  # not our format, or unreadable: load_model says what is wrong
    return name if isinstance(name, str) and name.strip() else None


def file_stem(model, what: str) -> str:
    """Output files are named after the model (its own name, else its config): NAME_what."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model.name) + f"_{what}"


def song_for(model, tempo: float):
    """A new Song with one track per part of the model's data kind; (song, part -> track id)."""
    from core.musicvae.converters import PARTS
    from core.song import Song

    song = Song(title=f"{model.name} samples", tempo=tempo)
    return song, {part: song.ensure_track(part).id for part in PARTS[model.kind]}  # the song's defaults


def write_clips(song, clips, out_dir: str, stem: str) -> list[str]:
    from core.midi_io import export_midi

    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None
    written = []
    for i, clip in enumerate(clips):
        song.add_clip(clip)
        path = os.path.join(out_dir, f"{stem}_{i + 1:02d}.mid")
        written.append(export_midi(song, path, clip=clip))
    return written


def generate(model, track_ids: dict, job, *args, **kwargs):
    """Run a core.generation job here (reproducibly, see decode_chunked) and put its clips on
    the song's tracks."""
    from core.arrangement import assign_tracks
    from core.jobs import run_job

    return assign_tracks(run_job(job, model, *args, reproducible=True, **kwargs), track_ids)


def run(args) -> int:
    from core import generation

    if args.num < 1:
        raise UserError("-n must be at least 1")
    if args.temperature < 0:
        raise UserError("--temperature must be 0 or more")
    model = open_model(args)
    song, ids = song_for(model, args.tempo)
    t0 = time.perf_counter()
    clips = generate(model, ids, generation.sample, args.num, args.temperature, args.seed)
    print(f"sampled {len(clips)} clip(s) of {model.config.bars} bars at temperature {args.temperature:g} "
          f"in {time.perf_counter() - t0:.1f} s" + (f" (seed {args.seed})" if args.seed is not None else ""))
    stem = file_stem(model, "sample")
    for path, clip in zip(write_clips(song, clips, args.out, stem), clips):
        print(f"wrote {path} ({clip.note_count()} notes)")
    return 0
