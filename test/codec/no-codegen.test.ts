/**
 * Composite field readers are generated with `new Function` for speed; where code generation from
 * strings is disallowed (`--disallow-code-generation-from-strings`, a CSP), the codec must still
 * load and decode the same values through its generic reader.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const child = fileURLToPath(new URL("./no-codegen-child.ts", import.meta.url));

describe("codec without code generation", () => {
  it("round-trips every composite sample and a message under --disallow-code-generation-from-strings", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--disallow-code-generation-from-strings", "--import", "tsx", child],
      { timeout: 60_000 },
    );
    const m = /^ok (\d+)$/m.exec(stdout);
    assert.ok(m, `unexpected output: ${stdout}`);
    assert.ok(Number(m[1]) >= 40, `only ${m[1]} composite values checked`);
  });
});
