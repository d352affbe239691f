/**
 * The encoder's size boundaries: where str8/sym8/vbin8 and list8/map8/array8 give way to their
 * 32-bit forms, including the cases where the encoder only learns the size after writing the body.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decoder } from "../../src/codec/decoder.js";
import {
  AMQPArray,
  AMQPSymbol,
  amqpEquals,
  decode,
  encode,
  encodeValue,
  type AMQPValue,
} from "../../src/codec/index.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

function roundTrip(v: AMQPValue): Uint8Array {
  const bytes = encode(v);
  assert.ok(amqpEquals(decode(bytes), v));
  return bytes;
}

describe("encoder boundaries", () => {
  it("strings and symbols: 255 UTF-8 bytes is the largest str8/sym8, whatever the number of UTF-16 units", () => {
    const cases: [string, number][] = [
      ["a".repeat(85), 0xa1],
      ["é".repeat(85), 0xa1], // 170 bytes, still the one-pass path
      ["a".repeat(86), 0xa1],
      ["é".repeat(127) + "a", 0xa1], // 255 bytes from 128 units
      ["é".repeat(128), 0xb1], // 256 bytes from 128 units: written as str8, then moved up
      ["€".repeat(86), 0xb1], // 258 bytes from 86 units
      ["a".repeat(255), 0xa1],
      ["a".repeat(256), 0xb1],
      ["😀".repeat(64), 0xb1], // 256 bytes from 128 units
      ["x".repeat(70_000), 0xb1], // measured before writing
      ["é".repeat(40_000), 0xb1],
    ];
    for (const [s, code] of cases) {
      const bytes = roundTrip(s);
      assert.equal(bytes[0], code, `${s.length} units, ${Buffer.byteLength(s)} bytes`);
      const n = Buffer.byteLength(s);
      assert.equal(bytes.length, n + (code === 0xa1 ? 2 : 5));
      const sym = roundTrip(new AMQPSymbol(s));
      assert.equal(sym[0], code + 2);
    }
  });

  it("lists and maps: a body of 254 bytes and 255 items is the largest 8-bit form", () => {
    // 127 one-byte items plus one 127-byte string: body = 127 + 2 + 125 = 254 bytes.
    const fits = [...Array<null>(127).fill(null), "s".repeat(125)];
    assert.equal(roundTrip(fits)[0], 0xc0);
    const over = [...Array<null>(127).fill(null), "s".repeat(126)];
    const bytes = roundTrip(over);
    assert.equal(bytes[0], 0xd0);
    assert.equal(Buffer.from(bytes).readUInt32BE(1), bytes.length - 5);
    assert.equal(roundTrip(Array<null>(255).fill(null))[0], 0xd0); // 255 bytes of body
    assert.equal(roundTrip(Array<null>(254).fill(null))[0], 0xc0);
    assert.equal(roundTrip(Array<boolean>(256).fill(true))[0], 0xd0);
    const smallMap = new Map<AMQPValue, AMQPValue>(Array.from({ length: 127 }, (_, i) => [i, null]));
    assert.equal(roundTrip(smallMap)[0], 0xd1); // 254 items, but more than 254 bytes
    const bigMap = new Map<AMQPValue, AMQPValue>(Array.from({ length: 128 }, (_, i) => [i, null]));
    assert.equal(roundTrip(bigMap)[0], 0xd1); // 256 items
    assert.equal(roundTrip(new Map([["k", "v".repeat(240)]]))[0], 0xc1);
    assert.equal(roundTrip({ k: "v".repeat(260) })[0], 0xd1);
  });

  it("arrays: the element constructor is shared, the 32-bit form kicks in by size or count", () => {
    assert.equal(roundTrip(new AMQPArray("ubyte", Array<number>(200).fill(1)))[0], 0xe0);
    assert.equal(roundTrip(new AMQPArray("ubyte", Array<number>(256).fill(1)))[0], 0xf0);
    const syms = roundTrip(new AMQPArray("symbol", ["a", "b".repeat(300)]));
    assert.equal(syms[0], 0xf0);
    assert.equal(syms[9], 0xb3); // sym32 for every element once one needs it
    const nested = roundTrip([
      new AMQPArray("array", [new AMQPArray("int", [1, 2]), new AMQPArray("symbol", ["x"])]),
    ]);
    assert.equal(nested[0], 0xc0);
  });

  it("nested compounds that grow past 255 bytes are moved up correctly at every level", () => {
    let v: AMQPValue = "z".repeat(250);
    for (let i = 0; i < 6; i++) v = [i, v, new Map([[i, [v]]])];
    roundTrip(v);
  });

  it("ByteWriter.take hands out the bytes without a copy and never writes them again", () => {
    const w = new ByteWriter(16);
    const taken: [Buffer, string][] = [];
    for (let i = 0; i < 2000; i++) {
      encodeValue(w, i % 7 === 0 ? "x".repeat(i) : [i, "s", i * 1.5]);
      const b = w.take();
      taken.push([b, b.toString("hex")]);
      assert.equal(w.pos, 0);
    }
    for (const [b, h] of taken) assert.equal(b.toString("hex"), h);
    const a = encode("first");
    const b = encode("second");
    assert.equal(decode(a), "first");
    assert.equal(decode(b), "second");
  });
  it("ByteWriter.copyRange appends exactly the range, short (copied by hand) or long, growing as needed", () => {
    const src = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    const w = new ByteWriter(4);
    const want: Buffer[] = [];
    for (const [start, end] of [
      [0, 0],
      [5, 6],
      [10, 74],
      [10, 75],
      [1, 300],
      [299, 300],
      [7, 3],
    ] as const) {
      w.copyRange(src, start, end);
      want.push(src.subarray(start, Math.max(start, end)));
    }
    assert.deepEqual(w.view(), Buffer.concat(want));
  });
});

describe("Decoder range", () => {
  it("refuses a start or end outside the bytes it is given", () => {
    const bytes = Buffer.from([0x40, 0x40]);
    assert.throws(() => new Decoder(bytes, 0, 3), RangeError);
    assert.throws(() => new Decoder(bytes, 2, 1), RangeError);
    assert.throws(() => new Decoder(bytes, -1, 2), RangeError);
    assert.equal(new Decoder(bytes, 1, 2).value(), null);
  });
});
