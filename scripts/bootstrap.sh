#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv and installs Latent Studio
# with the given extras. Re-runs pip only when pyproject.toml or the extras changed.
# Usage: scripts/bootstrap.sh [EXTRAS]     e.g. scripts/bootstrap.sh test,train
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=${1:-}
PY=${PYTHON:-python3}

if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
    echo "Latent Studio needs Python 3.10 or newer (found: $("$PY" --version 2>&1))." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtual environment in .venv ..."
    if ! "$PY" -m venv .venv; then
        echo "Could not create a virtual environment. On Debian/Ubuntu: sudo apt-get install python3-venv" >&2
        exit 1
    fi
fi
stamp=".venv/.installed-${EXTRAS:-base}"
want="$(sha1sum pyproject.toml | cut -c1-40)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing Latent Studio and its packages into .venv (the first time takes a few minutes) ..."
    .venv/bin/python -m pip install -q --upgrade pip
    spec="."
    [ -n "$EXTRAS" ] && spec=".[$EXTRAS]"
    .venv/bin/python -m pip install -q -e "$spec"
    # SoundFont playback. Installed on its own without dependencies: the package declares pyaudio,
    # which needs PortAudio headers to build and which Latent Studio never uses (sound goes
    # through sounddevice). The app works without it; only .sf2 playback needs it.
    .venv/bin/python -m pip install -q --no-deps "tinysoundfont>=0.3.7" \
        || echo "note: tinysoundfont could not be installed; SoundFont playback will be unavailable" >&2
    echo "$want" > "$stamp"
fi
