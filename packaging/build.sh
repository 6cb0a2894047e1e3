#!/usr/bin/env bash
# Builds the PyInstaller bundle into dist/latent-studio/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh package
.venv/bin/pyinstaller --noconfirm --clean packaging/latent_studio.spec
echo "Bundle: dist/latent-studio/latent-studio"
