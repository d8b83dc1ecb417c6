"""The loads, their sizes per profile, and one measured run of a load against a server."""

import json
import os
import resource
import subprocess
import tempfile
import uuid
from dataclasses import dataclass

from . import procs


@dataclass(frozen=True)
class Load:
    key: str
    title: str
    connections: int
    seconds: float | None
    requests: int | None


PROFILES = {
    "full": [
        Load("session", "session check", 32, 10, None),
        Load("signin", "sign-in", 8, 10, None),
        Load("signup", "sign-up", 8, 120, 200),
        Load("refresh", "refresh", 16, 10, None),
    ],
    # CI: the same code paths, a second each, so the harness cannot rot.
    "smoke": [
        Load("session", "session check", 32, 1, None),
        Load("signin", "sign-in", 8, 1, None),
        Load("signup", "sign-up", 8, 1, 200),
        Load("refresh", "refresh", 16, 1, None),
    ],
}


def drive(loader, server, base, peer, load: Load, setup: dict) -> dict:
    """Runs one load with latchkey-load and returns its figures, with the server's CPU time
    and memory read from /proc around it."""
    args = [str(loader), "load", "--connections", str(load.connections)]
    if load.seconds is not None:
        args += ["--duration", str(load.seconds)]
    if load.requests is not None:
        args += ["--requests", str(load.requests)]
    run_id = uuid.uuid4().hex[:8]
    if load.key == "session":
        args += ["--url", base + peer.session]
        for h in setup["headers"]:
            args += ["--header", h]
    elif load.key == "signin":
        body = {"email": setup["email"], "password": setup["password"]}
        args += ["--url", base + peer.signin, "--method", "POST", "--body", json.dumps(body)]
    elif load.key == "signup":
        body = json.dumps(peer.register_body(f"bench-{run_id}-N@example.com"))
        args += ["--url", base + peer.register, "--method", "POST",
                 "--body", body.replace("-N@", "-{n}@"), "--expect", str(peer.signup_status)]
    elif load.key == "refresh":
        seeds = tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False)
        seeds.write("\n".join(setup["refresh_tokens"]) + "\n")
        seeds.close()
        args += ["--url", base + peer.refresh, "--method", "POST",
                 "--body", '{"refreshToken":"{token}"}',
                 "--chain", "refreshToken", "--seeds", seeds.name]
    db = "postgres" if peer.name.endswith("(PostgreSQL)") else None
    db_before = procs.cpu_seconds_of(db) if db else None
    cpu_before = server.cpu_seconds()
    own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server.reset_peak_rss()
    bound = (load.seconds or 60) + 120
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=bound)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"latchkey-load did not finish in {bound} s")
    cpu = server.cpu_seconds() - cpu_before
    db_after = procs.cpu_seconds_of(db) if db else None
    # None when PostgreSQL's processes are not visible here (another host or container).
    db_cpu = db_after - db_before if db_before is not None and db_after is not None else None
    own_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"latchkey-load failed: {out.stderr.strip()}")
    if load.key == "refresh":
        os.unlink(seeds.name)
    figures = json.loads(out.stdout)
    answered = max(figures["requests"], 1)
    figures.update(
        load=load.key,
        connections=load.connections,
        server_cpu_s=cpu,
        cpu_ms_per_request=cpu * 1e3 / answered,
        # PostgreSQL runs in processes of its own; SQLite's work is in the server's.
        db_cpu_ms_per_request=db_cpu * 1e3 / answered if db_cpu is not None else None,
        loader_cpu_s=(own_after.ru_utime + own_after.ru_stime)
        - (own_before.ru_utime + own_before.ru_stime),
        peak_rss_mb=server.peak_rss_mb(),
    )
    return figures
