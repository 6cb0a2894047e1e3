"""Turning what a user typed for --model (a path or a name) into a checkpoint path and config.

A path (a model folder, a Magenta checkpoint or archive) is used as it is. Anything else is a
model name, looked up by core.models.catalogue.find_model: the user's installed models first,
then the program's embedded ones, the same order the GUI's model picker uses.
"""
from __future__ import annotations

import os

from core.errors import CheckpointError, UserError
from core.musicvae.configs import ALIASES, CONFIGS
from core.song_files import MODEL_ARCHIVE


def resolve_model(model: str, config: str | None = None) -> tuple[str | None, str]:
    """(config name or None, checkpoint path). None means: read the config from model.json."""
    path = os.path.expanduser(model)
    if not (os.path.exists(path) or os.path.exists(path + ".index")):
        from core.models.catalogue import find_model

        try:
            path = find_model(model).path
        except UserError as exc:
            raise CheckpointError(f"model {model!r} not found: it is no file or folder, and "
                                  f"{exc.message}") from None
    if config is None:
        if os.path.isfile(os.path.join(path, "model.json")):
            return None, path
        base = os.path.basename(path.rstrip(os.sep))
        for suffix in MODEL_ARCHIVE.extensions:  # cat-mel_2bar_big.tar names its config
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        if base in CONFIGS or base in ALIASES:
            return base, path
        raise CheckpointError(f"{path}: say which config it is with --config "
                              f"(one of {', '.join(sorted(CONFIGS))})")
    return config, path
