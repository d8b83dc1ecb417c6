// The development mailer's outbox folder, read as a user reads their inbox.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The token in the newest email to `to` whose subject has `subject`. */
export async function emailedToken(server, to, subject) {
  for (let i = 0; i < 200; i++) {
    let names = [];
    try {
      names = readdirSync(server.mailDir).sort().reverse();
    } catch {
      // The folder appears with the first email.
    }
    for (const name of names) {
      // Quoted-printable soft line breaks and =3D, so the link reads whole.
      const text = readFileSync(join(server.mailDir, name), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      if (text.includes(`To: ${to}`) && text.includes(subject)) return text.match(/#token=([\w-]{43})/)[1];
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no "${subject}" email for ${to}`);
}
