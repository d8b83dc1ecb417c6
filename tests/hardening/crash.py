#!/usr/bin/env python3
"""Crash durability: what the server acknowledged survives a SIGKILL and a database outage.

Drives sign-ups, sign-ins and refreshes at concurrency against the real `latchkey` binary,
logs every acknowledged (2xx) operation, then, at a moment drawn from a seeded RNG (the seed is
printed; `--seed` replays it):

- kill rounds (SQLite, and PostgreSQL when LATCHKEY_TEST_POSTGRES_URL is set): SIGKILL the
  server mid-load, restart it on the same database, check;
- a stop round (PostgreSQL only): stop the cluster with `pg_ctlcluster … stop -m immediate`
  mid-load, keep it down a few seconds, start it again, and check without restarting Latchkey.
  The cluster is the one serving LATCHKEY_TEST_POSTGRES_URL (its port and data directory, as
  the server reports them, matched in `pg_lsclusters`). When there is none here, or no
  pg_ctlcluster, or we are neither root nor postgres, the round is skipped, and says so.

Standard library only. Every loop is bounded in count and time, and only 127.0.0.1 is spoken to.
Layout: this file holds the rounds and the checks; crash_load.py the worker threads and the
ledger of acknowledged operations; crash_rig.py the server process, the HTTP client and the
database reads.

Bookkeeping. One worker thread owns its users and sessions, so a session has at most one
refresh in flight. A session's chain is t_0 (from a 2xx register or sign-in), t_1 … t_k (each
from a 2xx refresh presenting the one before). A request that got no 2xx answer but may have
reached the server (connection lost to the kill, a 503 during the outage) is "in doubt": for a
refresh, t_k is kept as the session's `pending` token and the session gets no more load until
the checks settle it. The server runs with LATCHKEY_REFRESH_GRACE=60 so that settling happens
inside the grace window (see R1).

Invariants, checked after every round (h(t) = SHA-256 hex of t, as the server stores it):

Database, read directly (sqlite3 / psql) before any probe:
  D1  every session has at most one unspent refresh token: ≤ 1 live token per session.
  D2  a session's token rows have the generations 0 … G exactly, where G is the session's
      generation, and every row below G is spent (the live token, if any, is generation G).
  D3  no user without a credential, no session without its first refresh token: a sign-up or
      sign-in whose answer was lost is all there or not there at all.
  D4  for every session we hold: the rows h(t_0) … h(t_k) exist with generations 0 … k, and
      t_0 … t_{k-1} are spent. Then, with no refresh in doubt, h(t_k) is unspent (t_k is THE
      live token). With one in doubt (t_k presented, answer lost), exactly one of:
        (a) it did not commit: h(t_k) unspent, G = k;
        (b) it committed: h(t_k) spent, G = k + 1, and the unacknowledged successor is the
            one live token.
      Never both (D1). The session is not revoked.
  D5  every acknowledged sign-up's user row exists.

From outside, after the restart (or the outage):
  S1  every acknowledged sign-up signs in with the acknowledged password, as the same user id.
  R1  presenting t_k rotates: 200 with a new token t'. In case (b) t' is the unacknowledged
      successor (h(t') is the live row seen in D4: a resend within grace, nothing new
      written); only if the grace window had already passed since that spend may the answer
      be 401 `refresh_token_reused` (the session is then revoked).
  R2  presenting t_k again right after (spent < 60 s ago, so within grace) answers 200 with
      exactly t': a spent token never yields a second live token.
  R3  for some sessions, the oldest token t_0 is presented: 200 with exactly t' (within
      grace) or 401 `refresh_token_reused`, after which t' is refused (401): the session is
      revoked as a whole. Those sessions are retired.
  D1' after the probes, D1 and D2 still hold, and h(t') is the live row of every probed session.
  lost: acknowledged effects missing afterwards (a user that cannot sign in or whose row is
      gone, a token row of an acknowledged chain that is gone, a newest acknowledged token that
      is neither live nor superseded by the in-doubt case (b)). Must be 0.

Answers while the server is up (any round):
  A1  every answer is 2xx, except 503 `unavailable` during the PostgreSQL outage round; never
      a 500, never another 4xx (these flows have nothing to refuse).
  A2  no request takes more than HANG_LIMIT seconds (a pool that waits forever is a hang).
  A3  after PostgreSQL is back, each of sign-up, sign-in and refresh succeeds again within
      RECOVERY_LIMIT seconds, with the same Latchkey process, and /readyz answers 200.
  A4  during the outage at least one answer was observed, and all were 503 `unavailable`.

Usage: crash.py [--deep] [--seed N] [--bin PATH]. LATCHKEY_BIN picks the binary (default
target/debug/latchkey). Exit status 1 on any violation; the figures are printed either way.
The last line is `outage round: ran` or `outage round: skipped (<reason>)`.
"""

import argparse
import contextlib
import fcntl
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for tests/rig
from crash_load import HANG_LIMIT, Actor, Ledger, Round, Session, join, run_load  # noqa: E402
from crash_rig import GRACE_SECS, Http, PgDb, Snapshot, SqliteDb, crash_server, now_ms, sha  # noqa: E402
from rig import error_code as code  # noqa: E402
from rig import sid_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RECOVERY_LIMIT = 30.0
PG_LOCK = "/tmp/pg.lock"

FAST = dict(
    workers=6, sqlite_kills=2, pg_kills=2, pg_stops=1, kill_after=(0.8, 2.5),
    down_for=(2.0, 3.0), ops_per_worker=400, sample_old=40, retire_share=0.1,
)
DEEP = dict(
    workers=8, sqlite_kills=12, pg_kills=10, pg_stops=4, kill_after=(0.2, 6.0),
    down_for=(1.0, 8.0), ops_per_worker=3000, sample_old=150, retire_share=0.1,
)


# ---------------------------------------------------------------- the checks


def check(port, db, actors, ledger, rng, cfg, round_tag, workers):
    """D1-D5, S1, R1-R3 and the lost count after a restart or an outage."""
    problems = []
    db.settle()
    snap = Snapshot(db, problems)
    for p in problems:
        ledger.problem(p)

    # D4/D5 and the lost count, from the snapshot, before anything is presented.
    plan = []  # (actor, session, expect_hash_of_successor or None, spent_at of t_k)
    for actor in actors:
        for email, _, user_id, _ in actor.users:
            if user_id not in snap.user_ids:
                ledger.problem(f"D5 acknowledged user {email} is gone", lost=email)
        for s in actor.sessions:
            if s.retired:
                continue
            meta = snap.sessions.get(s.sid)
            if meta is None:
                ledger.problem(f"D4 acknowledged session {s.sid} has no token rows", lost=s.sid)
                s.retired = True
                continue
            if meta["revoked"]:
                ledger.problem(f"D4 session {s.sid} is revoked", lost=s.sid)
                s.retired = True
                continue
            bad = False
            for i, t in enumerate(s.tokens):
                row = snap.by_hash.get(sha(t))
                if row is None or row[0] != s.sid or row[1] != i:
                    ledger.problem(f"D4 session {s.sid}: acknowledged token {i} is "
                                   f"{'gone' if row is None else 'misplaced'}", lost=s.sid)
                    bad = True
                elif i < len(s.tokens) - 1 and row[2] is None:
                    ledger.problem(f"D4 session {s.sid}: superseded token {i} is still live")
                    bad = True
            if bad:
                s.retired = True
                continue
            k = len(s.tokens) - 1
            _, _, spent = snap.by_hash[sha(s.tokens[-1])]
            if spent is None and meta["generation"] == k:
                plan.append((actor, s, None, None))  # t_k is the live token (or case (a))
                if s.pending is not None:
                    ledger.settled["a"] += 1
            elif s.pending is not None and spent is not None and meta["generation"] == k + 1 \
                    and snap.live_hash(s.sid) is not None:
                plan.append((actor, s, snap.live_hash(s.sid), spent))  # case (b)
                ledger.settled["b"] += 1
            else:
                ledger.problem(f"D4 session {s.sid}: newest acknowledged token not live "
                               f"(spent={spent is not None}, generation {meta['generation']} vs {k}, "
                               f"in doubt={s.pending is not None})", lost=s.sid)
                s.retired = True

    # Probe touched sessions and a sample of the others.
    touched = [p for p in plan if p[1].touched or p[2] is not None]
    others = [p for p in plan if not (p[1].touched or p[2] is not None)]
    probes = touched + rng.sample(others, min(len(others), cfg["sample_old"]))
    retire = {id(p[1]) for p in probes if len(p[1].tokens) >= 3 and rng.random() < cfg["retire_share"]}

    def probe(item):
        _, s, successor, spent = item
        http = Http(port)
        sent = now_ms()
        status, body, _ = http.post("/api/v1/auth/refresh", {"refreshToken": s.tokens[-1]})
        if status == 200:
            new = body["refreshToken"]
            if successor is not None and sha(new) != successor:
                ledger.problem(f"R1 session {s.sid}: the resend is not the live successor")
            if new in s.tokens:
                ledger.problem(f"R1 session {s.sid}: rotation answered an old token")
            s.tokens.append(new)
        elif (status == 401 and successor is not None and code(body) == "refresh_token_reused"
              and sent >= spent + GRACE_SECS * 1000 - 1000):
            s.retired = True  # (b) outside the grace window: revoked, as it should be
            return
        else:
            ledger.problem(f"R1 session {s.sid} (in doubt={s.pending is not None}, "
                           f"case {'b' if successor else 'a'}): {status} {code(body)}", lost=s.sid)
            s.retired = True
            return
        with ledger.lock:
            ledger.probes += 1
        s.pending = None
        s.touched = False
        # R2: the token just spent again, inside the grace window: the same live token.
        status, body, _ = http.post("/api/v1/auth/refresh", {"refreshToken": s.tokens[-2]})
        if status != 200 or body.get("refreshToken") != s.tokens[-1]:
            ledger.problem(f"R2 session {s.sid}: re-presenting the spent token gave {status} {code(body)}")
        if id(s) in retire:
            # R3: the oldest token: the same live token, or the whole session revoked.
            s.retired = True
            status, body, _ = http.post("/api/v1/auth/refresh", {"refreshToken": s.tokens[0]})
            if status == 200 and body.get("refreshToken") == s.tokens[-1]:
                pass
            elif status == 401 and code(body) == "refresh_token_reused":
                status, body, _ = http.post("/api/v1/auth/refresh", {"refreshToken": s.tokens[-1]})
                if status != 401:
                    ledger.problem(f"R3 session {s.sid}: live token still works after reuse: {status}")
            else:
                ledger.problem(f"R3 session {s.sid}: the oldest token gave {status} {code(body)}")
        http.close()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(probe, probes))

    # S1: this round's users and a sample of older ones sign in with the acknowledged password.
    users = [(a, u) for a in actors for u in a.users]
    new_users = [(a, u) for a, u in users if u[3] == round_tag]
    old_users = [(a, u) for a, u in users if u[3] != round_tag]
    signins = new_users + rng.sample(old_users, min(len(old_users), cfg["sample_old"]))

    def sign_in(item):
        actor, (email, password, user_id, _) = item
        http = Http(port)
        status, body, _ = http.post("/api/v1/auth/signin", {"email": email, "password": password})
        http.close()
        if status != 200 or body["user"]["id"] != user_id:
            ledger.problem(f"S1 acknowledged user {email} cannot sign in: {status} {code(body)}",
                           lost=email)
            return
        session = Session(sid_of(body["accessToken"]), body["refreshToken"])
        session.touched = False
        actor.sessions.append(session)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(sign_in, signins))

    # D1' after the probes.
    problems = []
    after = Snapshot(db, problems)
    for p in problems:
        ledger.problem(p.replace("D1", "D1'").replace("D2", "D2'"))
    for _, s, _, _ in probes:
        if not s.retired and after.live_hash(s.sid) != sha(s.tokens[-1]):
            ledger.problem(f"D1' session {s.sid}: the probed token is not the live one")
    return len(probes), len(signins)


# ---------------------------------------------------------------- the phases


class Backend:
    def __init__(self, name, url, db):
        self.name = name
        self.url = url
        self.db = db
        self.ledger = Ledger()
        self.rounds = []
        self.outages = 0  # outage rounds started


def kill_round(server, backend, actors, rng, cfg, tag):
    rnd = Round(server.port, backend.ledger, cfg["ops_per_worker"])
    before = dict(backend.ledger.acked)
    threads = run_load(rnd, actors, rng, tag)
    delay = rng.uniform(*cfg["kill_after"])
    time.sleep(delay)
    rnd.killed.set()
    server.kill()
    join(rnd, threads)
    server.start()
    probes, signins = check(server.port, backend.db, actors, backend.ledger, rng, cfg, tag, cfg["workers"])
    acked = {k: backend.ledger.acked[k] - before[k] for k in Ledger.KINDS}
    backend.rounds.append(f"kill after {delay:.2f} s: acknowledged {fmt(acked)}; "
                          f"probed {probes} sessions, {signins} sign-ins")


def outage_round(server, backend, actors, rng, cfg, tag, cluster):
    rnd = Round(server.port, backend.ledger, cfg["ops_per_worker"])
    led = backend.ledger
    before = dict(led.acked)
    threads = run_load(rnd, actors, rng, tag)
    time.sleep(rng.uniform(*cfg["kill_after"]))
    rnd.db_down.set()
    pg_ctl(cluster, "stop", "-m", "immediate")
    down_at = time.monotonic()
    # A request of our own while it is down, so A4 never passes vacuously.
    known = [u for a in actors for u in a.users]

    def sign_in_while_down():
        if known:
            email, password, _, _ = known[0]
            status, body, lat = Http(server.port).post(
                "/api/v1/auth/signin", {"email": email, "password": password})
            rnd.judge("signin", status, body, lat, time.monotonic())

    def ready_while_down():
        status, body, lat = Http(server.port).get("/readyz")
        if status != 503 or (body or {}).get("error") != "unavailable" or lat > HANG_LIMIT:
            led.problem(f"A4 /readyz while the database is down: {status} {body} after {lat:.1f} s")

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda f: f(), [sign_in_while_down, ready_while_down]))
    time.sleep(max(0.0, rng.uniform(*cfg["down_for"]) - (time.monotonic() - down_at)))
    down_for = time.monotonic() - down_at
    pg_ctl(cluster, "start")
    rnd.db_back_at = time.monotonic()
    deadline = rnd.db_back_at + RECOVERY_LIMIT
    while time.monotonic() < deadline and None in rnd.recovered.values():
        time.sleep(0.1)
    time.sleep(0.5)
    join(rnd, threads)
    if None in rnd.recovered.values():
        missing = [k for k, v in rnd.recovered.items() if v is None]
        led.problem(f"A3 no successful {', '.join(missing)} within {RECOVERY_LIMIT} s after PostgreSQL came back")
    if rnd.answers_down == 0:
        led.problem("A4 no answer was observed while the database was down")
    status, _, _ = Http(server.port).get("/readyz")
    if status != 200:
        led.problem(f"A3 /readyz after the outage: {status}")
    if not server.running():
        raise RuntimeError("the server died during the outage")
    starts = server.starts
    probes, signins = check(server.port, backend.db, actors, led, rng, cfg, tag, cfg["workers"])
    if server.starts != starts:
        led.problem("A3 the server was restarted")
    acked = {k: led.acked[k] - before[k] for k in Ledger.KINDS}
    recovered = max(v for v in rnd.recovered.values() if v is not None) if None not in rnd.recovered.values() else None
    backend.rounds.append(
        f"PostgreSQL down {down_for:.1f} s: {rnd.answers_down} requests refused meanwhile "
        f"(slowest answer {rnd.slowest_down:.2f} s), all kinds succeeding again "
        f"{'after %.2f s' % recovered if recovered is not None else 'NEVER'}; "
        f"acknowledged {fmt(acked)}; probed {probes} sessions, {signins} sign-ins")


def pg_ctl(cluster, action, *extra):
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action, *extra]
    subprocess.run(cmd, check=True, timeout=120, capture_output=True)


def pg_clusters():
    """pg_lsclusters' rows: (version, name, port, status, owner, data directory, log file)."""
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return [line.split() for line in out.splitlines() if len(line.split()) >= 6]


def pg_running(cluster):
    return any(row[:2] == list(cluster) and row[3].startswith("online") for row in pg_clusters())


def is_local(host):
    """Whether `host` (a URL's host; empty or a socket directory means local) is this machine:
    an address it names can be bound to."""
    if not host or host.startswith("/"):
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    for family, _, _, _, addr in infos:
        try:
            with socket.socket(family) as s:
                s.bind((addr[0], 0))
                return True
        except OSError:
            continue
    return False


def outage_cluster(url):
    """(cluster, None) with cluster = (version, name): the local cluster serving `url`, which
    the outage round may stop and start; or (None, why it cannot)."""
    if not (shutil.which("pg_lsclusters") and shutil.which("pg_ctlcluster")):
        return None, "no pg_lsclusters/pg_ctlcluster on this machine"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return None, "neither root nor the postgres user, so the cluster cannot be stopped"
    parts = urllib.parse.urlsplit(url)
    host = urllib.parse.parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    if not is_local(host):
        return None, f"the server at {host} is not on this machine"
    try:
        # SHOW port / SHOW data_directory, in one row (superusers, or pg_read_all_settings).
        port, data_dir = PgDb(url).rows(
            "SELECT current_setting('port'), current_setting('data_directory')")[0]
    except (subprocess.SubprocessError, ValueError, IndexError) as err:
        return None, f"cannot ask the server for its port and data directory: {type(err).__name__}"
    for row in pg_clusters():
        if row[2] == port and os.path.realpath(row[5]) == os.path.realpath(data_dir):
            return (row[0], row[1]), None
    return None, f"no local cluster (pg_lsclusters) has port {port} and data directory {data_dir}"


def fmt(counts):
    return ", ".join(f"{counts[k]} {k}" for k in Ledger.KINDS)


def run_backend(backend, binary, workdir, rng, cfg, kills, outages=0, cluster=None):
    server = crash_server(binary, backend.url, workdir)
    actors = [Actor(i) for i in range(cfg["workers"])]
    try:
        server.start()
        for i in range(kills):
            kill_round(server, backend, actors, rng, cfg, f"{backend.name[0]}k{i}")
        for i in range(outages):
            outage_round(server, backend, actors, rng, cfg, f"{backend.name[0]}o{i}", cluster)
            backend.outages += 1
    except Exception as err:  # a broken harness or server start is a failure, with context
        backend.ledger.problem(f"aborted: {err}")  # the log's tail is printed below
    finally:
        server.stop()
    if backend.ledger.problems:
        print(f"--- {backend.name}: last server log lines ---\n{server.log_tail()}")


def pg_urls(base):
    parts = urllib.parse.urlsplit(base)
    admin = base
    crash = urllib.parse.urlunsplit(parts._replace(path="/latchkey_crash"))
    return admin, crash


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deep", action="store_true", help="many rounds (minutes)")
    parser.add_argument("--seed", type=int, help="replay a run")
    parser.add_argument("--bin", default=os.environ.get("LATCHKEY_BIN") or str(ROOT / "target/debug/latchkey"))
    args = parser.parse_args()
    # A SIGTERM (a CI timeout, a stopped job) unwinds like an error, so the `finally` that
    # starts a stopped PostgreSQL cluster again runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cfg = DEEP if args.deep else FAST
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    print(f"crash durability: {'deep' if args.deep else 'fast'} profile, seed {seed} "
          f"(replay with --seed {seed}), binary {args.bin}")
    if not os.access(args.bin, os.X_OK):
        print(f"FAILED: no server binary at {args.bin} (cargo build -p latchkey-server, or set LATCHKEY_BIN)")
        return 1
    rng = random.Random(seed)
    backends = []
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="latchkey-crash-") as tmp:
        work = Path(tmp) / "sqlite"
        work.mkdir()
        sqlite = Backend("SQLite", f"sqlite://{work}/latchkey.db", SqliteDb(str(work / "latchkey.db")))
        backends.append(sqlite)
        run_backend(sqlite, args.bin, work, rng, cfg, cfg["sqlite_kills"])

        base = os.environ.get("LATCHKEY_TEST_POSTGRES_URL")
        if not base:
            outage = "skipped (LATCHKEY_TEST_POSTGRES_URL is not set)"
            print("SKIPPED: the PostgreSQL kill and outage rounds (set LATCHKEY_TEST_POSTGRES_URL)")
        else:
            admin, url = pg_urls(base)
            cluster, why = outage_cluster(admin)
            if cluster is None:
                outage = f"skipped ({why})"
                print(f"SKIPPED: PostgreSQL outage round ({why})")
            work = Path(tmp) / "postgres"
            work.mkdir()
            pg = Backend("PostgreSQL", url, PgDb(url))
            backends.append(pg)
            print(f"waiting for {PG_LOCK} …", flush=True)
            with open(PG_LOCK, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    psql(admin, "DROP DATABASE IF EXISTS latchkey_crash WITH (FORCE)")
                    psql(admin, "CREATE DATABASE latchkey_crash")
                    outages = cfg["pg_stops"] if cluster else 0
                    run_backend(pg, args.bin, work, rng, cfg, cfg["pg_kills"], outages, cluster)
                finally:
                    # Also on SIGTERM (see main's handler) and on any error: never leave the
                    # cluster down.
                    if cluster and not pg_running(cluster):
                        print(f"starting PostgreSQL {'/'.join(cluster)} again", flush=True)
                        pg_ctl(cluster, "start")
                    with contextlib.suppress(subprocess.SubprocessError):
                        psql(admin, "DROP DATABASE IF EXISTS latchkey_crash WITH (FORCE)")
            if cluster:
                outage = "ran" if pg.outages else "skipped (the PostgreSQL rounds aborted before it)"

    failed = False
    print()
    for b in backends:
        led = b.ledger
        print(f"{b.name}: {len(b.rounds)} rounds")
        for line in b.rounds:
            print(f"  - {line}")
        print(f"  acknowledged: {fmt(led.acked)}; in doubt at the cut: {fmt(led.doubt)}; "
              f"post-check rotations {led.probes}; 503 unavailable {led.unavailable}; "
              f"slowest answer {led.max_latency:.2f} s; refreshes in doubt settled as not committed "
              f"{led.settled['a']}, committed with the answer lost {led.settled['b']}; "
              f"lost {len(led.lost)}; violations {len(led.problems)}")
        for p in led.problems[:30]:
            print(f"  VIOLATION {p}")
        if len(led.problems) > 30:
            print(f"  … and {len(led.problems) - 30} more")
        failed |= bool(led.problems)
    total = sum(sum(b.ledger.acked.values()) for b in backends)
    lost = sum(len(b.ledger.lost) for b in backends)
    rounds = sum(len(b.rounds) for b in backends)
    print(f"\n{rounds} rounds × {total} acknowledged operations × {lost} lost; "
          f"{sum(len(b.ledger.problems) for b in backends)} violations; "
          f"{time.monotonic() - started:.0f} s; seed {seed}")
    print("FAILED" if failed else "OK")
    # The last line, for scripts: `outage round: ran` or `outage round: skipped (<reason>)`.
    print(f"outage round: {outage}")
    return 1 if failed else 0


def psql(url, sql):
    subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, timeout=60, capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
