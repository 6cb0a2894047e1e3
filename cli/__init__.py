"""The headless command line: `python main.py <command> ...`.

Each module in this package that defines `register(subparsers)` adds one or more commands.
A command handler takes the parsed args and returns an exit code. `UserError` is printed
as one line on stderr (no traceback) with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from core.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Latent Studio. Without a command, opens the window; with one, runs headless.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{mod.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `main.py info song.mid | head`); that is not an error.
        sys.stderr.close()
        return 0
