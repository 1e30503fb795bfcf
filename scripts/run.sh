#!/usr/bin/env bash
# Sets up, builds and starts switchboardd on its embedded default store.
# Extra arguments go to switchboardd (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh switchboardd

if [ -z "${SWITCHBOARD_ADMIN_KEY:-}" ]; then
  SWITCHBOARD_ADMIN_KEY="sb_admin_$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  echo "SWITCHBOARD_ADMIN_KEY was not set; this run's admin key: $SWITCHBOARD_ADMIN_KEY" >&2
fi
export SWITCHBOARD_ADMIN_KEY
# The embedded default: one SQLite file under var/ (git ignores it).
mkdir -p var
exec build/router/daemon/switchboardd --grpc-listen "${SWITCHBOARD_LISTEN:-127.0.0.1:7400}" \
  --store "${SWITCHBOARD_STORE:-sqlite:var/switchboard.db}" "$@"
