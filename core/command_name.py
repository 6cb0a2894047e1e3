"""The name the musician typed to start Latent Studio, for usage lines and hints such as
"`./latent-studio models` lists them".

The launcher script (`latent-studio`) runs `python main.py` and says how it was called in
LATENT_STUDIO_COMMAND ("./latent-studio", or the path that was typed). Otherwise the program's
own name is used: `python main.py` for the script, the executable's name in a bundle.
"""
from __future__ import annotations

import os
import re
import sys

ENV = "LATENT_STUDIO_COMMAND"
_MAIN_PY = re.compile(r"(?:python3?\s+)?\bmain\.py\b")


def command_name(argv0: str | None = None) -> str:
    typed = os.environ.get(ENV, "").strip()
    if typed:
        return typed
    base = os.path.basename(sys.argv[0] if argv0 is None else argv0)
    if not base or base in ("-c", "-m", "__main__.py") or base.endswith(".py"):
        return f"python {base if base.endswith('.py') and base != '__main__.py' else 'main.py'}"
    return base


def in_users_words(text: str, name: str | None = None) -> str:
    """`text` with "python main.py" (or a bare "main.py") replaced by the typed command."""
    return _MAIN_PY.sub(lambda _m: name or command_name(), text) if text else text
