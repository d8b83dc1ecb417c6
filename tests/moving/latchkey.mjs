// The real Latchkey binary (LATCHKEY_BIN, or the debug build) for the tests of moving in:
// `latchkey import …` as a user runs it, and the server on a free loopback port.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const BIN = process.env.LATCHKEY_BIN ?? fileURLToPath(new URL("../../target/debug/latchkey", import.meta.url));

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Runs `latchkey <args>` against Latchkey's database `databaseUrl`; answers { status, out }. */
export function latchkey(args, databaseUrl, env = {}) {
  const run = spawnSync(BIN, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, RUST_LOG: "warn", ...env },
    encoding: "utf8",
  });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** Starts the server on `databaseUrl`; `env` wins over the defaults here. */
export async function startLatchkey(databaseUrl, env = {}) {
  const port = await freePort();
  const secret = randomBytes(32).toString("base64url");
  let log = "";
  const child = spawn(BIN, [], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      LATCHKEY_LISTEN: `127.0.0.1:${port}`,
      LATCHKEY_SECRET: secret,
      LATCHKEY_SERVER_SECRET: randomBytes(32).toString("base64url"),
      RUST_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`latchkey exited (${child.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      if (i > 300) throw new Error(`latchkey did not answer:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const post = async (path, body) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json().catch(() => null) };
  };
  const stop = () => child.kill();
  process.on("exit", stop);
  return { url, secret, post, stop, log: () => log };
}

/** A JWT's claims, unverified (the tests compare `sub`). */
export const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
