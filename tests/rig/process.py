"""A server process on a loopback port, and a free port to put it on."""

import os
import signal
import socket
import subprocess
import sys
import time

from .client import status_of


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """`cmd` run in `cwd` with exactly `env`, serving HTTP on 127.0.0.1:`port`.

    start() returns once `ready_path` answers 200, and records `startup_ms`; if that does not
    happen within `start_limit` seconds (or the process exits), it stops the process and
    raises RuntimeError with the end of the log. The log is appended to across restarts, one
    header line per start. Nothing is started by the constructor. As a context manager it
    starts and stops, and on an exception prints the end of the log, since a failed check's
    cause is often only there.
    """

    STOP_LIMIT = 20.0

    def __init__(self, cmd, env, cwd, log_path, port, *, name=None, ready_path="/healthz",
                 start_limit=30.0, poll=0.05):
        self.cmd = [str(part) for part in cmd]
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.name = name or os.path.basename(self.cmd[0])
        self.ready_path = ready_path
        self.start_limit = start_limit
        # How often readiness is asked: the benchmark asks often, since it reports the
        # start-up time.
        self.poll = poll
        self.proc = None
        self.starts = 0
        self.startup_ms = None

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"----- start {self.starts} -----\n".encode())
            log.flush()
            started = time.monotonic()
            self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = started + self.start_limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                why = f"exited with {self.proc.returncode}"
                break
            if self.get_status(self.ready_path) == 200:
                self.startup_ms = (time.monotonic() - started) * 1e3
                return
            time.sleep(self.poll)
        else:
            why = f"was not ready within {self.start_limit:.0f} s"
            self.stop()
        raise RuntimeError(f"the {self.name} server {why}; the end of its log ({self.log_path}):\n"
                           f"{self.log_tail(40)}")

    def get_status(self, path, timeout=2.0):
        """The status of GET `path`, or None without an answer."""
        return status_of(self.url + path, timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

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

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, kind, _error, _trace):
        self.stop()
        if kind is not None:
            print(f"the {self.name} server's log ({self.log_path}), its end:\n{self.log_tail(40)}",
                  file=sys.stderr)
