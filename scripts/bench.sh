#!/usr/bin/env bash
# Benchmarks (not tests): native CPU backends, the browser paths, and the .wasm sizes.
# Prints the figures recorded in docs/BENCHMARKS.md. Usage: scripts/bench.sh [digit] [epochs]
source "$(dirname "$0")/prereqs.sh"
cd "$ROOT"
digit="${1:-0}"
epochs="${2:-1}"

log "native: conv AE, one-class digit $digit, $epochs epoch(s), flex vs ndarray"
cargo build --release -p kizu-model --features cli --bin kizu
"$CARGO_TARGET_DIR/release/kizu" bench --digit "$digit" --epochs "$epochs" --backends flex ndarray

build_app
log ".wasm sizes (raw, gzip -9)"
for f in dist/*.wasm; do
  printf '%-45s %10d bytes raw %10d bytes gzipped\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
done

ensure_chromium
ensure_e2e_packages
log "browser: quick run on the CPU and WebGPU paths, then the full split on the CPU"
(cd e2e && DIST="$ROOT/dist" node bench.mjs "$epochs" quick cpu,webgpu && DIST="$ROOT/dist" node bench.mjs "$epochs" full cpu)
