#!/usr/bin/env bash
# Regenerates the pretrained checkpoints that ship in public/checkpoints/: every model
# kind, compact scale, on the one-class protocol (digit 0 held out) and on the overlay
# protocol, then lists them in index.json for the app. Usage: scripts/checkpoints.sh [epochs]
source "$(dirname "$0")/prereqs.sh"
cd "$ROOT"
epochs="${1:-3}"
out="public/checkpoints"
mkdir -p "$out"

cargo build --release -p kizu-model --features cli --bin kizu
kizu="$CARGO_TARGET_DIR/release/kizu"
for model in fc-ae fc-vae conv-ae conv-vae ganomaly skip-ganomaly aae anogan lstm-ae; do
  log "$model: one-class (digit 0), then overlay"
  "$kizu" train --model "$model" --scale compact --epochs "$epochs" --digit 0 \
    --out "$out/$model-digit0.kizu"
  "$kizu" train --model "$model" --scale compact --epochs "$epochs" --protocol overlay \
    --pseudo-anomalies --out "$out/$model-overlay.kizu"
done
"$kizu" catalog --dir "$out"
ls -l "$out"
