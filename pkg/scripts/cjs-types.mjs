// Writes a CommonJS twin (`.d.cts`) of every declaration file in dist/.
//
// Under `"type": "module"` a `.d.ts` file declares an ES module, so a `require` condition
// pointing at `index.cjs` with `index.d.ts` types tells TypeScript the CommonJS build is ESM
// ("masquerading as ESM", which @arethetypeswrong/cli flags): a CommonJS consumer then gets
// wrong types or none. Each `.d.cts` is the same declarations with its relative imports
// pointing at the other `.d.cts` files (`./x.js` → `./x.cjs`), so the CommonJS types stay
// CommonJS all the way down.
//
//   node scripts/cjs-types.mjs dist

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? "dist";
let written = 0;

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8").replace(
        /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.js(["'])/g,
        "$1$2.cjs$3",
      );
      writeFileSync(path.replace(/\.d\.ts$/, ".d.cts"), text);
      written++;
    }
  }
}

walk(root);
if (written === 0) {
  console.error(`no .d.ts files under ${root}`);
  process.exit(1);
}
