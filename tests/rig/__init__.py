"""The test rig: what every Python suite needs to run a Latchkey server and talk to it.
Standard library only, so that any python3 imports it (the suites' own packages live in
.venv).

# Layout
- `process.py`: `free_port()`, and `Process`, any server command on a loopback port:
  started, ready once an HTTP path answers 200, stopped or killed, its output in a log file
  that failure messages name. The benchmark starts its peers with it too.
- `server.py`: `Server`, one `latchkey serve` in a clean environment, with its own SQLite
  database and secret files in a work directory.
- `client.py`: JSON over HTTP (`request`, `client`), and an answer's `error_code`.
- `tokens.py`: a JWT's claims and its session id, read without verifying.

# Finding it
`rig` is imported by its parent directory, `tests/`, on sys.path. Each entry point (a
script run as `python3 tests/…/x.py` or `bench/run.py`) puts it there, relative to its own
file, before its first `import rig`; modules imported by an entry point rely on that. The
Schemathesis hooks (tests/hardening/fuzz_hooks.py) find it through the PYTHONPATH that
contract_fuzz.py gives Schemathesis.
"""

from .client import client, error_code, request
from .process import Process, free_port
from .server import Server
from .tokens import claims, sid_of

__all__ = ["Process", "Server", "claims", "client", "error_code", "free_port", "request", "sid_of"]
