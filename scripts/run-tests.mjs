#!/usr/bin/env node
// Runs every test/**/*.test.ts file with node's own test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [path-filter ...]
// Node 20's `--test` does not expand globs, so the files are listed here.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

const files = walk(join(root, "test"), [])
  .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// A hang fails the run instead of stalling it. Node 24 applies --test-timeout to each test and suite
// (one that needs more declares its own `{ timeout }`, as the interop suites do); Node 20 and 22
// apply it to each test file as a whole, so there it must cover the slowest file. Measured on the
// shared 2-core machine: slowest test about 5 s, slowest suite 18 s, slowest file 35 s; CI is up to
// about 4 times slower when loaded.
const TEST_TIMEOUT_MS = 120_000;
const FILE_TIMEOUT_MS = 300_000;
const perTest = Number(process.versions.node.split(".")[0]) >= 24;
const timeout = perTest ? TEST_TIMEOUT_MS : FILE_TIMEOUT_MS;

const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-reporter=spec",
    "--test-concurrency=2",
    `--test-timeout=${timeout}`,
    ...files,
  ],
  { cwd: root, stdio: "inherit", env: process.env },
);
process.exit(result.status ?? 1);
