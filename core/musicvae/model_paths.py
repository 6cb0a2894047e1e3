"""Turning what a user typed for --model (a path or a name) into a checkpoint path and config.

A name is looked up, in order, in the user's models folder (<data>/models), the program's
embedded models (resources/models) and the download cache (<cache>/downloads), as a folder
NAME or an archive NAME.tar.
"""
from __future__ import annotations

import os

from core.errors import CheckpointError
from core.musicvae.configs import ALIASES, CONFIGS


def search_folders() -> list[str]:
    from core import paths

    return [os.path.join(str(paths.data_dir()), "models"), os.path.join(str(paths.resources_dir()), "models"),
            os.path.join(str(paths.cache_dir()), "downloads")]


def resolve_model(model: str, config: str | None = None) -> tuple[str | None, str]:
    """(config name or None, checkpoint path). None means: read the config from model.json."""
    path = os.path.expanduser(model)
    if not (os.path.exists(path) or os.path.exists(path + ".index")):
        found = None
        for folder in search_folders():
            for cand in (os.path.join(folder, model), os.path.join(folder, model + ".tar")):
                if os.path.exists(cand):
                    found = cand
                    break
            if found:
                break
        if found is None:
            raise CheckpointError(
                f"model {model!r} not found: it is no file or folder, and no model of that name is in "
                f"{', '.join(search_folders())}")
        path = found
    if config is None:
        if os.path.isfile(os.path.join(path, "model.json")):
            return None, path
        base = os.path.basename(path.rstrip(os.sep))
        for suffix in (".tar", ".tar.gz", ".tgz"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        if base in CONFIGS or base in ALIASES:
            return base, path
        raise CheckpointError(f"{path}: say which config it is with --config "
                              f"(one of {', '.join(sorted(CONFIGS))})")
    return config, path
