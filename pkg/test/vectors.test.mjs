// Every case in tests/vectors/, run through the built package exactly as a user imports it.
// The native core runs the same files (crates/core); both must give the same answers.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as latchkey from "latchkey";
import * as forms from "latchkey/forms";

const vectors = (name) => JSON.parse(readFileSync(new URL(`../../tests/vectors/${name}`, import.meta.url), "utf8"));

/** Runs `cases` and fails once, listing every case that disagrees. */
function agree(cases, check) {
  const failures = [];
  for (const c of cases) {
    const problem = check(c);
    if (problem) failures.push(`${c.name ?? JSON.stringify(c).slice(0, 80)}: ${problem}`);
  }
  assert.deepEqual(failures, []);
  assert.ok(cases.length > 0);
}

const codeOf = (fn) => {
  try {
    fn();
    return "no error";
  } catch (err) {
    return latchkey.isLatchkeyError(err) ? err.code : `unexpected ${err}`;
  }
};

const tokenAnswer = (got, expect) => {
  if (expect.ok) return got.ok && got.claims.sub === expect.ok.sub && got.claims.sid === expect.ok.sid ? null : JSON.stringify(got);
  return !got.ok && got.error.code === expect.error ? null : JSON.stringify(got);
};

test("tokens.json: HS256 verification", () => {
  const v = vectors("tokens.json");
  const verifier = latchkey.hs256Verifier(v.secret, { issuer: v.issuer, audience: v.audience, leewaySecs: v.leeway });
  assert.equal(verifier.algorithm, "HS256");
  agree(v.cases, (c) => tokenAnswer(verifier.verify(c.token, c.now), c.expect));
});

test("jwks.json: EdDSA verification against a JWKS, and documents to refuse", () => {
  const v = vectors("jwks.json");
  const verifier = latchkey.jwksVerifier(v.jwks, { issuer: v.issuer, audience: v.audience, leewaySecs: v.leeway });
  assert.equal(verifier.algorithm, "EdDSA");
  agree(v.cases, (c) => tokenAnswer(verifier.verify(c.token, c.now), c.expect));
  // Another issuer's JWTs (Better Auth's JWT plugin), read with verifyJwt.
  agree(v.jwt_cases, (c) => {
    const got = verifier.verifyJwt(c.token, c.now);
    if ("ok" in c.expect) return got.ok && got.claims.sub === c.expect.ok.sub ? null : JSON.stringify(got);
    return !got.ok && got.error.code === c.expect.error ? null : JSON.stringify(got);
  });
  // The parsed object works as well as the text.
  const fromObject = latchkey.jwksVerifier(JSON.parse(v.jwks), { issuer: v.issuer, audience: v.audience });
  assert.equal(fromObject.verify(v.cases[0].token, v.cases[0].now).ok, true);
  agree(v.documents, (d) => {
    if ("error" in d.expect) {
      const code = codeOf(() => latchkey.jwksVerifier(d.jwks));
      return code === d.expect.error ? null : code;
    }
    const verifier = latchkey.jwksVerifier(d.jwks, { issuer: v.issuer, audience: v.audience });
    return verifier ? null : "no verifier";
  });
});

test("verifyJwt hands another issuer's big numbers over as JSON.parse reads them", async () => {
  const { generateKeyPair, exportJWK, SignJWT } = await import("jose");
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "a-random-kid", alg: "EdDSA", use: "sig" };
  const issuer = "https://ba.example.com";
  const token = await new SignJWT({ big: 12345678901234567890, nested: { low: -9007199254740993, list: [2 ** 60] } })
    .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid })
    .setIssuer(issuer)
    .setAudience(issuer)
    .setSubject("Xk3pQ9vTz7LmN2bR8sYw4HdJ6cFa1EgU")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);
  const got = latchkey.jwksVerifier({ keys: [jwk] }, { issuer, audience: issuer }).verifyJwt(token);
  assert.equal(got.ok, true, JSON.stringify(got));
  assert.deepEqual(got.claims, JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()));
});

test("assess.json: valid, refresh or refuse", () => {
  const t = vectors("tokens.json");
  const verifier = latchkey.hs256Verifier(t.secret, { issuer: t.issuer, audience: t.audience, leewaySecs: t.leeway });
  const byName = new Map(t.cases.map((c) => [c.name, c.token]));
  agree(vectors("assess.json").cases, (c) => {
    const token = c.tokenCase === null ? null : byName.get(c.tokenCase);
    const got = verifier.assess(token, c.margin, c.now);
    const e = c.expect;
    if (got.action !== e.action) return JSON.stringify(got);
    if (e.action === "refresh" && (got.claims !== null) !== e.claims) return JSON.stringify(got);
    if (e.action === "refuse" && got.error.code !== e.error) return JSON.stringify(got);
    return null;
  });
});

test("cookies.json: modes, Set-Cookie lines, reading, CSRF and trusted origins", () => {
  const v = vectors("cookies.json");
  const mode = (m) => latchkey.authCookies(m === "secure" ? "https://app.example.com" : "http://localhost:3000");
  agree(v.modes, (c) => {
    if (c.error) {
      const code = codeOf(() => latchkey.authCookies(c.publicUrl));
      return code === c.error ? null : code;
    }
    const got = latchkey.authCookies(c.publicUrl).mode;
    return got === c.mode ? null : got;
  });
  agree(v.build, (c) => {
    const got = mode(c.mode).setCookie(c.kind, c.value, c.maxAge);
    if (c.error) return !got.ok && got.error.code === c.error ? null : JSON.stringify(got);
    return got.ok && got.setCookie === c.setCookie ? null : JSON.stringify(got);
  });
  agree(v.clear, (c) => {
    const got = mode(c.mode).clearCookie(c.kind);
    return got === c.setCookie ? null : got;
  });
  agree(v.read, (c) => {
    const got = mode(c.mode).read(c.header, c.kind);
    if (c.error) return !got.ok && got.error.code === c.error ? null : JSON.stringify(got);
    return got.ok && got.value === c.value ? null : JSON.stringify(got);
  });
  const trusted = latchkey.trustedOrigins(v.trustedOrigins);
  agree(v.csrf, (c) => {
    const got = trusted.check(c.method, c.origin, c.secFetchSite);
    if (got.ok !== c.ok) return JSON.stringify(got);
    return got.ok || got.error.code === "csrf_rejected" ? null : JSON.stringify(got);
  });
});

test("refresh.json: derivation, hashing, the rotation rule and token shapes", () => {
  const v = vectors("refresh.json");
  agree(v.derivations, (c) => {
    const got = latchkey.deriveRefreshToken(v.secret, c.sessionId, c.seed, c.generation);
    if (!got.ok || got.token !== c.token) return JSON.stringify(got);
    return latchkey.hashRefreshToken(c.token) === c.hash ? null : "hash differs";
  });
  agree(v.decisions, (c) => {
    const got = latchkey.decideRefresh(c.session, c.token, c.now, v.policy);
    const [action, detail] = Object.entries(c.expect)[0];
    if (action === "error") return !got.ok && got.error.code === detail ? null : JSON.stringify(got);
    if (!got.ok || got.action !== action) return JSON.stringify(got);
    if (action === "rotate" && (got.generation !== detail.generation || got.expiresAtMs !== detail.expiresAtMs)) return JSON.stringify(got);
    if (action === "resend" && got.generation !== detail.generation) return JSON.stringify(got);
    return null;
  });
  agree(v.shapes, (c) => (latchkey.refreshTokenShape(c.token).ok === c.ok ? null : "disagrees"));
});

test("password-policy.json: the sign-up rules (latchkey/forms)", () => {
  agree(vectors("password-policy.json").cases, (c) => {
    const got = forms.checkPassword(c.password, c.email, c.minChars, { name: c.name, contextWords: c.contextWords });
    const code = got.ok ? "ok" : got.error.code;
    return code === c.expect ? null : code;
  });
  assert.deepEqual(forms.normalizeEmail("  Ann@EXAMPLE.com "), { ok: true, email: "Ann@example.com" });
  assert.equal(forms.normalizeEmail("no-at-sign").error.code, "invalid_email");
});

test("error-codes.json: the package knows exactly the server's codes", () => {
  assert.deepEqual(latchkey.errorCodes(), vectors("error-codes.json").codes);
});

test("nothing a caller passes makes it throw or trap", () => {
  const t = vectors("tokens.json");
  const verifier = latchkey.hs256Verifier(t.secret, { issuer: t.issuer, audience: t.audience });
  for (const bad of [undefined, null, 42, {}, [], "", "a.b.c", "\u0000", "x".repeat(100_000)]) {
    assert.equal(verifier.verify(bad).ok, false);
    assert.notEqual(verifier.assess(bad, 60).action, "valid");
    assert.equal(latchkey.decodeUnverified(bad).ok, false);
  }
  assert.equal(verifier.verify(t.cases[0].token, Number.NaN).error.code, "invalid_request");
  const cookies = latchkey.authCookies("https://app.example.com");
  assert.equal(cookies.setCookie("access", "a\r\nb", 60).ok, false);
  assert.equal(cookies.read(undefined, "access").value, null);
  assert.equal(codeOf(() => cookies.name("other")), "invalid_request");
  assert.equal(codeOf(() => latchkey.trustedOrigins(["https://*.example.com"])), "invalid_request");
  assert.equal(codeOf(() => latchkey.hs256Verifier("short")), "weak_secret");
});
