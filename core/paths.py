"""Where things live: the program's resources, the user's data and the cache.

Resources sit next to the code in a source checkout and under sys._MEIPASS in a PyInstaller
bundle. User data (installed models, recovery files) and caches follow the XDG conventions and
can be redirected with LATENT_STUDIO_DATA and LATENT_STUDIO_CACHE (tests do this).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    base = getattr(sys, "_MEIPASS", None)
    if base:
        return Path(base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def data_dir() -> Path:
    env = os.environ.get("LATENT_STUDIO_DATA")
    if env:
        path = Path(env)
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
        path = Path(base) / "latent-studio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    env = os.environ.get("LATENT_STUDIO_CACHE")
    if env:
        path = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        path = Path(base) / "latent-studio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    """Training runs started from the window ("Train on my MIDI…"): one folder each, kept until
    the run has finished and its model is installed, so a closed or crashed app can resume them."""
    path = data_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path
