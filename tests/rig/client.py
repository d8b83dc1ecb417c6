"""JSON over HTTP to a server under test."""

import http.client
import json
import urllib.error
import urllib.request

# The servers under test are all on loopback: a proxy named in the environment
# (http_proxy) must not carry the requests elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(method, url, body=None, *, token=None, headers=None, timeout=30.0):
    """(status, parsed JSON body or None, response headers). An error status is an answer
    like any other; only a transport failure raises (OSError, http.client.HTTPException)."""
    req = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with _OPENER.open(req, timeout=timeout) as res:
            return res.status, _json(res.read()), res.headers
    except urllib.error.HTTPError as err:
        return err.code, _json(err.read()), err.headers


def client(base):
    """A `call(method, path, body=None, token=None) -> (status, JSON body)` bound to the
    server at `base`."""

    def call(method, path, body=None, token=None):
        status, answer, _ = request(method, base + path, body, token=token)
        return status, answer

    return call


def status_of(url, timeout=2.0):
    """The status of GET `url`, or None without an answer."""
    try:
        return request("GET", url, timeout=timeout)[0]
    except (OSError, http.client.HTTPException):
        return None


def error_code(body):
    """An answer's error code, or what went wrong instead (a transport error's name): never
    the body itself, which could hold a token."""
    return body.get("error") if isinstance(body, dict) else body


def _json(raw):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
