#!/usr/bin/env bash
# Regenerates the pretrained checkpoints that ship in public/checkpoints/, at each model's
# recipe (its epochs, a tenth of the training images choosing the epoch), compact scale,
# stored compact wherever that moves the test AUC by at most 0.001:
# - every model kind on the one-class protocol (digit 0 held out) and on the overlay
#   protocol (trained with pseudo-anomalies);
# - the best model (the conv AE) for every other held-out digit too;
# - the LSTM autoencoder on the demo sensor series, at the series recipe;
# then lists them in index.json for the app.
# Usage: scripts/checkpoints.sh [epochs]   (KIZU=path/to/kizu skips the build;
# CHECKPOINTS_OUT=folder writes elsewhere; ONLY=digit0|overlay|digits|series writes one
# group and leaves the others as they are)
source "$(dirname "$0")/prereqs.sh"
cd "$ROOT"
epochs=()
if [ -n "${1:-}" ]; then epochs=(--epochs "$1"); fi
out="${CHECKPOINTS_OUT:-public/checkpoints}"
mkdir -p "$out"

if [ -z "${KIZU:-}" ]; then
  cargo build --release -p kizu-model --features cli --bin kizu
  KIZU="$CARGO_TARGET_DIR/release/kizu"
fi
train() { "$KIZU" train --scale compact --precision auto "${epochs[@]}" "$@"; }
only="${ONLY:-}"
wanted() { [ -z "$only" ] || [ "$only" = "$1" ]; }
for model in fc-ae fc-vae conv-ae conv-vae ganomaly skip-ganomaly aae anogan lstm-ae; do
  if wanted digit0; then
    log "$model: one-class (digit 0)"
    train --model "$model" --digit 0 --out "$out/$model-digit0.kizu"
  fi
  if wanted overlay; then
    log "$model: overlay, trained with pseudo-anomalies"
    train --model "$model" --protocol overlay --pseudo-anomalies --out "$out/$model-overlay.kizu"
  fi
done
if wanted digits; then
  for digit in 1 2 3 4 5 6 7 8 9; do
    log "conv-ae: digit $digit held out"
    train --model conv-ae --digit "$digit" --out "$out/conv-ae-digit$digit.kizu"
  done
fi
if wanted series; then
  log "lstm-ae: the demo sensor series, at the series recipe"
  "$KIZU" series --demo --backend flex --save "$out/lstm-ae-demo-series.kizu"
fi
"$KIZU" catalog --dir "$out"
ls -l "$out"
du -b "$out" | tail -1
