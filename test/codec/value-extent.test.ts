/**
 * `valueEnd`: where an encoded value ends, from its constructor and size fields alone, also when
 * only the first bytes of the value are there.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { encode, AMQPDescribed, AMQPSymbol, AMQPuLong } from "../../src/codec/index.js";
import { valueEnd } from "../../src/codec/value-extent.js";
import { amqpValue } from "./arbitraries.js";

const SEED = 0x5e7e4d;

describe("valueEnd", () => {
  it("is the length of the encoding of any value, nested and described ones included", () => {
    fc.assert(
      fc.property(amqpValue({ maxDepth: 3, maxItems: 4 }), (v) => {
        const bytes = encode(v);
        assert.equal(valueEnd(bytes, 0, bytes.length), bytes.length);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("is known from a prefix once the constructor, the descriptor and the size field are in it", () => {
    const body = Buffer.alloc(70_000, 1);
    const section = encode(new AMQPDescribed(new AMQPuLong(0x75), body)); // a Data section: vbin32
    // 0x00 0x53 0x75 0xb0 and 4 bytes of size: the end is known from the 8th byte on.
    for (let n = 0; n < 8; n++) assert.equal(valueEnd(section, 0, n), -1, `prefix of ${n} bytes`);
    for (const n of [8, 9, 1000, section.length]) assert.equal(valueEnd(section, 0, n), section.length);
    const symbolic = encode(new AMQPDescribed(new AMQPSymbol("amqp:data:binary"), body));
    // 0x00, the sym8 descriptor (3 + 16 bytes), 0xb0 and 4 bytes of size.
    assert.equal(valueEnd(symbolic, 0, 10), -1); // the descriptor is cut off
    assert.equal(valueEnd(symbolic, 0, 23), -1); // the size field is
    assert.equal(valueEnd(symbolic, 0, 24), symbolic.length);
  });

  it("starts at the offset given and reads nothing at or past the end given", () => {
    const a = encode("x".repeat(300)); // str32
    const b = encode(new AMQPuLong(7n));
    const both = Buffer.concat([a, b]);
    assert.equal(valueEnd(both, a.length, both.length), both.length);
    assert.equal(valueEnd(both, 0, 4), -1); // str32: the size field is 4 bytes
    assert.equal(valueEnd(both, 0, 5), a.length);
  });

  it("gives the width of every format code subcategory", () => {
    const cases: [number[], number][] = [
      [[0x40], 1], // null
      [[0x45], 1], // list0
      [[0x50, 9], 2], // ubyte
      [[0x60, 0, 1], 3], // ushort
      [[0x70, 0, 0, 0, 1], 5], // uint
      [[0x83, 0, 0, 0, 0, 0, 0, 0, 1], 9], // timestamp
      [[0x98, ...new Array<number>(16).fill(0)], 17], // uuid
      [[0xa0, 3, 1, 2, 3], 5], // vbin8
      [[0xb1, 0, 0, 1, 0], 5 + 256], // str32, announcing more than is there
      [[0xc0, 1, 0], 3], // list8 of no items: size 1 (the count)
      [[0xd1, 0, 0, 0, 4, 0, 0, 0, 0], 9], // map32
      [[0xe0, 2, 1, 0x40], 4], // array8
      [[0xf0, 0xff, 0xff, 0xff, 0xff], 5 + 0xffffffff], // array32 of the largest size
    ];
    for (const [bytes, end] of cases) {
      assert.equal(
        valueEnd(Uint8Array.from(bytes), 0, bytes.length),
        end,
        Buffer.from(bytes).toString("hex"),
      );
    }
  });

  it("is -1 for a format code that does not exist", () => {
    for (const code of [0x01, 0x0f, 0x10, 0x2a, 0x3f]) {
      assert.equal(valueEnd(Uint8Array.from([code, 0, 0, 0, 0]), 0, 5), -1, code.toString(16));
    }
  });

  it("walks a long chain of described constructors in constant stack", () => {
    const chain = Buffer.alloc(1 << 20); // a megabyte of 0x00: described, described, …
    assert.equal(valueEnd(chain, 0, chain.length), -1);
    chain[chain.length - 1] = 0x40;
    // Every described value still needs its value after the descriptor: unknown at the end.
    assert.equal(valueEnd(chain, 0, chain.length), -1);
    const nested = Uint8Array.from([0x00, 0x00, 0x53, 0x01, 0x53, 0x02, 0x40]); // described descriptor
    assert.equal(valueEnd(nested, 0, nested.length), nested.length);
  });
});
