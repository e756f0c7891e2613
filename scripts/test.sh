#!/usr/bin/env bash
# Runs every test: formatting and lints, native tests, the wasm build, and the
# end-to-end tests in headless Chromium (CPU and WebGPU paths).
source "$(dirname "$0")/prereqs.sh"
cd "$ROOT"

log "formatting"
cargo fmt --all -- --check

log "lints (native)"
cargo clippy --workspace --all-targets --features kizu-model/cli -- -D warnings

log "native tests"
cargo test --workspace --features kizu-model/cli

build_app
log "lints (wasm)"
# The page (no training), the CPU worker and the WebGPU worker: three builds of one crate.
cargo clippy -p kizu-app --target wasm32-unknown-unknown --no-default-features -- -D warnings
cargo clippy -p kizu-app --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p kizu-app --target wasm32-unknown-unknown --features webgpu -- -D warnings

ensure_chromium
ensure_e2e_packages
log "end-to-end tests in headless Chromium"
# The test file starts its own static server on a free port and stops it afterwards.
# KIZU_BIN: the CLI the native tests built, scored against the browser.
(cd e2e && DIST="$ROOT/dist" KIZU_BIN="$CARGO_TARGET_DIR/debug/kizu" node --test --test-concurrency=1 --test-reporter=spec)
