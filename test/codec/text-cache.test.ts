/**
 * The decoder's text cache (`src/codec/text.ts`) must be invisible: map keys and symbols come back
 * exactly as encoded whatever the cache holds, evicts or predicts. These tests drive it through
 * eviction (far more distinct keys than slots), stale successor predictions (maps that share
 * some keys in a different order), near-identical keys, non-ASCII keys and invalid UTF-8.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { readFields } from "../../src/codec/composite.js";
import { Decoder } from "../../src/codec/decoder.js";
import { AMQPSymbol, decode, encode, type AMQPValue } from "../../src/codec/index.js";
import { DecodeError } from "../../src/errors/decode-error.js";

const SEED = 0x7e47;

function mapOf(keys: readonly AMQPValue[]): Map<AMQPValue, AMQPValue> {
  return new Map(keys.map((k, i) => [k, i]));
}

/** Decodes `m` encoded and checks every key and value (and their order). */
function assertRoundTrip(m: Map<AMQPValue, AMQPValue>): void {
  const back = decode(encode(m)) as Map<AMQPValue, AMQPValue>;
  assert.deepEqual([...back.keys()], [...m.keys()]);
  assert.deepEqual([...back.values()], [...m.values()]);
}

describe("codec text cache", () => {
  it("returns exact keys through heavy eviction (20,000 distinct keys, decoded twice)", () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${(i * 7919) % 100_003}-${i % 13}`);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < keys.length; i += 500) assertRoundTrip(mapOf(keys.slice(i, i + 500)));
    }
  });

  it("is not fooled by stale successor predictions from maps sharing keys in another order", () => {
    const a = mapOf(["alpha", "beta", "gamma", "delta"]);
    const b = mapOf(["alpha", "gamma", "beta", "epsilon", "delta"]);
    const c = mapOf(["alpha", "betb", "gamma", "delta"]); // "betb": same length as "beta", one byte off
    for (let i = 0; i < 5; i++) for (const m of [a, b, c, a]) assertRoundTrip(m);
  });

  it("tells apart keys that are prefixes of each other or differ in one byte", () => {
    const keys = ["a", "ab", "abc", "abd", "abcd", "bbcd", "abcd ", " abcd", "x".repeat(32), "x".repeat(31)];
    for (let i = 0; i < 3; i++) assertRoundTrip(mapOf(keys));
    assertRoundTrip(mapOf([...keys].reverse()));
  });

  it("keeps non-ASCII keys exact (multi-byte UTF-8, astral plane)", () => {
    const keys = ["ключ", "clé", "键", "🔑key", "key🔑", "ü", "u"];
    for (let i = 0; i < 3; i++) assertRoundTrip(mapOf(keys));
  });

  it("distinguishes string keys from symbol keys with the same bytes", () => {
    const m = mapOf(["name", new AMQPSymbol("name"), "other"]);
    for (let i = 0; i < 2; i++) {
      const back = decode(encode(m)) as Map<AMQPValue, AMQPValue>;
      const keys = [...back.keys()];
      assert.equal(keys[0], "name");
      assert.ok(keys[1] instanceof AMQPSymbol);
      assert.equal(keys[1].value, "name");
    }
  });

  it("still rejects invalid UTF-8 in a key whose valid twin is cached", () => {
    const good = Buffer.from(encode(mapOf(["caf\u00e9"])));
    decode(good);
    decode(good);
    const bad = Buffer.from(good);
    // "café" is 63 61 66 c3 a9: cut the two-byte sequence into an invalid one.
    const at = bad.indexOf(Buffer.from([0xc3, 0xa9]));
    bad[at + 1] = 0x41;
    assert.throws(() => decode(bad), DecodeError);
  });

  it("reads object fields (application properties) exactly through the cache", () => {
    const m = mapOf(["name", "count", "price", "name2"]);
    const bytes = Buffer.from(encode(m));
    for (let i = 0; i < 3; i++) {
      const d = new Decoder(bytes);
      const fields = readFields(d, d.u8(), "message", "applicationProperties");
      assert.deepEqual(fields, { name: 0, count: 1, price: 2, name2: 3 });
    }
  });

  it("decode(encode(map)) keeps arbitrary string keys, whatever was decoded before", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: "grapheme", maxLength: 40 }), { maxLength: 30 }),
        (keys) => {
          assertRoundTrip(mapOf(keys));
          assertRoundTrip(mapOf([...keys].reverse()));
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
