#!/usr/bin/env bash
# Installs the dependencies (as root), configures with the default preset and builds
# the given targets (all when none are given). Used by run.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  scripts/install-deps.sh
elif command -v sudo >/dev/null 2>&1; then
  sudo scripts/install-deps.sh
else
  echo "build: not root and no sudo; run scripts/install-deps.sh as root first" >&2
  exit 1
fi

cmake --preset default >/dev/null
if [ "$#" -gt 0 ]; then
  cmake --build --preset default --target "$@"
else
  cmake --build --preset default
fi
