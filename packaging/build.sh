#!/usr/bin/env bash
# Builds the PyInstaller bundle into dist/latent-studio/, then checks the built program itself:
# its self-test (each embedded model loads, samples, encodes and decodes; audio; MIDI and project
# files; the window offscreen) and a `sample` run per embedded model that must write MIDI files.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh package
started=$SECONDS
.venv/bin/pyinstaller --noconfirm --clean packaging/latent_studio.spec
echo "Built in $((SECONDS - started)) s: dist/latent-studio is $(du -sh dist/latent-studio | cut -f1)"
bundle=dist/latent-studio/latent-studio
QT_QPA_PLATFORM=offscreen "$bundle" self-test || { echo "bundle check failed: the self-test did not pass" >&2; exit 1; }
check=$(mktemp -d)
for model in mel_2bar drums_2bar trio_16bar; do
    "$bundle" sample --model "$model" -n 2 --seed 1 --out "$check/$model" > /dev/null
    n=$(find "$check/$model" -name '*.mid' | wc -l)
    [ "$n" -eq 2 ] || { echo "bundle check failed: $model wrote $n MIDI files" >&2; exit 1; }
done
rm -rf "$check"
echo "Bundle: $bundle (self-test passed; each embedded model sampled from the bundle)"
