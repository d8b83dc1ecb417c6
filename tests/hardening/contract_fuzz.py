#!/usr/bin/env python3
"""Contract fuzzing: Schemathesis against a running Latchkey server's own /openapi.json.

Usage: contract_fuzz.py [--deep] [--seed N]

Starts the server (LATCHKEY_BIN, else `cargo build -p latchkey-server` and the debug binary)
on a free 127.0.0.1 port with a fresh SQLite database in a temporary directory, the file
mailer, LATCHKEY_RATE_LIMITS=off (the fuzzer sends far more than any limit allows, and a 429
would hide what the server does with the input) and a fixed secret; then runs every
operation of the served contract through Schemathesis with the checks below, as a signed-in
user (see fuzz_hooks.py for how the bearer token stays valid when the fuzzer signs itself
out). When LATCHKEY_TEST_POSTGRES_URL is set, it does the same again on PostgreSQL, in a
schema of its own that it drops afterwards.

Profiles: the default (CI) uses a fixed seed and one worker, so a run is reproducible: about
800 cases in all, some 10 s per backend. --deep draws about 17,000 on two workers (minutes;
the seed is still fixed unless --seed is given).

Exits non-zero on any check failure, any error Schemathesis reports, an operation left
untested, a 401 for a session the run never ended, or a panic in the server's log. Prints
the figures at the end: operations covered, cases run, failures.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)  # for tests/rig
from rig import Server, free_port, request  # noqa: E402

SECRET = "contract-fuzz-secret-0123456789abcdef0123456789"
CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "ignored_auth",
    "use_after_free",
    "negative_data_rejection",
    # Not named in the issue, cheap, and a documented-status contract is the point here.
    "status_code_conformance",
    "content_type_conformance",
]
PROFILES = {
    # max-examples is per operation and per phase; the coverage phase adds its own boundary
    # and type-violation cases (about 480). With 24 operations these give about 800 cases
    # (CI) and 17,000 (deep). See the figures each run prints.
    "ci": {"max_examples": 10, "workers": "1", "timeout": 600},
    "deep": {"max_examples": 1000, "workers": "2", "timeout": 3600},
}


def binary():
    if os.environ.get("LATCHKEY_BIN"):
        return os.path.abspath(os.environ["LATCHKEY_BIN"])
    subprocess.run(["cargo", "build", "--quiet", "-p", "latchkey-server"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "debug", "latchkey")


class Postgres:
    """A schema of its own in the test PostgreSQL, dropped afterwards (CREATE DATABASE is
    serialised by PostgreSQL; the server's own tests use schemas for the same reason)."""

    def __init__(self, admin_url):
        self.admin_url = admin_url
        self.schema = f"lk_fuzz_{uuid.uuid4().hex}"

    def __enter__(self):
        self.psql(f"CREATE SCHEMA {self.schema}")
        sep = "&" if "?" in self.admin_url else "?"
        return (
            f"{self.admin_url}{sep}options=-c%20search_path%3D{self.schema}"
            f"&application_name={self.schema}"
        )

    def __exit__(self, *_):
        self.psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def psql(self, sql):
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", self.admin_url, "-c", sql],
            env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
            check=True,
            stdout=subprocess.DEVNULL,
        )


def start_server(bin_path, work, database_url):
    """The server under fuzzing, in a clean environment (rig.Server): only the variables set
    here, so nothing of the caller's (REDIS_URL, LATCHKEY_ENV, an SMTP host) changes what is
    fuzzed. Exits with its log when it does not become healthy."""
    port = free_port()
    server = Server(bin_path, work, {
        "DATABASE_URL": database_url,
        "LATCHKEY_PUBLIC_URL": f"http://localhost:{port}",
        "LATCHKEY_SECRET": SECRET,
        "LATCHKEY_SECRET_FILE": os.path.join(work, "latchkey.secret"),
        "LATCHKEY_KEYS_FILE": os.path.join(work, "latchkey.keys.json"),
        "LATCHKEY_MAILER": "file",
        "LATCHKEY_MAIL_OUTBOX_DIR": os.path.join(work, "mail-outbox"),
        "LATCHKEY_RATE_LIMITS": "off",
        "RUST_LOG": "info",
    }, name="server", port=port, start_limit=60.0)
    try:
        server.start()
    except RuntimeError as err:
        sys.exit(str(err))
    return server


def operations_in_contract(url):
    status, spec, _ = request("GET", f"{url}/openapi.json", timeout=10)
    if status != 200:
        raise RuntimeError(f"/openapi.json answered {status}")
    return {
        f"{method.upper()} {path}"
        for path, ops in spec["paths"].items()
        for method in ops
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }


def figures(ndjson_path):
    """Operations tested, cases run and failures, from Schemathesis's event stream."""
    tested, cases, failures, errors = set(), 0, [], []
    checks_run = {}
    with open(ndjson_path) as f:
        for line in f:
            event = json.loads(line)
            for kind, body in event.items():
                if kind == "ScenarioFinished":
                    recorder = body.get("recorder") or {}
                    label = recorder.get("label")
                    interactions = recorder.get("interactions") or {}
                    if label and interactions:
                        tested.add(label)
                    for interaction in interactions.values():
                        if interaction.get("response") is not None:
                            cases += 1
                        tested.add(interaction.get("label") or label)
                    for check_list in (recorder.get("checks") or {}).values():
                        for check in check_list:
                            checks_run[check.get("name")] = checks_run.get(check.get("name"), 0) + 1
                            if str(check.get("status")).lower() == "failure":
                                failure = (check.get("failure_info") or {}).get("failure") or {}
                                failures.append(
                                    f"{check.get('name')}: {failure.get('operation', label)}: "
                                    f"{failure.get('title', '')}"
                                )
                elif kind in ("NonFatalError", "FatalError"):
                    info = body.get("info") or {}
                    errors.append(f"{body.get('label', kind)}: {info.get('message', body)}"[:300])
    tested.discard(None)
    return tested, cases, failures, errors, checks_run


def fuzz(name, bin_path, database_url, profile, seed, work):
    server = start_server(bin_path, work, database_url)
    expected = operations_in_contract(server.url)
    stats_path = os.path.join(work, "hooks.json")
    ndjson_path = os.path.join(work, "events.ndjson")
    settings = PROFILES[profile]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "fuzz_hooks",
        # fuzz_hooks.py is here, and it imports rig from tests/.
        "PYTHONPATH": os.pathsep.join([HERE, TESTS, os.environ.get("PYTHONPATH", "")]),
        "LATCHKEY_FUZZ_URL": server.url,
        "LATCHKEY_FUZZ_STATS": stats_path,
    }
    schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    command = [
        schemathesis,
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(seed),
        "--max-examples",
        str(settings["max_examples"]),
        "--workers",
        settings["workers"],
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        ndjson_path,
        "--no-color",
    ]
    started = time.monotonic()
    try:
        print(f"\n==> contract fuzzing on {name} ({profile} profile, seed {seed})", flush=True)
        # No --max-time: with it Schemathesis keeps fuzzing until the budget is spent. The
        # timeout only bounds a run that hangs.
        result = subprocess.run(command, env=env, cwd=work, timeout=settings["timeout"])
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    tested, cases, failures, errors, checks_run = figures(ndjson_path)
    hooks = {}
    if os.path.exists(stats_path):
        with open(stats_path) as f:
            hooks = json.load(f)
    log = server.log_text()
    panics = [line for line in log.splitlines() if "panicked" in line]
    untested = sorted(expected - tested)
    problems = []
    if result.returncode != 0:
        problems.append(f"schemathesis exited with {result.returncode}")
    if failures:
        problems.append(f"{len(failures)} check failure(s)")
    if errors:
        problems.append(f"{len(errors)} error(s): " + "; ".join(errors[:5]))
    missing_checks = sorted(set(CHECKS) - set(checks_run))
    if missing_checks:
        problems.append("checks that never ran: " + ", ".join(missing_checks))
    if untested:
        problems.append("operations never tested: " + ", ".join(untested))
    if hooks.get("unexpected_401"):
        problems.append(
            "a session the run never ended was refused: " + "; ".join(hooks["unexpected_401"][:5])
        )
    if not hooks:
        problems.append("the auth hooks wrote no figures (were they loaded?)")
    if panics:
        problems.append(f"{len(panics)} panic(s) in the server log: " + panics[0])
    print(f"\n==> contract fuzzing on {name}: figures")
    print(f"  operations covered: {len(tested & expected)} of {len(expected)}")
    print(f"  cases run:          {cases}")
    print("  checks run:         " + ", ".join(f"{n} {c}" for n, c in sorted(checks_run.items())))
    print(f"  check failures:     {len(failures)} ({len(set(failures))} distinct)")
    for failure in sorted(set(failures))[:20]:
        print(f"    {failure}")
    print(f"  errors:             {len(errors)}")
    print(f"  fuzz users:         {hooks.get('users_registered', '?')} "
          f"(sessions ended by the fuzzer: {hooks.get('tokens_retired', {})})")
    print(f"  server panics:      {len(panics)}")
    print(f"  time:               {elapsed:.0f} s")
    if problems:
        print(f"  FAILED on {name}: " + " | ".join(problems))
        print(f"  (server log and Schemathesis events kept in {work})")
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deep", action="store_true", help="thousands of cases instead of hundreds")
    parser.add_argument("--seed", type=int, default=20260109, help="Hypothesis seed (fixed by default)")
    args = parser.parse_args()
    profile = "deep" if args.deep else "ci"
    bin_path = binary()
    backends = [("SQLite", None)]
    if os.environ.get("LATCHKEY_TEST_POSTGRES_URL"):
        backends.append(("PostgreSQL", os.environ["LATCHKEY_TEST_POSTGRES_URL"]))
    else:
        print("contract fuzzing: SQLite only (set LATCHKEY_TEST_POSTGRES_URL to fuzz on PostgreSQL too)")
    ok = True
    for name, admin_url in backends:
        work = tempfile.mkdtemp(prefix="latchkey-fuzz-")
        if admin_url is None:
            passed = fuzz(name, bin_path, f"sqlite://{work}/fuzz.db", profile, args.seed, work)
        else:
            with Postgres(admin_url) as url:
                passed = fuzz(name, bin_path, url, profile, args.seed, work)
        if passed:
            shutil.rmtree(work, ignore_errors=True)
        ok = ok and passed
    print("\ncontract fuzzing: " + ("passed" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
