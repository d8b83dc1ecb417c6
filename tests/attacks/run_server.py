#!/usr/bin/env python3
"""Runs the attack corpus (tests/attacks/*.json) against the real `latchkey` binary.

Usage: run_server.py [--bin PATH] [--postgres URL] [--verbose]

Starts the server itself (fresh SQLite, rate limits off, file mailer) as HS256 and as EdDSA,
and with --postgres a third instance on a fresh PostgreSQL database for the HTTP and HS256
token cases. Every case must get exactly its answer. Then: every server still answers
/healthz, no log holds a panic or an ERROR line, and the canary that `jku`/`x5u` headers
point at was never contacted. Prints counts per category; exits 1 on any mismatch.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for tests/rig
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

import forge  # noqa: E402
from account_cases import AccountCases  # noqa: E402
from http_cases import PASSWORD, HttpCases  # noqa: E402
from rig import claims, sid_of  # noqa: E402
from wire import Canary, Server  # noqa: E402

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


class Tally:
    """Pass/fail counts per (runner, category), and every failure's description."""

    def __init__(self, verbose=False):
        self.counts = {}
        self.failures = []
        self.verbose = verbose

    def check(self, where, category, name, problem):
        passed, failed = self.counts.get((where, category), (0, 0))
        if problem:
            self.counts[(where, category)] = (passed, failed + 1)
            self.failures.append(f"[{where}] {category}: {name}: {problem}")
            print(f"FAIL [{where}] {category}: {name}: {problem}", flush=True)
        else:
            self.counts[(where, category)] = (passed + 1, failed)
            if self.verbose:
                print(f"ok   [{where}] {category}: {name}")

    def table(self):
        width = max([len(f"{w} / {c}") for w, c in self.counts] + [20])
        print(f"\n{'runner / category':<{width}}  passed  failed")
        for (where, category), (passed, failed) in sorted(self.counts.items()):
            print(f"{where + ' / ' + category:<{width}}  {passed:>6}  {failed:>6}")
        total = sum(p for p, _ in self.counts.values()), sum(f for _, f in self.counts.values())
        print(f"{'total':<{width}}  {total[0]:>6}  {total[1]:>6}")


def answer_problem(response, expect):
    """Why `response` is not the answer `expect` asks for, or None."""
    if response is None:
        return "the server closed the connection without answering"
    if response.status >= 500:
        return f"a {response.status}: {response.body[:200]}"
    if "status" in expect and response.status != expect["status"]:
        return f"expected {expect['status']} {expect.get('error', '')}, got {response!r}"
    if "status_in" in expect and response.status not in expect["status_in"]:
        return f"expected one of {expect['status_in']}, got {response!r}"
    if "error" in expect and response.error != expect["error"]:
        return f"expected error {expect['error']}, got {response!r}"
    return None


# --- token cases ------------------------------------------------------------------------

def token_expectation(case, config):
    expect = dict(case["expect"])
    for key in (config, "server"):
        expect.update(case.get("expect_by", {}).get(key, {}))
    return expect


def run_tokens(server, keys, tally, canary):
    """Every tokens.json case for `keys.alg`, as a bearer token and as the access cookie."""
    api = server.api
    tag = f"{server.name}"
    suffix = uuid.uuid4().hex[:8]
    victim = api.call("POST", "/api/v1/auth/register", {"email": f"tokens-{suffix}@example.com", "password": PASSWORD})
    other = api.call("POST", "/api/v1/auth/register", {"email": f"tokens-other-{suffix}@example.com", "password": PASSWORD})
    assert victim.status == 201 and other.status == 201, (victim, other)
    victim_claims = claims(victim.json()["accessToken"])
    subject = {k: victim_claims[k] for k in ("sub", "sid", "email", "email_verified")}
    # A session that has been signed out, for "valid signature, dead session".
    second = api.call("POST", "/api/v1/auth/signin", {"email": subject["email"], "password": PASSWORD})
    revoked_sid = sid_of(second.json()["accessToken"])
    assert api.call("POST", "/api/v1/auth/signout", token=second.json()["accessToken"]).status == 204
    other_token = other.json()["accessToken"]
    values = {
        "canary_url": canary.url,
        "other_sub": other.json()["user"]["id"],
        "revoked_sid": revoked_sid,
        "other_signature": other_token.split(".")[2],
    }
    cases = json.loads((HERE / "tokens.json").read_text())["cases"]
    for case in cases:
        if keys.alg not in case.get("configs", ["HS256", "EdDSA"]) or "server" not in case.get("runners", ["server", "wasm"]):
            continue
        expect = token_expectation(case, keys.alg)
        token = forge.build(case, keys, subject, int(time.time()), values).encode()
        for transport, headers in (
            ("bearer", [("Authorization", b"Bearer " + token)]),
            ("cookie", [("Cookie", b"latchkey.at=" + token)]),
        ):
            response = server.api.call("GET", "/api/v1/auth/me", headers=headers)
            problem = answer_problem(response, expect)
            if not problem and expect.get("ok") and response.json().get("id") != subject["sub"]:
                problem = f"accepted as someone else: {response!r}"
            tally.check(tag, f"token/{case['kind']}", f"{case['name']} ({keys.alg}, {transport})", problem)


def eddsa_keys(server, secret, keys_file):
    stored = json.loads(Path(keys_file).read_text())["keys"]
    seed = forge.unb64(max(stored, key=lambda k: k["activeFrom"])["seed"])
    private = Ed25519PrivateKey.from_private_bytes(seed)
    jwks = server.api.call("GET", "/.well-known/jwks.json").body
    keys = forge.Keys("EdDSA", secret, private, jwks)
    assert keys.kid in jwks, "the served JWKS does not hold the keys file's key"
    return keys


# --- after everything -------------------------------------------------------------------

def final_checks(servers, tally, canary):
    for server in servers:
        tally.check(server.name, "aftermath", "still answers /healthz after the corpus",
                    None if server.healthy() else "not healthy any more")
        log = server.log_text()
        panics = [line for line in log.splitlines() if "panicked" in line]
        errors = [line for line in log.splitlines() if " ERROR " in line]
        tally.check(server.name, "aftermath", "no panic in the log", "; ".join(panics[:3]) or None)
        tally.check(server.name, "aftermath", "no ERROR line in the log", "; ".join(errors[:3]) or None)
    tally.check("all", "aftermath", "the jku/x5u canary was never contacted",
                f"{canary.connections} connection(s)" if canary.connections else None)


def postgres_database(url):
    """A fresh database on `url`'s server, dropped at exit; returns its URL and the cleanup.
    Only the path changes: user, host, port and the query (`?sslmode=…`) are kept."""
    name = f"latchkey_attacks_{uuid.uuid4().hex[:8]}"
    run = lambda sql: subprocess.run(["psql", url, "-qc", sql], check=True, capture_output=True)  # noqa: E731
    run(f"CREATE DATABASE {name}")
    fresh = urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))
    return fresh, lambda: run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("LATCHKEY_BIN", str(ROOT / "target/debug/latchkey")))
    parser.add_argument("--postgres", help="also run on a fresh database of this PostgreSQL server")
    parser.add_argument("--verbose", action="store_true", help="print every case, not only failures")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no server binary at {binary} (cargo build -p latchkey-server, or --bin)")

    tally = Tally(args.verbose)
    canary = Canary()
    work = tempfile.mkdtemp(prefix="latchkey-attacks-")
    secret = base64.urlsafe_b64encode(os.urandom(33)).decode()
    servers, cleanups = [], []
    started = time.monotonic()
    try:
        hs = Server(binary, work, "hs256", {"LATCHKEY_SECRET": secret})
        servers.append(hs)
        run_tokens(hs, forge.Keys("HS256", secret.encode()), tally, canary)

        keys_file = os.path.join(work, "keys.json")
        ed = Server(binary, work, "eddsa", {"LATCHKEY_SECRET": secret, "LATCHKEY_JWT_ALG": "EdDSA", "LATCHKEY_KEYS_FILE": keys_file})
        servers.append(ed)
        run_tokens(ed, eddsa_keys(ed, secret.encode(), keys_file), tally, canary)

        HttpCases(hs, tally, answer_problem, secret.encode()).run_all(json.loads((HERE / "http.json").read_text()))

        # The account cases need the rate limits on (the defaults), and a client address per
        # case: 127.0.0.1 is trusted to name it.
        limited = Server(binary, work, "limits", {"LATCHKEY_SECRET": secret, "LATCHKEY_RATE_LIMITS": "",
                                                  "LATCHKEY_TRUSTED_PROXIES": "127.0.0.1"})
        servers.append(limited)
        AccountCases(limited, tally, answer_problem).run_all(json.loads((HERE / "account.json").read_text()))

        if args.postgres:
            url, drop = postgres_database(args.postgres)
            cleanups.append(drop)
            pg = Server(binary, work, "postgres", {"LATCHKEY_SECRET": secret, "DATABASE_URL": url})
            servers.append(pg)
            run_tokens(pg, forge.Keys("HS256", secret.encode()), tally, canary)
            HttpCases(pg, tally, answer_problem, secret.encode()).run_all(json.loads((HERE / "http.json").read_text()))

        final_checks(servers, tally, canary)
    finally:
        for server in servers:
            server.stop()
        for cleanup in cleanups:
            cleanup()
        canary.stop()
        if not tally.failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\nserver logs kept in {work}")

    tally.table()
    print(f"({time.monotonic() - started:.1f} s)")
    if tally.failures:
        print(f"\n{len(tally.failures)} case(s) did not get their answer:")
        for failure in tally.failures:
            print(f"  {failure}")
        sys.exit(1)


if __name__ == "__main__":
    main()
