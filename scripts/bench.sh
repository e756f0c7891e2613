#!/usr/bin/env bash
# Benchmarks (not tests): every model natively (speed, AUC per digit and on the overlay
# protocol), GANomaly against PyTorch, the browser paths and the .wasm sizes. Prints the
# figures recorded in docs/BENCHMARKS.md.
# Usage: scripts/bench.sh [epochs for the AUC tables; default: each model's recipe
# (`ModelKind::recipe_epochs`): one-class 10 for the autoencoders, the AAE and the LSTM AE,
# 3 for the GANs; with pseudo-anomalies 50 for the FC models, 15 for the GANs, 30 for the rest]
source "$(dirname "$0")/prereqs.sh"
cd "$ROOT"
# Each model's recipe epochs unless the caller fixes them for all.
epochs_arg=()
epochs_label="each model's recipe epochs"
if [ -n "${1:-}" ]; then
  epochs_arg=(--epochs "$1")
  epochs_label="$1 epochs"
fi
models="fc-ae fc-vae conv-ae conv-vae ganomaly skip-ganomaly aae anogan lstm-ae"

cargo build --release -p kizu-model --features cli --bin kizu
kizu="$CARGO_TARGET_DIR/release/kizu"

log "native speed: every model, compact scale, 1 epoch, digit 0 held out (flex)"
for model in $models; do
  "$kizu" bench --model "$model" --scale compact --epochs 1 --backends flex
done
log "native: the LSTM autoencoder's sensor-series recipe on the demo series (flex)"
"$kizu" series --demo --backend flex

log "native: what opening the first visit's checkpoint costs, step by step (flex)"
cargo run --release -p kizu-model --features cli --example open_profile

log "native speed: conv AE on both CPU backends"
"$kizu" bench --model conv-ae --epochs 1 --backends flex ndarray

log "training options: standardised inputs, 64x64, RGB (compact, 1 epoch, digit 0, flex)"
for model in conv-ae ganomaly; do
  for options in "" "--standardise" "--input-size 64" "--channels 3"; do
    # shellcheck disable=SC2086 # the options are words
    "$kizu" bench --model "$model" --scale compact --epochs 1 --backends flex $options
  done
done

log "GANomaly at the reference size (nz 100, 64 features), Burn flex vs PyTorch, 1 epoch"
"$kizu" bench --model ganomaly --scale reference --epochs 1 --backends flex
venv="$HOME/.cache/kizu/torch-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  log "installing PyTorch from PyPI into $venv (once)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch numpy
fi
"$venv/bin/python" bench/ganomaly_torch.py --epochs 1 --threads "$(nproc)"

log "AUC per held-out digit: every model, compact scale, $epochs_label, seed 42"
for model in $models; do
  "$kizu" eval --model "$model" --scale compact "${epochs_arg[@]}"
done
log "GANomaly in PyTorch (reference size) beside it: 3 epochs, seed 0, every held-out digit"
for digit in 0 1 2 3 4 5 6 7 8 9; do
  "$venv/bin/python" bench/ganomaly_torch.py --digit "$digit" --epochs 3 --seed 0 --threads "$(nproc)"
done
log "AUC on the overlay protocol, trained with pseudo-anomalies (judged by erased ink, Skip-GANomaly too): every model, $epochs_label"
for model in $models; do
  "$kizu" eval --model "$model" --scale compact "${epochs_arg[@]}" --protocol overlay --pseudo-anomalies
done
log "The shipped overlay files under every reconstruction score, and erased ink at four bars (how its bar was chosen)"
cargo run --release -p kizu-model --features cli --example overlay_scores -- public/checkpoints/*-overlay.kizu

build_app
log ".wasm sizes (raw, gzip -9, brotli quality 11 by Node's zlib)"
for f in dist/*.wasm; do
  br=$(node -e 'const z = require("zlib"); const b = require("fs").readFileSync(process.argv[1]);
    process.stdout.write(String(z.brotliCompressSync(b, { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11 } }).length))' "$f")
  printf '%-45s %10d bytes raw %10d bytes gzipped %10s bytes brotli\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)" "$br"
done

ensure_chromium
ensure_e2e_packages
log "browser: one epoch of every model on the CPU path (quick data), then the conv AE on WebGPU"
for model in $models; do
  (cd e2e && DIST="$ROOT/dist" node bench.mjs 1 quick cpu "$model")
done
(cd e2e && DIST="$ROOT/dist" node bench.mjs 1 quick webgpu conv-ae)

log "browser: the LSTM autoencoder's sensor-series recipe on the demo series (CPU path)"
(cd e2e && DIST="$ROOT/dist" node bench_series.mjs)

log "browser: every model's recipe on digit 0, the quick demo of the conv AE on every digit, page open to results (CPU path)"
(cd e2e && DIST="$ROOT/dist" node bench_recipes.mjs)
(cd e2e && DIST="$ROOT/dist" node bench_demo.mjs conv-ae)
(cd e2e && DIST="$ROOT/dist" node bench_lab.mjs 100)
(cd e2e && DIST="$ROOT/dist" node bench_open.mjs)
