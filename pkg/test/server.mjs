// Starts a real Latchkey server (the debug binary, or LATCHKEY_BIN) on a free port with its
// own SQLite database, and stops it when the test process ends.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SECRET = "package-test-secret-0123456789abcdef-0123";

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** `env`: more settings for the server (they win over the defaults here). */
export async function startServer(env = {}) {
  const bin = process.env.LATCHKEY_BIN ?? new URL("../../target/debug/latchkey", import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), "latchkey-pkg-"));
  const port = await freePort();
  const child = spawn(bin, [], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/test.db`,
      LATCHKEY_LISTEN: `127.0.0.1:${port}`,
      LATCHKEY_SECRET: SECRET,
      // Development's file mailer: every email is an .eml file here.
      LATCHKEY_MAIL_OUTBOX_DIR: join(dir, "mail"),
      RUST_LOG: "warn",
      ...env,
    },
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const stop = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  return { url, stop, mailDir: join(dir, "mail"), databasePath: join(dir, "test.db") };
}
