// Proves the type tests in error-codes.ts test something: with every `@ts-expect-error`
// directive removed, tsc must fail on exactly the lines that followed them, each with a
// "no overlap" comparison (TS2367) or a "not assignable" (TS2322, or TS2820 when tsc
// suggests the right spelling) error.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, rmSync } from "node:fs";

const source = readFileSync("error-codes.ts", "utf8").split("\n");
const expected = new Set();
const stripped = [];
for (const line of source) {
  if (line.trim().startsWith("// @ts-expect-error")) {
    expected.add(stripped.length + 2); // the next line, 1-based, once this one is dropped
    stripped.push("");
  } else {
    stripped.push(line);
  }
}
writeFileSync("error-codes.unexpected.ts", stripped.join("\n"));
let output = "";
try {
  execFileSync("npx", ["tsc", "--noEmit", "--strict", "--module", "esnext", "--moduleResolution", "bundler",
    "--target", "es2022", "--lib", "es2022,dom,dom.iterable", "error-codes.unexpected.ts"], { encoding: "utf8" });
} catch (err) {
  output = `${err.stdout}${err.stderr}`;
} finally {
  rmSync("error-codes.unexpected.ts");
}
const failed = new Map();
for (const m of output.matchAll(/error-codes\.unexpected\.ts\((\d+),\d+\): error (TS\d+)/g)) {
  failed.set(Number(m[1]), m[2]);
}
const problems = [];
for (const line of expected) {
  const code = failed.get(line);
  if (!["TS2367", "TS2322", "TS2820"].includes(code)) problems.push(`line ${line}: ${code ?? "compiles"}`);
}
for (const line of failed.keys()) if (!expected.has(line)) problems.push(`line ${line}: unexpected ${failed.get(line)}`);
if (expected.size === 0 || problems.length) {
  console.error(`expect-errors: ${problems.join("; ") || "no directives"}\n${output}`);
  process.exit(1);
}
console.log(`expect-errors: all ${expected.size} misuses fail tsc without their directive`);
