// Writes the wasm module as a base64 string module, so the package instantiates it from
// bytes in any runtime: no fs, no fetch, no bundler plugin.
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
const base64 = readFileSync(input).toString("base64");
writeFileSync(output, `export default ${JSON.stringify(base64)};\n`);
writeFileSync(
  output.replace(/\.js$/, ".d.ts"),
  "declare const base64: string;\nexport default base64;\n",
);
