#!/usr/bin/env python3
"""A server signing with EdDSA and PyJWT (with `cryptography`) agree, through the JWKS alone.

Usage: jwks_interop.py LATCHKEY_BINARY
Starts the server (EdDSA, a fresh SQLite file and keys file), then:
1. A token the server issues verifies with PyJWT using only /.well-known/jwks.json
   (PyJWKClient picks the key by the token's kid; algorithm pinned to EdDSA).
2. A refresh token rotates, and the new access token verifies the same way.
3. Key confusion: an HS256 token MACed with the published public key is refused.
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
import uuid
from pathlib import Path

import jwt  # PyJWT, with cryptography for Ed25519

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for tests/rig
import rig  # noqa: E402


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def verify(token):
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["EdDSA"], audience="latchkey", issuer="latchkey",
                      options={"require": ["exp", "iss", "aud", "sub"]})


with tempfile.TemporaryDirectory(prefix="latchkey-interop-") as work, rig.Server(sys.argv[1], work, {
    "LATCHKEY_SECRET": f"interop-secret-{secrets.token_hex(24)}",
    "LATCHKEY_JWT_ALG": "EdDSA",
    "LATCHKEY_KEYS_FILE": os.path.join(work, "keys.json"),
    "RUST_LOG": "warn",
}, name="eddsa") as server:
    base = server.url
    call = rig.client(base)
    jwks = jwt.PyJWKClient(base + "/.well-known/jwks.json", cache_keys=False)

    email = f"jwks-{uuid.uuid4().hex[:8]}@example.com"
    status, body = call("POST", "/api/v1/auth/register", {"email": email, "password": "correct horse battery staple"})
    assert status == 201, (status, body)
    header = jwt.get_unverified_header(body["accessToken"])
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt" and header["kid"], header
    claims = verify(body["accessToken"])
    assert claims["email"] == email, claims
    print("ok  EdDSA token verifies with PyJWT from the JWKS alone; kid", header["kid"])

    status, refreshed = call("POST", "/api/v1/auth/refresh", {"refreshToken": body["refreshToken"]})
    assert status == 200 and refreshed["refreshToken"] != body["refreshToken"], (status, refreshed)
    assert verify(refreshed["accessToken"])["sid"] == claims["sid"]
    print("ok  refresh rotates; the new token verifies the same way")

    status, doc = call("GET", "/.well-known/jwks.json")
    x = doc["keys"][0]["x"]
    signing_input = b64url(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}).encode()) + "." + \
        b64url(json.dumps(dict(claims, sub="someone-else")).encode())
    for key in (base64.urlsafe_b64decode(x + "=="), x.encode()):
        sig = b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())
        status, err = call("GET", "/api/v1/auth/me", token=f"{signing_input}.{sig}")
        assert status == 401 and err["error"] == "unsupported_algorithm", (status, err)
    print("ok  HS256 MACed with the public key refused:", err["error"])
