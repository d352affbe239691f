/**
 * wrap() / unwrap() (uamqp's data_factory): wrap makes the AMQP type explicit without changing a
 * byte of the encoding; unwrap gives plain JavaScript.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decode, encode } from "../../src/codec/index.js";
import {
  AMQPArray,
  AMQPBinary,
  AMQPChar,
  AMQPDecimal32,
  AMQPDescribed,
  AMQPDouble,
  AMQPFloat,
  AMQPInt,
  AMQPLong,
  AMQPString,
  AMQPSymbol,
  AMQPTimestamp,
  AMQPuByte,
  AMQPuInt,
  AMQPuLong,
  AMQPUuid,
  type AMQPValue,
} from "../../src/codec/values.js";
import { unwrap, wrap } from "../../src/codec/wrap.js";
import { MAX_DATE_MS, amqpValue } from "./arbitraries.js";

/** Plain JS values of every kind the encoder takes without wrappers. */
const plain: fc.Arbitrary<AMQPValue> = fc.letrec<{ v: AMQPValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 20 }),
    fc.integer({ min: -MAX_DATE_MS, max: MAX_DATE_MS }).map((ms) => new Date(ms)),
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("v"), { maxKeys: 4 }),
    fc.array(fc.tuple(tie("v"), tie("v")), { maxLength: 3 }).map((es) => new Map(es)),
  ),
})).v;

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe("wrap()", () => {
  it("makes each plain value's AMQP type explicit", () => {
    assert.ok(wrap("s") instanceof AMQPString);
    assert.ok(wrap(5) instanceof AMQPInt);
    assert.ok(wrap(2 ** 40) instanceof AMQPLong);
    assert.ok(wrap(1.5) instanceof AMQPDouble);
    assert.ok(wrap(7n) instanceof AMQPLong);
    assert.ok(wrap(Buffer.from("b")) instanceof AMQPBinary);
    assert.ok(wrap(new Date(0)) instanceof AMQPTimestamp);
    assert.equal(wrap(null), null);
    assert.equal(wrap(undefined), null);
    assert.equal(wrap(true), true);
    const sym = new AMQPSymbol("kept");
    assert.equal(wrap(sym), sym);
    const m = wrap({ n: 2 ** 40, skip: undefined }) as Map<AMQPValue, AMQPValue>;
    assert.ok(m instanceof Map);
    assert.equal(m.size, 1);
    const [k, v] = [...m][0]!;
    assert.ok(k instanceof AMQPString && k.value === "n");
    assert.ok(v instanceof AMQPLong && v.value === 2n ** 40n);
    const list = wrap([1, "a"]) as AMQPValue[];
    assert.ok(list[0] instanceof AMQPInt && list[1] instanceof AMQPString);
  });

  it("never changes the bytes: encode(wrap(v)) equals encode(v) (plain and decoded values)", () => {
    fc.assert(
      fc.property(plain, (v) => same(encode(wrap(v)), encode(v))),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(amqpValue(), (v) => same(encode(wrap(v)), encode(v))),
      { numRuns: 500 },
    );
  });
});

describe("unwrap()", () => {
  it("turns decoded AMQP values into plain JavaScript", () => {
    const uuid = new AMQPUuid("0f8fad5b-d9cb-469f-a165-70867728950e");
    const bytes = encode(
      new Map<AMQPValue, AMQPValue>([
        [new AMQPSymbol("x-opt-sequence-number"), new AMQPLong(42n)],
        [new AMQPSymbol("u8"), new AMQPuByte(7)],
        [new AMQPSymbol("u32"), new AMQPuInt(70000)],
        [new AMQPSymbol("u64"), new AMQPuLong(1n << 63n)],
        [new AMQPSymbol("f"), new AMQPFloat(0.5)],
        [new AMQPSymbol("c"), new AMQPChar("😀")],
        [new AMQPSymbol("sym"), new AMQPSymbol("amqp:accepted")],
        [new AMQPSymbol("bin"), Buffer.from([1, 2])],
        [new AMQPSymbol("at"), new Date(1700000000000)],
        [new AMQPSymbol("id"), uuid],
        [new AMQPSymbol("arr"), new AMQPArray("int", [1, 2, 3])],
        [new AMQPSymbol("list"), [new AMQPSymbol("a"), null, true]],
      ]),
    );
    assert.deepEqual(unwrap(decode(bytes)), {
      "x-opt-sequence-number": 42n,
      u8: 7,
      u32: 70000,
      u64: 1n << 63n,
      f: 0.5,
      c: "😀",
      sym: "amqp:accepted",
      bin: Buffer.from([1, 2]),
      at: new Date(1700000000000),
      id: "0f8fad5b-d9cb-469f-a165-70867728950e",
      arr: [1, 2, 3],
      list: ["a", null, true],
    });
  });

  it("a map with a key that is not a string stays a Map; decimals and described values stay wrapped", () => {
    const d = new AMQPDescribed(new AMQPSymbol("x:y"), "v");
    const dec = new AMQPDecimal32(new Uint8Array(4));
    const out = unwrap(
      new Map<AMQPValue, AMQPValue>([
        [1, "one"],
        ["d", d],
        ["dec", dec],
      ]),
    );
    assert.ok(out instanceof Map);
    assert.equal(out.get(1), "one");
    assert.equal(out.get("d"), d);
    assert.equal(out.get("dec"), dec);
    assert.equal(unwrap(undefined), null);
    assert.deepEqual(unwrap({ a: new AMQPSymbol("s"), b: undefined }), { a: "s" });
  });

  it("unwrap(wrap(v)) of a plain value keeps its JS value (maps as objects, bytes as Buffers)", () => {
    assert.deepEqual(unwrap(wrap({ n: 5, s: "x", l: [1n, 2.5], b: new Uint8Array([9]) })), {
      n: 5,
      s: "x",
      l: [1n, 2.5],
      b: Buffer.from([9]),
    });
  });
});
