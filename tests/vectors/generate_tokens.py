#!/usr/bin/env python3
"""Writes tokens.json: access-token verification cases both targets must agree on.

Standard library only (hmac, hashlib, base64, json), so the forgeries are built independently
of the Rust JWT library under test. Run: python3 tests/vectors/generate_tokens.py
"""
import base64
import hashlib
import hmac
import json
import os

SECRET = "vector-secret-0123456789abcdef-0123456789abcdef"
OTHER_SECRET = "another-secret-0123456789abcdef-0123456789abcde"
ISSUER = "latchkey"
AUDIENCE = "my-app"  # distinct from ISSUER, so a swap of the two is caught
NOW = 1_800_000_000
LEEWAY = 30


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seg(obj) -> str:
    raw = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))
    return b64(raw.encode())


def sign(header, payload, secret=SECRET):
    msg = f"{seg(header)}.{seg(payload)}"
    sig = hmac.new(secret.encode(), msg.encode(), hashlib.sha256).digest()
    return f"{msg}.{b64(sig)}"


def claims(**over):
    c = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "sid": "session-1",
        "email": "ann@example.com",
        "email_verified": False,
        "iat": NOW - 60,
        "nbf": NOW - 60,
        "exp": NOW + 840,
        "jti": "jti-1",
    }
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


HDR = {"alg": "HS256", "typ": "at+jwt"}
cases = []


def ok(name, token, now=NOW, sub="user-1"):
    cases.append({"name": name, "token": token, "now": now, "expect": {"ok": {"sub": sub, "sid": "session-1"}}})


def err(name, token, code, now=NOW):
    cases.append({"name": name, "token": token, "now": now, "expect": {"error": code}})


valid = sign(HDR, claims())
ok("a valid token", valid)
ok("typ in media-type form", sign({"alg": "HS256", "typ": "application/at+jwt"}, claims()))
ok("aud as a one-element array", sign(HDR, claims(aud=[AUDIENCE])))
# Imported users keep the ids they had (latchkey import): a subject need not be a UUID.
for imported in ["Xk3pQ9vTz7LmN2bR8sYw4HdJ6cFa1EgU", "auth0|5f7c8ec7c33c6c004bbafe82", "42"]:
    ok(f"an imported user's id as the subject: {imported}", sign(HDR, claims(sub=imported)), sub=imported)
ok("expired but within the leeway", valid, now=NOW + 840 + LEEWAY)
err("expired beyond the leeway", valid, "token_expired", now=NOW + 840 + LEEWAY + 1)
err("exp in the past", sign(HDR, claims(exp=NOW - 3600)), "token_expired")
err("nbf in the future", sign(HDR, claims(nbf=NOW + 3600)), "token_not_yet_valid")
ok("nbf in the future but within the leeway", sign(HDR, claims(nbf=NOW + LEEWAY)))
err("nbf just beyond the leeway", sign(HDR, claims(nbf=NOW + LEEWAY + 1)), "token_not_yet_valid")
err("missing nbf", sign(HDR, claims(nbf=None)), "invalid_claims")
err("missing iat", sign(HDR, claims(iat=None)), "invalid_claims")
err("iss and aud swapped", sign(HDR, claims(iss=AUDIENCE, aud=ISSUER)), "invalid_claims")
err("iat in the future", sign(HDR, claims(iat=NOW + 3600)), "token_not_yet_valid")
err("string exp", sign(HDR, claims(exp=str(NOW + 840))), "invalid_claims")
err("fractional exp", sign(HDR, claims(exp=NOW + 840.5)), "invalid_claims")
err("missing exp", sign(HDR, claims(exp=None)), "invalid_claims")
err("missing iss", sign(HDR, claims(iss=None)), "invalid_claims")
err("missing aud", sign(HDR, claims(aud=None)), "invalid_claims")
err("missing sub", sign(HDR, claims(sub=None)), "invalid_claims")
err("missing sid", sign(HDR, claims(sid=None)), "invalid_claims")
err("wrong issuer", sign(HDR, claims(iss="someone-else")), "invalid_claims")
err("wrong audience", sign(HDR, claims(aud="another-app")), "invalid_claims")
err("two audiences", sign(HDR, claims(aud=[AUDIENCE, "x"])), "invalid_claims")
err("signed with another secret", sign(HDR, claims(), OTHER_SECRET), "invalid_signature")

h, p, s = valid.split(".")
sig = bytearray(base64.urlsafe_b64decode(s + "=="))
sig[0] ^= 0x01
err("signature with one bit flipped", f"{h}.{p}.{b64(bytes(sig))}", "invalid_signature")
err("payload swapped under a valid signature", f"{h}.{seg(claims(sub='admin'))}.{s}", "invalid_signature")
err("signature stripped", f"{h}.{p}.", "malformed_token")

for alg in ["none", "None", "NONE", "nOnE"]:
    hdr = {"alg": alg, "typ": "at+jwt"}
    err(f"alg {alg} with no signature", f"{seg(hdr)}.{seg(claims())}.", "malformed_token")
    err(f"alg {alg} with a signature", sign(hdr, claims()), "unsupported_algorithm")
err("alg HS512", sign({"alg": "HS512", "typ": "at+jwt"}, claims()), "unsupported_algorithm")
err("alg hs256 lower-case", sign({"alg": "hs256", "typ": "at+jwt"}, claims()), "unsupported_algorithm")
err("alg RS256 (key confusion)", sign({"alg": "RS256", "typ": "at+jwt"}, claims()), "unsupported_algorithm")
err("alg missing", sign({"typ": "at+jwt"}, claims()), "unsupported_algorithm")
err("alg as a list", sign({"alg": ["HS256"], "typ": "at+jwt"}, claims()), "unsupported_algorithm")

jwk = {"kty": "oct", "k": b64(SECRET.encode())}
err("embedded jwk", sign({**HDR, "jwk": jwk}, claims()), "forbidden_token_header")
err("jku to loopback", sign({**HDR, "jku": "http://127.0.0.1:9/jwks.json"}, claims()), "forbidden_token_header")
err("x5u", sign({**HDR, "x5u": "http://127.0.0.1:9/cert.pem"}, claims()), "forbidden_token_header")
err("x5c", sign({**HDR, "x5c": ["MIIB"]}, claims()), "forbidden_token_header")
err("crit", sign({**HDR, "crit": ["exp"]}, claims()), "forbidden_token_header")
err("typ JWT (not an access token)", sign({"alg": "HS256", "typ": "JWT"}, claims()), "wrong_token_type")
err("typ missing", sign({"alg": "HS256"}, claims()), "wrong_token_type")
def header_of_size(n):
    base = json.dumps({**HDR, "pad": ""}, separators=(",", ":"))
    return {**HDR, "pad": "x" * (n - len(base))}


assert len(seg(header_of_size(8192))) > 0
ok("header of exactly 8192 bytes", sign(header_of_size(8192), claims()))
err("header of 8193 bytes", sign(header_of_size(8193), claims()), "malformed_token")
err("header far over the limit", sign({**HDR, "pad": "x" * 20000}, claims()), "malformed_token")

err("empty string", "", "malformed_token")
err("garbage", "not a token", "malformed_token")
err("two segments", f"{h}.{p}", "malformed_token")
err("four segments", f"{valid}.{s}", "malformed_token")
err("padding characters", f"{h}=.{p}.{s}", "malformed_token")
err("standard base64 alphabet", f"{h}.{p}.{s}+/", "malformed_token")
err("JSON serialization", json.dumps({"protected": h, "payload": p, "signature": s}), "malformed_token")
err("header is not JSON", f"{b64(b'not json')}.{p}.{s}", "malformed_token")
err("header is a JSON array", f"{seg([1, 2])}.{p}.{s}", "malformed_token")
err("payload is not JSON", sign(HDR, "not json"), "invalid_claims")
err("non-ASCII in token", f"{h}.{p}.{s}é", "malformed_token")
err("NUL in token", f"{h}.{p}\u0000.{s}", "malformed_token")
err("whitespace around token", f" {valid} ", "malformed_token")
err("bearer prefix left on", f"Bearer {valid}", "malformed_token")

doc = {
    "description": "Access-token verification cases. Generated by generate_tokens.py; do not edit by hand.",
    "secret": SECRET,
    "issuer": ISSUER,
    "audience": AUDIENCE,
    "leeway": LEEWAY,
    "cases": cases,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokens.json")
with open(out, "w") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write("\n")
print(f"wrote {len(cases)} cases to {out}")
