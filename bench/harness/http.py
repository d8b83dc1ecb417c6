"""The few plain HTTP calls the harness makes itself (setting up users, not load)."""

import json
import urllib.error
import urllib.request


def post_json(url: str, body: dict, headers: dict | None = None):
    """(status, parsed JSON or None, [Set-Cookie values])."""
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, _json(r.read()), r.headers.get_all("set-cookie") or []
    except urllib.error.HTTPError as e:
        return e.code, _json(e.read()), []


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None
