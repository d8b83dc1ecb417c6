"""What the hardening runners share: the `latchkey` process, a free port, a token's claims, an
answer's error code. Used by tests/hardening/contract_fuzz.py (and its fuzz_hooks.py),
tests/hardening/crash.py and tests/attacks/run_server.py. Standard library only."""

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import time

# The password of the users the attack runner registers (the fuzzer has its own).
PASSWORD = "correct horse battery staple"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def claims(token):
    """A JWT's claims, read without verifying: the server verifies, the runners only look."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def sid_of(access_token):
    """The session id: the `sid` claim of an access token."""
    return claims(access_token)["sid"]


def error_code(body):
    """An answer's error code, or what went wrong instead (a transport error's name): never
    the body itself, which could hold a token."""
    return body.get("error") if isinstance(body, dict) else body


class Server:
    """One `latchkey serve` on a free 127.0.0.1 port, in a clean environment: PATH,
    LATCHKEY_LISTEN and exactly the variables given, so nothing of the caller's (a
    DATABASE_URL, REDIS_URL, LATCHKEY_ENV, an SMTP host) changes what is tested.

    `ready_path` is what must answer 200 before start() returns: /healthz (the process
    serves), or /readyz (the database answers too; the crash test restarts on a database
    that may still be recovering). The log is appended to across restarts, one header line
    per start. Nothing is started by the constructor.
    """

    STOP_LIMIT = 20.0

    def __init__(self, binary, workdir, env, *, name="latchkey", port=None, log_path=None,
                 ready_path="/healthz", start_limit=30.0):
        self.binary = binary
        self.workdir = workdir
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or os.path.join(workdir, f"{name}.log")
        self.ready_path = ready_path
        self.start_limit = start_limit
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LATCHKEY_LISTEN": f"127.0.0.1:{self.port}",
            **env,
        }
        self.proc = None
        self.starts = 0

    def start(self):
        """Starts the process and waits until `ready_path` answers 200; if it does not within
        `start_limit` seconds (or the process exits), stops it and raises RuntimeError."""
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"----- start {self.starts} -----\n".encode())
            log.flush()
            self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, cwd=self.workdir,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.start_limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                why = f"exited with {self.proc.returncode}"
                break
            if self.get_status(self.ready_path) == 200:
                return
            time.sleep(0.05)
        else:
            why = f"was not ready within {self.start_limit:.0f} s"
            self.stop()
        raise RuntimeError(f"the {self.name} server {why}; the end of its log ({self.log_path}):\n"
                           f"{self.log_tail(40)}")

    def get_status(self, path, timeout=2.0):
        """The status of GET `path`, or None without an answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def healthy(self):
        return self.running() and self.get_status("/healthz", timeout=5.0) == 200

    def kill(self):
        """SIGKILL: no shutdown of any kind, as in a crash."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=self.STOP_LIMIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=self.STOP_LIMIT)

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=15):
        return "\n".join(self.log_text().splitlines()[-lines:])
