// Better Auth as its docs set it up: email and password, SQLite through better-sqlite3 (WAL,
// as better-sqlite3 recommends), its own migrations, its default password hash (scrypt).
// Rate limiting is off because the harness loads from one address. BENCH_COOKIE_CACHE=1
// turns on session.cookieCache (5 minutes), which answers get-session from a signed cookie.
//   PORT=… DB_PATH=… BETTER_AUTH_SECRET=… node server.mjs
import { createServer } from "node:http";

import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";

const port = Number(process.env.PORT);
const database = new Database(process.env.DB_PATH);
database.pragma("journal_mode = WAL");

const options = {
  database,
  secret: process.env.BETTER_AUTH_SECRET,
  baseURL: `http://127.0.0.1:${port}`,
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  session: process.env.BENCH_COOKIE_CACHE === "1" ? { cookieCache: { enabled: true, maxAge: 300 } } : {},
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const handler = toNodeHandler(betterAuth(options));
createServer(handler).listen(port, "127.0.0.1");
