// Type tests against the built package's .d.ts (resolved through its "exports", as an app
// resolves them): real uses compile, and a misspelt error code fails `tsc`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("./types/", import.meta.url));
const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));

// tsc takes either a project or files; the project's options are given as flags instead.
const compile = (file) =>
  spawnSync(
    process.execPath,
    [tsc, "--noEmit", "--strict", "--target", "ES2022", "--module", "ESNext", "--moduleResolution", "Bundler",
      "--lib", "ESNext,DOM", "--types", "react", `${dir}${file}`],
    { encoding: "utf8", cwd: dir },
  );

test("the package's types accept real uses of ErrorCode, Failure, messages and the actions", () => {
  const out = compile("good.ts");
  assert.equal(out.status, 0, out.stdout + out.stderr);
});

test("a misspelt error code fails tsc, at every place a code is named", () => {
  const out = compile("misspelt.ts");
  assert.notEqual(out.status, 0);
  for (const wrong of ["invalid_credential", "rate_limit", "invalid_pasword"]) {
    assert.match(out.stdout, new RegExp(`"${wrong}"`), out.stdout);
  }
});

