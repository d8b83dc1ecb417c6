#!/usr/bin/env python3
"""Latchkey side by side with Better Auth and the seeds' FastAPI stack, in one run.

Called by scripts/bench, which builds the binaries first. Installs the peers into a
temporary directory, starts each server in turn on a loopback port, drives the same loads
against each with latchkey-load, reads the server's CPU time and memory from /proc, and
writes results.json, results.md and chart.svg into --out (and, with --publish, BENCHMARKS.md
and bench/results/).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))  # for tests/rig, the server process and HTTP client
import rig  # noqa: E402
from harness import chart, loads, micro, peers, procs, report  # noqa: E402

REFRESH_CHAINS = 16


def main():
    args = parse_args()
    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())
        write(results, loads.PROFILES[results["profile"]], Path(args.out), args.publish)
        return
    if not (args.server_bin and args.loader_bin and args.target_dir):
        sys.exit("--server-bin, --loader-bin and --target-dir are needed for a run")
    profile = loads.PROFILES[args.profile]
    work = Path(tempfile.mkdtemp(prefix="latchkey-bench-"))
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "profile": args.profile,
        "machine": machine(),
        "latchkey": latchkey_version(),
        "loads": [vars(l) for l in profile],
        "peers": [],
        "rows": [],
        "skipped": [],
    }
    try:
        for peer in build_peers(args, work, results):
            try:
                measure(peer, args, profile, results)
            except Exception as e:
                if peer.name.startswith("Latchkey"):
                    raise
                # A peer's new release may break its harness script; that must not stop
                # the run (or CI). It is named in the results instead.
                print(f"    {peer.name} failed: {e}", file=sys.stderr)
                results["skipped"].append(f"{peer.name}: failed: {first_line(e)}")
                results["rows"] = [r for r in results["rows"] if r["peer"] != peer.name]
                results["peers"] = [p for p in results["peers"] if p["name"] != peer.name]
        if not args.no_micro:
            print("==> token verification: native (criterion), wasm and jose in Node", flush=True)
            results["micro"] = micro.run(Path(args.target_dir), args.cargo_profile,
                                         0.5 if args.profile == "smoke" else 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write(results, profile, Path(args.out), args.publish)
    broken = [r for r in results["rows"] if r["peer"].startswith("Latchkey") and r["errors"]]
    if broken:
        sys.exit(f"Latchkey answered with errors: {[(r['peer'], r['load'], r['first_error']) for r in broken]}")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", choices=sorted(loads.PROFILES), default="full")
    p.add_argument("--server-bin")
    p.add_argument("--loader-bin")
    p.add_argument("--target-dir")
    p.add_argument("--cargo-profile", default="release")
    p.add_argument("--out", required=True)
    p.add_argument("--postgres", default=os.environ.get("LATCHKEY_TEST_POSTGRES_URL"),
                   help="a PostgreSQL URL; the harness creates the database latchkey_bench beside it")
    p.add_argument("--no-micro", action="store_true")
    p.add_argument("--publish", action="store_true", help="also write BENCHMARKS.md and bench/results/")
    p.add_argument("--from-json", metavar="RESULTS", help="write the outputs of an earlier run again (after editing the report or BENCHMARKS.template.md)")
    return p.parse_args()


def build_peers(args, work, results):
    """Yields each peer ready to start; a peer that cannot be installed is skipped, named."""
    lock = (ROOT / "Cargo.lock").read_text()
    sqlite_crate = lock.split('name = "libsqlite3-sys"\nversion = "', 1)[1].split('"', 1)[0]
    server = Path(args.server_bin).resolve()
    loader = Path(args.loader_bin).resolve()
    yield peers.latchkey(server, loader, work, f"sqlite://{work}/latchkey.db", "SQLite",
                         {"libsqlite3-sys (bundled SQLite)": sqlite_crate})
    if not args.postgres:
        results["skipped"].append("Latchkey on PostgreSQL (set LATCHKEY_TEST_POSTGRES_URL or --postgres)")
    else:
        try:
            url = peers.fresh_postgres(args.postgres)
            results["postgres"] = peers.postgres_version(args.postgres)
            yield peers.latchkey(server, loader, work, url, "PostgreSQL",
                                 {"PostgreSQL": results["postgres"]})
        except (RuntimeError, OSError) as e:
            results["skipped"].append(f"Latchkey on PostgreSQL: {first_line(e)}")
    print("==> installing Better Auth (latest 1.x) from npm", flush=True)
    try:
        dest = peers.install_better_auth(work)
        ba = [peers.better_auth(dest, work, cookie_cache) for cookie_cache in (False, True)]
    except (RuntimeError, OSError) as e:
        results["skipped"].append(f"Better Auth: install failed: {first_line(e)}")
        ba = []
    yield from ba
    print("==> installing FastAPI, uvicorn, PyJWT and bcrypt from PyPI", flush=True)
    try:
        dest = peers.install_fastapi(work)
        fa = [peers.fastapi(dest, work)]
    except (RuntimeError, OSError) as e:
        results["skipped"].append(f"FastAPI stack: install failed: {first_line(e)}")
        fa = []
    yield from fa


def measure(peer, args, profile, results):
    print(f"==> {peer.name}", flush=True)
    port = rig.free_port()
    base = f"http://127.0.0.1:{port}"
    fill = lambda s: s.replace("{port}", str(port))
    env = {k: fill(v) for k, v in peer.env.items()} | {"PORT": str(port), "LATCHKEY_LISTEN": f"127.0.0.1:{port}"}
    log = peer.cwd / f"{peer.name.replace(' ', '_').replace('/', '_')}.log"
    # Unlike the test suites' servers, a peer starts in the caller's environment (its PATH
    # finds node); readiness is asked every 5 ms, since the start-up time is a figure.
    server = procs.Server([fill(c) for c in peer.cmd], os.environ | env, peer.cwd, log, port,
                          name=peer.name, ready_path=peer.health, start_limit=60.0, poll=0.005)
    server.start()
    try:
        setup = prepare(peer, base)
        entry = {
            "name": peer.name, "versions": peer.versions,
            "startup_ms": server.startup_ms, "idle_rss_mb": server.idle_rss_mb,
            "refresh": bool(peer.refresh),
        }
        results["peers"].append(entry)
        if "signin" not in peer.loads:
            time_hash(peer, entry)
        for load in profile:
            if load.key not in peer.loads or (load.key == "refresh" and not peer.refresh):
                continue
            time.sleep(1 if args.profile == "full" else 0.1)  # let background work settle
            if load.key == "signin":
                time_hash(peer, entry)
            row = loads.drive(args.loader_bin, server, base, peer, load, setup)
            row["peer"] = peer.name
            results["rows"].append(row)
            print(f"    {load.title:<14} {row['rps']:>9.0f} req/s  p99 {row['p99_ms']:8.2f} ms  "
                  f"CPU {row['cpu_ms_per_request']:.3f} ms/req  errors {row['errors']}", flush=True)
    except Exception:
        print(f"    the server's log ({log}):\n" + log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()


def time_hash(peer, entry):
    """The peer's own hash, timed by its own code while its server idles."""
    entry["hash"] = json.loads(peers.run(peer.hash_cmd, cwd=peer.cwd))
    entry["hash_bound_per_s"] = procs.cores() * 1e3 / entry["hash"]["ms"]


def prepare(peer, base):
    """A user to sign in as, and another whose sessions the other loads use: a live
    credential and, for Latchkey, one refresh chain per connection. Two users, because the
    sign-in load opens thousands of sessions for its user, and a server that caps live
    sessions per user (Latchkey: 50) ends the oldest ones, which the other loads need."""
    users = []
    for role in ("signin", "sessions"):
        email = f"bench-{role}-{os.getpid()}@example.com"
        status, body, _ = rig.request("POST", base + peer.register, peer.register_body(email))
        if status not in (200, 201):
            raise RuntimeError(f"{peer.name}: register answered {status}: {body}")
        users.append(email)
    signin_user, sessions_user = users
    headers, _ = peer.sign_in(base, sessions_user)
    setup = {"email": signin_user, "password": peers.PASSWORD, "headers": headers}
    if peer.refresh:
        setup["refresh_tokens"] = [peer.sign_in(base, sessions_user)[1]["refreshToken"]
                                   for _ in range(REFRESH_CHAINS)]
    return setup


def write(results, profile, out: Path, publish: bool):
    out.mkdir(parents=True, exist_ok=True)
    md = report.markdown(results)
    svg = chart.render(results["rows"], profile, [p["name"] for p in results["peers"]])
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(md)
    (out / "chart.svg").write_text(svg)
    print("\n" + md)
    print(f"Written: {out}/results.json, results.md, chart.svg")
    if publish:
        dest = ROOT / "bench" / "results"
        dest.mkdir(exist_ok=True)
        for name in ("results.json", "results.md", "chart.svg"):
            shutil.copy(out / name, dest / name)
        template = (ROOT / "bench" / "BENCHMARKS.template.md").read_text()
        (ROOT / "BENCHMARKS.md").write_text(template.replace("{{results}}", md))
        print("Published: BENCHMARKS.md, bench/results/")


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    os_name = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release")
                    if l.startswith("PRETTY_NAME=")), platform.system())
    return {"cpu": cpu, "cores": procs.cores(), "memory_gb": round(mem_kib / 2**20),
            "os": os_name, "kernel": platform.release()}


def latchkey_version():
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()
    return f"0.1.0 ({rev or 'no git'})"


def first_line(e) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


if __name__ == "__main__":
    main()
