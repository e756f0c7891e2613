#!/usr/bin/env bash
# Trunk post_build hook (Trunk.toml): writes the build's service worker, sw.js, from
# public/sw.js with every staged file listed (hashed names included) and a version made
# from their contents, so a new build is a new cache and the old one is dropped whole.
set -euo pipefail
cd "${TRUNK_STAGING_DIR:?run by Trunk as a post_build hook}"
mapfile -t files < <(find . -type f ! -name sw.js -printf '%P\n' | LC_ALL=C sort)
version=$(sha256sum "${files[@]}" | sha256sum | cut -c1-16)
{
  echo "// Written by scripts/service-worker.sh for this build."
  echo "const VERSION = '$version';"
  echo "const FILES = ["
  printf "  '%s',\n" "${files[@]}"
  echo "];"
  cat "${TRUNK_SOURCE_DIR:?}/public/sw.js"
} > sw.js
