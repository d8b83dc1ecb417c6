"""Schemathesis hooks for contract_fuzz.py: a bearer token that stays valid for the whole run.

Loaded by Schemathesis through SCHEMATHESIS_HOOKS=fuzz_hooks (contract_fuzz.py sets it, with
this directory on PYTHONPATH, LATCHKEY_FUZZ_URL pointing at the server and
LATCHKEY_FUZZ_STATS naming a file for the figures below).

Why an auth provider rather than a fixed `-H "Authorization: Bearer …"`: the fuzzer calls
every operation, and two of them end the caller's own session — `signOut`, and
`revokeSession` when the id it draws (or takes from `listSessions` in the stateful phase) is
the caller's. After that, a fixed token would turn every later case into a 401 and the run
would quietly stop testing anything behind authentication. So:

- the provider hands out the current token, registering a fresh user (and so a fresh
  session) only when the current one has been ended by the fuzzer itself;
- `before_call` retires the current token *before* a request that will end its session goes
  out (signOut; revokeSession naming the token's own `sid`), and swaps a retired token still
  held by an already generated case for the current one, so no other request races it;
- `after_call` retires a token whose revokeSession answered 204 (each fuzz user has one
  session, so a 204 there ended it), and counts any 401 that comes back for a token that was
  never retired. That is either a bug (a live session refused) or a way of ending a session
  this file does not know; either way contract_fuzz.py fails the run on it.

Schemathesis's own reactive re-authentication (replay on 401) stays off
(`refresh_interval=None` means no caching provider, hence no `retry_on`): a replay would hide
exactly the unexpected 401s counted here.
"""

import atexit
import json
import os
import threading
import uuid

import schemathesis
from rig import request, sid_of

BASE_URL = os.environ["LATCHKEY_FUZZ_URL"]
STATS_FILE = os.environ.get("LATCHKEY_FUZZ_STATS")
PASSWORD = "correct horse battery staple, fuzzed"
# Generous, but bounded: more session-ending cases than this means something is off.
MAX_USERS = 2000

# 401 codes that say nothing about the token: a wrong *current* password on change-password
# or change-email is the caller's mistake, not a refused session.
TOKEN_INDEPENDENT_401 = {"invalid_credentials"}


class Tokens:
    def __init__(self):
        self.lock = threading.Lock()
        self.current = None
        self.sid = None
        self.issued = set()
        self.retired = set()
        self.users = 0
        self.retired_by = {}
        self.unexpected = []

    def _register(self):
        if self.users >= MAX_USERS:
            raise RuntimeError(f"more than {MAX_USERS} fuzz users registered; stopping")
        self.users += 1
        status, body, _ = request(
            "POST",
            f"{BASE_URL}/api/v1/auth/register",
            {
                "email": f"fuzz-{self.users}-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                # Not a word of the password: the policy refuses passwords holding the name.
                "name": f"Mallory {self.users}",
            },
        )
        if status != 201:
            raise RuntimeError(f"register answered {status}")
        token = body["accessToken"]
        self.current, self.sid = token, sid_of(token)
        self.issued.add(token)

    def get(self):
        with self.lock:
            if self.current is None:
                self._register()
            return self.current

    def retire(self, token, why):
        with self.lock:
            if token in self.retired:
                return
            self.retired.add(token)
            self.retired_by[why] = self.retired_by.get(why, 0) + 1
            if token == self.current:
                self.current = None

    def adopt(self, successor):
        """A password change swapped the session for a new one: its token is usable."""
        with self.lock:
            self.issued.add(successor)
            if self.current is None:
                self.current, self.sid = successor, sid_of(successor)

    def sid_of_current(self):
        with self.lock:
            return self.sid if self.current else None

    def note_401(self, token, label, code):
        with self.lock:
            if token in self.issued and token not in self.retired:
                self.unexpected.append(f"{label}: 401 {code} for a token never signed out")

    def write(self):
        if not STATS_FILE:
            return
        with self.lock, open(STATS_FILE, "w") as out:
            json.dump(
                {
                    "users_registered": self.users,
                    "tokens_retired": self.retired_by,
                    "unexpected_401": self.unexpected,
                },
                out,
            )


TOKENS = Tokens()
atexit.register(TOKENS.write)


@schemathesis.auth(refresh_interval=None)
class LatchkeyBearer:
    def get(self, case, ctx):
        return TOKENS.get()

    def set(self, case, data, ctx):
        case.headers = dict(case.headers or {})
        case.headers["Authorization"] = f"Bearer {data}"


def _bearer(case):
    value = (case.headers or {}).get("Authorization", "")
    return value[len("Bearer ") :] if value.startswith("Bearer ") else None


def _same_uuid(raw, sid):
    try:
        return uuid.UUID(str(raw)) == uuid.UUID(sid)
    except (ValueError, TypeError, AttributeError):
        return False


def _operation_id(case):
    return case.operation.definition.raw.get("operationId")


# Operations that take no bearer token in the contract but, sent one, end the session it
# names when they succeed ("a session the request still holds ends: the new one replaces
# it"). Since the contract carries examples, register and sign-in succeed during the run;
# with the fuzz user's token they would replace its session, a way of ending one this file
# does not track. They get no token: it is not part of their contract.
REPLACE_HELD_SESSION = {"register", "signIn", "exchangeBetterAuthSession"}


@schemathesis.hook
def before_call(ctx, case, kwargs):
    token = _bearer(case)
    if token is None or token not in TOKENS.issued:
        return
    if _operation_id(case) in REPLACE_HELD_SESSION:
        del case.headers["Authorization"]
        return
    if token in TOKENS.retired:
        # Generated before another case ended this session: use the live one instead.
        token = TOKENS.get()
        case.headers["Authorization"] = f"Bearer {token}"
    op = _operation_id(case)
    if op == "signOut":
        TOKENS.retire(token, "signOut")
    elif op == "changePassword":
        # A successful change replaces the session (its token dies); a refused one does not,
        # but which it will be is not known yet, and a spare user costs nothing.
        TOKENS.retire(token, "changePassword")
    elif op == "revokeSession":
        sid = TOKENS.sid_of_current()
        if sid and _same_uuid((case.path_parameters or {}).get("id"), sid):
            TOKENS.retire(token, "revokeSession (own id)")


@schemathesis.hook
def after_call(ctx, case, response):
    token = _bearer(case)
    if token is None:
        return
    op = _operation_id(case)
    if op == "revokeSession" and response.status_code == 204:
        TOKENS.retire(token, "revokeSession (204)")
    if op == "changePassword" and response.status_code == 200:
        TOKENS.adopt(response.json()["accessToken"])
    # Only operations that take the bearer token can refuse it: refresh, sign-in and the
    # rest answer 401 about their own inputs (a refresh token, a password).
    if response.status_code == 401 and case.operation.definition.raw.get("security"):
        try:
            code = response.json().get("error")
        except Exception:
            code = None
        if code not in TOKEN_INDEPENDENT_401:
            TOKENS.note_401(token, f"{case.method} {case.path}", code)
