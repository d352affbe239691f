/**
 * Property tests of the codec: every canonical value survives encode → decode, encoding is
 * deterministic, and non-canonical JS inputs decode to their canonical forms.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  AMQPArray,
  AMQPBinary,
  AMQPDouble,
  AMQPInt,
  AMQPLong,
  AMQPString,
  AMQPSymbol,
  AMQPTimestamp,
  amqpEquals,
  decode,
  decodeAt,
  encode,
  typeOf,
  type AMQPValue,
} from "../../src/codec/index.js";
import {
  MAX_DATE_MS,
  amqpValue,
  arrayElementTypes,
  arrayOf,
  primitive,
  primitiveNames,
} from "./arbitraries.js";

/** Fixed seed: the runs are reproducible; change it locally to explore. */
const SEED = 0x0a3c9d;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("codec properties: canonical values", () => {
  it("decode(encode(v)) is amqpEquals to v for nested values of every type", () => {
    fc.assert(
      fc.property(amqpValue({ maxDepth: 3, maxItems: 4 }), (v) => {
        assert.ok(amqpEquals(decode(encode(v)), v), `round trip changed ${hex(encode(v))}`);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("encoding is deterministic: encode(decode(encode(v))) equals encode(v) byte for byte", () => {
    fc.assert(
      fc.property(amqpValue({ maxDepth: 3, maxItems: 4 }), (v) => {
        const once = encode(v);
        assert.equal(hex(encode(decode(once))), hex(once));
      }),
      { seed: SEED + 1, numRuns: 400 },
    );
  });

  for (const name of primitiveNames) {
    it(`round-trips every ${name} and keeps its AMQP type`, () => {
      fc.assert(
        fc.property(primitive[name] as fc.Arbitrary<AMQPValue>, (v) => {
          const back = decode(encode(v));
          assert.equal(typeOf(back), name);
          assert.ok(amqpEquals(back, v));
        }),
        { seed: SEED + 2, numRuns: 150 },
      );
    });
  }

  for (const type of arrayElementTypes) {
    it(`round-trips arrays of ${type} (shared constructor) and re-encodes them identically`, () => {
      fc.assert(
        fc.property(arrayOf(amqpValue({ maxDepth: 1, maxItems: 3 }), 6, 0, type), (arr) => {
          const once = encode(arr);
          const back = decode(once);
          assert.ok(back instanceof AMQPArray);
          assert.equal(back.elementType, type);
          assert.ok(amqpEquals(back, arr));
          assert.equal(hex(encode(back)), hex(once));
        }),
        { seed: SEED + 9, numRuns: 40 },
      );
    });
  }

  it("large lists, maps and arrays (32-bit forms) round-trip and re-encode identically", () => {
    const item = fc.oneof(
      primitive.int,
      primitive.string,
      primitive.symbol,
      primitive.ulong,
      fc.constant(null),
    );
    const large = fc.oneof(
      fc.array(item, { minLength: 60, maxLength: 300 }),
      fc
        .uniqueArray(fc.tuple(primitive.string, item), {
          minLength: 60,
          maxLength: 150,
          selector: (e) => e[0],
        })
        .map((e) => new Map<AMQPValue, AMQPValue>(e)),
      fc.array(primitive.uint, { minLength: 256, maxLength: 300 }).map((xs) => new AMQPArray("uint", xs)),
      fc.array(primitive.symbol, { minLength: 40, maxLength: 80 }).map((xs) => new AMQPArray("symbol", xs)),
    );
    fc.assert(
      fc.property(large, (v) => {
        const once = encode(v);
        assert.ok(
          [0xd0, 0xd1, 0xf0].includes(once[0]!),
          `expected a 32-bit form, got 0x${once[0]!.toString(16)}`,
        );
        assert.ok(amqpEquals(decode(once), v));
        assert.equal(hex(encode(decode(once))), hex(once));
      }),
      { seed: SEED + 10, numRuns: 60 },
    );
  });

  it("a stream of encodings decodes back value by value with decodeAt", () => {
    fc.assert(
      fc.property(fc.array(amqpValue({ maxDepth: 2, maxItems: 3 }), { maxLength: 6 }), (vs) => {
        const stream = Buffer.concat(vs.map((v) => encode(v)));
        let offset = 0;
        for (const v of vs) {
          const r = decodeAt(stream, offset);
          assert.ok(amqpEquals(r.value, v));
          offset = r.offset;
        }
        assert.equal(offset, stream.length);
      }),
      { seed: SEED + 3, numRuns: 100 },
    );
  });

  it("amqpEquals(a, b) holds exactly when a and b have the same encoding", () => {
    const small = amqpValue({ maxDepth: 1, maxItems: 2 });
    fc.assert(
      fc.property(small, small, (a, b) => {
        assert.equal(amqpEquals(a, b), hex(encode(a)) === hex(encode(b)));
        assert.ok(amqpEquals(a, a));
      }),
      { seed: SEED + 4, numRuns: 300 },
    );
  });
});

describe("codec properties: plain JS inputs decode to canonical forms", () => {
  it("integer numbers: int32 → int (number), other safe integers → long (bigint)", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const back = decode(encode(n));
        if (n >= -0x80000000 && n <= 0x7fffffff && !Object.is(n, -0)) assert.equal(back, n);
        else assert.equal(back, BigInt(n));
      }),
      { seed: SEED + 5, numRuns: 200 },
    );
  });

  it("non-integer, non-finite, -0 and unsafe-integer numbers → double", () => {
    const doubles = fc.oneof(
      fc.double().filter((d) => !Number.isSafeInteger(d) || Object.is(d, -0)),
      fc.constantFrom(-0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 60), 0.1),
    );
    fc.assert(
      fc.property(doubles, (d) => {
        const back = decode(encode(d));
        assert.ok(back instanceof AMQPDouble);
        assert.ok(Object.is(back.value, d));
        assert.ok(amqpEquals(back, d));
      }),
      { seed: SEED + 6, numRuns: 200 },
    );
  });

  it("plain objects → Map with string keys, in order; undefined members are skipped", () => {
    const obj = fc.dictionary(
      fc.string({ unit: "binary", maxLength: 10 }),
      fc.option(fc.integer(), { nil: undefined }),
    );
    fc.assert(
      fc.property(obj, (o) => {
        const back = decode(encode(o));
        assert.ok(back instanceof Map);
        const expected = Object.entries(o).filter(([, v]) => v !== undefined);
        assert.deepEqual([...back], expected);
        assert.ok(amqpEquals(back, o));
      }),
      { seed: SEED + 7, numRuns: 200 },
    );
  });

  it("undefined → null, Uint8Array → Buffer, explicit wrappers → their plain canonical form", () => {
    assert.equal(decode(encode(undefined)), null);
    const u8 = new Uint8Array([1, 2, 3]);
    const bin = decode(encode(u8));
    assert.ok(Buffer.isBuffer(bin));
    assert.deepEqual([...bin], [1, 2, 3]);
    const cases: [AMQPValue, AMQPValue][] = [
      [new AMQPInt(7), 7],
      [new AMQPLong(7), 7n],
      [new AMQPString("s"), "s"],
      [new AMQPBinary("hi"), Buffer.from("hi")],
      [new AMQPTimestamp(1234), new Date(1234)],
      [new AMQPDouble(3), new AMQPDouble(3)],
    ];
    for (const [input, canonical] of cases) {
      const back = decode(encode(input));
      assert.ok(amqpEquals(back, canonical), typeOf(input));
      assert.ok(amqpEquals(input, canonical));
      assert.equal(typeOf(back), typeOf(canonical));
    }
    // Wrappers and their plain forms are equal; different types are not.
    assert.ok(amqpEquals(new AMQPDouble(1.5), 1.5));
    assert.ok(amqpEquals(2 ** 40, 2n ** 40n));
    assert.ok(!amqpEquals(new AMQPSymbol("a"), "a"));
    assert.ok(!amqpEquals(1, 1n));
    assert.ok(!amqpEquals(new AMQPDouble(0), new AMQPDouble(-0)));
    assert.ok(amqpEquals(new AMQPDouble(NaN), NaN));
    // Array items compare as values of the element type, plain or wrapped.
    assert.ok(amqpEquals(new AMQPArray("symbol", ["a"]), new AMQPArray("symbol", [new AMQPSymbol("a")])));
    assert.ok(amqpEquals(new AMQPArray("ulong", [5]), decode(encode(new AMQPArray("ulong", [5n])))));
    assert.ok(!amqpEquals(new AMQPArray("uint", [5]), new AMQPArray("ulong", [5])));
    assert.ok(!amqpEquals(new AMQPArray("uint", [5]), new AMQPArray("uint", [6])));
  });

  it("timestamps round-trip over the whole Date range, at ms precision", () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_DATE_MS, max: MAX_DATE_MS }), (ms) => {
        const back = decode(encode(new Date(ms)));
        assert.ok(back instanceof Date);
        assert.equal(back.getTime(), ms);
      }),
      { seed: SEED + 8, numRuns: 200 },
    );
  });

  it("strings with lone surrogates are not well-formed: they encode with U+FFFD (documented)", () => {
    const back = decode(encode("a\ud800b"));
    assert.equal(back, "a\ufffdb");
  });
});
