"""The sections of tests/attacks/http.json, each run against one server.

Two people: the victim (Ann, ann@example.com, with a task and a session) and the attacker
(Mallory). Every section ends by checking that the server still answers /healthz; the
injection section also creates a fresh account per case, so one refusal cannot hide another.
"""
import base64
import fnmatch
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

from wire import quote_target, request

# The password of the users the attack runner registers.
PASSWORD = "correct horse battery staple"

ROOT = Path(__file__).parent.parent.parent
METHODS = ("post", "patch", "put", "delete", "get")


def is_string(schema):
    """A string-typed property, however the contract spells it (a type list, anyOf, …)."""
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    return any(is_string(s) for key in ("anyOf", "oneOf", "allOf") for s in schema.get(key, []))


def fill(text, values):
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


class Person:
    def __init__(self, api, email, password=PASSWORD):
        self.email, self.password = email, password
        response = api.call("POST", "/api/v1/auth/register", {"email": email, "password": password})
        assert response.status == 201, (email, response)
        body = response.json()
        self.id, self.token, self.refresh = body["user"]["id"], body["accessToken"], body["refreshToken"]


def bridge_attestation(secret: bytes, ip: str, secs: int, label=True) -> str:
    """`Latchkey-Client-Address` as the bridge writes it (see crates/core/src/bridge.rs):
    `<ip>;<secs>;<base64url HMAC-SHA256(HMAC-SHA256(secret, label), "<ip>\\n<secs>")>`."""
    key = hmac.new(secret, b"latchkey bridge client address v1", hashlib.sha256).digest() if label else secret
    mac = hmac.new(key, f"{ip}\n{secs}".encode(), hashlib.sha256).digest()
    return f"{ip};{secs};{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


class HttpCases:
    def __init__(self, server, tally, answer_problem, secret=None):
        self.server, self.api, self.tally = server, server.api, tally
        self.secret = secret
        self.answer_problem = answer_problem
        self.codes = set(json.loads((ROOT / "tests/vectors/error-codes.json").read_text())["codes"])
        self.spec = json.loads((ROOT / "openapi/openapi.json").read_text())

    def check(self, category, name, problem):
        self.tally.check(self.server.name, category, name, problem)

    def run_all(self, corpus):
        self.victim = Person(self.api, corpus["emails"]["victim"])
        self.attacker = Person(self.api, f"mallory-{uuid.uuid4().hex[:6]}@example.com")
        self.victim_task = self.api.call("POST", "/api/v1/tasks", {"title": "Ann's secret"}, token=self.victim.token).json()["id"]
        self.attacker_task = self.api.call("POST", "/api/v1/tasks", {"title": "Mallory's"}, token=self.attacker.token).json()["id"]
        sessions = self.api.call("GET", "/api/v1/sessions", token=self.victim.token).json()
        self.victim_session = next(s["id"] for s in sessions if s["current"])
        self.values = {
            "victim_token": self.victim.token, "attacker_token": self.attacker.token,
            "victim_refresh": self.victim.refresh, "attacker_refresh": self.attacker.refresh,
            "victim_task": self.victim_task, "victim_task_upper": self.victim_task.upper(),
            "attacker_task": self.attacker_task, "victim_session": self.victim_session,
            "victim_id": self.victim.id, "victim_email": self.victim.email,
        }
        for section, run in (("client_address", self.client_address), ("body_limits", self.body_limits), ("big_headers", self.big_headers),
                             ("duplicates", self.duplicates), ("injection", self.injection),
                             ("sql", self.sql), ("emails", self.emails)):
            run(corpus[section])
            self.check(section, "the server still answers /healthz", None if self.server.healthy() else "not healthy")
        self.victim_intact()

    def victim_intact(self):
        """Whatever ran, Ann still signs in and has exactly her one task."""
        signin = self.api.call("POST", "/api/v1/auth/signin", {"email": self.victim.email, "password": PASSWORD})
        tasks = self.api.call("GET", "/api/v1/tasks", token=self.victim.token)
        titles = [t["title"] for t in tasks.json() or []] if tasks and tasks.status == 200 else None
        self.check("aftermath", "the victim still signs in and has exactly her task",
                   None if signin.status == 200 and titles == ["Ann's secret"] else f"{signin!r} {titles}")

    # --- sections ---------------------------------------------------------------------

    def client_address(self, spec):
        """Nothing a client sends straight to the server chooses its address."""
        for case in spec["cases"]:
            headers = [(n, v.replace("{junk_4k}", "x;" * 2048)) for n, v in case.get("headers", [])]
            if "attest" in case:
                headers += self.attested(case["attest"])
            response = request(self.server.port, "GET", "/readyz", headers)
            want = case.get("expect_ip", "127.0.0.1")
            got = (response.json() or {}).get("clientIp") if response is not None and response.status == 200 else response
            self.check("client_address", case["name"], None if got == want else f"expected {want}, got {got!r}")

    def attested(self, spec):
        if self.secret is None:
            raise SystemExit("client_address cases need the server's secret")
        secs = int(time.time()) + spec.get("offset", 0)
        secret = {"server": self.secret, "raw_secret": self.secret, "wrong": b"another-secret-0123456789abcdef-0123456"}[spec["key"]]
        header = bridge_attestation(secret, spec["ip"], secs, label=spec["key"] != "raw_secret")
        ip, _, mac = header.split(";")
        mutate = spec.get("mutate")
        if mutate == "zero_mac":
            header = f"{ip};{secs};{'A' * 43}"
        elif mutate == "other_ip":
            header = f"198.51.100.8;{secs};{mac}"
        elif mutate == "next_second":
            header = f"{ip};{secs + 1};{mac}"
        elif mutate == "long_ipv6":
            header = f"2001:0db8:0:0:0:0:0:7;{secs};{mac}"
        elif mutate == "trailing":
            header = f"{header};x"
        elif mutate == "doubled":
            return [("Latchkey-Client-Address", header),
                    ("Latchkey-Client-Address", bridge_attestation(self.secret, "198.51.100.9", secs))]
        return [("Latchkey-Client-Address", header)]

    def body_limits(self, cases):
        for case in cases:
            headers = [("Content-Type", "application/json")]
            if case.get("auth"):
                headers.append(("Authorization", f"Bearer {getattr(self, case['auth']).token}"))
            if "nested_json" in case:
                body = b"[" * case["nested_json"] + b"]" * case["nested_json"]
            elif case.get("json_title"):
                body = b'{"title":"' + b"x" * (case["body_bytes"] - 12) + b'"}'
            else:
                body = b" " * case["body_bytes"]
            response = request(self.server.port, case["method"], fill(case["path"], self.values), headers, body,
                               chunked=case.get("chunked", False), declare_length=case.get("declare_length"))
            self.check("body_limits", case["name"], self.answer_problem(response, case["expect"]))

    def big_headers(self, cases):
        for case in cases:
            expect = case["expect"]
            if "many_headers" in case:
                headers = [(f"X-Filler-{i}", "x") for i in range(case["many_headers"])]
            else:
                filler = case.get("repeat", "a")
                value = case.get("prefix", "") + filler * ((case["bytes"] - len(case.get("prefix", ""))) // len(filler))
                headers = [(case["header"], value)]
            if case.get("signin"):
                name = f"ua-{uuid.uuid4().hex[:6]}@example.com"
                Person(self.api, name)
                headers.append(("Content-Type", "application/json"))
                body = json.dumps({"email": name, "password": PASSWORD})
                response = request(self.server.port, "POST", "/api/v1/auth/signin", headers, body)
                problem = self.answer_problem(response, expect)
                if not problem:
                    sessions = self.api.call("GET", "/api/v1/sessions", token=response.json()["accessToken"]).json()
                    longest = max(len(s.get("userAgent") or "") for s in sessions)
                    if longest > expect["stored_user_agent_max"]:
                        problem = f"a user agent of {longest} characters was stored"
            else:
                response = request(self.server.port, "GET", case["path"], headers)
                problem = self.answer_problem(response, expect)
            self.check("big_headers", case["name"], problem)
            self.check("big_headers", f"{case['name']}: still serving", None if self.server.healthy() else "not healthy")

    def duplicates(self, cases):
        for case in cases:
            headers = [(n, fill(v, self.values)) for n, v in case["headers"]]
            body = case.get("body", "").encode()
            if case.get("chunk_body"):
                body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            response = request(self.server.port, case["method"], case["path"], headers, body,
                               raw_lengths=case.get("raw_lengths", False))
            problem = self.answer_problem(response, case["expect"])
            planted = case["expect"].get("victim_task_titles_exclude")
            if not problem and planted:
                titles = [t["title"] for t in self.api.call("GET", "/api/v1/tasks", token=self.victim.token).json()]
                if planted in titles:
                    problem = f"the victim now has a task {planted!r}"
            self.check("duplicates", case["name"], problem)

    # --- injection ------------------------------------------------------------------------

    def operations(self):
        """(method, path, schema name, string fields, needs auth) for every JSON request body."""
        schemas = self.spec["components"]["schemas"]
        for path, ops in self.spec["paths"].items():
            for method, op in ops.items():
                if method not in METHODS:
                    continue
                for media in op.get("requestBody", {}).get("content", {}).values():
                    ref = media["schema"].get("$ref", "")
                    name = ref.rsplit("/", 1)[-1]
                    fields = [f for f, s in schemas[name]["properties"].items() if is_string(s)]
                    yield method.upper(), path, name, fields, bool(op.get("security"))

    def injection(self, spec):
        covered = set()
        for method, path, schema, fields, secured in self.operations():
            if schema not in spec["bases"]:
                self.check("injection", f"{method} {path}", f"no base body for {schema} in http.json")
                continue
            for field in fields:
                covered.add(f"{schema}.{field}")
                rules = spec["expect"].get(f"{schema}.{field}", {})
                for payload_name, payload in spec["payloads"].items():
                    expect = next((rule for pattern, rule in rules.items() if fnmatch.fnmatch(payload_name, pattern)), None)
                    name = f"{method} {path} {schema}.{field} {payload_name}"
                    replay = path not in spec.get("no_clean_replay", {})
                    self.check("injection", name, self.inject(method, path, schema, field, payload, expect, spec["bases"], secured, replay))
        for stale in set(spec["expect"]) - covered:
            self.check("injection", stale, "an expectation for a field the contract no longer has")
        self.check("injection", f"{len(covered)} string fields found in the contract's request bodies",
                   None if len(covered) >= len(spec["expect"]) else "fewer than the corpus names")

    def actor(self, path):
        """A fresh account, with whatever `path` needs (a task, a reset or email-change link)."""
        person = Person(self.api, f"inject-{uuid.uuid4().hex[:10]}@example.com")
        context = {"email": person.email, "password": PASSWORD, "refresh_token": person.refresh,
                   "fresh_email": f"fresh-{uuid.uuid4().hex[:10]}@example.com", "person": person}
        if "/tasks/" in path:
            context["task"] = self.api.call("POST", "/api/v1/tasks", {"title": "Buy milk"}, token=person.token).json()["id"]
        if path.endswith("/reset-password"):
            assert self.api.call("POST", "/api/v1/auth/forgot-password", {"email": person.email}).status == 202
            context["reset_token"] = self.server.mailed_token(person.email, "Reset your")
        if path.endswith("/verify-email"):
            context["link_token"] = self.server.mailed_token(person.email, "Confirm your email address")
        if path.endswith("/confirm-email-change"):
            moved = f"moved-{uuid.uuid4().hex[:10]}@example.com"
            assert self.api.call("POST", "/api/v1/auth/change-email", {"newEmail": moved, "password": PASSWORD}, token=person.token).status == 202
            context["link_token"] = self.server.mailed_token(moved, "Confirm your new email address")
        return context

    def snapshot(self, person):
        me = self.api.call("GET", "/api/v1/auth/me", token=person.token)
        tasks = self.api.call("GET", "/api/v1/tasks", token=person.token)
        return (me.status, me.body if me.status == 200 else None, tasks.body if tasks.status == 200 else None)

    def inject(self, method, path, schema, field, payload, expect, bases, secured, replay=True):
        context = self.actor(path)
        person = context["person"]
        body = {k: fill(v, context) for k, v in bases[schema].items()}
        clean = body[field]
        at = payload.get("insert_at")
        body[field] = clean[:at] + payload["text"] + clean[at:] if at is not None else clean + payload["append"]
        target = path.replace("{id}", context.get("task", ""))
        token = person.token if secured else None
        before = self.snapshot(person)
        response = self.api.call(method, target, body, token=token)
        if expect is None:
            # The generic rule, for a field no one has written an expectation for yet.
            if response is None or response.status >= 500:
                return f"no answer or a 5xx: {response!r}"
            if response.status >= 400 and response.error not in self.codes:
                return f"a {response.status} without a known error code: {response!r}"
            return None
        problem = self.answer_problem(response, expect)
        if problem:
            return problem
        if response.status >= 400:
            # Nothing half-written: the account looks the same, and the clean request still works.
            if self.snapshot(person) != before:
                return "a refused request changed the account"
            if not replay:
                return None
            body[field] = clean
            replay = self.api.call(method, target, body, token=token)
            if replay is None or replay.status >= 400:
                return f"after the refusal, the clean request failed: {replay!r}"
            return None
        stored = expect.get("stored")
        if stored == "password":
            email = body.get("email", person.email)
            signin = self.api.call("POST", "/api/v1/auth/signin", {"email": email, "password": body[field]})
            return None if signin.status == 200 else f"the password as sent does not sign in: {signin!r}"
        if stored == "verbatim":
            task_id = response.json()["id"]
            got = self.api.call("GET", f"/api/v1/tasks/{task_id}", token=token).json()
            return None if got.get(field) == body[field] else f"stored {got.get(field)!r}, sent {body[field]!r}"
        return None

    # --- SQL metacharacters and emails -------------------------------------------------------

    def sql(self, cases):
        for case in cases:
            self.check("sql", case["name"], self.sql_case(case))

    def sql_case(self, case):
        expect, do = case["expect"], case["do"]
        if do == "register":
            # Not the victim's password, so a lookup that matched her row could not sign in.
            password = "sql corpus passphrase"
            response = self.api.call("POST", "/api/v1/auth/register", {"email": case["email"], "password": password})
            problem = self.answer_problem(response, expect)
            if problem or response.status != 201:
                return problem
            signin = self.api.call("POST", "/api/v1/auth/signin", {"email": case["email"], "password": password})
            new_id = response.json()["user"]["id"]
            if signin.status != 200 or signin.json()["user"]["id"] != new_id:
                return f"the new account does not sign in as itself: {signin!r}"
            if response.json()["user"]["email"] != case["email"] or new_id == self.victim.id:
                return f"stored as {response.json()['user']!r}"
            return None
        if do in ("signin_victim_password", "signin"):
            email = fill(case["email"], self.values)
            response = self.api.call("POST", "/api/v1/auth/signin", {"email": email, "password": case.get("password", PASSWORD)})
            return self.answer_problem(response, expect)
        if do == "task_title":
            victims = lambda: [t["title"] for t in self.api.call("GET", "/api/v1/tasks", token=self.victim.token).json()]  # noqa: E731
            before = victims()
            response = self.api.call("POST", "/api/v1/tasks", {"title": case["title"]}, token=self.attacker.token)
            problem = self.answer_problem(response, expect)
            if problem:
                return problem
            got = self.api.call("GET", f"/api/v1/tasks/{response.json()['id']}", token=self.attacker.token).json()
            if got["title"] != case["title"]:
                return f"stored {got['title']!r}"
            after = victims()
            return None if after == before else f"the victim's list went from {before} to {after}"
        if do == "profile_name":
            response = self.api.call("PATCH", "/api/v1/auth/me", {"name": case["name"]}, token=self.attacker.token)
            problem = self.answer_problem(response, expect)
            if problem:
                return problem
            got = self.api.call("GET", "/api/v1/auth/me", token=self.attacker.token).json()
            return None if got["name"] == case["name"] else f"stored {got['name']!r}"
        if do == "request":
            headers = [("Authorization", f"Bearer {self.attacker.token}")]
            body = case.get("body", "").encode()
            if body:
                headers.append(("Content-Type", "application/json"))
            response = request(self.server.port, case["method"], quote_target(fill(case["path"], self.values)), headers, body)
            problem = self.answer_problem(response, expect)
            if problem:
                return problem
            if expect.get("only_own_tasks") and any(t["id"] == self.victim_task for t in response.json()):
                return "the victim's task came back"
            if expect.get("only_own_sessions") and any(s["id"] == self.victim_session for s in response.json()):
                return "the victim's session came back"
            sessions = self.api.call("GET", "/api/v1/sessions", token=self.victim.token)
            tasks = self.api.call("GET", f"/api/v1/tasks/{self.victim_task}", token=self.victim.token)
            if sessions.status != 200 or tasks.status != 200:
                return f"the victim lost something: sessions {sessions!r}, task {tasks!r}"
            return None
        return f"unknown step {do!r}"

    def emails(self, spec):
        for case in spec["cases"]:
            self.check("emails", f"{case['name']}: sign in", self.email_signin(case))
            self.check("emails", f"{case['name']}: register", self.email_register(case))

    def email_signin(self, case):
        response = self.api.call("POST", "/api/v1/auth/signin", {"email": case["email"], "password": PASSWORD})
        expect = case["signin"]
        problem = self.answer_problem(response, expect)
        if problem:
            return problem
        if response.status == 200:
            got = response.json()["user"]["id"]
            if (expect.get("account") == "victim") != (got == self.victim.id):
                return f"signed into {response.json()['user']['email']!r}"
        return None

    def email_register(self, case):
        expect = case["register"]
        response = self.api.call("POST", "/api/v1/auth/register", {"email": case["email"], "password": "a different good passphrase"})
        problem = self.answer_problem(response, expect)
        if problem:
            return problem
        if response.status >= 400 and "error_if_refused" in expect and response.error != expect["error_if_refused"]:
            return f"refused with {response.error}, expected {expect['error_if_refused']}"
        if response.status == 201:
            user = response.json()["user"]
            if user["id"] == self.victim.id or user["email"].lower() == self.victim.email:
                return f"registered onto the victim's account: {user!r}"
            # Its own password signs into it, and never into Ann's.
            again = self.api.call("POST", "/api/v1/auth/signin", {"email": case["email"], "password": "a different good passphrase"})
            if again.status != 200 or again.json()["user"]["id"] != user["id"]:
                return f"the new account does not sign in as itself: {again!r}"
        return None
