#!/usr/bin/env python3
"""Two builds of Latchkey side by side: is a change within noise of the build before it?

    bench/compare.py --old OLD_BIN --new NEW_BIN --loader LATCHKEY_LOAD [--rounds 5]

Starts each binary on its own fresh SQLite database and runs the session-check and refresh
loads of the full profile against them in alternation (old, new, old, new, ...), so both
meet the same minutes of a shared, noisy machine. Prints every round, then the medians and
the ratio new / old of the figures a refactor must not move: the server's CPU time per
session check, and refresh's p95 latency. Build both with the same profile (release).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
import rig  # noqa: E402
from harness import loads, peers, procs  # noqa: E402
from run import prepare  # noqa: E402

LOADS = {load.key: load for load in loads.PROFILES["full"]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", required=True)
    p.add_argument("--new", required=True)
    p.add_argument("--loader", required=True)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    figures = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="latchkey-compare-") as tmp:
        work = Path(tmp)
        servers = {name: start(Path(getattr(args, name)).resolve(), Path(args.loader).resolve(), work, name)
                   for name in ("old", "new")}
        try:
            for round_ in range(1, args.rounds + 1):
                for name in ("old", "new") if round_ % 2 else ("new", "old"):
                    server, base, peer, setup = servers[name]
                    time.sleep(1)  # let background work settle
                    session = loads.drive(args.loader, server, base, peer, LOADS["session"], setup)
                    time.sleep(1)
                    refresh = loads.drive(args.loader, server, base, peer, LOADS["refresh"], setup)
                    # A chain's tokens are spent by the run: the next round starts new ones.
                    setup["refresh_tokens"] = fresh_chains(peer, base, setup)
                    row = {
                        "session_cpu_ms": session["cpu_ms_per_request"],
                        "session_rps": session["rps"],
                        "refresh_p95_ms": refresh["p95_ms"],
                        "refresh_rps": refresh["rps"],
                    }
                    figures[name].append(row)
                    print(f"round {round_} {name}: session check {row['session_cpu_ms']:.4f} ms CPU/req "
                          f"({row['session_rps']:.0f} req/s); refresh p95 {row['refresh_p95_ms']:.2f} ms "
                          f"({row['refresh_rps']:.0f} req/s)", flush=True)
        finally:
            for server, *_ in servers.values():
                server.stop()
    print()
    for key, label in [("session_cpu_ms", "session check, server CPU ms per request"),
                       ("refresh_p95_ms", "refresh p95 ms")]:
        old = statistics.median(r[key] for r in figures["old"])
        new = statistics.median(r[key] for r in figures["new"])
        print(f"{label}: old {old:.4f}, new {new:.4f}, new/old {new / old:.3f} "
              f"(medians of {args.rounds} alternating rounds)")


def start(binary, loader, work, name):
    peer = peers.latchkey(binary, loader, work, f"sqlite://{work}/{name}.db", name, {})
    port = rig.free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | peer.env | {"LATCHKEY_LISTEN": f"127.0.0.1:{port}"}
    server = procs.Server(peer.cmd, env, work, work / f"{name}.log", port, name=name,
                          ready_path=peer.health, start_limit=60.0)
    server.start()
    return server, base, peer, prepare(peer, base)


def fresh_chains(peer, base, setup):
    """New refresh chains, for a new user: more sessions for the session-check user would
    pass the cap of live sessions and end the one the session check uses."""
    email = f"bench-chains-{time.monotonic_ns()}@example.com"
    status, body, _ = rig.request("POST", base + peer.register, peer.register_body(email))
    if status != 201:
        raise RuntimeError(f"register answered {status}: {body}")
    return [peer.sign_in(base, email)[1]["refreshToken"] for _ in setup["refresh_tokens"]]


if __name__ == "__main__":
    main()
