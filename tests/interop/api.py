"""The one HTTP helper the interop scripts share: JSON in, (status, JSON) out, no packages."""
import json
import urllib.error
import urllib.request


def client(base):
    """A `call(method, path, body=None, token=None)` bound to the server at `base`."""

    def call(method, path, body=None, token=None):
        req = urllib.request.Request(base + path, method=method)
        if body is not None:
            req.data = json.dumps(body).encode()
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    return call
