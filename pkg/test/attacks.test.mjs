// The token cases of tests/attacks/tokens.json against the WebAssembly verifier, the one
// proxy.ts and getSession() use. Each case is a recipe; this file builds it with node:crypto
// the way tests/attacks/forge.py builds it for the server (same steps, same order; see the
// top of forge.py), so the edge and the server are held to the same answers.
import assert from "node:assert/strict";
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign as edSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";

import * as latchkey from "latchkey";

const corpus = JSON.parse(readFileSync(new URL("../../tests/attacks/tokens.json", import.meta.url), "utf8"));

const b64 = (bytes) => Buffer.from(bytes).toString("base64url");
const unb64 = (text) => Buffer.from(text, "base64url");
// JSON.stringify is already compact; Python's json.dumps(separators=(",", ":")) matches it.
const compact = (value) => Buffer.from(JSON.stringify(value));

function ed25519Key() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const { x } = publicKey.export({ format: "jwk" });
  const kid = b64(createHash("sha256").update(compact({ crv: "Ed25519", kty: "OKP", x })).digest());
  return { privateKey, publicKey, jwk: { kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig" } };
}

/** What one configuration signs with (the "server" side), and what the attacker holds. */
function keysFor(alg) {
  const server = ed25519Key();
  const keys = {
    alg,
    secret: Buffer.from(`attack-corpus-${randomBytes(24).toString("hex")}`),
    server,
    kid: alg === "EdDSA" ? server.jwk.kid : null,
    jwksJson: JSON.stringify({ keys: [server.jwk] }),
    attacker: ed25519Key(),
    attackerSecret: randomBytes(32),
  };
  keys.verifier =
    alg === "HS256" ? latchkey.hs256Verifier(keys.secret.toString()) : latchkey.jwksVerifier(keys.jwksJson);
  return keys;
}

function material(name, keys) {
  const raw = unb64(keys.server.jwk.x);
  const pem = keys.server.publicKey.export({ format: "pem", type: "spki" });
  let passwd;
  try {
    passwd = readFileSync("/etc/passwd");
  } catch {
    passwd = Buffer.from("root:x:0:0:root:/root:/bin/sh\n");
  }
  const table = {
    ed25519_public_raw: raw,
    ed25519_public_x: Buffer.from(keys.server.jwk.x),
    jwks_json: Buffer.from(keys.jwksJson),
    jwk_json: compact(JSON.parse(keys.jwksJson).keys[0]),
    public_pem: Buffer.from(pem),
    public_pem_stripped: Buffer.from(pem.trim()),
    server_secret: keys.secret,
    empty: Buffer.alloc(0),
    etc_passwd: passwd,
    literal_attacker_secret: Buffer.from("attacker-secret"),
  };
  if (!(name in table)) throw new Error(`unknown key material ${name}`);
  return table[name];
}

function substitute(value, values) {
  if (typeof value === "string") {
    if (value.startsWith("{") && value.endsWith("}") && value.slice(1, -1) in values) return values[value.slice(1, -1)];
    for (const [name, replacement] of Object.entries(values)) {
      if (typeof replacement === "string") value = value.replaceAll(`{${name}}`, replacement);
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, values));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values)]));
  return value;
}

function apply(base, changes) {
  const out = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

function signature(method, data, header, keys) {
  const hmac = (key) => createHmac("sha256", key).update(data).digest();
  if (method === "key") return keys.alg === "HS256" ? hmac(keys.secret) : edSign(null, data, keys.server.privateKey);
  if (method === "none") return Buffer.alloc(0);
  if (method === "junk") return randomBytes(64);
  if (method === "attacker") return header.alg === "EdDSA" ? edSign(null, data, keys.attacker.privateKey) : hmac(keys.attackerSecret);
  if (method === "ed25519:attacker") return edSign(null, data, keys.attacker.privateKey);
  if (method.startsWith("hmac:")) return hmac(material(method.slice(5), keys));
  throw new Error(`unknown sign method ${method}`);
}

function mutate(how, h, p, s, values) {
  const sig = unb64(s);
  const flipped = s ? b64(Buffer.concat([Buffer.from([sig[0] ^ 1]), sig.subarray(1)])) : s;
  const table = {
    none: `${h}.${p}.${s}`,
    duplicate_sub: `${h}.${p}.${s}`,
    strip_signature: `${h}.${p}`,
    empty_signature: `${h}.${p}.`,
    extra_dot: `${h}.${p}.${s}.`,
    five_segments: `${h}.${p}.${s}.AAAA.BBBB`,
    leading_dot: `.${h}.${p}.${s}`,
    double_dot: `${h}..${p}.${s}`,
    pad_payload: `${h}.${p}${"=".repeat((4 - (p.length % 4)) % 4 || 2)}.${s}`,
    std_alphabet_signature: `${h}.${p}.+/${s.slice(2)}`,
    bang_in_header: `${h.slice(0, 4)}!${h.slice(5)}.${p}.${s}`,
    space_in_payload: `${h}.${p.slice(0, 6)} ${p.slice(7)}.${s}`,
    unicode_in_signature: `${h}.${p}.${s.slice(0, -1)}é`,
    swap_signature: `${h}.${p}.${values.other_signature}`,
    truncate_signature: `${h}.${p}.${b64(sig.subarray(0, -1))}`,
    flip_signature_bit: `${h}.${p}.${flipped}`,
    double_signature: `${h}.${p}.${b64(Buffer.concat([sig, sig]))}`,
  };
  return table[how ?? "none"];
}

/** The token `c` describes, for `subject` at `now`. */
function build(c, keys, subject, now, baseValues) {
  const values = {
    ...baseValues,
    alg: keys.alg,
    alg_lower: keys.alg.toLowerCase(),
    kid: keys.kid ?? "",
    attacker_kid: keys.attacker.jwk.kid,
    attacker_jwk: keys.attacker.jwk,
  };
  if ("raw_token" in c) return substitute(c.raw_token, values);
  let header = { alg: keys.alg, typ: "at+jwt", ...(keys.kid ? { kid: keys.kid } : {}) };
  header = apply(header, substitute(c.header ?? {}, values));
  let claims = { iss: "latchkey", aud: "latchkey", ...subject, iat: now, nbf: now, exp: now + 300, jti: randomBytes(8).toString("hex") };
  claims = apply(claims, substitute(c.claims ?? {}, values));
  for (const name of c.claims_null ?? []) claims[name] = null;
  for (const [name, offset] of Object.entries(c.times ?? {})) claims[name] = now + offset;
  if ("pad_header_to" in c) header.pad = "x".repeat(c.pad_header_to);

  const encodeHeader = (hd) => ("raw_header" in c ? b64(Buffer.from(substitute(c.raw_header, values))) : b64(compact(hd)));
  const encodePayload = (cl) => {
    if ("raw_payload" in c) return b64(Buffer.from(c.raw_payload));
    let text = compact(cl).toString();
    if (c.mutate === "duplicate_sub") text = `${text.slice(0, -1)},"sub":${JSON.stringify(values.other_sub)}}`;
    return b64(Buffer.from(text));
  };
  const signed = (h, p) => `${h}.${p}.${b64(signature(c.sign ?? "key", Buffer.from(`${h}.${p}`), header, keys))}`;

  let token = signed(encodeHeader(header), encodePayload(claims));
  if ("pad_claims_to" in c) {
    claims.pad = "";
    while (token.length < c.pad_claims_to) {
      claims.pad += "x".repeat(Math.max(1, Math.floor(((c.pad_claims_to - token.length) * 3) / 4)));
      token = signed(encodeHeader(header), encodePayload(claims));
    }
  }
  let [h, p, s] = token.split(".");
  if ("tamper" in c || "tamper_times" in c) {
    const changed = apply(claims, substitute(c.tamper ?? {}, values));
    for (const [name, offset] of Object.entries(c.tamper_times ?? {})) changed[name] = now + offset;
    p = encodePayload(changed);
  }
  if ("tamper_header" in c) h = b64(compact(apply(header, c.tamper_header)));
  return mutate(c.mutate, h, p, s, values);
}

/** A listener that counts connections: nothing in a token may make the verifier call out. */
async function canary() {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, count: () => connections, close: () => new Promise((r) => server.close(r)) };
}

for (const alg of ["HS256", "EdDSA"]) {
  test(`tokens.json against the wasm ${alg} verifier: every forgery refused with its code`, async () => {
    const keys = keysFor(alg);
    const listener = await canary();
    const now = Math.floor(Date.now() / 1000);
    const subject = { sub: "user-victim", sid: "session-victim", email: "ann@example.com", email_verified: false };
    const other = build({}, keys, { ...subject, sub: "user-other", sid: "session-other" }, now, {});
    const values = { canary_url: listener.url, other_sub: "user-other", revoked_sid: "session-gone", other_signature: other.split(".")[2] };
    const failures = [];
    const counts = {};
    for (const c of corpus.cases) {
      if (!(c.configs ?? ["HS256", "EdDSA"]).includes(alg) || !(c.runners ?? ["server", "wasm"]).includes("wasm")) continue;
      const expect = { ...c.expect, ...(c.expect_by?.[alg] ?? {}), ...(c.expect_by?.wasm ?? {}) };
      const token = build(c, keys, subject, now, values);
      const got = keys.verifier.verify(token, now);
      const assessed = keys.verifier.assess(token, 60, now);
      let problem = null;
      if (expect.ok) {
        if (!got.ok || got.claims.sub !== subject.sub) problem = `refused: ${JSON.stringify(got.error)}`;
        else if (!["valid", "refresh"].includes(assessed.action)) problem = `assess said ${assessed.action}`;
      } else if (got.ok) {
        problem = `accepted, expected ${expect.error}`;
      } else if (got.error.code !== expect.error) {
        problem = `expected ${expect.error}, got ${got.error.code}`;
      } else if (assessed.action !== (expect.error === "token_expired" ? "refresh" : "refuse")) {
        // A forged token must never be refreshed past, only an expired one.
        problem = `assess said ${assessed.action} for ${expect.error}`;
      }
      counts[c.kind] = (counts[c.kind] ?? 0) + 1;
      if (problem) failures.push(`${c.kind}: ${c.name}: ${problem}`);
    }
    await listener.close();
    console.log(`wasm ${alg}: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(", ")}`);
    assert.deepEqual(failures, []);
    assert.equal(listener.count(), 0, "a jku/x5u canary was contacted");
    assert.ok(counts.control > 0, "the control cases ran");
  });
}

// tests/attacks/bridge.json against the cookie bridge in front of a real server: spoofed
// forwarding headers in every spelling, forged attestations, oversized and length-less bodies.
const bridgeCorpus = JSON.parse(readFileSync(new URL("../../tests/attacks/bridge.json", import.meta.url), "utf8"));

test("bridge.json: no spoofed header moves a client to another rate-limit bucket, and none is passed on", async () => {
  const { createAuthHandler } = await import("latchkey/next");
  const { SECRET, startServer } = await import("./server.mjs");
  const server = await startServer({ LATCHKEY_RATE_LIMITS: "signin_ip=3/15m", LATCHKEY_TRUSTED_PROXIES: "127.0.0.1" });
  const APP = "http://localhost:3000";
  const sent = [];
  const recording = (url, init) => {
    sent.push(new Headers(init.headers));
    return fetch(url, init);
  };
  const handler = createAuthHandler({
    apiUrl: server.url, appUrl: APP, secret: SECRET, fetch: recording, clientAddress: { header: "x-vercel-forwarded-for" },
  });
  const attestor = latchkey.clientAttestor(SECRET);
  const fill = (value, i) =>
    value
      .replaceAll("{i}", String(i))
      .replaceAll("{now}", String(Math.floor(Date.now() / 1000)))
      .replace(/\{attested:([^}]*)\}/, (_, ip) => attestor.attest(ip).header);
  const signIn = (client, headers) =>
    handler.POST(
      new Request(`${APP}/api/auth/signin`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: APP, ...headers, "x-vercel-forwarded-for": client },
        body: JSON.stringify({ email: `nobody-${randomBytes(4).toString("hex")}@example.com`, password: "wrong password!" }),
      }),
    );
  const failures = [];
  try {
    for (const [k, c] of bridgeCorpus.spoofed.entries()) {
      const client = `198.51.100.${k + 1}`;
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const headers = Object.fromEntries(Object.entries(c.headers).map(([n, v]) => [n, fill(v, i + 1)]));
        statuses.push((await signIn(client, headers)).status);
      }
      const other = (await signIn(`198.51.100.${k + 101}`, {})).status;
      if (statuses.join() !== "401,401,401,429" || other !== 401) failures.push(`${c.name}: ${statuses.join()} then another client ${other}`);
    }
    for (const headers of sent) {
      for (const name of bridgeCorpus.never_passed_on) {
        if (headers.has(name)) failures.push(`${name} was passed on`);
      }
      const attested = attestor.verify(headers.get("latchkey-client-address") ?? "");
      if (!attested.ok || !attested.address.startsWith("198.51.100.")) failures.push(`attestation ${JSON.stringify(attested)}`);
    }
  } finally {
    server.stop();
  }
  assert.deepEqual(failures, []);
  assert.equal(sent.length, bridgeCorpus.spoofed.length * 5);
});

test("bridge.json: oversized and length-less bodies are refused while they stream", async () => {
  const { createAuthHandler } = await import("latchkey/next");
  const { SECRET } = await import("./server.mjs");
  const APP = "http://localhost:3000";
  let calls = 0;
  // Nothing over the cap may reach the server; a call would be a failure.
  const handler = createAuthHandler({ apiUrl: "http://127.0.0.1:9", appUrl: APP, secret: SECRET, fetch: () => (calls++, Promise.reject(new Error("called"))) });
  const failures = [];
  for (const c of bridgeCorpus.bodies) {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let pulled = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (pulled >= c.offered) return controller.close();
        const n = Math.min(chunk.byteLength, c.offered - pulled);
        pulled += n;
        controller.enqueue(chunk.slice(0, n));
      },
    }, { highWaterMark: 0 });
    const headers = { "content-type": "application/json", origin: APP };
    if (c.declare_length) headers["content-length"] = c.declare_length;
    const res = await handler[c.method](new Request(`${APP}/api/auth/${c.op}`, { method: c.method, headers, body, duplex: "half" }));
    const got = { status: res.status, error: (await res.json().catch(() => ({}))).error };
    if (got.status !== c.expect.status || got.error !== c.expect.error) failures.push(`${c.name}: got ${JSON.stringify(got)}`);
    if (pulled > c.max_pulled) failures.push(`${c.name}: read ${pulled} bytes`);
  }
  assert.deepEqual(failures, []);
  assert.equal(calls, 0);
});
