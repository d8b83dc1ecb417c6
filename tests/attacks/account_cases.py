"""tests/attacks/account.json: password guessing through a signed-in session's settings,
and change-email floods, against a server with the default rate limits on."""
import itertools
import json
import time
import uuid

from http_cases import Person

WRONG = "not the password, a guess"
PASSWORD_FOR_CASES = "correct horse battery staple"
# One client address per case (documentation range), so cases do not share address limits.
ADDRESSES = (f"198.51.100.{n}" for n in itertools.count(1))


def fill(value, values):
    if isinstance(value, str):
        for key, text in values.items():
            value = value.replace("{" + key + "}", text)
        return value
    return {k: fill(v, values) for k, v in value.items()}


class AccountCases:
    def __init__(self, server, tally, answer_problem):
        self.server, self.api, self.tally = server, server.api, tally
        self.answer_problem = answer_problem

    def run_all(self, corpus):
        for case in corpus["guessing"]:
            self.check("account/guessing", case["name"], self.guessing(case))
        for case in corpus["floods"]:
            self.check("account/floods", case["name"], self.flood(case))

    def check(self, category, name, problem):
        self.tally.check(self.server.name, category, name, problem)

    def person(self, headers):
        email = f"acct-{uuid.uuid4().hex[:10]}@example.com"
        response = self.api.call("POST", "/api/v1/auth/register",
                                 {"email": email, "password": PASSWORD_FOR_CASES}, headers=headers)
        assert response.status == 201, response
        body = response.json()
        return email, body["accessToken"]

    def guessing(self, case):
        headers = [("X-Forwarded-For", next(ADDRESSES))]
        email, token = self.person(headers)
        got = []
        for n in range(case["guesses"]):
            alternate = n % 2 == 1 and "alternate_path" in case
            path = case["alternate_path"] if alternate else case["path"]
            body = fill(case["alternate_body"] if alternate else case["body"],
                        {"guess": WRONG, "fresh_email": f"new-{uuid.uuid4().hex[:8]}@example.net"})
            response = self.api.call("POST", path, body, token=token, headers=headers)
            if response is None or response.status >= 500:
                return f"guess {n + 1}: {response!r}"
            got.append(response.status)
        if got != case["expect"]:
            return f"expected {case['expect']}, got {got}"
        # The account's sign-in rule saw the guesses too, from any address.
        signin = self.api.call("POST", "/api/v1/auth/signin", {"email": email, "password": PASSWORD_FOR_CASES},
                               headers=[("X-Forwarded-For", next(ADDRESSES))])
        if signin is None or signin.status != case["then_sign_in"]:
            return f"sign-in afterwards: expected {case['then_sign_in']}, got {signin!r}"
        return None

    def flood(self, case):
        headers = [("X-Forwarded-For", next(ADDRESSES))]
        _, token = self.person(headers)
        stranger = f"stranger-{uuid.uuid4().hex[:8]}@example.net"
        if case["to"] == "taken":
            stranger, _ = self.person([("X-Forwarded-For", next(ADDRESSES))])
        targets = [stranger if case["to"] != "distinct" else f"s{n}-{stranger}" for n in range(case["requests"])]
        statuses = []
        for to in targets:
            response = self.api.call("POST", "/api/v1/auth/change-email",
                                     {"newEmail": to, "password": PASSWORD_FOR_CASES}, token=token, headers=headers)
            if response is None or response.status >= 500:
                return f"{response!r}"
            statuses.append(response.status)
        accepted = statuses.count(202)
        if accepted != case["expect_accepted"] or set(statuses) - {202, 429}:
            return f"expected {case['expect_accepted']} accepted and the rest 429, got {statuses}"
        mails = self.mails_to(set(targets))
        if mails != case["expect_mails"]:
            return f"expected {case['expect_mails']} email(s) to the target(s), {mails} were sent"
        return None

    def mails_to(self, recipients):
        """Email-change confirmations sent to any of `recipients`, once the outbox has nothing
        left to send."""
        import email
        import os
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ready = self.api.call("GET", "/readyz")
            if ready is not None and ready.status == 200 and ready.json().get("mailPending") == 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the outbox did not drain")
        directory = self.server.mail_dir
        count = 0
        for name in os.listdir(directory) if os.path.isdir(directory) else []:
            with open(os.path.join(directory, name), "rb") as f:
                message = email.message_from_binary_file(f)
            if str(message["To"]).strip().lower() in recipients and "new email" in str(message["Subject"]):
                count += 1
        return count
