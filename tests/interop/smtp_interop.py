#!/usr/bin/env python3
"""Latchkey's mail over SMTP into aiosmtpd, an independent SMTP server, read with Python's
own email parser.

Usage: smtp_interop.py LATCHKEY_BINARY
Starts aiosmtpd on 127.0.0.1, then the server pointed at it (plain SMTP, a fresh SQLite
file), and follows the emailed links: registration -> verification email -> verify-email;
forgot-password -> reset email -> reset-password -> sign-in with the new password; and the
"password changed" notice. Each message must be a well-formed multipart/alternative email
(From, To, Date, Message-ID, a text and an HTML part) whose link carries the token in its
fragment.
"""
import email
import email.policy
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for tests/rig
import rig  # noqa: E402

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


class Sink:
    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append((envelope.rcpt_tos, message))
            self.arrived.notify_all()
        return "250 OK"

    def wait(self, to, subject, timeout=20):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for rcpt, message in self.messages:
                    if to in rcpt and subject in message["subject"]:
                        return message
                left = deadline - time.monotonic()
                assert left > 0, f"no {subject!r} email for {to}: {[(r, m['subject']) for r, m in self.messages]}"
                self.arrived.wait(left)


def token_of(message):
    """Checks the message's shape and returns the token in its link."""
    for header in ("From", "To", "Date", "Message-ID", "Subject"):
        assert message[header], f"{header} missing"
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = next(word for word in text.split() if word.startswith("http"))
    assert link in html, "the HTML part carries the same link"
    assert "#token=" in link and "?" not in link, link
    return link.split("#token=", 1)[1]


sink = Sink()
smtp_port = rig.free_port()
controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
controller.start()
env = {
    "LATCHKEY_SECRET": "smtp-interop-secret-0123456789abcdef",
    "LATCHKEY_SMTP_HOST": "127.0.0.1",
    "LATCHKEY_SMTP_PORT": str(smtp_port),
    "LATCHKEY_SMTP_TLS": "none",
    "LATCHKEY_MAIL_FROM": "Latchkey Interop <no-reply@interop.test>",
    "LATCHKEY_LINK_URL": "https://app.interop.test",
    "RUST_LOG": "warn",
}
try:
    with tempfile.TemporaryDirectory(prefix="latchkey-smtp-") as work, \
            rig.Server(sys.argv[1], work, env, name="smtp") as server:
        call = rig.client(server.url)

        status, body = call("POST", "/api/v1/auth/register", {"email": "ann@interop.test", "password": PASSWORD})
        assert status == 201, (status, body)
        verification = sink.wait("ann@interop.test", "Confirm your email")
        assert verification["From"].addresses[0].addr_spec == "no-reply@interop.test", verification["From"]
        status, user = call("POST", "/api/v1/auth/verify-email", {"token": token_of(verification)})
        assert status == 200 and user["emailVerified"] is True, (status, user)
        print("ok  verification email through aiosmtpd; its link verifies the address")

        status, body = call("POST", "/api/v1/auth/forgot-password", {"email": "ann@interop.test"})
        assert status == 202, (status, body)
        reset = sink.wait("ann@interop.test", "Reset your")
        assert "https://app.interop.test/reset-password#token=" in reset.get_body(("plain",)).get_content()
        status, _ = call("POST", "/api/v1/auth/reset-password", {"token": token_of(reset), "newPassword": NEW_PASSWORD})
        assert status == 204, status
        status, _ = call("POST", "/api/v1/auth/signin", {"email": "ann@interop.test", "password": NEW_PASSWORD})
        assert status == 200, status
        sink.wait("ann@interop.test", "password was changed")
        print("ok  reset email through aiosmtpd; its link sets a new password; the notice follows")
finally:
    controller.stop()
