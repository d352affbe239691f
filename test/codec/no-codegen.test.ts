/**
 * Composite field readers and writers are generated with `new Function` for speed; where code generation from
 * strings is disallowed (`--disallow-code-generation-from-strings`, a CSP), the codec must still
 * load, decode the same values through its generic reader and write the same bytes through its
 * generic writer.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { Decoder } from "../../src/codec/decoder.js";
import { compositeEncodingsDigest } from "./composite-samples.js";

const child = fileURLToPath(new URL("./no-codegen-child.ts", import.meta.url));

describe("codec without code generation", () => {
  it("round-trips every composite sample and a message under --disallow-code-generation-from-strings, with the same bytes", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--disallow-code-generation-from-strings", "--import", "tsx", child],
      { timeout: 60_000 },
    );
    const m = /^ok (\d+)$/m.exec(stdout);
    assert.ok(m, `unexpected output: ${stdout}`);
    assert.ok(Number(m[1]) >= 40, `only ${m[1]} composite values checked`);
    // The generic writers write the same bytes (and the same errors) as the generated ones here.
    const here = compositeEncodingsDigest((type, bytes, value) => {
      assert.deepEqual(type.decode(new Decoder(bytes)), value, type.name);
    });
    assert.equal(here.count, Number(m[1]));
    assert.equal(/^digest ([0-9a-f]{64})$/m.exec(stdout)?.[1], here.digest);
  });
});
