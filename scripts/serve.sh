#!/usr/bin/env bash
# Builds the app and serves it on http://127.0.0.1:8080 (bundled data, nothing to upload).
source "$(dirname "$0")/prereqs.sh"
build_app
log "serving dist/ on http://127.0.0.1:8080 (Ctrl-C to stop)"
cd "$ROOT" && exec python3 -m http.server 8080 --bind 127.0.0.1 --directory dist
