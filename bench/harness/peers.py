"""The servers compared: how each is installed, started and signed in to, and which of its
endpoints answers each load. Every peer runs on loopback with a fresh SQLite file (or, for
Latchkey on PostgreSQL, a fresh database)."""

import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import rig

HERE = Path(__file__).resolve().parent.parent
PASSWORD = "velvet-Harbor-2931!"
# PRAGMA synchronous's numbers; what each peer runs with is recorded with its versions.
SYNCHRONOUS = {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}


@dataclass
class Peer:
    name: str
    cmd: list
    env: dict
    cwd: Path
    health: str
    register: str
    signin: str
    session: str
    signup_status: int
    versions: dict
    # Prints {"algorithm", "params", "ms": CPU ms of one hash}; run just before the sign-in
    # load, so both are measured in the same minute of a noisy machine.
    hash_cmd: list
    # "cookie" (Better Auth) or a JSON field holding a bearer token.
    credential: str
    refresh: str | None = None
    # Loads this peer runs; the cookieCache variant only differs in the session check.
    loads: tuple = ("session", "signin", "signup", "refresh")

    def register_body(self, email: str) -> dict:
        return {"email": email, "password": PASSWORD, "name": "Bench"}

    def sign_in(self, base: str, email: str):
        """Headers that carry the session, and the whole answer."""
        status, body, headers = rig.request(
            "POST", base + self.signin, {"email": email, "password": PASSWORD}
        )
        if status != 200:
            raise RuntimeError(f"{self.name}: sign-in answered {status}: {body}")
        if self.credential == "cookie":
            jar = "; ".join(c.split(";", 1)[0] for c in headers.get_all("set-cookie") or [])
            return [f"Cookie: {jar}"], body
        return [f"Authorization: Bearer {body[self.credential]}"], body


def run(cmd, cwd=None, env=None, quiet=True, timeout=900):
    """Runs `cmd` to the end (at most `timeout` seconds: an install from a registry that
    stalls must not hang a CI run); its output, or RuntimeError with the tail of it."""
    try:
        out = subprocess.run(
            cmd,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(map(str, cmd))} did not finish in {timeout} s")
    if out.returncode != 0:
        tail = (out.stdout or "")[-2000:]
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{tail}")
    return out.stdout or ""


def latchkey(binary: Path, loader: Path, work: Path, database_url: str, label: str,
             versions: dict) -> Peer:
    return Peer(
        name=f"Latchkey ({label})",
        cmd=[str(binary)],
        env={
            "DATABASE_URL": database_url,
            "LATCHKEY_SECRET": secrets.token_hex(32),
            "LATCHKEY_MAIL_OUTBOX_DIR": str(work / f"outbox-{label}"),
            # Better Auth's limits are off too; the load comes from one address.
            "LATCHKEY_RATE_LIMITS": "off",
        },
        cwd=work,
        health="/healthz",
        register="/api/v1/auth/register",
        signin="/api/v1/auth/signin",
        session="/api/v1/auth/me",
        signup_status=201,
        versions=versions,
        hash_cmd=[str(loader), "hash"],
        credential="accessToken",
        refresh="/api/v1/auth/refresh",
    )


def install_better_auth(work: Path) -> Path:
    """npm install of the latest better-auth 1.x into work/better-auth."""
    dest = work / "better-auth"
    shutil.copytree(HERE / "peers" / "better-auth", dest)
    run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=dest)
    return dest


def better_auth(dest: Path, work: Path, cookie_cache: bool) -> Peer:
    version = lambda pkg: json.loads(
        (dest / "node_modules" / pkg / "package.json").read_text()
    )["version"]
    label = "cookieCache" if cookie_cache else "DB session lookup"
    # As the server opens its database: a new file, then WAL (SQLite applies a build's WAL
    # default only to files already in WAL mode when opened).
    probe_db = work / f"probe-{int(cookie_cache)}.db"
    probe = (f"const db = new (require('better-sqlite3'))({json.dumps(str(probe_db))});"
             "db.pragma('journal_mode = WAL'); console.log(db.pragma('synchronous', {simple: true}))")
    return Peer(
        name=f"Better Auth ({label})",
        cmd=["node", "server.mjs"],
        env={
            "DB_PATH": str(work / f"better-auth-{int(cookie_cache)}.db"),
            "BETTER_AUTH_SECRET": secrets.token_hex(32),
            "BENCH_COOKIE_CACHE": "1" if cookie_cache else "0",
            "NODE_ENV": "production",
        },
        cwd=dest,
        health="/api/auth/ok",
        register="/api/auth/sign-up/email",
        signin="/api/auth/sign-in/email",
        session="/api/auth/get-session",
        signup_status=200,
        versions={
            "better-auth": version("better-auth"),
            "better-sqlite3": version("better-sqlite3"),
            "SQLite synchronous in WAL": SYNCHRONOUS.get(run(["node", "-e", probe], cwd=dest).strip(), "?"),
            "node": run(["node", "--version"]).strip(),
        },
        hash_cmd=["node", str(dest / "hash.mjs")],
        credential="cookie",
        loads=("session",) if cookie_cache else ("session", "signin", "signup"),
    )


def install_fastapi(work: Path) -> Path:
    """A virtualenv in work/fastapi with the seeds' stack from PyPI."""
    dest = work / "fastapi"
    shutil.copytree(HERE / "peers" / "fastapi", dest)
    run([sys.executable, "-m", "venv", str(dest / "venv")])
    run([dest / "venv/bin/pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", dest / "requirements.txt"])
    return dest


def fastapi(dest: Path, work: Path) -> Peer:
    python = dest / "venv/bin/python"
    env = {"DB_PATH": str(work / "fastapi.db"), "BENCH_SECRET": secrets.token_hex(32)}
    versions = json.loads(run([python, "-c", (
        "import json, sys, sqlite3; from importlib.metadata import version as v;"
        f"c = sqlite3.connect({str(work / 'probe-fastapi.db')!r}); c.execute('PRAGMA journal_mode=WAL');"
        "print(json.dumps({p: v(p) for p in ['fastapi', 'uvicorn', 'PyJWT', 'bcrypt']}"
        " | {'python': sys.version.split()[0], 'sqlite': sqlite3.sqlite_version,"
        " 'SQLite synchronous in WAL': str(c.execute('PRAGMA synchronous').fetchone()[0])}))")]))
    versions["SQLite synchronous in WAL"] = SYNCHRONOUS.get(versions["SQLite synchronous in WAL"], "?")
    return Peer(
        name="FastAPI + PyJWT + bcrypt",
        # One worker, as the seeds run it; access logs off (they cost Python time per request).
        cmd=[str(python), "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "{port}",
             "--no-access-log", "--log-level", "warning"],
        env=env,
        cwd=dest,
        health="/health",
        register="/register",
        signin="/signin",
        session="/me",
        signup_status=201,
        versions=versions,
        hash_cmd=["env", *(f"{k}={v}" for k, v in env.items()), str(python), str(dest / "hash.py")],
        credential="access_token",
    )


def fresh_postgres(url: str) -> str:
    """A new, empty database `latchkey_bench` next to `url`'s; returns its URL."""
    base, _, _ = url.rpartition("/")
    run(["psql", url, "-qc", "DROP DATABASE IF EXISTS latchkey_bench WITH (FORCE)"])
    run(["psql", url, "-qc", "CREATE DATABASE latchkey_bench"])
    return f"{base}/latchkey_bench"


def postgres_version(url: str) -> str:
    return run(["psql", url, "-tAc", "SHOW server_version"]).strip()
