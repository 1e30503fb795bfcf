#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, integration, examples).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --preset default
