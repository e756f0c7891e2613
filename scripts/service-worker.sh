#!/usr/bin/env bash
# Trunk post_build hook (Trunk.toml): writes the build's service worker, sw.js, from
# public/sw.js with every staged file listed (hashed names included), each file's SHA-256
# for the precache to check (Subresource Integrity), and a version made from their
# contents, so a new build is a new cache and the old one is dropped whole.
set -euo pipefail
cd "${TRUNK_STAGING_DIR:?run by Trunk as a post_build hook}"
mapfile -t files < <(find . -type f ! -name sw.js -printf '%P\n' | LC_ALL=C sort)
mapfile -t sums < <(sha256sum "${files[@]}")
version=$(printf '%s\n' "${sums[@]}" | sha256sum | cut -c1-16)

# Integrity metadata wants the digest in base64; sha256sum prints hex.
hex_to_base64() {
  local hex=$1 escaped='' i
  for ((i = 0; i < ${#hex}; i += 2)); do escaped+="\\x${hex:i:2}"; done
  # shellcheck disable=SC2059 # the escapes are the point
  printf "$escaped" | base64 -w0
}

{
  echo "// Written by scripts/service-worker.sh for this build."
  echo "const VERSION = '$version';"
  echo "const FILES = ["
  printf "  '%s',\n" "${files[@]}"
  echo "];"
  # Not for HTML: a development server (trunk serve) rewrites pages as it serves them.
  echo "const INTEGRITY = {"
  for line in "${sums[@]}"; do
    file=${line#*  }
    [[ $file == *.html ]] && continue
    echo "  '$file': 'sha256-$(hex_to_base64 "${line%%  *}")',"
  done
  echo "};"
  cat "${TRUNK_SOURCE_DIR:?}/public/sw.js"
} > sw.js
