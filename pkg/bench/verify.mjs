// HS256 and EdDSA verifications per second: the wasm package next to `jose`, same tokens,
// same process, same run. Not a test; prints a table (and, given BENCH_JSON=<file>, writes
// the rows there for scripts/bench).
//   npm run bench            (after scripts/build-pkg)
import { createSecretKey } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as jose from "jose";

import { hs256Verifier, jwksVerifier } from "latchkey";

const secs = Number(process.env.BENCH_SECS ?? 2);
const vectors = (name) => JSON.parse(readFileSync(new URL(`../../tests/vectors/${name}`, import.meta.url), "utf8"));
const hs = vectors("tokens.json");
const ed = vectors("jwks.json");
const hsCase = hs.cases.find((c) => c.name === "a valid token");
const edCase = ed.cases.find((c) => c.name === "signed by the first published key");

function rate(label, fn) {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let n = 0;
  const start = performance.now();
  const end = start + secs * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
  }
  const perSec = n / ((performance.now() - start) / 1000);
  return { label, perSec };
}

async function rateAsync(label, fn) {
  for (let i = 0; i < 2000; i++) await fn();
  let n = 0;
  const start = performance.now();
  const end = start + secs * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 500; i++) await fn();
    n += 500;
  }
  return { label, perSec: n / ((performance.now() - start) / 1000) };
}

const opts = { issuer: hs.issuer, audience: hs.audience };
const lkHs = hs256Verifier(hs.secret, { ...opts, leewaySecs: 30 });
const lkEd = jwksVerifier(ed.jwks, { issuer: ed.issuer, audience: ed.audience });
const check = (r) => {
  if (!r.ok) throw new Error(JSON.stringify(r));
};
check(lkHs.verify(hsCase.token, hsCase.now));
check(lkEd.verify(edCase.token, edCase.now));

const hsKey = createSecretKey(Buffer.from(hs.secret));
const jwks = jose.createLocalJWKSet(JSON.parse(ed.jwks));
const joseOpts = (v, now) => ({ issuer: v.issuer, audience: v.audience, typ: "at+jwt", currentDate: new Date(now * 1000) });
await jose.jwtVerify(hsCase.token, hsKey, { ...joseOpts(hs, hsCase.now), algorithms: ["HS256"] });
await jose.jwtVerify(edCase.token, jwks, { ...joseOpts(ed, edCase.now), algorithms: ["EdDSA"] });

const rows = [
  rate("latchkey (wasm) HS256", () => lkHs.verify(hsCase.token, hsCase.now)),
  await rateAsync("jose (node:crypto) HS256", () =>
    jose.jwtVerify(hsCase.token, hsKey, { ...joseOpts(hs, hsCase.now), algorithms: ["HS256"] })),
  rate("latchkey (wasm) EdDSA", () => lkEd.verify(edCase.token, edCase.now)),
  await rateAsync("jose (node:crypto) EdDSA", () =>
    jose.jwtVerify(edCase.token, jwks, { ...joseOpts(ed, edCase.now), algorithms: ["EdDSA"] })),
];
console.log(`Node ${process.version}, ${secs} s per row, one thread`);
console.log("| verifier | verifications/s | µs each |");
console.log("|---|---:|---:|");
if (process.env.BENCH_JSON) {
  writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, secs, rows }, null, 2));
}
for (const { label, perSec } of rows) {
  console.log(`| ${label} | ${Math.round(perSec).toLocaleString("en")} | ${(1e6 / perSec).toFixed(1)} |`);
}
