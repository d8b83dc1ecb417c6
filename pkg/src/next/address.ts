/**
 * Where a browser's request comes from, told to the server in a form only the app can write.
 *
 * The server's TCP peer is this app, never the browser, and Next.js route handlers and
 * `proxy.ts` are not told the socket's address either. So the address comes from a header
 * that the platform in front of the app writes (Vercel: `x-vercel-forwarded-for`; nginx:
 * `X-Real-IP` or the entry it appends to `X-Forwarded-For`), or from a function the operator
 * supplies. It reaches the server as a signed `Latchkey-Client-Address` (see the core's
 * `bridge` module), and no forwarding header the browser sent is ever passed on: with them,
 * one client could pick its own address or get every user rate-limited at once.
 */
import { type ClientAttestor, clientAttestor, clientFromHeader } from "latchkey";

/**
 * How the app learns a client's address: the header a trusted proxy in front of it writes
 * (`trustedHops`, default 1: how many proxies append to it, so the client is that many entries
 * from the right), or a function returning the address (or `null` when it cannot tell).
 */
export type ClientAddressSource =
  | { header: string; trustedHops?: number }
  | ((request: Request) => string | null | undefined);

/** What is passed on to the server about the caller; forwarding headers never are. */
const PASSED_ON = ["user-agent", "accept-language"];
const ATTESTATION = "latchkey-client-address";

const env = (name: string): string | undefined =>
  typeof process === "undefined" ? undefined : process.env?.[name] || undefined;

/** Start-up notes, once per distinct message per process (a route is set up once per worker). */
const said = new Set<string>();
function warnOnce(message: string): void {
  if (said.has(message)) return;
  said.add(message);
  console.warn(message);
}

export class ClientAddress {
  private readonly source?: (request: Request) => string | null | undefined;
  private readonly attestor?: ClientAttestor;
  private readonly now: () => number;

  /**
   * `source` from the options, else `LATCHKEY_CLIENT_IP_HEADER` (and
   * `LATCHKEY_CLIENT_IP_TRUSTED_HOPS`); `secret` is the shared `LATCHKEY_SECRET`. Says at
   * start-up, once, when addresses cannot be attested.
   */
  constructor(source: ClientAddressSource | undefined, secret: string | undefined, now: () => number) {
    this.now = now;
    const configured = source ?? fromEnv();
    if (typeof configured === "function") {
      this.source = configured;
    } else if (configured) {
      const name = configured.header.trim().toLowerCase();
      const hops = configured.trustedHops ?? 1;
      if (!name || !Number.isInteger(hops) || hops < 1) {
        throw new Error(`latchkey: clientAddress needs a header name and trustedHops ≥ 1 (got ${JSON.stringify(configured)})`);
      }
      this.source = (request) => clientFromHeader(request.headers.get(name), hops) ?? null;
    }
    if (!this.source) {
      warnOnce(
        "latchkey: no client address source (clientAddress, or LATCHKEY_CLIENT_IP_HEADER such as " +
          "x-vercel-forwarded-for): the server sees every browser as this app, so per-address " +
          "rate limits count all users together. See the README: Deploying the bridge.",
      );
      return;
    }
    if (!secret) {
      warnOnce(
        "latchkey: client addresses cannot be attested without LATCHKEY_SECRET (the server's " +
          "shared secret, needed in EdDSA mode too for this): no address is passed on, so the " +
          "server sees every browser as this app.",
      );
      return;
    }
    // A short secret throws here, at start-up, with the core's `weak_secret`.
    this.attestor = clientAttestor(secret);
  }

  /** The headers describing the caller for a call to the server on its behalf. */
  headers(request: Request): Headers {
    const headers = new Headers();
    for (const name of PASSED_ON) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const address = this.attestor && this.source ? this.source(request) : null;
    if (this.attestor && address) {
      const attested = this.attestor.attest(address, this.now());
      // An unreadable address is no address: the server falls back to this app's.
      if (attested.ok) headers.set(ATTESTATION, attested.header);
    }
    return headers;
  }
}

function fromEnv(): ClientAddressSource | undefined {
  const header = env("LATCHKEY_CLIENT_IP_HEADER");
  if (!header) return undefined;
  const hops = env("LATCHKEY_CLIENT_IP_TRUSTED_HOPS");
  return { header, trustedHops: hops === undefined ? 1 : Number(hops) };
}
