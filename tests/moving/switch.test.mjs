// Issue 21's acceptance, against the real Better Auth: it signs up users and opens sessions
// with its own API, on SQLite and (when LATCHKEY_TEST_POSTGRES_URL is set) on PostgreSQL;
// `latchkey import better-auth --sessions` takes them (and a re-run changes nothing); every
// user signs in to Latchkey with the same password, their hash is argon2id afterwards and
// their token's `sub` is their Better Auth id; a session cookie Better Auth issued is
// exchanged once for a Latchkey session.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import Database from "better-sqlite3";
import pg from "pg";

import { betterAuthVersion, startBetterAuth } from "./better-auth.mjs";
import { claimsOf, latchkey, startLatchkey } from "./latchkey.mjs";

const PEOPLE = [
  { email: "ann@example.com", password: "correct horse battery staple", name: "Ann" },
  // Better Auth NFKC-normalises the password before scrypt: full-width letters included.
  { email: "bjorn@example.com", password: "ｐａｓｓｗｏｒｄ with Ⅻ and 密码 2026", name: "Bjørn" },
  { email: "chen@example.org", password: "seven silver spoons singing", name: "Chen" },
];

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

console.log(`better-auth ${betterAuthVersion()}`);

async function moveOver(database, fromUrl) {
  const secret = randomBytes(32).toString("hex");
  const ba = await startBetterAuth({ database, secret });
  const people = [];
  for (const p of PEOPLE) {
    const signedUp = await ba.signUp(p.email, p.password, p.name);
    // A second device: a session opened by signing in.
    const signedIn = await ba.signIn(p.email, p.password);
    people.push({ ...p, id: signedUp.user.id, cookies: [signedUp.cookie, signedIn.cookie] });
  }
  await ba.close();
  assert.ok(people.every((p) => !/^[0-9a-f-]{36}$/.test(p.id)), "Better Auth ids are not UUIDs");

  const dir = mkdtempSync(join(tmpdir(), "latchkey-moving-"));
  const dbFile = join(dir, "latchkey.db");
  const databaseUrl = `sqlite://${dbFile}?mode=rwc`;
  const first = latchkey(["import", "better-auth", "--from", fromUrl, "--sessions"], databaseUrl);
  assert.equal(first.status, 0, first.out);
  assert.match(first.out, /imported 3 users/, first.out);
  const again = latchkey(["import", "better-auth", "--from", fromUrl, "--sessions"], databaseUrl);
  assert.equal(again.status, 0, again.out);
  assert.match(again.out, /0 (users )?imported|imported 0 users/, again.out);
  assert.match(again.out, /3 unchanged/, again.out);

  const server = await startLatchkey(databaseUrl, { LATCHKEY_BETTER_AUTH_SECRET: secret });
  cleanups.push(server.stop);
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  cleanups.push(() => db.close());
  const storedHash = (id) => db.prepare("SELECT password_hash FROM credentials WHERE user_id = ?").get(id).password_hash;

  for (const p of people) {
    assert.match(storedHash(p.id), /^[0-9a-f]{32}:[0-9a-f]{128}$/, "Better Auth's scrypt hash, as imported");
    const wrong = await server.post("/api/v1/auth/signin", { email: p.email, password: `${p.password}!` });
    assert.equal(wrong.status, 401);
    const signIn = await server.post("/api/v1/auth/signin", { email: p.email, password: p.password });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.json));
    assert.equal(claimsOf(signIn.json.accessToken).sub, p.id);
    assert.equal(signIn.json.user.id, p.id);
    assert.match(storedHash(p.id), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, "upgraded in the same request");
  }

  // Better Auth's session cookies: each exchanged once.
  const [ann] = people;
  const cookieValue = decodeURIComponent(ann.cookies[1].split("=").slice(1).join("="));
  const exchanged = await server.post("/api/v1/auth/exchange/better-auth", { cookie: cookieValue });
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.json));
  assert.equal(claimsOf(exchanged.json.accessToken).sub, ann.id);
  const twice = await server.post("/api/v1/auth/exchange/better-auth", { cookie: cookieValue });
  assert.equal(twice.status, 401);
  const tampered = cookieValue.replace(/^./, (c) => (c === "a" ? "b" : "a"));
  assert.equal((await server.post("/api/v1/auth/exchange/better-auth", { cookie: tampered })).status, 401);
}

test("Better Auth on SQLite: users, passwords and sessions move over", async () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-ba-sqlite-"));
  const file = join(dir, "better-auth.db");
  await moveOver({ sqlite: file }, `sqlite://${file}`);
});

test("Better Auth on PostgreSQL: users, passwords and sessions move over", async (t) => {
  const base = process.env.LATCHKEY_TEST_POSTGRES_URL;
  if (!base) {
    t.skip("LATCHKEY_TEST_POSTGRES_URL is not set");
    return;
  }
  // A database of its own, so Better Auth's `user` and `session` meet nothing else.
  const name = `better_auth_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(base);
  url.pathname = `/${name}`;
  await moveOver({ postgres: url.toString() }, url.toString());
});
