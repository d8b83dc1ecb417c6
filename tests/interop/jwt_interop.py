#!/usr/bin/env python3
"""A running Latchkey server and PyJWT, a standard HS256 library, agree on tokens.

Usage: jwt_interop.py LATCHKEY_BINARY
Starts the server (HS256, a fresh SQLite file, a secret of its own), then:
1. A token the server issues verifies with PyJWT (algorithm pinned, iss/aud/exp required).
2. A token PyJWT signs with the same secret and the right claims is accepted by /me.
3. PyJWT's own default header (typ "JWT") and an `alg: none` token are refused.
"""
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

import jwt  # PyJWT

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for tests/rig
import rig  # noqa: E402

secret = f"interop-secret-{secrets.token_hex(24)}"
with tempfile.TemporaryDirectory(prefix="latchkey-interop-") as work, \
        rig.Server(sys.argv[1], work, {"LATCHKEY_SECRET": secret, "RUST_LOG": "warn"}, name="hs256") as server:
    call = rig.client(server.url)

    email = f"interop-{uuid.uuid4().hex[:8]}@example.com"
    status, body = call("POST", "/api/v1/auth/register", {"email": email, "password": "correct horse battery staple"})
    assert status == 201, (status, body)
    token = body["accessToken"]

    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="latchkey", issuer="latchkey",
                        options={"require": ["exp", "iss", "aud", "sub"]})
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "at+jwt"}, jwt.get_unverified_header(token)
    assert claims["email"] == email and claims["sub"] == body["user"]["id"], claims
    print("ok  server token verifies with PyJWT", jwt.__version__)

    now = int(time.time())
    minted = dict(claims, iat=now, nbf=now, exp=now + 300, jti=uuid.uuid4().hex)
    foreign = jwt.encode(minted, secret, algorithm="HS256", headers={"typ": "at+jwt"})
    status, me = call("GET", "/api/v1/auth/me", token=foreign)
    assert status == 200 and me["email"] == email, (status, me)
    print("ok  PyJWT-signed token accepted by /me")

    plain = jwt.encode(minted, secret, algorithm="HS256")
    status, err = call("GET", "/api/v1/auth/me", token=plain)
    assert status == 401 and err["error"] == "wrong_token_type", (status, err)
    unsigned = jwt.encode(minted, None, algorithm="none", headers={"typ": "at+jwt"})
    status, err = call("GET", "/api/v1/auth/me", token=unsigned)
    assert status == 401, (status, err)
    print("ok  typ JWT and alg none refused:", err["error"])
