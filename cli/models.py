"""`python main.py models`: the model catalogue; install and remove models.

    python main.py models [--no-device]                  list embedded, installed and official models
    python main.py models install PATH_OR_NAME [--config CONFIG] [--name NAME] [--replace]
    python main.py models remove NAME

Installed models go to the user's data folder (<data>/models), never to the program's folder.
The download address of official checkpoints can be changed with --url or $LATENT_STUDIO_MODEL_URL.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from cli.progress import TextProgress
from core.command_name import command_name


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="list, install and remove MusicVAE models",
                              description="Without a subcommand: list the embedded models, the installed "
                                          "models, the official Magenta checkpoints that can be installed, "
                                          "and the device that will run them.")
    p.add_argument("--no-device", action="store_true",
                   help="do not name the device (skips importing TensorFlow, so the list comes at once)")
    p.add_argument("--url", default=None, help="base address of the official checkpoints "
                   "(default: $LATENT_STUDIO_MODEL_URL or Magenta's storage)")
    p.set_defaults(func=run_list)
    sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    ins = sub.add_parser("install", help="install a checkpoint from a .tar, a folder, or by official name",
                         description="Install a MusicVAE checkpoint into the user's models folder. PATH_OR_NAME "
                                     "is a Magenta .tar archive, a folder with a TF1 checkpoint, a Latent "
                                     "Studio model folder, or the name of an official checkpoint, which is "
                                     "downloaded (a broken download resumes when the command runs again).")
    ins.add_argument("source", metavar="PATH_OR_NAME")
    ins.add_argument("--config", default=None,
                     help="the config the checkpoint was trained with (read from the name when it is one)")
    ins.add_argument("--name", default=None, help="name of the installed model (default: the file or folder name)")
    ins.add_argument("--replace", action="store_true", help="replace an installed model of the same name")
    ins.add_argument("--url", default=argparse.SUPPRESS,  # keeps a --url given before `install`
                     help="base address of the official checkpoints")
    ins.add_argument("--keep-archive", action="store_true", help="keep the downloaded .tar after installing")
    ins.add_argument("--retries", type=int, default=3, help="resume a broken connection this many times (default 3)")
    ins.set_defaults(func=run_install)

    rm = sub.add_parser("remove", help="remove an installed model")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(func=run_remove)


# ------------------------------------------------------------------ listing
def _mb(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def catalogue_lines(base_url: str | None = None) -> list[str]:
    from core.models import catalogue

    lines = [f"Embedded models ({catalogue.embedded_dir()}):"]
    embedded = catalogue.embedded_models()
    for e in embedded:
        lines.append(_entry_line(e))
    if not embedded:
        lines.append("  (none)")
    lines.append(f"Installed models ({catalogue.installed_dir(create=False)}):")
    installed = catalogue.installed_models()
    for e in installed:
        lines.append(_entry_line(e))
    if not installed:
        lines.append(f"  (none; install one with `{command_name()} models install PATH_OR_NAME`)")
    lines.append(f"Official Magenta checkpoints ({command_name()} models install NAME; "
                 f"from {catalogue.base_url(base_url)}):")
    width = max(len(m.name) for m in catalogue.OFFICIAL)
    for e in catalogue.official_models(base_url):
        if not e.supported:
            lines.append(f"  {e.name:<{width}}  {e.summary}: {e.problem}")
            continue
        state = "  [installed]" if e.installed else ""
        lines.append(f"  {e.name:<{width}}  {e.summary}; {e.sizes}; weights ~{_mb(e.size_bytes)}{state}")
        lines.append(f"  {'':<{width}}  {e.url}")
    return lines


def _entry_line(e) -> str:
    if e.problem:
        return f"  {e.name}  UNUSABLE: {e.problem} ({e.path})"
    text = f"  {e.name}  [{e.config or e.kind}] {e.sizes}, {_mb(e.size_bytes)}"
    return text + (f": {e.summary}" if e.summary else "")


def run_list(args) -> int:
    print("\n".join(catalogue_lines(args.url)))
    sys.stdout.flush()
    if not args.no_device:
        from core.models.catalogue import device_description

        print(f"Device: {device_description()}")
    return 0


def run_install(args) -> int:
    from core.jobs import JobToken
    from core.models import catalogue
    from core.models.install import install_from_path, install_official

    bar = TextProgress()
    token = JobToken(bar)
    source = args.source
    by_name = (not os.path.exists(os.path.expanduser(source))
               and any(m.name == source for m in catalogue.OFFICIAL))
    t0 = time.perf_counter()
    try:
        if by_name:
            if args.name and args.name != source:
                print("note: an official checkpoint is installed under its own name; --name is ignored",
                      file=sys.stderr)
            result = install_official(token, source, base_url=args.url, replace=args.replace,
                                      keep_archive=args.keep_archive, retries=args.retries)
        else:
            result = install_from_path(token, source, config=args.config, name=args.name, replace=args.replace)
    except KeyboardInterrupt:
        bar.finish()
        if by_name:
            print("stopped; run the same command again to resume the download", file=sys.stderr)
        raise
    finally:
        bar.finish()
    print(f"installed {result.name} ({'config ' + result.config if result.config else 'sequence model'}, {result.sizes}, {_mb(result.size_bytes)}) "
          f"in {result.path} in {time.perf_counter() - t0:.1f} s")
    return 0


def run_remove(args) -> int:
    from core.models.install import remove_model

    print(f"removed {args.name} ({remove_model(args.name)})")
    return 0
