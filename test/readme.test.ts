/**
 * The README tried as a new user would: its quick start, pasted into a file, runs and prints the
 * message; the two commands it gives are the ones package.json and .ci/run use.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const root = new URL("../", import.meta.url).pathname;
const readme = readFileSync(join(root, "README.md"), "utf8");

describe("README", () => {
  it("gives exactly the two commands: the demo and the tests", () => {
    const block = /## Two commands[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const commands = block
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter(Boolean);
    assert.deepEqual(commands, ["npm ci && npm run demo", "npm test"]);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    assert.match(pkg.scripts["demo"]!, /demo/);
    assert.match(readFileSync(join(root, ".ci/run"), "utf8"), /npm test/);
  });

  it("the quick start runs as written (package imports mapped to this checkout)", () => {
    const code = /## Quick start\s+(?:<!--[^\n]*-->\s+)?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(code, "the README has a quick start");
    assert.ok(code.split("\n").length < 20, "under 20 lines");
    const dir = mkdtempSync(join(tmpdir(), "uamqp-readme-"));
    const file = join(dir, "quick-start.mts");
    writeFileSync(
      file,
      code
        .replace(/from "uamqp\/broker"/g, `from ${JSON.stringify(join(root, "src/broker/index.ts"))}`)
        .replace(/from "uamqp"/g, `from ${JSON.stringify(join(root, "src/index.ts"))}`),
    );
    const r = spawnSync(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^hello /);
    assert.match(r.stdout, /n: 1/);
  });
});
