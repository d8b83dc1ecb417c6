#!/usr/bin/env python3
"""The example against a real Latchkey, in both modes, through FastAPI's TestClient.

Usage: test_verifier.py LATCHKEY_BINARY
For HS256 (a shared secret) and EdDSA (the JWKS alone), starts Latchkey (tests/rig), signs
up to get a real token, and checks `GET /me`: the token -> 200 with the user's id; no token,
a token Latchkey issued for another audience (a second server, same key, its own
LATCHKEY_AUDIENCE), an expired one and a tampered one -> 401. The expired token is signed
with the server's real key (the secret, or the private key in its keys file) since access
tokens live at least a minute; the same claims with a future `exp` pass, so the 401 is the
expiry's.
With EdDSA, the JWKS fetches are limited: 50 tokens signed with the real key but each with
a random `kid` cost at most one fetch (counted at PyJWKClient.fetch_data, the HTTP request),
and a key Latchkey newly publishes (`keys generate`, a restart) is refused within the minute
after a fetch (no fetch) and accepted after it (one fetch). The verifier's clock is moved
instead of waiting the minute.
"""
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the example's own modules
sys.path.insert(0, str(HERE.parents[1] / "tests"))  # tests/rig
import rig  # noqa: E402
from app import create_app  # noqa: E402
from auth import Verifier  # noqa: E402

PASSWORD = "correct horse battery staple"


def sign_up(server):
    email = f"verifier-{secrets.token_hex(4)}@example.com"
    status, body = rig.client(server.url)("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert status == 201, (status, rig.error_code(body))
    return body


def reminted(token, key, algorithm, kid, **changes):
    """The token's own claims with `changes`, signed again with the server's key."""
    claims = dict(rig.claims(token), **changes)
    headers = {"typ": "at+jwt", **({"kid": kid} if kid else {})}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def tampered(token):
    """Another user's id in the payload, the signature left as it was."""
    header, _, signature = token.split(".")
    claims = dict(rig.claims(token), sub="someone-else")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def check_jwks_fetches_limited(binary, work, main, keys_file, verifier, private, token):
    jwks = verifier.jwks
    skew = [0.0]  # seconds added to the verifier's clock
    jwks.clock = lambda: time.monotonic() + skew[0]
    fetches = []
    fetch = jwks.client.fetch_data

    def counted():
        fetches.append(jwks.clock())
        return fetch()

    jwks.client.fetch_data = counted
    client = TestClient(create_app(verifier))
    me = lambda t: client.get("/me", headers={"authorization": f"Bearer {t}"})  # noqa: E731

    # A minute after the last fetch, so the first unknown kid may fetch: the worst case.
    skew[0] += 61
    n = 50
    answers = [me(reminted(token, private, "EdDSA", secrets.token_urlsafe(12))) for _ in range(n)]
    assert all(a.status_code == 401 and a.json() == {"detail": "invalid_token"} for a in answers), \
        [a.status_code for a in answers]
    assert len(fetches) <= 1, f"{n} unknown kids cost {len(fetches)} JWKS fetches"
    assert me(token).status_code == 200 and len(fetches) <= 1
    print(f"ok  EdDSA: {n} tokens with random kids -> 401 each, {len(fetches)} JWKS fetch(es) in all "
          "(the real token still 200, no fetch)")

    # Rotation: a new key, published by Latchkey after a restart, not yet known here.
    before = {k["kid"] for k in json.loads(Path(keys_file).read_text())["keys"]}
    subprocess.run([os.path.abspath(binary), "keys", "generate"], env=main.env, cwd=work, check=True,
                   capture_output=True)
    new = next(k for k in json.loads(Path(keys_file).read_text())["keys"] if k["kid"] not in before)
    main.stop()
    main.start()
    seed = base64.urlsafe_b64decode(new["seed"] + "=" * (-len(new["seed"]) % 4))
    rotated = reminted(token, Ed25519PrivateKey.from_private_bytes(seed), "EdDSA", new["kid"])
    count = len(fetches)
    assert me(rotated).status_code == 401 and len(fetches) == count, (len(fetches), count)
    skew[0] += 61
    answer = me(rotated)
    assert answer.status_code == 200 and len(fetches) == count + 1, (answer.text, len(fetches), count)
    assert me(rotated).status_code == 200 and len(fetches) == count + 1
    print("ok  EdDSA: a key Latchkey newly publishes -> 401 within the minute after a fetch (no fetch), "
          "200 after it (one fetch)")


def check(mode, verifier, servers, key, algorithm, kid=None):
    main, other = servers
    client = TestClient(create_app(verifier))
    me = lambda token: client.get("/me", headers={"authorization": f"Bearer {token}"} if token else {})  # noqa: E731

    body = sign_up(main)
    token = body["accessToken"]
    answer = me(token)
    assert answer.status_code == 200 and answer.json()["userId"] == body["user"]["id"], answer.text
    print(f"ok  {mode}: a token from sign-up -> 200, userId {answer.json()['userId']}")

    assert me(None).status_code == 401

    foreign = sign_up(other)["accessToken"]
    assert rig.claims(foreign)["aud"] == "another-app"
    answer = me(foreign)
    assert answer.status_code == 401 and answer.json() == {"detail": "invalid_token"}, answer.text
    print(f"ok  {mode}: a token Latchkey issued for audience another-app, same key -> 401")

    now = int(time.time())
    assert me(reminted(token, key, algorithm, kid, iat=now, exp=now + 600)).status_code == 200
    expired = reminted(token, key, algorithm, kid, iat=now - 900, nbf=now - 900, exp=now - 60)
    assert me(expired).status_code == 401
    print(f"ok  {mode}: expired a minute ago -> 401 (the same claims, unexpired, -> 200)")

    assert me(tampered(token)).status_code == 401
    print(f"ok  {mode}: payload changed, signature kept -> 401")
    return token


with tempfile.TemporaryDirectory(prefix="latchkey-fastapi-") as work:
    binary = sys.argv[1]
    secret = f"verifier-secret-{secrets.token_hex(24)}"
    hs = {"LATCHKEY_SECRET": secret, "RUST_LOG": "warn"}
    with rig.Server(binary, work, hs, name="hs256") as main, \
            rig.Server(binary, work, {**hs, "LATCHKEY_AUDIENCE": "another-app"}, name="hs256-other") as other:
        token = check("HS256", Verifier(issuer="latchkey", audience="latchkey", secret=secret),
                      (main, other), secret, "HS256")
        # What the seeds' backend does today, for the record: no audience, so PyJWT refuses.
        try:
            jwt.decode(token, secret, algorithms=["HS256"])
            raise AssertionError("the seeds' call accepted a token with an audience")
        except jwt.InvalidAudienceError:
            print("ok  HS256: the seeds' jwt.decode(token, secret, algorithms=['HS256']) -> InvalidAudienceError")

    keys_file = os.path.join(work, "keys.json")
    ed = {"LATCHKEY_JWT_ALG": "EdDSA", "LATCHKEY_KEYS_FILE": keys_file, "RUST_LOG": "warn"}
    with rig.Server(binary, work, ed, name="eddsa") as main, \
            rig.Server(binary, work, {**ed, "LATCHKEY_AUDIENCE": "another-app"}, name="eddsa-other") as other:
        stored = json.loads(Path(keys_file).read_text())["keys"][0]
        seed = base64.urlsafe_b64decode(stored["seed"] + "=" * (-len(stored["seed"]) % 4))
        private = Ed25519PrivateKey.from_private_bytes(seed)
        verifier = Verifier(issuer="latchkey", audience="latchkey", jwks_url=f"{main.url}/.well-known/jwks.json")
        token = check("EdDSA", verifier, (main, other), private, "EdDSA", stored["kid"])
        # The verifier holds no secret: an HS256 token MACed with the public key is refused.
        public = verifier.jwks.signing_key(token).key
        forged = reminted(token, public.public_bytes_raw(), "HS256", stored["kid"])
        assert TestClient(create_app(verifier)).get(
            "/me", headers={"authorization": f"Bearer {forged}"}).status_code == 401
        print("ok  EdDSA: HS256 MACed with the published public key -> 401")
        check_jwks_fetches_limited(binary, work, main, keys_file, verifier, private, token)
