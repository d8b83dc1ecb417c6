"""One `latchkey serve`, as every suite runs it."""

import os

from .process import Process, free_port


class Server(Process):
    """One `latchkey serve` on a free 127.0.0.1 port, in a clean environment: PATH,
    LATCHKEY_LISTEN, a SQLite database and secret files of its own in `workdir`, then exactly
    the variables in `env` (which may replace any of those). Nothing of the caller's (a
    DATABASE_URL, REDIS_URL, LATCHKEY_ENV, an SMTP host) changes what is tested.

    `ready_path` is what must answer 200 before start() returns: /healthz (the process
    serves), or /readyz (the database answers too; the crash test restarts on a database
    that may still be recovering). The log is `workdir/NAME.log` unless `log_path` is given.
    """

    def __init__(self, binary, workdir, env, *, name="latchkey", port=None, log_path=None,
                 ready_path="/healthz", start_limit=30.0):
        port = port or free_port()
        # The process runs in `workdir`, where a relative path would name another file.
        binary = os.path.abspath(binary)
        self.binary = binary
        self.workdir = workdir
        super().__init__(
            [binary, "serve"],
            {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LATCHKEY_LISTEN": f"127.0.0.1:{port}",
                "DATABASE_URL": f"sqlite://{workdir}/{name}.db",
                "LATCHKEY_SECRET_FILE": os.path.join(workdir, f"{name}.secret"),
                "LATCHKEY_SERVER_SECRET_FILE": os.path.join(workdir, f"{name}.server-secret"),
                **env,
            },
            workdir,
            log_path or os.path.join(workdir, f"{name}.log"),
            port,
            name=name,
            ready_path=ready_path,
            start_limit=start_limit,
        )

    def healthy(self):
        return self.running() and self.get_status("/healthz", timeout=5.0) == 200
