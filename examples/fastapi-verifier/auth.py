"""Verifying Latchkey access tokens in a FastAPI backend: the dependency that replaces the
seeds' `jwt.decode(token, BETTER_AUTH_SECRET, algorithms=["HS256"])`.

That call rejects every Latchkey token: Latchkey's tokens carry an audience (`aud`), and
PyJWT refuses a token with `aud` when no audience is given (InvalidAudienceError). Naming
the audience and the issuer is the point, not a workaround: a token Latchkey issued for
another app (another LATCHKEY_AUDIENCE) must not open this one.

Two ways, chosen by the server's LATCHKEY_JWT_ALG:
- HS256: the shared secret (LATCHKEY_SECRET, or BETTER_AUTH_SECRET as the seeds call it).
- EdDSA: the public keys from Latchkey's `/.well-known/jwks.json` and nothing else; this
  backend then holds no secret at all. `Jwks` picks the key by the token's `kid` and
  fetches the set again when it meets a new one (after `latchkey keys generate`), but at
  most once a minute: a `kid` is whatever the caller wrote, so refetching for every
  unknown one would let anyone make this backend call Latchkey once per forged token.
  HS256 hands this backend LATCHKEY_SECRET itself, which also keys the Next.js bridge's
  client-address attestations: prefer EdDSA for any backend but that app (README.md).

A verified token is trusted until its `exp` (15 minutes by default): this backend does not
see a sign-out. Where that matters (changing a password, deleting data), ask Latchkey's
`GET /api/v1/auth/me` with the same token, which refuses an ended session.
"""

import os
import threading
import time
from dataclasses import dataclass

import jwt  # PyJWT, with `cryptography` for EdDSA
from fastapi import HTTPException, Request, status

# What every Latchkey access token carries; one missing is a token from something else.
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "sid"]
# Latchkey's clock and this one may differ a little.
LEEWAY_SECONDS = 5


class Jwks:
    """Latchkey's public keys by `kid`, fetched with PyJWKClient, with the fetches limited.

    PyJWKClient.get_signing_key_from_jwt fetches the whole set again for every `kid` it does
    not know (the older PyJWT 2.x releases requirements.txt allows have no limit on that;
    newer ones' `cooldown_duration` does not start after a failed fetch), so each forged
    token with a made-up `kid` would cost one blocking request to Latchkey. Here every
    fetch, a failed one included, starts a window of `min_interval` seconds in which no
    other is made: an unknown `kid` in that window is just an invalid token (401). So a flood costs Latchkey one request a minute, and a key
    Latchkey has newly published is found at the first token carrying it after the window
    (Latchkey publishes a key an hour before it signs with it, and the set is refreshed
    every `lifespan` seconds anyway, so normally it is already known).
    """

    def __init__(self, url, *, lifespan=300.0, min_interval=60.0, timeout=5.0, clock=time.monotonic):
        # Only its fetch and parsing are used; the caching, and when to fetch, are ours.
        self.client = jwt.PyJWKClient(url, cache_keys=False, cache_jwk_set=False, timeout=timeout)
        self.lifespan = lifespan
        self.min_interval = min_interval
        self.clock = clock
        self._keys = None  # kid -> PyJWK, from the last successful fetch
        self._fetched_at = None  # that fetch
        self._tried_at = None  # the last fetch, successful or not
        # One fetch at a time: requests arriving meanwhile wait for its keys, not fetch too.
        self._lock = threading.Lock()

    def signing_key(self, token):
        """The PyJWK for the token's `kid`; PyJWKClientError (a PyJWTError) when there is
        none, PyJWKClientConnectionError when no set could be fetched."""
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise jwt.PyJWKClientError("the token names no key")
        with self._lock:
            now = self.clock()
            stale = self._keys is None or now - self._fetched_at >= self.lifespan
            may_fetch = self._tried_at is None or now - self._tried_at >= self.min_interval
            if (stale or kid not in self._keys) and may_fetch:
                self._tried_at = now
                # A failure propagates (503), but stale keys, if any, serve the window after it.
                keys = self.client.get_signing_keys()
                self._keys = {key.key_id: key for key in keys}
                self._fetched_at = now
            if self._keys is None:
                raise jwt.PyJWKClientConnectionError("Latchkey's JWKS could not be fetched lately")
            key = self._keys.get(kid)
        if key is None:
            raise jwt.PyJWKClientError("no published key has this kid")
        return key


@dataclass(frozen=True)
class User:
    id: str
    email: str | None
    session_id: str


class Verifier:
    """Checks an access token: signature with the pinned algorithm, `typ` at+jwt (RFC 9068,
    so an ID token or another JWT signed with the same key is not taken for one), issuer,
    audience, expiry."""

    def __init__(self, *, issuer, audience, secret=None, jwks_url=None):
        if (secret is None) == (jwks_url is None):
            raise ValueError("give the HS256 secret or the JWKS URL, not both")
        self.issuer = issuer
        self.audience = audience
        self.secret = secret
        self.jwks = Jwks(jwks_url) if jwks_url else None
        self.algorithm = "HS256" if secret is not None else "EdDSA"

    @classmethod
    def from_env(cls):
        """HS256 when LATCHKEY_SECRET (or BETTER_AUTH_SECRET) is set, else EdDSA through
        LATCHKEY_JWKS_URL; LATCHKEY_ISSUER and LATCHKEY_AUDIENCE as the server has them."""
        secret = os.environ.get("LATCHKEY_SECRET") or os.environ.get("BETTER_AUTH_SECRET")
        return cls(
            issuer=os.environ.get("LATCHKEY_ISSUER", "latchkey"),
            audience=os.environ.get("LATCHKEY_AUDIENCE", "latchkey"),
            secret=secret,
            jwks_url=None if secret else os.environ["LATCHKEY_JWKS_URL"],
        )

    def verify(self, token):
        """The token's user, or jwt.PyJWTError."""
        if jwt.get_unverified_header(token).get("typ") != "at+jwt":
            raise jwt.InvalidTokenError("not an access token")
        key = self.secret if self.jwks is None else self.jwks.signing_key(token).key
        claims = jwt.decode(
            token,
            key,
            algorithms=[self.algorithm],  # never from the token's own header
            audience=self.audience,
            issuer=self.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        return User(id=claims["sub"], email=claims.get("email"), session_id=claims["sid"])


def current_user(request: Request) -> User:
    """The FastAPI dependency: 401 without a valid bearer token. The reason stays in this
    process (it is no business of the caller's), and the token is never logged."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    try:
        return request.app.state.verifier.verify(token)
    except jwt.PyJWKClientConnectionError:
        # Latchkey's JWKS out of reach says nothing about the token: try again later.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="jwks_unavailable") from None
    except (jwt.PyJWTError, ValueError):
        raise _unauthorized() from None


def _unauthorized():
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid_token",
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
