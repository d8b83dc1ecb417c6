"""The rig of the crash test (tests/hardening/crash.py): the server process, an HTTP client
that never retries, and direct reads of the database it writes. Standard library only."""

import base64
import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import time

GRACE_SECS = 60  # the server's refresh grace window here (LATCHKEY_REFRESH_GRACE)
CLIENT_TIMEOUT = 20.0  # a request still unanswered by then is a hang
START_LIMIT = 30.0


def sha(token):
    return hashlib.sha256(token.encode()).hexdigest()


def sid_of(access_token):
    """The session id: the `sid` claim of the access token (read, not verified)."""
    payload = access_token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["sid"]


def now_ms():
    return int(time.time() * 1000)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class Server:
    def __init__(self, binary, database_url, workdir, port):
        self.binary = binary
        self.port = port
        self.workdir = workdir
        self.proc = None
        self.starts = 0
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LATCHKEY_SECRET": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "LATCHKEY_LISTEN": f"127.0.0.1:{port}",
            "LATCHKEY_RATE_LIMITS": "off",
            "LATCHKEY_RATE_LIMIT_STORE": "memory",
            "LATCHKEY_MAILER": "file",
            "LATCHKEY_MAIL_OUTBOX_DIR": str(workdir / "mail"),
            "LATCHKEY_SECRET_FILE": str(workdir / "latchkey.secret"),
            "LATCHKEY_KEYS_FILE": str(workdir / "latchkey.keys.json"),
            "LATCHKEY_REFRESH_GRACE": str(GRACE_SECS),
            "RUST_LOG": "warn",
        }

    @property
    def log(self):
        return self.workdir / "server.log"

    def start(self):
        self.starts += 1
        with open(self.log, "ab") as log:
            log.write(f"\n----- start {self.starts} -----\n".encode())
            log.flush()
            self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, cwd=self.workdir,
                                         stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_LIMIT
        probe = Http(self.port)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log}")
            status, _, _ = probe.get("/readyz")
            if status == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"the server was not ready within {START_LIMIT} s; see {self.log}")

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def log_tail(self, lines=15):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

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
