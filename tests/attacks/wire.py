"""The attack runner's plumbing: a raw HTTP/1.1 client, the server processes, the canary.

The client writes bytes to a socket itself, because the attacks need what ordinary clients
refuse to send: the same header twice, headers of a megabyte, a body that never arrives,
conflicting lengths. Every request goes to 127.0.0.1 only, with a timeout.
"""
import json
import os
import re
import select
import socket
import threading
import time
import urllib.parse

import rig  # tests/rig: run_server.py puts tests/ on the path


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (lower-case name, value)
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def error(self):
        body = self.json()
        return body.get("error") if isinstance(body, dict) else None

    def __repr__(self):
        return f"{self.status} {self.body[:200]!r}"


def quote_target(target: str) -> str:
    """Percent-encodes a path (and query) written plainly in the corpus."""
    path, _, query = target.partition("?")
    path = urllib.parse.quote(path, safe="/")
    if not query:
        return path
    pairs = [p.partition("=") for p in query.split("&")]
    return path + "?" + "&".join(urllib.parse.quote(k, safe="") + "=" + urllib.parse.quote(v, safe="") for k, _, v in pairs)


def request(port, method, target, headers=(), body=b"", *, chunked=False, declare_length=None,
            raw_lengths=False, timeout=15.0):
    """Sends one request on a fresh connection and reads the answer.

    headers: (name, value) pairs, sent as given, duplicates included; values may be bytes.
    Unless raw_lengths, Content-Length (or chunked framing) is added for the body. The body
    goes out in pieces, and stops as soon as the server answers early (a 413 before the body
    is read), so the answer is not lost to a reset. Returns a Response, or None when the
    server closed the connection without answering.
    """
    body = body.encode() if isinstance(body, str) else body
    lines = [f"{method} {target} HTTP/1.1".encode(), f"Host: 127.0.0.1:{port}".encode(), b"Connection: close"]
    for name, value in headers:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("utf-8")))
    if not raw_lengths:
        if chunked:
            lines.append(b"Transfer-Encoding: chunked")
        elif body or declare_length is not None or method in ("POST", "PATCH", "PUT"):
            lines.append(f"Content-Length: {declare_length if declare_length is not None else len(body)}".encode())
    payload = body
    if chunked:
        step = 64 * 1024
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step]) for i in range(0, len(body), step)) + b"0\r\n\r\n"
    head = b"\r\n".join(lines) + b"\r\n\r\n"

    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            sock.sendall(head)
            for i in range(0, len(payload), 64 * 1024):
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(payload[i:i + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    return parse_response(data)


def parse_response(data: bytes):
    if b"\r\n\r\n" not in data:
        return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not match:
        return None
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    if any(n == "transfer-encoding" and "chunked" in v.lower() for n, v in headers):
        body, rest2 = b"", rest
        while rest2:
            size_line, _, rest2 = rest2.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            body += rest2[:size]
            rest2 = rest2[size + 2:]
        rest = body
    return Response(int(match.group(1)), headers, rest.decode("utf-8", "replace"))


class Api:
    """JSON calls to one server."""

    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None, token=None, headers=()):
        hs = list(headers)
        if token:
            hs.append(("Authorization", f"Bearer {token}"))
        data = b""
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            hs.append(("Content-Type", "application/json"))
        return request(self.port, method, quote_target(path), hs, data)


class Server(rig.Server):
    """One `latchkey` process on a free loopback port, with its own database (rig.Server's)
    and mail outbox, started (and healthy) on construction; `env` adds to or overrides the
    defaults here."""

    def __init__(self, binary, workdir, name, env):
        self.mail_dir = os.path.join(workdir, f"{name}-mail")
        super().__init__(binary, workdir, {
            "LATCHKEY_RATE_LIMITS": "off",
            "LATCHKEY_MAILER": "file",
            "LATCHKEY_MAIL_OUTBOX_DIR": self.mail_dir,
            "RUST_LOG": "warn",
            **env,
        }, name=name)
        self.api = Api(self.port)
        self.start()

    def mailed_token(self, to, subject_part, seen=(), timeout=10.0):
        """The #token=… of the newest email to `to` whose subject contains `subject_part`."""
        import email
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = sorted(os.listdir(self.mail_dir), reverse=True) if os.path.isdir(self.mail_dir) else []
            for name in names:
                with open(os.path.join(self.mail_dir, name), "rb") as f:
                    message = email.message_from_binary_file(f)
                if to.lower() not in str(message["To"]).lower() or subject_part not in str(message["Subject"]):
                    continue
                text = "".join(part.get_payload(decode=True).decode("utf-8", "replace")
                               for part in message.walk() if part.get_content_type() == "text/plain")
                found = re.search(r"#token=([\w-]{43})", text)
                if found and found.group(1) not in seen:
                    return found.group(1)
            time.sleep(0.05)
        raise RuntimeError(f'no "{subject_part}" email to {to} in {self.mail_dir}')


class Canary:
    """A listener that counts every connection made to it: a jku/x5u must never be fetched."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            conn.close()

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()
