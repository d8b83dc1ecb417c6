// The package loads and verifies a token as plain ESM, as CommonJS, and in a sandbox with
// nothing but Web APIs (no require, no process, no fs, no Buffer), the way an edge runtime
// or a worker would run it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import vm from "node:vm";

import { hs256Verifier } from "latchkey";

const t = JSON.parse(readFileSync(new URL("../../tests/vectors/tokens.json", import.meta.url), "utf8"));
const valid = t.cases.find((c) => c.name === "a valid token");
const options = { issuer: t.issuer, audience: t.audience };

test("ESM import verifies a token", () => {
  const got = hs256Verifier(t.secret, options).verify(valid.token, valid.now);
  assert.equal(got.ok && got.claims.sub, "user-1");
});

test("CommonJS require verifies a token", () => {
  const require = createRequire(import.meta.url);
  const cjs = require("latchkey");
  const got = cjs.hs256Verifier(t.secret, options).verify(valid.token, valid.now);
  assert.equal(got.ok && got.claims.sub, "user-1");
  assert.equal(typeof require("latchkey/next").createAuthHandler, "function");
});

test("a Web-API-only sandbox (no fs, no require, no process) verifies a token", () => {
  const require = createRequire(import.meta.url);
  const source = readFileSync(require.resolve("latchkey"), "utf8");
  assert.doesNotMatch(source, /require\(|node:|readFileSync|process\./, "the bundle must not reach for Node");
  const module = { exports: {} };
  const sandbox = vm.createContext({
    module,
    exports: module.exports,
    atob,
    WebAssembly,
    TextEncoder,
    TextDecoder,
    FinalizationRegistry,
    console,
  });
  vm.runInContext(source, sandbox);
  const script = `const v = module.exports.hs256Verifier(${JSON.stringify(t.secret)}, ${JSON.stringify(options)});
    JSON.stringify(v.verify(${JSON.stringify(valid.token)}, ${valid.now}));`;
  const got = JSON.parse(vm.runInContext(script, sandbox));
  assert.equal(got.ok && got.claims.sub, "user-1");
  assert.equal(vm.runInContext("typeof require + typeof process + typeof Buffer", sandbox), "undefinedundefinedundefined");
});

test("the module can be handed in pre-compiled, as edge runtimes require", async () => {
  const require = createRequire(import.meta.url);
  const wasm = readFileSync(require.resolve("latchkey/latchkey.wasm"));
  const compiled = await WebAssembly.compile(wasm);
  // A fresh copy of the ESM bundle, so this instance starts uninitialised.
  const fresh = await import(`${import.meta.resolve("latchkey")}?fresh`);
  await fresh.initLatchkey(compiled);
  const got = fresh.hs256Verifier(t.secret, options).verify(valid.token, valid.now);
  assert.equal(got.ok, true);
});
