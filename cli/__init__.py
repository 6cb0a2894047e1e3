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

from core.command_name import command_name, in_users_words
from core.errors import UserError


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; usage lines and help name the program as the musician
    typed it (`./latent-studio`, `python main.py`: core.command_name)."""
    prog = prog or command_name()
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Latent Studio. Without a command, opens the window; with one, runs headless.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{mod.name}")
        if hasattr(module, "register"):
            module.register(sub)
    _name_the_program(parser, prog)
    return parser


def _name_the_program(parser: argparse.ArgumentParser, prog: str) -> None:
    """Help texts written as `python main.py ...` say what the musician typed instead."""
    parser.description = in_users_words(parser.description, prog)
    parser.epilog = in_users_words(parser.epilog, prog)
    for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
        if action.help:
            action.help = in_users_words(action.help, prog)
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for child in action.choices.values():
                _name_the_program(child, prog)


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
