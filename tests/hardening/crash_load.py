"""The load of the crash test (tests/hardening/crash.py): worker threads that sign up, sign
in and refresh, and the ledger of what the server acknowledged. Each worker owns its users and
sessions, so a session never has two refreshes in flight."""

import random
import secrets
import threading
import time

from crash_rig import CLIENT_TIMEOUT, Http
from rig import error_code, sid_of

# Seconds. A request waits at most the store's pool acquire timeout for a connection
# (`acquire_timeout(Duration::from_secs(5))` in crates/store/src/sql.rs), then answers 503;
# 10 s on top cover the query itself and a loaded machine. Change both together.
HANG_LIMIT = 5.0 + 10.0


class Session:
    def __init__(self, sid, token):
        self.sid = sid
        self.tokens = [token]
        self.pending = None  # t_k when a refresh presenting it has no answer we can trust
        self.retired = False
        self.touched = True


class Actor:
    """What one worker owns: its users and sessions, so no session is refreshed twice at once."""

    def __init__(self, wid):
        self.wid = wid
        self.users = []  # (email, password, user_id, round)
        self.sessions = []
        self.serial = 0


class Ledger:
    KINDS = ("signup", "signin", "refresh")

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = dict.fromkeys(self.KINDS, 0)
        self.doubt = dict.fromkeys(self.KINDS, 0)
        self.probes = 0
        self.unavailable = 0
        self.max_latency = 0.0
        self.problems = []
        self.lost = set()  # the acknowledged things found missing (users, sessions)
        self.settled = {"a": 0, "b": 0}  # in-doubt refreshes found not committed / committed

    def add(self, what, kind, n=1):
        with self.lock:
            getattr(self, what)[kind] += n

    def problem(self, text, lost=None):
        with self.lock:
            self.problems.append(text)
            if lost:
                self.lost.add(lost)


class Round:
    """One load period, and which failures are expected in it right now: none, lost
    connections once the server is killed, 503 `unavailable` once PostgreSQL is stopped."""

    def __init__(self, port, ledger, max_ops):
        self.port = port
        self.ledger = ledger
        self.max_ops = max_ops
        self.stop = threading.Event()
        self.killed = threading.Event()
        self.db_down = threading.Event()  # from the stop command until the round ends
        self.db_back_at = None
        self.recovered = {k: None for k in Ledger.KINDS}
        self.answers_down = 0  # 503 `unavailable` (or worse) from the stop to the round's end
        self.slowest_down = 0.0
        self.lock = threading.Lock()

    def judge(self, kind, status, body, latency, t_sent):
        """'ok', 'doubt' (may have happened) or 'refused' (did not happen); records violations."""
        led = self.ledger
        with led.lock:
            led.max_latency = max(led.max_latency, latency)
            if self.db_down.is_set():
                self.slowest_down = max(self.slowest_down, latency)
        if latency > HANG_LIMIT:
            led.problem(f"A2 {kind}: answered after {latency:.1f} s ({status})")
        if status is not None and 200 <= status < 300:
            if self.db_back_at is not None and self.recovered[kind] is None and t_sent >= self.db_back_at:
                self.recovered[kind] = time.monotonic() - self.db_back_at
            return "ok"
        if self.db_down.is_set():
            with self.lock:
                self.answers_down += 1
            if status == 503 and isinstance(body, dict) and body.get("error") == "unavailable":
                with led.lock:
                    led.unavailable += 1
                return "doubt"
            led.problem(f"A1/A4 {kind} during the outage: {status} {error_code(body)}")
            return "doubt"
        if status is None and self.killed.is_set():
            return "doubt"
        led.problem(f"A1 {kind}: {status} {error_code(body)}")
        return "doubt" if status is None or status >= 500 else "refused"


def worker(rnd, actor, seed, run_tag):
    rng = random.Random(seed)
    http = Http(rnd.port)
    led = rnd.ledger
    for _ in range(rnd.max_ops):
        if rnd.stop.is_set():
            break
        ready = [s for s in actor.sessions if s.pending is None and not s.retired]
        roll = rng.random()
        t_sent = time.monotonic()
        if ready and roll < 0.6:
            s = rng.choice(ready[-40:]) if rng.random() < 0.8 else rng.choice(ready)
            token = s.tokens[-1]
            s.pending = token
            s.touched = True
            status, body, lat = http.post("/api/v1/auth/refresh", {"refreshToken": token})
            verdict = rnd.judge("refresh", status, body, lat, t_sent)
            if verdict == "ok":
                new = body["refreshToken"]
                if sid_of(body["accessToken"]) != s.sid or new in s.tokens:
                    led.problem(f"R refresh of session {s.sid} answered a wrong session or an old token")
                s.tokens.append(new)
                s.pending = None
                led.add("acked", "refresh")
            elif verdict == "doubt":
                led.add("doubt", "refresh")
            else:
                s.pending = None
                s.retired = True  # refused (a violation already): keep it out of the load
        elif actor.users and roll < 0.75:
            email, password, user_id, _ = rng.choice(actor.users)
            status, body, lat = http.post("/api/v1/auth/signin", {"email": email, "password": password})
            verdict = rnd.judge("signin", status, body, lat, t_sent)
            if verdict == "ok":
                if body["user"]["id"] != user_id:
                    led.problem(f"S sign-in as {email} answered user {body['user']['id']}")
                actor.sessions.append(Session(sid_of(body["accessToken"]), body["refreshToken"]))
                led.add("acked", "signin")
            elif verdict == "doubt":
                led.add("doubt", "signin")
        else:
            actor.serial += 1
            email = f"crash-{run_tag}-{actor.wid}-{actor.serial}@example.com"
            password = "pw-" + secrets.token_urlsafe(12)
            status, body, lat = http.post("/api/v1/auth/register",
                                          {"email": email, "password": password})
            verdict = rnd.judge("signup", status, body, lat, t_sent)
            if verdict == "ok":
                actor.users.append((email, password, body["user"]["id"], run_tag))
                actor.sessions.append(Session(sid_of(body["accessToken"]), body["refreshToken"]))
                led.add("acked", "signup")
            elif verdict == "doubt":
                led.add("doubt", "signup")
        if status is None and rnd.killed.is_set():
            time.sleep(0.05)  # the server is gone: do not spin on refused connections
    http.close()


def run_load(rnd, actors, rng, run_tag):
    threads = [threading.Thread(target=worker, args=(rnd, a, rng.getrandbits(64), run_tag), daemon=True)
               for a in actors]
    for t in threads:
        t.start()
    return threads


def join(rnd, threads):
    rnd.stop.set()
    for t in threads:
        t.join(timeout=CLIENT_TIMEOUT + 10)
        if t.is_alive():
            rnd.ledger.problem("A2 a load thread is still waiting for an answer")
