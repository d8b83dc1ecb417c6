/**
 * latchkey: Latchkey's Rust core compiled to WebAssembly.
 *
 * Verify access tokens (HS256 or a JWKS), read and write the auth cookies, and check the CSRF
 * origin rule — exactly as the Latchkey server does, because it is
 * the same code. The module is instantiated from bytes embedded in this file on first use:
 * no `fs`, no `fetch`, so it runs in Node, in workers and in Web-API-only runtimes. Where a
 * runtime forbids compiling WebAssembly from bytes (some edge runtimes), import
 * `latchkey/latchkey.wasm` as a module and `await initLatchkey(module)` first.
 *
 * Request-dependent failures are values (`{ ok: false, error: { code, message } }`);
 * configuration mistakes throw a `LatchkeyError` with the same stable `code`.
 */
import * as glue from "./generated/latchkey.js";
import wasmBase64 from "./generated/latchkey-bytes.js";
import { loader } from "./load.js";

export type {
  AccessClaims,
  AddressResult,
  Assessment,
  AttestResult,
  AuthCookies,
  BetterAuthCookies,
  BetterAuthFound,
  CheckResult,
  ClientAttestor,
  CookieKind,
  CookieMode,
  DecodeResult,
  Failure,
  JwtResult,
  PresentedToken,
  ReadCookieResult,
  RefreshDecision,
  RefreshPolicy,
  SessionState,
  SetCookieResult,
  TokenResult,
  TrustedOrigins,
  Verifier,
  VerifyResult,
} from "./generated/latchkey.js";

/** What a configuration mistake throws: a JS `Error` carrying the core's stable `code`. */
export interface LatchkeyError extends Error {
  name: "LatchkeyError";
  code: string;
}

/** True if `err` was thrown by Latchkey (optionally: with this `code`). */
export function isLatchkeyError(err: unknown, code?: string): err is LatchkeyError {
  return (
    err instanceof Error &&
    err.name === "LatchkeyError" &&
    (code === undefined || (err as LatchkeyError).code === code)
  );
}

const wasm = loader(glue, wasmBase64);
const init = (): void => wasm.ready();

/**
 * Instantiates the WebAssembly module ahead of first use. Optional where compiling from bytes
 * is allowed (Node, browsers, workers): every function does it on first call. Required, with
 * the module passed in, where it is not: `import mod from "latchkey/latchkey.wasm?module"`.
 */
export function initLatchkey(module?: WebAssembly.Module | BufferSource): Promise<void> {
  return wasm.init(module);
}

/** Where the server's settings meet the verifier. */
export interface VerifierOptions {
  /** The server's `LATCHKEY_ISSUER` (default `latchkey`). */
  issuer?: string;
  /** The server's `LATCHKEY_AUDIENCE` (default `latchkey`). */
  audience?: string;
  /** Clock skew allowed, in seconds (default 30, at most 60). */
  leewaySecs?: number;
}

/** A verifier for HS256 tokens under the server's `LATCHKEY_SECRET` (≥ 32 bytes, or it throws `weak_secret`). */
export function hs256Verifier(secret: string, options: VerifierOptions = {}): glue.Verifier {
  init();
  return glue.Verifier.hs256(
    secret,
    options.issuer ?? "latchkey",
    options.audience ?? "latchkey",
    options.leewaySecs,
  );
}

/**
 * A verifier for EdDSA tokens under the keys of a JWKS document (text or parsed); throws
 * `invalid_key` if it is malformed or names two keys alike. Keys keep the `kid`s the document
 * gives them, so another issuer's JWKS works too: during a switch, `verifyJwt` reads the
 * tokens Better Auth's JWT plugin signs (pass its `issuer` and `audience`, its base URL by
 * default).
 */
export function jwksVerifier(
  jwks: string | { keys: unknown[] },
  options: VerifierOptions = {},
): glue.Verifier {
  init();
  return glue.Verifier.fromJwks(
    jwks,
    options.issuer ?? "latchkey",
    options.audience ?? "latchkey",
    options.leewaySecs,
  );
}

/** The auth cookies for an app served at `publicUrl` (https, or http on localhost only). */
export function authCookies(publicUrl: string): glue.AuthCookies {
  init();
  return glue.AuthCookies.forPublicUrl(publicUrl);
}

/**
 * Better Auth's session cookies (for apps moving from it): `prefix` is its
 * `advanced.cookiePrefix` (default `better-auth`), `domain` its `crossSubDomainCookies`
 * domain if it used one, `secure` whether the app is served over https (default `true`:
 * Better Auth then wrote only the `__Secure-` name, and only that one is read; on http only
 * the plain one).
 */
export function betterAuthCookies(prefix?: string, domain?: string, secure = true): glue.BetterAuthCookies {
  init();
  return glue.BetterAuthCookies.new(prefix, domain, secure);
}

/** The origins trusted to make cookie-authenticated changes. */
export function trustedOrigins(origins: string[]): glue.TrustedOrigins {
  init();
  return glue.TrustedOrigins.parse(origins);
}

/** A token's claims, unverified: for display only, never to decide who someone is. */
export function decodeUnverified(token: string): glue.DecodeResult {
  init();
  return glue.decodeUnverified(token);
}

/** The origin (`scheme://host[:port]`) of a URL. */
export function originOfUrl(url: string): string {
  init();
  return glue.originOfUrl(url);
}

/** Every stable error code the server and this package use. */
export function errorCodes(): string[] {
  init();
  return glue.errorCodes();
}

/** Whether `token` has a refresh token's shape (refuse garbage before a network call). */
export function refreshTokenShape(token: string): glue.CheckResult {
  init();
  return glue.refreshTokenShape(token);
}

/** The server's stored hash of a refresh token (SHA-256, hex). */
export function hashRefreshToken(token: string): string {
  init();
  return glue.hashRefreshToken(token);
}

/** The server's refresh-token derivation; exported for parity tests, apps never need it. */
export function deriveRefreshToken(
  secret: string,
  sessionId: string,
  seed: string,
  generation: number,
): glue.TokenResult {
  init();
  return glue.deriveRefreshToken(secret, sessionId, seed, generation);
}

/** The server's rotation rule; exported for parity tests, apps never need it. */
export function decideRefresh(
  session: glue.SessionState,
  token: glue.PresentedToken,
  nowMs: number,
  policy: glue.RefreshPolicy,
): glue.RefreshDecision {
  init();
  return glue.decideRefresh(session, token, nowMs, policy);
}

/**
 * Signs client addresses for the server (`Latchkey-Client-Address`) under a key drawn from
 * the server's `LATCHKEY_SECRET` (≥ 32 bytes, or it throws `weak_secret`). The cookie bridge
 * uses it; an app rarely needs it directly.
 */
export function clientAttestor(secret: string): glue.ClientAttestor {
  init();
  return glue.ClientAttestor.new(secret);
}

/**
 * The client's address in the value of a header a trusted proxy writes: the
 * `trustedHops`-th entry from the right (1, the default: the right-most), or `undefined`.
 */
export function clientFromHeader(value: string | null, trustedHops = 1): string | undefined {
  init();
  return glue.clientFromHeader(value, trustedHops);
}

export { ERROR_CODES, type ErrorCode, isErrorCode } from "./codes.js";
