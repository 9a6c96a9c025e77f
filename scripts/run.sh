#!/usr/bin/env bash
# The main job: install, build the index of corpus/ when there is none, and serve the API and
# the chat page on http://127.0.0.1:8000 (Ctrl-C stops it). Extra arguments go to `newsbot serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/newsbot serve --build-if-missing "$@"
