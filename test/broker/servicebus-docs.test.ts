/**
 * docs/azure-emulator.md as a user meets it: its ten-line test is examples/servicebus-emulator.ts
 * (importing the package instead of the sources), and that example passes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("docs/azure-emulator.md and examples/servicebus-emulator.ts", () => {
  it("the documented test is the example's, and the example passes", () => {
    const doc = readFileSync(`${ROOT}docs/azure-emulator.md`, "utf8");
    const example = readFileSync(`${ROOT}examples/servicebus-emulator.ts`, "utf8");
    const block = /### A test in ten lines\n\n```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(block, "the documented test");
    const code = example.slice(example.indexOf("import assert"));
    assert.equal(block, code.replace(`from "../src/broker/index.js"`, `from "uamqp/broker"`));
    const body = /async \(\) => \{\n([\s\S]*?)\n\}\);/.exec(block)?.[1] ?? "";
    assert.ok(body.split("\n").length <= 12, `the test body has ${body.split("\n").length} lines`);
    // Run as a user runs it: not as a subtest of this runner (which talks to its children in binary).
    const env = { ...process.env };
    delete env["NODE_TEST_CONTEXT"];
    const r = spawnSync(process.execPath, ["--import", "tsx", "examples/servicebus-emulator.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /pass 1\b/);
    assert.match(r.stdout, /fail 0\b/);
  });
});
