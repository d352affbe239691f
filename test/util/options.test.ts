/** The range checks every layer uses for numeric options (src/util/options.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkFinite, checkInteger } from "../../src/util/options.js";

describe("util/options range checks", () => {
  it("checkFinite returns a value in range and names the option, range and value otherwise", () => {
    assert.equal(checkFinite("timeout", 0, 0), 0);
    assert.equal(checkFinite("jitter", 0.5, 0, 1), 0.5);
    assert.throws(() => checkFinite("timeout", -1, 0), {
      name: "RangeError",
      message: "timeout must be a finite number >= 0, got -1",
    });
    assert.throws(() => checkFinite("jitter", 2, 0, 1), {
      message: "jitter must be a finite number in [0, 1], got 2",
    });
    assert.throws(() => checkFinite("timeout", Number.NaN, 0), RangeError);
    assert.throws(() => checkFinite("timeout", Infinity, 0), RangeError);
    assert.throws(() => checkFinite("timeout", "5" as unknown as number, 0), RangeError);
  });

  it("checkInteger accepts integers >= min, and Infinity only where asked", () => {
    assert.equal(checkInteger("prefetch", 1, 1), 1);
    assert.equal(checkInteger("maxRetries", Infinity, 0, true), Infinity);
    assert.throws(() => checkInteger("prefetch", 0, 1), {
      name: "RangeError",
      message: "prefetch must be an integer >= 1, got 0",
    });
    assert.throws(() => checkInteger("prefetch", 1.5, 1), RangeError);
    assert.throws(() => checkInteger("prefetch", Infinity, 1), RangeError);
    assert.throws(() => checkInteger("maxPendingBytes", -Infinity, 1, true), {
      message: "maxPendingBytes must be an integer >= 1 or Infinity, got -Infinity",
    });
    assert.throws(() => checkInteger("retries", "3" as unknown as number, 0), RangeError);
  });
});
