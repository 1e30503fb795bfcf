#!/usr/bin/env bash
# End-to-end Ingest over gRPC against the limits of this machine, one client, one run
# (issue 10). Each server starts on a free port (port 0, address from its first line),
# switchboard_loadgen drives it, and the summary gives absolute figures and ratios:
#
#   empty     switchboard_empty_ingest: answers at once (the transport's limit)
#   disk      switchboard_empty_ingest --sqlite: one row per call, WAL, FULL, group
#             commit, answered after COMMIT (the disk's limit behind the same transport)
#   memory    switchboardd --store memory: (the router's limit), 2 and 1 worker threads
#   sqlite    switchboardd --store sqlite:FILE (synchronous FULL), then an open loop at
#             half the best rate it reached, for p99 at half load
#   empty_deep, sqlite_deep: empty and sqlite again with DEEP_CONCURRENCY calls in
#             flight: group commit needs calls waiting to share a transaction, so
#             each service's limit is compared at both depths
#   raw       store_bench's BM_RawInsert/0: a raw SQLite insert loop, same durability
#   postgres  switchboardd --store postgresql://... on a throwaway PostgreSQL 15 (initdb
#             into a temporary folder, as user postgres when root; fsync on,
#             synchronous_commit on), then an open loop at half its rate
#   fanout    switchboardd memory:, SUBSCRIBERS streams attached, an open loop at
#             FANOUT_RATE (fanout_1: at 1 call/s): time from an event to its arrival
#             at every subscriber; fanout_http2, fanout_http2_1: the same with the
#             subscribers read by the lean HTTP/2 client (http2_streams.h)
#
#   bench/loadgen/run.sh [OUT_DIR]          (JSON per run and summary.json go there)
#
# Environment: BUILD (build), DURATION seconds per run (10), CONCURRENCY (32),
# DEEP_CONCURRENCY (128; empty and sqlite also run with this many in flight),
# CHANNELS (4), CUSTOMERS (1000), SUBSCRIBERS (1000), FANOUT_RATE calls/s (10),
# NO_BUILD=1 to use what is built, RUNS (all: "empty disk memory memory_1_worker
# sqlite sqlite_half fanout raw postgres"; sqlite_half needs sqlite), PG_BIN
# (/usr/lib/postgresql/15/bin), SWITCHBOARDD (a binary to
# measure instead of $BUILD's, e.g. an older one kept for an A/B). Not part of the
# tests; figures go to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-32}
DEEP_CONCURRENCY=${DEEP_CONCURRENCY:-128}
CHANNELS=${CHANNELS:-4}
CUSTOMERS=${CUSTOMERS:-1000}
SUBSCRIBERS=${SUBSCRIBERS:-1000}
FANOUT_RATE=${FANOUT_RATE:-10}
OUT=${1:-$(mktemp -d /tmp/switchboard-loadgen-XXXXXX)}
mkdir -p "$OUT"
ADMIN_KEY=loadgen-admin-key
LOADGEN=$BUILD/bench/loadgen/switchboard_loadgen
EMPTY=$BUILD/bench/loadgen/switchboard_empty_ingest
SWITCHBOARDD=${SWITCHBOARDD:-$BUILD/router/daemon/switchboardd}
RUNS=" ${RUNS:-empty disk memory memory_1_worker sqlite sqlite_half fanout raw postgres} "
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
wanted() { [[ $RUNS == *" $1 "* ]]; }

if [[ -z ${NO_BUILD:-} ]]; then
  cmake --build "$BUILD" --target switchboardd switchboard_loadgen switchboard_empty_ingest store_bench
fi

server_pid=
server_address=
pg_dir=
# A failed run (set -e) must not leave its servers behind.
cleanup() {
  if [[ -n $server_pid ]]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  if [[ -n $pg_dir ]]; then stop_postgres; fi
}
trap cleanup EXIT
# start_server NAME COMMAND...: starts it, waits for "listening on HOST:PORT".
start_server() {
  local name=$1
  shift
  SWITCHBOARD_ADMIN_KEY=$ADMIN_KEY "$@" >"$OUT/$name.server.out" 2>"$OUT/$name.server.err" &
  server_pid=$!
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$OUT/$name.server.out" 2>/dev/null; then
      server_address=$(sed -n '1s/^listening on //p' "$OUT/$name.server.out")
      return
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "run.sh: $name did not start; see $OUT/$name.server.err" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || echo "run.sh: server exited with $?" >&2
  server_pid=
}

# switchboardd with a config of N router worker threads, on the given store.
start_switchboardd() {
  local name=$1 store=$2 workers=$3
  printf '{"default_queue": "support", "queues": [{"name": "support"}], "worker_threads": %s}\n' "$workers" \
    >"$OUT/$name.config.json"
  start_server "$name" "$SWITCHBOARDD" --grpc-listen 127.0.0.1:0 --store "$store" --config "$OUT/$name.config.json"
}

# CPU seconds (user + system) the server used so far: steadier than a rate on a
# shared machine, where other processes take the cores at will.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$server_pid/stat"; }

# The machine's "cpu" line of /proc/stat: jiffies by kind, steal the eighth.
machine_cpu() { head -1 /proc/stat; }

# loadgen NAME ARGS...: one run against $server_address, JSON to $OUT/NAME.json, the
# server's CPU seconds during the run to $OUT/NAME.cpu, and the share of the machine's
# CPU time the hypervisor took (steal) to $OUT/NAME.steal: on a shared VM it moves
# rates and tails more than most code changes do.
loadgen() {
  local name=$1
  shift
  echo "== $name"
  local cpu_before machine_before
  cpu_before=$(server_cpu)
  machine_before=$(machine_cpu)
  SWITCHBOARD_ADMIN_KEY=$ADMIN_KEY "$LOADGEN" --target "$server_address" --label "$name" --json "$OUT/$name.json" \
    --duration "$DURATION" --channels "$CHANNELS" --customers "$CUSTOMERS" "$@"
  awk -v after="$(server_cpu)" -v before="$cpu_before" 'BEGIN { print after - before }' >"$OUT/$name.cpu"
  printf '%s\n%s\n' "$machine_before" "$(machine_cpu)" |
    awk '{ total = 0; for (i = 2; i <= NF; i++) total += $i; t[NR] = total; s[NR] = $9 }
         END { print (t[2] > t[1]) ? (s[2] - s[1]) / (t[2] - t[1]) : 0 }' >"$OUT/$name.steal"
}

json_field() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# Half the best calls/s the runs NAMES... reached (at least 1), for the open loop at
# half load; runs that did not happen are left out.
half_rate_of() {
  local rates=() name
  for name in "$@"; do
    if [[ -f $OUT/$name.json ]]; then rates+=("$(json_field "$OUT/$name.json" calls_per_s)"); fi
  done
  /usr/bin/python3 -c "print(max(1.0, max([${rates[*]/%/,}]) / 2))"
}

echo "== $(date -u '+%F %T UTC'), $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load average $(cut -d' ' -f1-3 /proc/loadavg)"

if wanted empty; then
  start_server empty "$EMPTY" --listen 127.0.0.1:0
  loadgen empty --no-link --concurrency "$CONCURRENCY"
  loadgen empty_deep --no-link --concurrency "$DEEP_CONCURRENCY"
  stop_server
fi

if wanted disk; then
  start_server disk "$EMPTY" --listen 127.0.0.1:0 --sqlite "$OUT/disk.db"
  loadgen disk --no-link --concurrency "$CONCURRENCY"
  stop_server
fi

if wanted memory; then
  start_switchboardd memory memory: 2
  loadgen memory --concurrency "$CONCURRENCY"
  stop_server
fi

if wanted memory_1_worker; then
  start_switchboardd memory_1_worker memory: 1
  loadgen memory_1_worker --concurrency "$CONCURRENCY"
  stop_server
fi

# Each from a fresh file, so that both depths start from the same state.
# sqlite_run NAME IN_FLIGHT
sqlite_run() {
  rm -f "$OUT"/sqlite.db*
  start_switchboardd "$1" "sqlite:$OUT/sqlite.db" 2
  loadgen "$1" --concurrency "$2"
  stop_server
}
if wanted sqlite; then
  sqlite_run sqlite "$CONCURRENCY"
  sqlite_run sqlite_deep "$DEEP_CONCURRENCY"
fi

# Half load on a fresh file, so both runs start from the same state. The open loop
# may hold many calls in flight: a stall shows as latency, not as a slower schedule.
if wanted sqlite_half; then
  half_rate=$(half_rate_of sqlite sqlite_deep)
  rm -f "$OUT"/sqlite.db*
  start_switchboardd sqlite_half "sqlite:$OUT/sqlite.db" 2
  loadgen sqlite_half --loop open --rate "$half_rate" --concurrency 1024
  stop_server
fi
rm -f "$OUT"/sqlite.db* "$OUT"/disk.db*

# Fan-out at FANOUT_RATE, and at one message a second: each event alone, no queueing.
# Twice: subscribers read by gRPC's C++ client (fanout, fanout_1), then by the lean
# HTTP/2 client (fanout_http2, fanout_http2_1), whose own CPU takes less of the two
# cores the server shares with it.
# fanout_pair NAME CLIENT: NAME at FANOUT_RATE, then NAME_1 at one message a second.
fanout_pair() {
  local flags=(--loop open --concurrency 64 --subscribers "$SUBSCRIBERS" --subscriber-client "$2")
  loadgen "$1" "${flags[@]}" --rate "$FANOUT_RATE"
  loadgen "$1_1" "${flags[@]}" --rate 1
}
if wanted fanout; then
  start_switchboardd fanout memory: 2
  fanout_pair fanout grpc
  fanout_pair fanout_http2 http2
  stop_server
fi

if wanted raw; then
  echo "== raw SQLite insert loop (store_bench BM_RawInsert/0: WAL, synchronous FULL, 100 rows per transaction)"
  "$BUILD/bench/store_bench" --benchmark_filter='BM_RawInsert/0' --benchmark_out="$OUT/raw.benchmark.json" \
    --benchmark_out_format=json >/dev/null
fi

# A throwaway PostgreSQL: data and socket in a temporary folder, a free port. initdb
# and postgres refuse to run as root, hence runuser.
as_postgres() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
start_postgres() {
  pg_dir=$(mktemp -d /tmp/switchboard-loadgen-pg-XXXXXX)
  if [[ $(id -u) == 0 ]]; then chown postgres: "$pg_dir"; fi
  as_postgres "$PG_BIN/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync --no-locale -E UTF8 >"$OUT/postgres.initdb.log"
  pg_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$PG_BIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on" start >/dev/null
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres switchboard
}
stop_postgres() {
  as_postgres "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$pg_dir"
  pg_dir=
}

# The closed loop, then half its rate on the same database (the schema is made at
# start; a fresh database for the second run, like sqlite_half's fresh file).
if wanted postgres; then
  start_postgres
  start_switchboardd postgres "postgresql://postgres@127.0.0.1:$pg_port/switchboard" 2
  loadgen postgres --concurrency "$CONCURRENCY"
  stop_server
  half_rate=$(half_rate_of postgres)
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres switchboard_half
  start_switchboardd postgres_half "postgresql://postgres@127.0.0.1:$pg_port/switchboard_half" 2
  loadgen postgres_half --loop open --rate "$half_rate" --concurrency 1024
  stop_server
  stop_postgres
fi

/usr/bin/python3 bench/loadgen/summarize.py "$OUT"
