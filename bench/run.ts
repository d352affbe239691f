/**
 * Runs every `bench/*.bench.ts` (or those whose name contains one of the arguments), one after the
 * other, each in its own process so that one benchmark's JIT state and garbage do not affect the next.
 *
 *   npm run bench                 # all of them
 *   npm run bench -- codec        # bench/codec.bench.ts only
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith("--"));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error("no benchmark matched");
  process.exit(1);
}
let failed = false;
for (const f of files) {
  console.log(`\n## ${f}\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", `${dir}${f}`, ...passThrough], {
    stdio: "inherit",
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
