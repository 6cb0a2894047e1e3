#!/usr/bin/env bash
# Builds the PyInstaller bundle into dist/latent-studio/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh package
.venv/bin/pyinstaller --noconfirm --clean packaging/latent_studio.spec
# Smoke test of the bundle itself: load each embedded model and write MIDI files.
check=$(mktemp -d)
for model in mel_2bar drums_2bar trio_16bar; do
    dist/latent-studio/latent-studio sample --model "$model" -n 2 --seed 1 --out "$check/$model" > /dev/null
    n=$(find "$check/$model" -name '*.mid' | wc -l)
    [ "$n" -eq 2 ] || { echo "bundle check failed: $model wrote $n MIDI files" >&2; exit 1; }
done
rm -rf "$check"
echo "Bundle: dist/latent-studio/latent-studio (each embedded model sampled from the bundle)"
