// Server-component safety: latchkey/react is marked client code, and no React (or any client
// module) is pulled into the server entries or the message catalogue.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const dist = (name) => readFileSync(new URL(`../dist/${name}`, import.meta.url), "utf8");
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

test("latchkey/react starts with the \"use client\" directive, in both module formats", () => {
  for (const file of ["react.js", "react.cjs"]) {
    const directives = dist(file).split("\n").slice(0, 2).map((l) => l.trim());
    assert.ok(directives.includes('"use client";'), `${file}: ${directives}`);
  }
});

test("the server entries and the catalogue import no React and carry no client directive", () => {
  for (const file of ["index.js", "index.cjs", "next.js", "next.cjs", "forms.js", "messages.js", "messages.cjs"]) {
    const code = dist(file);
    assert.doesNotMatch(code, /from\s*["']react(-dom)?(\/[^"']*)?["']|require\(["']react/, file);
    assert.doesNotMatch(code, /["']use client["']/, file);
    assert.doesNotMatch(code, /BroadcastChannel|useSyncExternalStore|createContext/, file);
  }
});

test("React is an optional peer dependency, and every entry is exported with its types", () => {
  assert.equal(pkg.peerDependenciesMeta.react.optional, true);
  for (const entry of [".", "./next", "./forms", "./react", "./messages"]) {
    const e = pkg.exports[entry];
    // ESM code with ESM types, CommonJS code with CommonJS types (.d.cts), each file built.
    for (const [kind, code, types] of [["import", ".js", ".d.ts"], ["require", ".cjs", ".d.cts"]]) {
      assert.ok(e?.[kind]?.default?.endsWith(code), `${entry} ${kind}`);
      assert.ok(e[kind].types?.endsWith(types), `${entry} ${kind} types`);
      readFileSync(new URL(`../${e[kind].default}`, import.meta.url));
      readFileSync(new URL(`../${e[kind].types}`, import.meta.url));
    }
  }
});
