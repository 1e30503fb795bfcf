#!/usr/bin/env bash
# Where switchboardd's time goes in Ingest: `perf record` on the server while
# switchboard_loadgen drives it (closed loop), then the share of each library and the
# top symbols. perf must be installed (`which perf`); as non-root it needs
# kernel.perf_event_paranoid <= 2 (it records only this user's processes then).
#
#   bench/loadgen/profile.sh memory:|sqlite [OUT_DIR]
#
# Environment: BUILD (build), DURATION of the recording in seconds (6), CONCURRENCY (32).
set -euo pipefail
cd "$(dirname "$0")/../.."

STORE=${1:?usage: profile.sh memory:|sqlite [OUT_DIR]}
OUT=${2:-$(mktemp -d /tmp/switchboard-profile-XXXXXX)}
BUILD=${BUILD:-build}
DURATION=${DURATION:-6}
CONCURRENCY=${CONCURRENCY:-32}
command -v perf >/dev/null || { echo "profile.sh: perf is not installed" >&2; exit 1; }
case $STORE in
  memory:) store=memory: ;;
  sqlite) rm -f "$OUT"/profile.db*; store=sqlite:$OUT/profile.db ;;
  *) echo "profile.sh: the store is memory: or sqlite, not '$STORE'" >&2; exit 2 ;;
esac
mkdir -p "$OUT"

printf '{"default_queue": "support", "queues": [{"name": "support"}], "worker_threads": 2}\n' >"$OUT/config.json"
SWITCHBOARD_ADMIN_KEY=profile-key "$BUILD/router/daemon/switchboardd" --grpc-listen 127.0.0.1:0 --store "$store" \
  --config "$OUT/config.json" >"$OUT/server.out" 2>"$OUT/server.err" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^listening on ' "$OUT/server.out" && break; sleep 0.1; done
address=$(sed -n '1s/^listening on //p' "$OUT/server.out")

# The load outlasts the recording: set-up and warm-up first, then perf joins.
SWITCHBOARD_ADMIN_KEY=profile-key "$BUILD/bench/loadgen/switchboard_loadgen" --target "$address" \
  --concurrency "$CONCURRENCY" --warmup 3 --duration $((DURATION + 3)) >"$OUT/loadgen.txt" &
loadgen=$!
sleep 4
perf record ${PERF_ARGS:-} -F ${PERF_FREQ:-499} -o "$OUT/perf.data" -p "$server" -- sleep "$DURATION" 2>/dev/null
wait $loadgen
cat "$OUT/loadgen.txt"
echo "== share by library"
perf report -i "$OUT/perf.data" --no-children --sort dso 2>/dev/null | grep '%' | head -12 | cut -c1-100
echo "== share by thread name"
perf report -i "$OUT/perf.data" --no-children --sort comm 2>/dev/null | grep '%' | head -5 | cut -c1-100
echo "== top symbols"
perf report -i "$OUT/perf.data" --no-children --sort symbol 2>/dev/null | grep '%' | head -30 | cut -c1-150
