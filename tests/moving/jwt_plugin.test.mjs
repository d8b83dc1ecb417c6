// Issue 21 item 5: during a switch an app still meets tokens from the system it is leaving.
// A token minted by Better Auth's JWT plugin (EdDSA, a random kid) verifies through Better
// Auth's own /api/auth/jwks with the package's jwksVerifier, read with verifyJwt; the strict
// access-token path still refuses it, and a tampered one is refused.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import * as latchkey from "../../pkg/dist/index.js";

import { betterAuthVersion, startBetterAuth } from "./better-auth.mjs";

let ba;
before(async () => {
  console.log(`better-auth ${betterAuthVersion()}`);
  const dir = mkdtempSync(join(tmpdir(), "latchkey-ba-jwt-"));
  ba = await startBetterAuth({
    database: { sqlite: join(dir, "ba.db") },
    secret: randomBytes(32).toString("hex"),
    jwtPlugin: true,
  });
});
after(() => ba?.close());

test("a token from Better Auth's JWT plugin verifies through its own JWKS", async () => {
  const { user, cookie } = await ba.signUp("jwt-user@example.com", "correct horse battery", "Jwt User");
  const token = await ba.get("/token", cookie);
  assert.equal(token.status, 200);
  const jwks = await ba.get("/jwks");
  assert.equal(jwks.status, 200);
  const [key] = jwks.json.keys;
  assert.equal(key.crv, "Ed25519");
  // Better Auth names its keys with random ids, not RFC 7638 thumbprints.
  assert.doesNotMatch(key.kid, /^[A-Za-z0-9_-]{43}$/);

  const verifier = latchkey.jwksVerifier(jwks.json, { issuer: ba.url, audience: ba.url });
  const got = verifier.verifyJwt(token.json.token);
  assert.equal(got.ok, true, JSON.stringify(got));
  assert.equal(got.claims.sub, user.id);
  assert.equal(got.claims.email, "jwt-user@example.com");

  // Not a Latchkey access token: the strict path keeps refusing it.
  assert.equal(verifier.verify(token.json.token).error.code, "wrong_token_type");
  // Another audience, and a changed signature, are refused.
  const other = latchkey.jwksVerifier(jwks.json, { issuer: ba.url, audience: "https://elsewhere.example" });
  assert.equal(other.verifyJwt(token.json.token).error.code, "invalid_claims");
  const t = token.json.token;
  const flipped = t.slice(0, -3) + (t.at(-3) === "A" ? "B" : "A") + t.slice(-2);
  assert.equal(verifier.verifyJwt(flipped).error.code, "invalid_signature");
});
