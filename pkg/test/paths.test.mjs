// safeNext: a `?next=` target is a page of this site or the fallback, as the browser would read it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { safeNext } from "latchkey/next";
import { safeNext as clientSafeNext } from "latchkey/react";

test("safeNext keeps this site's paths and refuses everything that could leave it", () => {
  assert.equal(safeNext("/dashboard/tasks?x=1#top"), "/dashboard/tasks?x=1#top");
  assert.equal(safeNext(["/profile", "/evil"]), "/profile");
  assert.equal(safeNext("/a/../b"), "/b");
  for (const bad of ["//evil.example", "/\\evil.example", "/\t/evil.example", "/.//evil.example", "https://evil.example", "evil", "", undefined, null]) {
    assert.equal(safeNext(bad), "/dashboard", String(bad));
  }
  assert.equal(safeNext("//evil.example", "/home"), "/home");
  assert.equal(clientSafeNext("/.//evil.example"), "/dashboard");
});
