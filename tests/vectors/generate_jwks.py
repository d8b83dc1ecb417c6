#!/usr/bin/env python3
"""Writes jwks.json: EdDSA (Ed25519) tokens verified against a JWKS document, and JWKS
documents that must be refused. Both targets (the Rust core and the npm package) must agree.

Built with the `cryptography` package (Ed25519 signatures are deterministic, so the output is
stable), independently of the Rust code under test. Run with the project's venv:
    .venv/bin/python tests/vectors/generate_jwks.py
"""
import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ISSUER = "latchkey"
AUDIENCE = "my-app"
NOW = 1_800_000_000
LEEWAY = 30


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seg(obj) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


class Key:
    def __init__(self, seed_byte: int):
        self.private = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
        self.x = b64(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        # RFC 7638: SHA-256 over the required members in lexicographic order, no spaces.
        canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": self.x}, separators=(",", ":"))
        self.kid = b64(hashlib.sha256(canonical.encode()).digest())

    def jwk(self, **over):
        j = {"kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "alg": "EdDSA", "use": "sig"}
        j.update(over)
        return j

    def sign(self, header, payload) -> str:
        msg = f"{seg(header)}.{seg(payload)}"
        return f"{msg}.{b64(self.private.sign(msg.encode()))}"


A, B, C = Key(1), Key(2), Key(3)  # A and B are published; C never is
# D is published under an id of its issuer's choosing, as Better Auth's JWT plugin names keys.
D = Key(4)
D_KID = "7Qm2xBetterAuthKey"
RSA = {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa-1"}
JWKS = {"keys": [A.jwk(), RSA, B.jwk(), D.jwk(kid=D_KID)]}


def claims(**over):
    c = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "sid": "session-1",
        "email": "ann@example.com", "email_verified": True,
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 840, "jti": "jti-1",
    }
    c.update(over)
    return c


def header(key=None, **over):
    h = {"alg": "EdDSA", "typ": "at+jwt"}
    if key is not None:
        h["kid"] = key.kid
    h.update(over)
    return {k: v for k, v in h.items() if v is not None}


def ok():
    return {"ok": {"sub": "user-1", "sid": "session-1"}}


def err(code):
    return {"error": code}


def hs256_with_public_key(key: Key) -> str:
    # Key confusion: an HS256 token whose HMAC key is the published Ed25519 key.
    h = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    msg = f"{seg(h)}.{seg(claims())}"
    return f"{msg}.{b64(hmac.new(key.x.encode(), msg.encode(), hashlib.sha256).digest())}"


def cases():
    yield "signed by the first published key", A.sign(header(A), claims()), NOW, ok()
    yield "signed by the second published key", B.sign(header(B), claims()), NOW, ok()
    yield "signed by a key that is not published", C.sign(header(C), claims()), NOW, err("unknown_key")
    yield "no kid", A.sign(header(), claims()), NOW, err("unknown_key")
    yield "kid names another published key", B.sign(header(A), claims()), NOW, err("invalid_signature")
    yield "kid as a path", A.sign(header(kid="../../../../etc/passwd"), claims()), NOW, err("unknown_key")
    yield "kid as SQL", A.sign(header(kid="' OR '1'='1"), claims()), NOW, err("unknown_key")
    yield "kid as a number", A.sign(header(kid=7), claims()), NOW, err("unknown_key")
    yield "HS256 keyed with the public key", hs256_with_public_key(A), NOW, err("unsupported_algorithm")
    yield "alg none", f"{seg({'alg': 'none', 'typ': 'at+jwt', 'kid': A.kid})}.{seg(claims())}.", NOW, err("malformed_token")
    yield "embedded jwk", A.sign(header(A, jwk=C.jwk()), claims()), NOW, err("forbidden_token_header")
    yield "jku to loopback", A.sign(header(A, jku="http://127.0.0.1/jwks.json"), claims()), NOW, err("forbidden_token_header")
    yield "typ JWT", A.sign(header(A, typ="JWT"), claims()), NOW, err("wrong_token_type")
    yield "expired beyond the leeway", A.sign(header(A), claims()), NOW + 840 + LEEWAY + 1, err("token_expired")
    yield "wrong audience", A.sign(header(A), claims(aud="other-app")), NOW, err("invalid_claims")
    token = A.sign(header(A), claims())
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    yield "signature changed", flipped, NOW, err("invalid_signature")
    yield "signed by a key published under its issuer's own kid", D.sign(header(kid=D_KID), claims()), NOW, ok()
    yield "that key named by its thumbprint instead", D.sign(header(D), claims()), NOW, err("unknown_key")


def ba_claims(**over):
    """What Better Auth's JWT plugin signs: the session's user, iat, sub, exp, iss, aud."""
    c = {
        "iat": NOW - 60, "name": "Ann", "email": "ann@example.com", "emailVerified": True,
        "image": None, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
        "id": "Xk3Vb8Qm2LpTz9RwYc4NdF7gHj1KsA5e", "sub": "Xk3Vb8Qm2LpTz9RwYc4NdF7gHj1KsA5e",
        "exp": NOW + 840, "iss": ISSUER, "aud": AUDIENCE,
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not ...}


def jwt_ok():
    return {"ok": {"sub": "Xk3Vb8Qm2LpTz9RwYc4NdF7gHj1KsA5e"}}


def jwt_cases():
    """Another issuer's JWTs, read with verify_jwt (the npm package's verifyJwt)."""
    ba = {"alg": "EdDSA", "kid": D_KID}
    yield "Better Auth's JWT plugin: no typ, the user as claims", D.sign(ba, ba_claims()), NOW, jwt_ok()
    yield "typ JWT", D.sign({**ba, "typ": "JWT"}, ba_claims()), NOW, jwt_ok()
    yield "a Latchkey access token", A.sign(header(A), claims(sub="Xk3Vb8Qm2LpTz9RwYc4NdF7gHj1KsA5e")), NOW, jwt_ok()
    yield "an audience list holding the audience", D.sign(ba, ba_claims(aud=["other", AUDIENCE])), NOW, jwt_ok()
    yield "a fractional exp", D.sign(ba, ba_claims(exp=NOW + 840.5)), NOW, jwt_ok()
    yield "Better Auth's session-cache typ", D.sign({**ba, "typ": "better-auth.session-cache+jwt"}, ba_claims()), NOW, err("wrong_token_type")
    yield "typ as a number", D.sign({**ba, "typ": 1}, ba_claims()), NOW, err("wrong_token_type")
    yield "no sub", D.sign(ba, ba_claims(sub=...)), NOW, err("invalid_claims")
    yield "an empty sub", D.sign(ba, ba_claims(sub="")), NOW, err("invalid_claims")
    yield "no exp", D.sign(ba, ba_claims(exp=...)), NOW, err("invalid_claims")
    yield "exp as a string", D.sign(ba, ba_claims(exp=str(NOW + 840))), NOW, err("invalid_claims")
    yield "another issuer", D.sign(ba, ba_claims(iss="https://elsewhere.example")), NOW, err("invalid_claims")
    yield "another audience", D.sign(ba, ba_claims(aud="other")), NOW, err("invalid_claims")
    yield "an audience list without it", D.sign(ba, ba_claims(aud=["other"])), NOW, err("invalid_claims")
    yield "expired beyond the leeway", D.sign(ba, ba_claims()), NOW + 840 + LEEWAY + 1, err("token_expired")
    yield "issued in the future", D.sign(ba, ba_claims(iat=NOW + LEEWAY + 60)), NOW, err("token_not_yet_valid")
    yield "not yet valid", D.sign(ba, ba_claims(nbf=NOW + LEEWAY + 60)), NOW, err("token_not_yet_valid")
    yield "no kid", D.sign({"alg": "EdDSA"}, ba_claims()), NOW, err("unknown_key")
    yield "signed by a key that is not published", C.sign({**ba, "kid": C.kid}, ba_claims()), NOW, err("unknown_key")
    yield "kid names another published key", C.sign(ba, ba_claims()), NOW, err("invalid_signature")
    yield "embedded jwk", D.sign({**ba, "jwk": C.jwk()}, ba_claims()), NOW, err("forbidden_token_header")
    yield "alg none", f"{seg({'alg': 'none', 'kid': D_KID})}.{seg(ba_claims())}.", NOW, err("malformed_token")
    yield "HS256 keyed with the public key", hs256_with_public_key(D), NOW, err("unsupported_algorithm")


def documents():
    yield "the published document", JWKS, 3
    yield "only keys of other types", {"keys": [RSA, {"kty": "oct", "k": "c2VjcmV0"}]}, 0
    yield "an encryption key is skipped", {"keys": [A.jwk(use="enc"), B.jwk()]}, 1
    yield "a kid of the issuer's own choosing", {"keys": [A.jwk(kid="7Qm2xBetterAuthKey")]}, 1
    yield "another key's thumbprint as a kid", {"keys": [A.jwk(kid=B.kid)]}, 1
    yield "two keys under one kid", {"keys": [A.jwk(kid="k"), B.jwk(kid="k")]}, "invalid_key"
    yield "a kid over 256 bytes", {"keys": [A.jwk(kid="k" * 257)]}, "invalid_key"
    yield "an empty kid", {"keys": [A.jwk(kid="")]}, "invalid_key"
    yield "an x that is not 32 bytes", {"keys": [A.jwk(x="AAAA")]}, "invalid_key"
    yield "more than 16 keys", {"keys": [Key(10 + i).jwk() for i in range(17)]}, "invalid_key"
    yield "no keys member", {}, "invalid_key"
    yield "not JSON", "{keys:", "invalid_key"


def main():
    out = {
        "description": "EdDSA tokens verified against a JWKS document (cases: Latchkey access tokens; jwt_cases: another issuer's JWTs, read with verify_jwt), and JWKS documents to refuse. Generated by generate_jwks.py; do not edit by hand.",
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "leeway": LEEWAY,
        "jwks": json.dumps(JWKS, separators=(",", ":")),
        "cases": [{"name": n, "token": t, "now": now, "expect": e} for n, t, now, e in cases()],
        "jwt_cases": [{"name": n, "token": t, "now": now, "expect": e} for n, t, now, e in jwt_cases()],
        "documents": [
            {"name": n, "jwks": d if isinstance(d, str) else json.dumps(d, separators=(",", ":")),
             "expect": {"keys": r} if isinstance(r, int) else {"error": r}}
            for n, d, r in documents()
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jwks.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
