"""The deployment of deploy/, run for real on this machine: nginx from deploy/nginx.conf in
front of Latchkey instances started the way deploy/latchkey@.service starts them.

# Layout
- `unit_env`: an instance's environment as systemd would give it: the EnvironmentFile
  (deploy/latchkey.env.example), the unit's `Environment=` lines, and a credentials
  directory holding each file the unit's `LoadCredential=` names.
- `Nginx`: deploy/nginx.conf with only its `# (test)` values replaced, inside a minimal
  top-level nginx.conf of the test's own (pid, temp paths, one worker), on free ports.
- `Schema`: a PostgreSQL schema of its own for one run, dropped afterwards.
- `call`: one HTTPS request through nginx from a chosen loopback source address.
"""

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "latchkey@.service"
ENV_EXAMPLE = DEPLOY / "latchkey.env.example"
NGINX_CONF = DEPLOY / "nginx.conf"


def read_env_file(path):
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments, blank lines and
    one pair of surrounding double quotes dropped)."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        env[key] = value
    return env


def unit_env(instance, creds_dir, credentials, overrides):
    """The environment deploy/latchkey@.service gives instance `instance` (its %i), with
    `credentials` (credential name -> content) written where its %d points. Every
    LoadCredential= of the unit must have content here, or the unit would not start either.
    `overrides` then replaces values (None removes one): what differs on this machine."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    unit = UNIT.read_text()
    assert re.search(r"^EnvironmentFile=/etc/latchkey/latchkey\.env$", unit, re.M), \
        "the unit reads /etc/latchkey/latchkey.env (deploy/latchkey.env.example)"
    env.update(read_env_file(ENV_EXAMPLE))
    os.makedirs(creds_dir, mode=0o700, exist_ok=True)
    for name, _source in re.findall(r"^LoadCredential=([^:\n]+):(\S+)$", unit, re.M):
        assert name in credentials, f"the test has no content for the unit's credential {name!r}"
        path = os.path.join(creds_dir, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(credentials[name] + "\n")
    for key, value in re.findall(r"^Environment=([A-Z_]+)=(\S+)$", unit, re.M):
        env[key] = value.replace("%i", str(instance)).replace("%d", creds_dir)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def unit_exec_start():
    return re.search(r"^ExecStart=(\S+) (.*)$", UNIT.read_text(), re.M).groups()


def nginx_binary():
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)


class Nginx:
    """deploy/nginx.conf served by a private nginx under `prefix`: TLS on `tls_port`, the
    redirecting plain-HTTP server on `http_port`, balancing the two `upstreams` ports."""

    def __init__(self, prefix, upstreams, tls_port, http_port, cert, key):
        self.prefix = Path(prefix)
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.tls_port = tls_port
        self.http_port = http_port
        self.access_log = self.prefix / "access.log"
        self.error_log = self.prefix / "error.log"
        self.conf = self.prefix / "nginx.conf"
        site = NGINX_CONF.read_text()
        # Each value the file marks `# (test)`, and what it becomes here.
        for old, new in [
            ("server 127.0.0.1:8081 ", f"server 127.0.0.1:{upstreams[0]} "),
            ("server 127.0.0.1:8082 ", f"server 127.0.0.1:{upstreams[1]} "),
            ("listen 80;", f"listen 127.0.0.1:{http_port};"),
            ("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
            ("/etc/letsencrypt/live/auth.example.com/fullchain.pem", str(cert)),
            ("/etc/letsencrypt/live/auth.example.com/privkey.pem", str(key)),
            ("/var/log/nginx/latchkey.access.log", str(self.access_log)),
            ("/var/log/nginx/latchkey.error.log", str(self.error_log)),
        ]:
            count = site.count(old)
            assert count == 1, f"deploy/nginx.conf holds {old!r} {count} times, the test expects once"
            site = site.replace(old, new)
        marked = sum("# (test)" in line and not line.lstrip().startswith("#")
                     for line in NGINX_CONF.read_text().splitlines())
        assert marked == 8, f"deploy/nginx.conf marks {marked} lines `# (test)`; the test replaces 8"
        (self.prefix / "latchkey.conf").write_text(site)
        temp = self.prefix / "temp"
        temp.mkdir(parents=True, exist_ok=True)
        paths = "\n".join(f"    {kind}_temp_path {temp}/{kind};"
                          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # What Debian's /etc/nginx/nginx.conf provides around conf.d/, cut to this test:
        # one worker (so round-robin alternates strictly), no daemon, everything in `prefix`.
        self.conf.write_text(f"""daemon off;
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.error_log} warn;
events {{ worker_connections 256; }}
http {{
{paths}
    access_log off;
    include {self.prefix}/latchkey.conf;
}}
""")
        self.cmd = [nginx_binary(), "-p", str(self.prefix), "-e", str(self.error_log), "-c", str(self.conf)]
        self.proc = None

    def start(self, ready, limit=20.0):
        test = subprocess.run(self.cmd + ["-t"], capture_output=True, text=True)
        assert test.returncode == 0, f"nginx -t refused deploy/nginx.conf:\n{test.stderr}"
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.prefix / "stderr.log", "wb"))
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"nginx exited: {self.tail()}"
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"nginx did not serve within {limit:.0f} s: {self.tail()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def tail(self):
        return "\n".join(p.read_text(errors="replace")[-2000:]
                         for p in (self.error_log, self.prefix / "stderr.log") if p.exists())

    def access_lines(self):
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []

    def line_after(self, count, limit=5.0):
        """The one access-log line written after the first `count` (nginx writes it as the
        response ends, possibly just after the client has read it)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            lines = self.access_lines()
            if len(lines) > count:
                assert len(lines) == count + 1, f"expected one new access-log line: {lines[count:]}"
                return lines[count]
            time.sleep(0.01)
        raise AssertionError("nginx wrote no access-log line for the request")


def upstream_of(line):
    return re.search(r" upstream=(\S+)", line).group(1)


def request_id_of(line):
    return re.search(r" rid=([0-9a-f]{32}) ", line).group(1)


class Schema:
    """A schema of its own in the test PostgreSQL (CREATE DATABASE is serialised by
    PostgreSQL; the other suites use schemas for the same reason), dropped afterwards."""

    def __init__(self, admin_url):
        self.admin_url = admin_url
        self.name = f"lk_deploy_{uuid.uuid4().hex}"

    def __enter__(self):
        self.psql(f"CREATE SCHEMA {self.name}")
        sep = "&" if "?" in self.admin_url else "?"
        return f"{self.admin_url}{sep}options=-c%20search_path%3D{self.name}"

    def __exit__(self, *_):
        self.psql(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")

    def psql(self, sql):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", self.admin_url, "-c", sql],
                       env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
                       check=True, stdout=subprocess.DEVNULL)


def self_signed(directory):
    """A certificate for 127.0.0.1 and its key, made by openssl for this run."""
    cert, key = Path(directory) / "cert.pem", Path(directory) / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def call(port, method, path, body=None, *, source, token=None, headers=None, cafile=None, timeout=15.0):
    """(status, JSON body or None, headers) of one request to 127.0.0.1:`port` from the
    loopback address `source` (Linux answers for all of 127/8): HTTPS, checked against
    `cafile`, when one is given, else plain HTTP."""
    if cafile:
        context = ssl.create_default_context(cafile=str(cafile))
        conn = http.client.HTTPSConnection("127.0.0.1", port, source_address=(source, 0),
                                           context=context, timeout=timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=timeout)
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["content-type"] = "application/json"
    if token:
        sent["authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=data, headers=sent)
        res = conn.getresponse()
        raw = res.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return res.status, parsed, res.headers
    finally:
        conn.close()
