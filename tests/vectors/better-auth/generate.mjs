// Writes ../better-auth-cookies.json: Better Auth's signed session cookie as the real Better
// Auth writes and reads it, for latchkey_core::better_auth (and the npm package) to agree with.
//
//   cd tests/vectors/better-auth && npm install && node generate.mjs
//
// Every valid cookie comes from a real sign-up or sign-in through Better Auth's own handler
// (the Set-Cookie it answers with); the refused ones are those cookies tampered with, or made
// by a Better Auth holding another secret. Each case also records what Better Auth's own
// reader (better-call's getSignedCookie, the call Better Auth makes on every request) returns
// for it, so a case where Latchkey answers differently is visible in the file, not hidden.
// The clearing lines are Better Auth's own sign-out answers.
import { readFileSync, writeFileSync } from "node:fs";

import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { createEndpoint, serializeSignedCookie } from "better-call";

const SECRET = "vector-better-auth-secret-0123456789abcdef";
const OTHER_SECRET = "another-better-auth-secret-0123456789abcdef";
const PASSWORD = "correct horse battery staple";
const NAME = "better-auth.session_token";

const db = { user: [], session: [], account: [], verification: [] };
const instance = (baseURL, extra = {}) =>
  betterAuth({
    database: memoryAdapter(db),
    secret: extra.secret ?? SECRET,
    baseURL,
    emailAndPassword: { enabled: true },
    telemetry: { enabled: false },
    rateLimit: { enabled: false },
    advanced: extra.advanced,
  });

let n = 0;
/** Signs a new user up (or an existing one in) and returns the session cookie it set. */
async function cookieFrom(auth, origin, path = "/api/auth/sign-up/email", email = `user${++n}@example.com`) {
  const body = path.endsWith("sign-up/email") ? { email, password: PASSWORD, name: "Vector" } : { email, password: PASSWORD };
  const res = await auth.handler(
    new Request(`${origin}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify(body),
    }),
  );
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  const { token } = await res.json();
  const line = res.headers.getSetCookie().find((l) => /session_token=/.test(l));
  const [pair] = line.split(";");
  const at = pair.indexOf("=");
  return { name: pair.slice(0, at), cookie: pair.slice(at + 1), token, email, line };
}

/** What Better Auth's own reader makes of `value` sent as cookie `name` under `secret`. */
async function betterAuthReads(name, value, secret = SECRET) {
  const read = createEndpoint("/read", { method: "GET" }, async (ctx) => ({ token: await ctx.getSignedCookie(name, secret) }));
  const { token } = await read({ headers: new Headers({ cookie: `${name}=${value}` }) });
  return token === false ? "bad_signature" : token;
}

const http = instance("http://localhost:3000");
const https = instance("https://app.example.com");
const prefixed = instance("http://localhost:3000", { advanced: { cookiePrefix: "acme" } });
const otherSecret = instance("http://localhost:3000", { secret: OTHER_SECRET });
const subdomains = instance("https://app.example.com", {
  advanced: { crossSubDomainCookies: { enabled: true, domain: "example.com" } },
});

const signUp = await cookieFrom(http, "http://localhost:3000");
const signIn = await cookieFrom(http, "http://localhost:3000", "/api/auth/sign-in/email", signUp.email);
const secure = await cookieFrom(https, "https://app.example.com");
const acme = await cookieFrom(prefixed, "http://localhost:3000");
const foreign = await cookieFrom(otherSecret, "http://localhost:3000");

const [token, signature] = [signUp.token, decodeURIComponent(signUp.cookie).split(".").pop()];
const flip = (s, i) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
// The last base64 character before the padding carries 2 bits nobody reads; a different
// character with the same 4 leading bits decodes to the same bytes in atob, leniently.
const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const lastAt = signature.length - 2;
const loose = b64[(b64.indexOf(signature[lastAt]) & ~3) | ((b64.indexOf(signature[lastAt]) + 1) & 3)];
const nonCanonical = signature.slice(0, lastAt) + loose + "=";
const enc = encodeURIComponent;
const dotted = (await serializeSignedCookie(NAME, "abc.def", SECRET)).split(";")[0].slice(NAME.length + 1);

const crafted = [
  ["a sign-up's cookie, as the browser sends it back (URL-encoded)", NAME, signUp.cookie, token],
  ["a sign-in's cookie", NAME, signIn.cookie, signIn.token],
  ["the https cookie (__Secure- name); the name is not signed", secure.name, secure.cookie, secure.token],
  ["advanced.cookiePrefix: acme.session_token; the name is not signed", acme.name, acme.cookie, acme.token],
  ["the sign-up's cookie URL-decoded, as a parser that decodes hands it over", NAME, decodeURIComponent(signUp.cookie), token],
  ["a value with a dot, signed by better-call: the signature follows the last dot", NAME, dotted, "abc.def"],
  ["made by a Better Auth with another secret", foreign.name, foreign.cookie, null],
  ["the token changed, the signature kept", NAME, enc(`${flip(token, 5)}.${signature}`), null],
  ["the signature changed in one character", NAME, enc(`${token}.${flip(signature, 10)}`), null],
  ["another session's signature on this token", NAME, enc(`${token}.${decodeURIComponent(signIn.cookie).split(".").pop()}`), null],
  ["the signature without its padding (43 characters)", NAME, enc(`${token}.${signature.slice(0, -1)}`), null],
  [
    "the signature with unread trailing bits changed: atob decodes it to the same bytes and Better Auth accepts it; Latchkey takes only the canonical encoding, the one Better Auth writes",
    NAME,
    enc(`${token}.${nonCanonical}`),
    null,
  ],
  ["the signature in base64url (no padding), not Better Auth's standard base64", NAME, enc(`${token}.${Buffer.from(signature, "base64").toString("base64url")}`), null],
  ["the token alone, no signature", NAME, token, null],
  ["an empty token before the signature", NAME, enc(`.${signature}`), null],
  ["a dot and nothing after it", NAME, enc(`${token}.`), null],
  ["empty", NAME, "", null],
  ["a broken percent escape (%ZZ), read as it is", NAME, `${signUp.cookie}%ZZ`, null],
];

const signed = [];
for (const [why, name, cookie, expected] of crafted) {
  const read = await betterAuthReads(name, cookie);
  signed.push({ name: why, cookieName: name, cookie, token: expected, betterAuthReads: read });
}

/** Better Auth's own sign-out answer: the line that clears the session cookie. */
async function signOutLine(auth, origin) {
  const { name, cookie } = await cookieFrom(auth, origin);
  const res = await auth.handler(
    new Request(`${origin}/api/auth/sign-out`, { method: "POST", headers: { origin, cookie: `${name}=${cookie}` } }),
  );
  if (!res.ok) throw new Error(`sign-out: ${res.status}`);
  return { name, line: res.headers.getSetCookie().find((l) => l.startsWith(`${name}=`)) };
}

const clear = [];
for (const [why, auth, origin, domain] of [
  ["http: the plain name", http, "http://localhost:3000", null],
  ["https: the __Secure- name, with Secure", https, "https://app.example.com", null],
  ["crossSubDomainCookies: the same Domain", subdomains, "https://app.example.com", "example.com"],
]) {
  const { name, line } = await signOutLine(auth, origin);
  clear.push({ name: why, cookieName: name, domain, setCookie: line });
}

// Reading the cookies from a request's Cookie header (the Next.js bridge does this before it
// asks the server to exchange one): hand-written, each says why. `secure`: the app is served
// over https, where Better Auth writes only the `__Secure-` name (http: only the plain one);
// `value` is the cookie to exchange (null: none), `names` the cookies to clear.
const v = signUp.cookie;
const w = signIn.cookie;
const S = `__Secure-${NAME}`;
const read = [
  ["an http app: the plain name", "better-auth", false, `theme=dark; ${NAME}=${v}`, v, [NAME]],
  ["an https app: the __Secure- name", "better-auth", true, `${S}=${v}`, v, [S]],
  ["an https app with both names: the __Secure- one is exchanged, both cleared", "better-auth", true, `${NAME}=${w}; ${S}=${v}`, v, [NAME, S]],
  ["an http app with both names: the plain one is exchanged, both cleared", "better-auth", false, `${NAME}=${w}; ${S}=${v}`, w, [NAME, S]],
  ["an https app with only the plain name: Better Auth wrote __Secure- there, so the plain one was set by someone else (a sibling subdomain can); not exchanged, cleared", "better-auth", true, `${NAME}=${v}`, null, [NAME]],
  ["an http app with only the __Secure- name: not the name Better Auth wrote there; not exchanged, cleared", "better-auth", false, `${S}=${v}`, null, [S]],
  ["one name twice with the same value", "better-auth", false, `${NAME}=${v}; ${NAME}=${v}`, v, [NAME]],
  ["one name twice with different values: a planted cookie beside the real one; none is exchanged, the name is cleared", "better-auth", false, `${NAME}=${v}; ${NAME}=${w}`, null, [NAME]],
  ["an https app: two values under the plain name do not matter, it is not read", "better-auth", true, `${NAME}=${v}; ${NAME}=${w}; ${S}=${v}`, v, [NAME, S]],
  ["a quoted value loses its quotes (RFC 6265)", "better-auth", false, `${NAME}="${v}"`, v, [NAME]],
  ["\"remember me\" unticked (dont_remember): that session was to end with the browser, so it is not exchanged for a lasting one; cleared", "better-auth", false, `${NAME}=${v}; better-auth.dont_remember=true.c2lnbmF0dXJl`, null, [NAME]],
  ["dont_remember on https", "better-auth", true, `__Secure-better-auth.dont_remember=true.c2lnbmF0dXJl; ${S}=${v}`, null, [S]],
  ["advanced.cookiePrefix acme: only acme's cookie", "acme", false, `${NAME}=${w}; acme.session_token=${v}`, v, ["acme.session_token"]],
  ["the cookie cache (session_data) is not the session", "better-auth", false, `better-auth.session_data=${v}`, null, []],
  ["an empty value is no cookie", "better-auth", false, `${NAME}=`, null, []],
  ["no cookies at all", "better-auth", false, "", null, []],
].map(([why, prefix, secure, header, value, names]) => ({ name: why, prefix, secure, header, value, names }));
const badPrefixes = ["", "a b", "a;b", "a=b", "a,b", "ä"];

const version = (pkg) =>
  JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, import.meta.url), "utf8")).version;
const out = {
  description:
    "Better Auth's signed session cookie (`better-auth.session_token`, `__Secure-` on https), generated by tests/vectors/better-auth/generate.mjs running the real Better Auth. `signed`: a cookie value as the browser sends it and the session token Latchkey must read from it under `secret` (null: refused); `betterAuthReads` is what Better Auth's own reader returned (a token, null for no or malformed cookie, `bad_signature`). `clear`: Better Auth's own sign-out line for the cookie, which Latchkey's clearing line must equal. `read` (hand-written): which cookie of a Cookie header is exchanged and which are cleared, on an app served over https (`secure`) or http; `badPrefixes`: cookie prefixes refused as configuration (invalid_request).",
  betterAuth: version("better-auth"),
  betterCall: version("better-call"),
  secret: SECRET,
  signed,
  clear,
  read,
  badPrefixes,
};
writeFileSync(new URL("../better-auth-cookies.json", import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${signed.length} signed and ${clear.length} clear cases`);
