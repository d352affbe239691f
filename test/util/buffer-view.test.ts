import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asBuffer } from "../../src/util/buffer-view.js";

describe("asBuffer", () => {
  it("returns a Buffer as it is", () => {
    const b = Buffer.from("abc");
    assert.equal(asBuffer(b), b);
  });

  it("views any other Uint8Array over its exact range, sharing its memory", () => {
    const whole = new Uint8Array([0, 0x68, 0x69, 0]);
    const b = asBuffer(whole.subarray(1, 3));
    assert.ok(Buffer.isBuffer(b));
    assert.deepEqual(b, Buffer.from("hi"));
    whole[1] = 0x48;
    assert.equal(b.toString("utf8"), "Hi");
    b[1] = 0x6f;
    assert.equal(whole[2], 0x6f);
  });
});
