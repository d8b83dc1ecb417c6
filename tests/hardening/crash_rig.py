"""The rig of the crash test (tests/hardening/crash.py): the server it runs (tests/rig holds the
process), an HTTP client that never retries, and direct reads of the database it writes.
Standard library only."""

import hashlib
import http.client
import json
import secrets
import sqlite3
import subprocess
import time

from rig import Server

GRACE_SECS = 60  # the server's refresh grace window here (LATCHKEY_REFRESH_GRACE)
CLIENT_TIMEOUT = 20.0  # a request still unanswered by then is a hang


def sha(token):
    return hashlib.sha256(token.encode()).hexdigest()


def now_ms():
    return int(time.time() * 1000)


class Http:
    """One keep-alive connection. Never retries: a retried POST would blur what was sent."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def post(self, path, body):
        """(status or None, parsed body or error text, seconds)."""
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)
            self.conn.request("POST", path, body=json.dumps(body),
                              headers={"content-type": "application/json"})
            res = self.conn.getresponse()
            raw = res.read()
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = {"error": "not_json", "raw": raw[:200].decode(errors="replace")}
            return res.status, data, time.monotonic() - started
        except (OSError, http.client.HTTPException) as err:
            self.close()
            kind = "timeout" if isinstance(err, TimeoutError) else type(err).__name__
            return None, kind, time.monotonic() - started

    def get(self, path):
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)
            conn.request("GET", path)
            res = conn.getresponse()
            raw = res.read()
            conn.close()
            return res.status, (json.loads(raw) if raw else None), time.monotonic() - started
        except (OSError, http.client.HTTPException, ValueError) as err:
            return None, type(err).__name__, time.monotonic() - started

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

# ---------------------------------------------------------------- the server


def crash_server(binary, database_url, workdir):
    """The server under test: no rate limits (the load is the point), a 60 s refresh grace
    window, and ready only once its database answers (/readyz), since every start but the
    first is on a database a killed server just left."""
    return Server(binary, workdir, {
        "LATCHKEY_SECRET": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "LATCHKEY_RATE_LIMITS": "off",
        "LATCHKEY_RATE_LIMIT_STORE": "memory",
        "LATCHKEY_MAILER": "file",
        "LATCHKEY_MAIL_OUTBOX_DIR": str(workdir / "mail"),
        "LATCHKEY_SECRET_FILE": str(workdir / "latchkey.secret"),
        "LATCHKEY_KEYS_FILE": str(workdir / "latchkey.keys.json"),
        "LATCHKEY_REFRESH_GRACE": str(GRACE_SECS),
        "RUST_LOG": "warn",
    }, log_path=workdir / "server.log", ready_path="/readyz")

# ---------------------------------------------------------------- reading the database


TOKENS_SQL = (
    "SELECT r.session_id, r.token_hash, r.generation, COALESCE(r.spent_at, -1), "
    "s.generation, COALESCE(s.revoked_at, -1) "
    "FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id"
)
ORPHANS_SQL = (
    "SELECT (SELECT COUNT(*) FROM users u WHERE NOT EXISTS "
    "(SELECT 1 FROM credentials c WHERE c.user_id = u.id)), "
    "(SELECT COUNT(*) FROM sessions s WHERE NOT EXISTS "
    "(SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id AND r.generation = 0))"
)
USERS_SQL = "SELECT id FROM users"


class SqliteDb:
    def __init__(self, path):
        self.path = path

    def settle(self):
        """Nothing to wait for: SQLite lives and dies with the server process."""

    def rows(self, sql):
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
        finally:
            conn.close()


class PgDb:
    def __init__(self, url):
        self.url = url

    def settle(self):
        """Waits (≤ 10 s) until no backend is busy: one still finishing a killed server's
        COMMIT could otherwise land after the snapshot."""
        sql = ("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND pid <> pg_backend_pid() AND state <> 'idle'")
        deadline = time.monotonic() + 10
        while int(self.rows(sql)[0][0]) and time.monotonic() < deadline:
            time.sleep(0.1)

    def rows(self, sql):
        out = subprocess.run(["psql", self.url, "-X", "-q", "-At", "-F", "\x1f", "-c", sql],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return [tuple(line.split("\x1f")) for line in out.splitlines() if line]


class Snapshot:
    """The token rows, per session and per hash, with D1-D3 checked."""

    def __init__(self, db, problems):
        self.by_hash = {}
        self.sessions = {}  # sid -> {"generation", "revoked", "rows": {gen: (hash, spent)}}
        for sid, h, gen, spent, sgen, revoked in db.rows(TOKENS_SQL):
            gen, spent, sgen, revoked = int(gen), int(spent), int(sgen), int(revoked)
            s = self.sessions.setdefault(sid, {"generation": sgen, "revoked": revoked >= 0, "rows": {}})
            s["rows"][gen] = (h, spent if spent >= 0 else None)
            self.by_hash[h] = (sid, gen, spent if spent >= 0 else None)
        for sid, s in self.sessions.items():
            live = [g for g, (_, spent) in s["rows"].items() if spent is None]
            if len(live) > 1:
                problems.append(f"D1 session {sid}: {len(live)} live refresh tokens")
            if sorted(s["rows"]) != list(range(s["generation"] + 1)):
                problems.append(f"D2 session {sid}: generations {sorted(s['rows'])}, session at {s['generation']}")
            if any(g != s["generation"] for g in live):
                problems.append(f"D2 session {sid}: a live token below generation {s['generation']}")
        no_credential, no_first_token = (int(x) for x in db.rows(ORPHANS_SQL)[0])
        if no_credential:
            problems.append(f"D3 {no_credential} users without a credential")
        if no_first_token:
            problems.append(f"D3 {no_first_token} sessions without their first refresh token")
        self.user_ids = {r[0] for r in db.rows(USERS_SQL)}

    def live_hash(self, sid):
        s = self.sessions.get(sid)
        if not s:
            return None
        row = s["rows"].get(s["generation"])
        return row[0] if row and row[1] is None else None
