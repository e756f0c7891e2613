# Shared by serve.sh and test.sh: install what is missing, skip what is there.
# Sourced, not run. Everything comes from crates.io, Debian and npm only.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14" # 0.22 needs a newer rustc than the pinned toolchain
# Builds are cached outside the clone so fresh clones (CI) start warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kizu/target}"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_trunk() {
  if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
    log "installing trunk $TRUNK_VERSION (about 15 minutes on 2 cores, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
}

ensure_wasm_bindgen() {
  local version
  version="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$version"; then
    log "installing wasm-bindgen-cli $version (about 6 minutes, once)"
    # Not --locked: its own lockfile names a crate version the index no longer has.
    cargo install wasm-bindgen-cli --version "$version"
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  fi
}

ensure_e2e_packages() {
  if [ ! -d "$ROOT/e2e/node_modules/playwright-core" ] ||
    [ "$ROOT/e2e/package-lock.json" -nt "$ROOT/e2e/node_modules/.package-lock.json" ]; then
    log "installing the e2e npm packages"
    # playwright-core never downloads a browser: the tests drive /usr/bin/chromium.
    (cd "$ROOT/e2e" && npm ci --no-audit --no-fund)
  fi
}

# Builds the app into dist/ with the size-first wasm profile.
build_app() {
  ensure_wasm_target
  ensure_trunk
  ensure_wasm_bindgen
  log "building the app (wasm, profile wasm-release)"
  (cd "$ROOT" && cargo fetch --target wasm32-unknown-unknown >/dev/null &&
    trunk build --release --cargo-profile wasm-release)
}
