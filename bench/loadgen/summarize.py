#!/usr/bin/python3
"""Summary of one bench/loadgen/run.sh: absolute figures and ratios to the baselines
measured in the same run, printed and written to OUT_DIR/summary.json.

    summarize.py OUT_DIR
"""
import json
import os
import sys


def load(out, name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


def server_cpu_us_per_call(out, name, run):
    """Server CPU time per call, set-up calls (an Ingest and two LinkIdentity per
    customer) included."""
    path = os.path.join(out, name + ".cpu")
    if not os.path.exists(path):
        return None
    calls = run["sent"] + 3 * run["setup_ingests"]
    return float(open(path).read()) * 1e6 / calls if calls else None


def steal_share(out, name):
    """The share of the machine's CPU time the hypervisor took during the run."""
    path = os.path.join(out, name + ".steal")
    return float(open(path).read()) if os.path.exists(path) else None


def raw_rows_per_second(out):
    path = os.path.join(out, "raw.benchmark.json")
    if not os.path.exists(path):
        return None
    runs = json.load(open(path))["benchmarks"]
    return runs[0]["items_per_second"] if runs else None


def verdict(met):
    return "met" if met else "NOT met"


def main():
    out = sys.argv[1]
    runs = {name: load(out, name) for name in
            ("empty", "empty_deep", "disk", "memory", "memory_1_worker", "sqlite", "sqlite_deep", "sqlite_half", "postgres", "postgres_half", "fanout",
             "fanout_1", "fanout_http2", "fanout_http2_1")}
    raw = raw_rows_per_second(out)
    print("\n%-16s %12s %9s %9s %9s %9s %16s %16s %6s  %s" % (
        "run", "calls/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "server CPU/call", "client CPU/call", "steal",
        "errors"))
    cpu = {}
    steal = {}
    for name, run in runs.items():
        if run is None:
            continue
        lat = run["latency"]
        cpu[name] = server_cpu_us_per_call(out, name, run)
        steal[name] = steal_share(out, name)
        client = run.get("client_cpu_s", 0) * 1e6 / run["sent"] if run["sent"] else 0
        print("%-16s %12.0f %9.3f %9.3f %9.3f %9.3f %13.1f us %13.1f us %5.0f%%  %d" % (
            name, run["calls_per_s"], lat["p50_ms"], lat["p90_ms"], lat["p99_ms"], lat["p99_9_ms"],
            cpu[name] or 0, client, 100 * (steal[name] or 0), run["failed"]))
    if raw is not None:
        print("%-16s %12.0f  rows/s (no gRPC; 100 rows per transaction)" % ("raw_sqlite", raw))

    rate = {name: run["calls_per_s"] for name, run in runs.items() if run}
    summary = {"rates": rate, "server_cpu_us_per_call": cpu, "steal": steal, "raw_sqlite_rows_per_s": raw, "ratios": {},
               "goals": {}}
    print()
    empty = rate.get("empty")
    if empty:
        for name in ("memory", "memory_1_worker", "sqlite", "disk", "postgres"):
            if name in rate:
                summary["ratios"][name + "/empty"] = rate[name] / empty
                print("%-24s %.3f" % (name + " / empty", rate[name] / empty))
        if "memory" in rate:
            summary["goals"]["memory >= 0.6 empty"] = rate["memory"] / empty >= 0.6
        if "sqlite" in rate:
            summary["goals"]["sqlite >= 0.5 empty, %d in flight" % runs["sqlite"]["concurrency"]] = \
                rate["sqlite"] / empty >= 0.5
    # Both again with more calls in flight: what group commit shares a transaction among.
    if rate.get("empty_deep") and "sqlite_deep" in rate:
        ratio = rate["sqlite_deep"] / rate["empty_deep"]
        summary["ratios"]["sqlite_deep/empty_deep"] = ratio
        print("%-24s %.3f" % ("sqlite / empty, deep", ratio))
        summary["goals"]["sqlite >= 0.5 empty, %d in flight" % runs["sqlite_deep"]["concurrency"]] = ratio >= 0.5
    if "sqlite" in rate and "disk" in rate:
        summary["ratios"]["sqlite/disk"] = rate["sqlite"] / rate["disk"]
        print("%-24s %.3f" % ("sqlite / disk", rate["sqlite"] / rate["disk"]))
    if "memory" in rate and "memory_1_worker" in rate:
        summary["ratios"]["memory 2 workers/1 worker"] = rate["memory"] / rate["memory_1_worker"]
        print("%-24s %.3f" % ("2 workers / 1 worker", rate["memory"] / rate["memory_1_worker"]))
    for store in ("sqlite", "postgres"):
        half = runs.get(store + "_half")
        if half:
            p99 = half["latency"]["p99_ms"]
            summary["goals"][store + " p99 < 5 ms at half load"] = p99 < 5
            print("%s at half load (%.0f calls/s scheduled): p99 %.3f ms" % (store, half["rate_scheduled"], p99))
    for name in ("fanout", "fanout_1", "fanout_http2", "fanout_http2_1"):
        fanout = runs.get(name)
        if not fanout or "event_latency" not in fanout:
            continue
        ev = fanout["event_latency"]
        client = fanout.get("subscriber_client", "grpc")
        goal = "event to %d subscribers (%s client) p99 < 10 ms at %g/s" % (
            fanout["subscribers"], client, fanout["rate_scheduled"])
        summary["goals"][goal] = ev["p99_ms"] < 10
        print("event -> arrival at %d subscribers (%s client), %g messages/s (%d arrivals): p50 %.3f p99 %.3f "
              "p99.9 %.3f ms; ended early: %s" % (fanout["subscribers"], client, fanout["rate_scheduled"],
                                                  fanout["event_arrivals"], ev["p50_ms"], ev["p99_ms"], ev["p99_9_ms"],
                                                  fanout["subscribers_ended_early"] or "none"))
    print()
    for goal, met in summary["goals"].items():
        print("goal %-62s %s" % (goal, verdict(met)))
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=2)
    print("\nJSON: %s" % out)


if __name__ == "__main__":
    main()
