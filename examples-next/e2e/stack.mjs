// Starts the whole stack the way a deployment runs it: the real Latchkey server (the debug
// binary, or LATCHKEY_BIN) on its own SQLite file with the development file mailer, and the
// built app (`next build` first) with `next start`, each on a free loopback port. Both stop
// when the test process ends.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const appDir = fileURLToPath(new URL("..", import.meta.url));

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitFor(url, child, name, log) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer at ${url}:\n${log()}`);
}

function run(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return { child, log: () => output };
}

/** The newest modification time under `path` (a file or a folder), in ms. */
function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Refuses to test a build older than the app's sources: it would test old code. */
function assertFreshBuild() {
  const built = newest(join(appDir, ".next", "BUILD_ID"));
  if (!built) throw new Error("examples-next is not built: run `npm run build` first");
  const sources = ["app", "components", "lib", "proxy.ts", "next.config.ts", "node_modules/latchkey/dist"];
  const changed = Math.max(...sources.map((p) => newest(join(appDir, p))));
  if (changed > built) throw new Error("examples-next changed since its last build: run `npm run build` first");
}

/** `serverEnv`: more settings for the Latchkey server (they win over the defaults here). */
export async function startStack(serverEnv = {}) {
  assertFreshBuild();
  const dir = mkdtempSync(join(tmpdir(), "latchkey-e2e-"));
  const [apiPort, appPort] = [await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const appUrl = `http://127.0.0.1:${appPort}`;
  const secret = randomBytes(32).toString("base64url");
  const mailDir = join(dir, "mail-outbox");

  const bin = process.env.LATCHKEY_BIN ?? fileURLToPath(new URL("../../target/debug/latchkey", import.meta.url));
  const server = run(bin, [], {
    cwd: dir,
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/latchkey.db`,
      LATCHKEY_LISTEN: `127.0.0.1:${apiPort}`,
      LATCHKEY_SECRET: secret,
      // The server's own secret (refresh tokens, emailed links): the app below never gets it.
      LATCHKEY_SERVER_SECRET: randomBytes(32).toString("base64url"),
      LATCHKEY_MAIL_OUTBOX_DIR: mailDir,
      // Emailed links open the app, which spends their tokens through its cookie bridge.
      LATCHKEY_LINK_URL: appUrl,
      LATCHKEY_APP_NAME: "Tasks",
      // Every browser here really is one client address (127.0.0.1, through a bridge with no
      // platform header to read), so the per-address limits are raised for the run; the
      // per-account limits stay at their defaults, and one test meets them. (Counting real
      // clients apart behind the bridge is tested in pkg/test/bridge.test.mjs.)
      LATCHKEY_RATE_LIMITS: "signin_ip=1000/15m,register_ip=1000/1h,recovery_ip=1000/1m,auth_ip=10000/10s",
      RUST_LOG: "warn",
      ...serverEnv,
    },
  });
  await waitFor(`${apiUrl}/healthz`, server.child, "the Latchkey server", server.log);

  const next = join(appDir, "node_modules", "next", "dist", "bin", "next");
  const app = run(process.execPath, [next, "start", "-p", String(appPort), "-H", "127.0.0.1"], {
    cwd: appDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      LATCHKEY_API_URL: apiUrl,
      LATCHKEY_APP_URL: appUrl,
      LATCHKEY_SECRET: secret,
    },
  });
  await waitFor(`${appUrl}/signin`, app.child, "the Next.js app", app.log);

  const stop = () => {
    app.child.kill();
    server.child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  // The Latchkey server alone, so a test can see the app meet an outage; the app keeps running.
  const stopServer = () =>
    new Promise((resolve) => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve();
      server.child.once("exit", resolve);
      server.child.kill();
    });
  const databaseUrl = `sqlite://${dir}/latchkey.db`;
  return { apiUrl, appUrl, mailDir, secret, databaseUrl, bin, stop, stopServer, logs: () => `${server.log()}\n${app.log()}` };
}

/**
 * `next dev` beside a started stack, on its own port and against the same Latchkey server,
 * with the development mailbox reading the server's outbox (for /dev/mail, which `next start`
 * answers 404). Next.js 16 builds a dev server into `.next/dev/`, apart from `next build`'s
 * output, so the production build the other tests run stays as it was.
 */
export async function startDevApp(stack) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const next = join(appDir, "node_modules", "next", "dist", "bin", "next");
  // Its own process group: `next dev` runs the server in a child process, stopped with it.
  const app = run(process.execPath, [next, "dev", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: appDir,
    detached: true,
    env: {
      ...process.env,
      NODE_ENV: "development",
      NEXT_TELEMETRY_DISABLED: "1",
      LATCHKEY_API_URL: stack.apiUrl,
      LATCHKEY_APP_URL: url,
      LATCHKEY_SECRET: stack.secret,
      LATCHKEY_DEV_MAILBOX: stack.mailDir,
    },
  });
  const stop = () => {
    try {
      process.kill(-app.child.pid);
    } catch {
      // already gone
    }
  };
  process.on("exit", stop);
  await waitFor(`${url}/dev/mail`, app.child, "next dev", app.log);
  return { url, stop, log: app.log };
}

/**
 * The link in the newest email to `to` whose subject contains `subject`, read from the
 * server's outbox folder (waiting for the outbox worker to write it).
 */
export async function emailedLink(mailDir, to, subject) {
  for (let i = 0; i < 300; i++) {
    let names = [];
    try {
      names = readdirSync(mailDir).sort().reverse();
    } catch {
      // no email written yet
    }
    for (const name of names) {
      const raw = readFileSync(join(mailDir, name), "utf8");
      // Undo quoted-printable soft line breaks and =3D so the link reads whole.
      const text = raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      const headers = text.slice(0, text.search(/\r?\n\r?\n/));
      if (new RegExp(`^To: .*${to.replace(/[.+]/g, "\\$&")}`, "mi").test(headers) && headers.includes(subject)) {
        const link = text.match(/https?:\/\/[^\s"<>]+#token=[\w-]{43}/);
        if (link) return link[0];
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no "${subject}" email to ${to} in ${mailDir}`);
}
