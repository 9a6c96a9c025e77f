#!/usr/bin/env bash
# The whole test suite. Installs the test extras into .venv, and the Telegram Bot API emulator
# (npm, pinned) into the git-ignored tests/.node when Node is present. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
if command -v npm >/dev/null 2>&1 && [ ! -d tests/.node/node_modules/telegram-test-api ]; then
  npm install --silent --no-audit --no-fund --prefix tests/.node telegram-test-api@4.2.1 >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
