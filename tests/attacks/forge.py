"""Builds the tokens described in tests/attacks/tokens.json.

A case is a recipe (header and claims changes, a way to sign, a mutation of the finished
token) rather than a token, because a token that must not fail for the wrong reason needs a
current `exp`. pkg/test/attacks.test.mjs builds the same recipes in Node for the wasm
verifier; the two builders follow the same steps, in the same order:

1. header {alg, typ: at+jwt, kid (EdDSA)} and claims {iss aud sub sid email email_verified
   iat nbf exp jti}, then the case's `header`, `claims`, `claims_null` and `times` changes
   (a null in `header`/`claims` removes the member; `times` are seconds from now);
2. padding (`pad_claims_to`, `pad_header_to`), raw segments (`raw_header`, `raw_payload`);
3. the signature (`sign`), over `header.payload`;
4. changes after signing (`tamper`, `tamper_times`, `tamper_header`), then `mutate`.
"""
import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def ed25519_jwk(private: Ed25519PrivateKey) -> dict:
    """The public JWK of `private`, with its RFC 7638 thumbprint as `kid` (as Latchkey names keys)."""
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = b64(raw)
    thumbprint = b64(hashlib.sha256(compact({"crv": "Ed25519", "kty": "OKP", "x": x})).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint, "alg": "EdDSA", "use": "sig"}


class Keys:
    """What one configuration signs with, and what an attacker holds.

    alg: "HS256" or "EdDSA"; secret: the server's LATCHKEY_SECRET (bytes); ed_private: the
    server's Ed25519 key (EdDSA only); jwks_json: the JWKS text the verifier trusts (EdDSA).
    """

    def __init__(self, alg, secret, ed_private=None, jwks_json=None):
        self.alg = alg
        self.secret = secret
        self.ed_private = ed_private
        self.jwks_json = jwks_json
        self.kid = ed25519_jwk(ed_private)["kid"] if ed_private else None
        self.attacker_ed = Ed25519PrivateKey.generate()
        self.attacker_jwk = ed25519_jwk(self.attacker_ed)
        self.attacker_secret = os.urandom(32)

    def material(self, name: str) -> bytes:
        """The bytes an attacker might try as an HMAC key."""
        public = self.ed_private.public_key() if self.ed_private else self.attacker_ed.public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        jwks = self.jwks_json or json.dumps({"keys": [ed25519_jwk(self.attacker_ed)]})
        try:
            with open("/etc/passwd", "rb") as f:
                passwd = f.read()
        except OSError:
            passwd = b"root:x:0:0:root:/root:/bin/sh\n"
        return {
            "ed25519_public_raw": raw,
            "ed25519_public_x": b64(raw).encode(),
            "jwks_json": jwks.encode(),
            "jwk_json": compact(json.loads(jwks)["keys"][0]),
            "public_pem": pem,
            "public_pem_stripped": pem.strip(),
            "server_secret": self.secret,
            "empty": b"",
            "etc_passwd": passwd,
            "literal_attacker_secret": b"attacker-secret",
        }[name]


def substitute(value, values: dict):
    """Replaces "{name}" placeholders; a string that is exactly one placeholder may become an object."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in values:
            return values[value[1:-1]]
        for name, replacement in values.items():
            if isinstance(replacement, str):
                value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, values) for k, v in value.items()}
    return value


def apply(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def build(case: dict, keys: Keys, subject: dict, now: int, values: dict) -> str:
    """The token `case` describes, for `subject` ({sub, sid, email, email_verified}) at `now`."""
    values = dict(values, alg=keys.alg, alg_lower=keys.alg.lower(), kid=keys.kid or "",
                  attacker_kid=keys.attacker_jwk["kid"], attacker_jwk=keys.attacker_jwk)
    if "raw_token" in case:
        return substitute(case["raw_token"], values)

    header = {"alg": keys.alg, "typ": "at+jwt"}
    if keys.kid:
        header["kid"] = keys.kid
    header = apply(header, substitute(case.get("header", {}), values))
    claims = {"iss": "latchkey", "aud": "latchkey", **subject,
              "iat": now, "nbf": now, "exp": now + 300, "jti": os.urandom(8).hex()}
    claims = apply(claims, substitute(case.get("claims", {}), values))
    for name in case.get("claims_null", []):
        claims[name] = None
    for name, offset in case.get("times", {}).items():
        claims[name] = now + offset
    if "pad_header_to" in case:
        header["pad"] = "x" * case["pad_header_to"]

    def encode_header(h):
        return b64(substitute(case["raw_header"], values).encode()) if "raw_header" in case else b64(compact(h))

    def encode_payload(c):
        if "raw_payload" in case:
            return b64(case["raw_payload"].encode())
        text = compact(c)
        if case.get("mutate") == "duplicate_sub":
            text = text[:-1] + b',"sub":' + compact(values["other_sub"]) + b"}"
        return b64(text)

    def signed(h, p):
        return f"{h}.{p}.{b64(sign(case.get('sign', 'key'), f'{h}.{p}'.encode(), header, keys))}"

    token = signed(encode_header(header), encode_payload(claims))
    if "pad_claims_to" in case:
        # Grow a padding claim until the finished token is just over the target length.
        target = case["pad_claims_to"]
        claims["pad"] = ""
        while len(token) < target:
            claims["pad"] += "x" * max(1, (target - len(token)) * 3 // 4)
            token = signed(encode_header(header), encode_payload(claims))

    h, p, s = token.split(".")
    if "tamper" in case or "tamper_times" in case:
        changed = apply(claims, substitute(case.get("tamper", {}), values))
        for name, offset in case.get("tamper_times", {}).items():
            changed[name] = now + offset
        p = encode_payload(changed)
    if "tamper_header" in case:
        h = b64(compact(apply(header, case["tamper_header"])))
    return mutate(case.get("mutate"), h, p, s, values)


def sign(method: str, data: bytes, header: dict, keys: Keys) -> bytes:
    if method == "key":
        if keys.alg == "HS256":
            return hmac.new(keys.secret, data, hashlib.sha256).digest()
        return keys.ed_private.sign(data)
    if method == "none":
        return b""
    if method == "junk":
        return os.urandom(64)
    if method == "attacker":
        if header.get("alg") == "EdDSA":
            return keys.attacker_ed.sign(data)
        return hmac.new(keys.attacker_secret, data, hashlib.sha256).digest()
    if method == "ed25519:attacker":
        return keys.attacker_ed.sign(data)
    if method.startswith("hmac:"):
        return hmac.new(keys.material(method[5:]), data, hashlib.sha256).digest()
    raise ValueError(f"unknown sign method {method!r}")


def mutate(how, h: str, p: str, s: str, values: dict) -> str:
    flip = lambda sig: b64(bytes([unb64(sig)[0] ^ 1]) + unb64(sig)[1:]) if sig else sig  # noqa: E731
    return {
        None: f"{h}.{p}.{s}",
        "duplicate_sub": f"{h}.{p}.{s}",
        "strip_signature": f"{h}.{p}",
        "empty_signature": f"{h}.{p}.",
        "extra_dot": f"{h}.{p}.{s}.",
        "five_segments": f"{h}.{p}.{s}.AAAA.BBBB",
        "leading_dot": f".{h}.{p}.{s}",
        "double_dot": f"{h}..{p}.{s}",
        "pad_payload": f"{h}.{p}{'=' * (-len(p) % 4 or 2)}.{s}",
        "std_alphabet_signature": f"{h}.{p}.+/{s[2:]}",
        "bang_in_header": f"{h[:4]}!{h[5:]}.{p}.{s}",
        "space_in_payload": f"{h}.{p[:6]} {p[7:]}.{s}",
        "unicode_in_signature": f"{h}.{p}.{s[:-1]}é",
        "swap_signature": f"{h}.{p}.{values['other_signature']}",
        "truncate_signature": f"{h}.{p}.{b64(unb64(s)[:-1])}",
        "flip_signature_bit": f"{h}.{p}.{flip(s)}",
        "double_signature": f"{h}.{p}.{b64(unb64(s) * 2)}",
    }[how]
