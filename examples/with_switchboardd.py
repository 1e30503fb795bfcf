#!/usr/bin/python3
"""Runs a program against a fresh switchboardd, the way the examples need one.

    with_switchboardd.py SWITCHBOARDD PROGRAM [ARGS...]

Starts SWITCHBOARDD on 127.0.0.1:0 (port 0: a free one; its first stdout line says
which) with the memory store and a config holding one API key per role, runs PROGRAM
with these in its environment, then stops the server with SIGTERM:

    SWITCHBOARD_ADDRESS      HOST:PORT
    SWITCHBOARD_ADMIN_KEY    SWITCHBOARD_AGENT_KEY    SWITCHBOARD_SERVICE_KEY
    SWITCHBOARD_ADAPTER_KEY

Exits with PROGRAM's status, or 1 if the server did not start or stop cleanly.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile

KEYS = {"agent": "example-agent-key", "service": "example-service-key", "adapter": "example-adapter-key"}


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    daemon, program = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory(prefix="switchboard-example-") as tmp:
        config = {
            "default_queue": "support",
            "queues": [{"name": "support"}],
            "worker_threads": 2,
            "api_keys": [{"name": "example-" + role, "role": role,
                          "sha256": hashlib.sha256(key.encode()).hexdigest()} for role, key in KEYS.items()],
        }
        config_path = os.path.join(tmp, "switchboardd.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        env = dict(os.environ, SWITCHBOARD_ADMIN_KEY="example-admin-key")
        server = subprocess.Popen([daemon, "--grpc-listen", "127.0.0.1:0", "--store", "memory:",
                                   "--config", config_path], stdout=subprocess.PIPE, env=env, text=True)
        try:
            first = server.stdout.readline().strip()
            if not first.startswith("listening on "):
                print("switchboardd did not start: %r" % first, file=sys.stderr)
                return 1
            env["SWITCHBOARD_ADDRESS"] = first[len("listening on "):]
            for role, key in KEYS.items():
                env["SWITCHBOARD_%s_KEY" % role.upper()] = key
            status = subprocess.run(program, env=env, timeout=120).returncode
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                exit_code = server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                exit_code = -1
        if exit_code != 0:
            print("switchboardd exited with %s" % exit_code, file=sys.stderr)
            return status or 1
        return status


if __name__ == "__main__":
    sys.exit(main())
