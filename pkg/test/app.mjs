// A real Next.js-shaped app for the browser-side tests: the bridge (createLatchkey's
// handlers) served over HTTP on localhost, plus any static files a test gives it, and a
// browser-like fetch for tests that run outside a browser (a cookie jar, and the Origin header
// a browser adds to every request that is not a GET).
import { createServer } from "node:http";

import { createLatchkey } from "latchkey/next";

import { SECRET } from "./server.mjs";

/** Starts the app in front of `server`; `files` maps paths to `{ type, body }`. */
export async function startApp(server, files = {}) {
  const http = createServer();
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  const url = `http://localhost:${http.address().port}`;
  // Each test browser is a client of its own (as the platform would say): the server's
  // per-address limits then count each one apart, as they would real users.
  const clientAddress = (request) => request.headers.get("x-test-client") ?? "198.51.100.9";
  const latchkey = createLatchkey({ apiUrl: server.url, appUrl: url, secret: SECRET, clientAddress });
  http.on("request", async (req, res) => {
    try {
      const path = new URL(req.url, url).pathname;
      const file = files[path];
      if (file) {
        res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" });
        return res.end(file.body);
      }
      const handler = latchkey.handlers[req.method];
      if (!path.startsWith("/api/auth/") || !handler) {
        res.writeHead(404);
        return res.end();
      }
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        for (const v of [value].flat()) headers.append(name, v);
      }
      const body = chunks.length && req.method !== "GET" ? Buffer.concat(chunks) : undefined;
      const answer = await handler(new Request(new URL(req.url, url), { method: req.method, headers, body }));
      const out = {};
      answer.headers.forEach((value, name) => {
        if (name !== "set-cookie") out[name] = value;
      });
      const cookies = answer.headers.getSetCookie();
      if (cookies.length) out["set-cookie"] = cookies;
      res.writeHead(answer.status, out);
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "internal_error", message: String(err) }));
    }
  });
  return { url, latchkey, close: () => new Promise((r) => http.close(r)) };
}

/**
 * A fetch that behaves as a browser on `origin` does for same-origin calls: it keeps the
 * cookies the answers set, sends them back, and adds `Origin` to everything but GET. Each
 * one comes from an address of its own.
 */
let clients = 0;

export function browserFetch(origin) {
  const jar = new Map();
  const n = ++clients;
  const address = `10.${(n >> 8) & 255}.${n & 255}.${1 + (process.pid % 250)}`;
  const fetcher = async (input, init = {}) => {
    const url = new URL(String(input), origin);
    const headers = new Headers(init.headers);
    const method = (init.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") headers.set("origin", origin);
    headers.set("x-test-client", address);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = value === "" || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (gone) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  return { fetch: fetcher, jar };
}
