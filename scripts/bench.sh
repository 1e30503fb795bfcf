#!/usr/bin/env bash
# Builds and runs every benchmark; figures go to BENCHMARKS.md by hand, with the date.
# Pinned to one core so per-core figures are per core. Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh router_bench store_bench startup_bench switchboardd switchboard_loadgen switchboard_empty_ingest
echo "== $(date -u +%F) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
taskset -c 0 build/bench/router_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
build/bench/store_bench
python3 bench/store/wal_pages.py  # WAL pages per Ingest transaction, schemas 2, 3 and 4
build/bench/startup_bench 1000000  # about 10 minutes: fills a million conversations first
# End to end over gRPC against the empty service, the disk and the raw insert loop,
# 1 and 2 workers, 1,000 subscribers (issue 10): bench/loadgen/run.sh prints the ratios.
NO_BUILD=1 bench/loadgen/run.sh
