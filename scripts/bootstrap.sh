#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv and installs Latent Studio
# with the given extras. Re-runs pip only when pyproject.toml or the extras changed.
# Usage: scripts/bootstrap.sh [EXTRAS]     e.g. scripts/bootstrap.sh test,train
# The first install takes minutes, so it says so and shows pip's own progress (download bars on
# a terminal, a line per package otherwise), with the elapsed time at each step.
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
        echo "Could not create a virtual environment. On Debian/Ubuntu: apt-get install python3-venv" >&2
        echo "(with sudo in front unless this is a root shell)" >&2
        exit 1
    fi
fi
stamp=".venv/.installed-${EXTRAS:-base}"
want="$(sha1sum pyproject.toml | cut -c1-40)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    started=$SECONDS
    step() { echo "[bootstrap ${1}/3, $((SECONDS - started)) s] $2"; }
    if ls .venv/.installed-* >/dev/null 2>&1; then
        echo "Updating the Python packages in .venv (usually under a minute) ..."
    else
        echo "Installing Latent Studio's Python packages into .venv: the first time this downloads"
        echo "TensorFlow, Qt and the rest (2.6 GB once installed) and takes about 2 to 3 minutes on a"
        echo "fast connection, longer on a slow one. Later starts skip this."
    fi
    step 1 "updating pip"
    .venv/bin/python -m pip install -q --upgrade pip
    spec="."
    [ -n "$EXTRAS" ] && spec=".[$EXTRAS]"
    step 2 "installing Latent Studio${EXTRAS:+ with $EXTRAS} and its packages (pip's progress follows;"
    echo "    the longest quiet stretch is pip unpacking TensorFlow after 'Installing collected packages')"
    # Not -q: pip's own lines (Collecting / Downloading with a progress bar / Installing) are the
    # progress. "Requirement already satisfied" lines are dropped: on a refresh they are most of it.
    .venv/bin/python -m pip install --progress-bar on --disable-pip-version-check -e "$spec" \
        | grep --line-buffered -v '^Requirement already satisfied' || [ "${PIPESTATUS[0]}" -eq 0 ]
    # SoundFont playback. Installed on its own without dependencies: the package declares pyaudio,
    # which needs PortAudio headers to build and which Latent Studio never uses (sound goes
    # through sounddevice). The app works without it; only .sf2 playback needs it.
    step 3 "SoundFont playback (tinysoundfont)"
    .venv/bin/python -m pip install -q --no-deps "tinysoundfont>=0.3.7" \
        || echo "note: tinysoundfont could not be installed; SoundFont playback will be unavailable" >&2
    echo "$want" > "$stamp"
    echo "[bootstrap done in $((SECONDS - started)) s]"
fi
