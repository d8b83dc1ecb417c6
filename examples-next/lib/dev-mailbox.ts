/**
 * The development mailbox: the emails the Latchkey server's file mailer wrote (one `.eml`
 * per message, in LATCHKEY_DEV_MAILBOX), read back so a local user can follow their links.
 * Only under `next dev`: these files hold live reset links.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface DevEmail {
  file: string;
  to: string;
  subject: string;
  date: string;
  link: string | null;
}

export function devMailboxDir(): string | null {
  const dir = process.env.LATCHKEY_DEV_MAILBOX;
  return dir && process.env.NODE_ENV === "development" ? dir : null;
}

/** The newest `limit` emails, newest first (file names start with a nanosecond timestamp). */
export async function readDevMailbox(dir: string, limit = 30): Promise<DevEmail[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".eml"));
  names.sort().reverse();
  return Promise.all(names.slice(0, limit).map(async (file) => parse(file, await readFile(join(dir, file), "utf8"))));
}

function parse(file: string, raw: string): DevEmail {
  const split = raw.search(/\r?\n\r?\n/);
  // Folded header lines continue with whitespace.
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, " ");
  const header = (name: string) => head.match(new RegExp(`^${name}: (.*)$`, "mi"))?.[1]?.trim() ?? "";
  // Quoted-printable soft line breaks and =3D, so a link reads whole.
  const body = raw.slice(split).replace(/=\r?\n/g, "").replace(/=3D/gi, "=");
  return {
    file,
    to: header("To"),
    subject: header("Subject"),
    date: header("Date"),
    link: body.match(/https?:\/\/[^\s"<>]+#token=[\w-]+/)?.[0] ?? null,
  };
}
