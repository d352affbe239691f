/**
 * Robustness of the decoders: whatever the bytes, `decode` (and every composite decoder) returns a
 * value or throws a `DecodeError` — never another exception, never a large allocation.
 *
 * Runs are seeded, so they are reproducible. For a longer exploration, `FUZZ_RUNS=<n>` multiplies
 * the number of runs and `FUZZ_SEED=<n>` changes the seed:
 * `FUZZ_RUNS=20 FUZZ_SEED=$RANDOM node scripts/run-tests.mjs fuzz`.
 */
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { CompositeType, CompositeUnion } from "../../src/codec/composite.js";
import { Decoder, MAX_NESTING_DEPTH } from "../../src/codec/decoder.js";
import { DeliveryState, Outcome, TargetOrCoordinator } from "../../src/codec/definitions/messaging.js";
import { FormatCode } from "../../src/codec/format-codes.js";
import { decode, decodeAt, encode } from "../../src/codec/index.js";
import { DecodeError } from "../../src/errors/decode-error.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { amqpValue } from "../codec/arbitraries.js";
import { compositeSamples } from "../codec/composite-samples.js";
import { mutateBytes, mutationOf, type Mutation } from "./byte-mutations.js";

const SEED = Number(process.env["FUZZ_SEED"] ?? 0xf022);
const SCALE = Math.max(1, Number(process.env["FUZZ_RUNS"] ?? 1));
const runs = (n: number): number => n * SCALE;

/** Runs `f`; it must return normally or throw a DecodeError whose offset lies within the input. */
function decodesOrDecodeError(bytes: Uint8Array, f: (b: Uint8Array) => unknown): void {
  try {
    f(bytes);
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      assert.fail(`${String(e)} (not a DecodeError) for input ${Buffer.from(bytes).toString("hex")}`);
    }
    assert.ok(e.offset >= 0 && e.offset <= bytes.length, `offset ${e.offset} outside the input`);
    assert.match(e.message, /at offset \d+/);
  }
}

/** Asserts that `f` throws a DecodeError (and returns it). */
function decodeError(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a DecodeError, got a value");
}

const knownCodes = new Set<number>(Object.values(FormatCode));
const fromHex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");

/** Bytes that start with a valid constructor more often than not, then anything. */
const noise = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc
    .tuple(fc.constantFrom(...knownCodes), fc.uint8Array({ maxLength: 48 }))
    .map(([c, rest]) => Uint8Array.of(c, ...rest)),
  // Sizes and counts near the limits of the 8- and 32-bit forms.
  fc
    .tuple(
      fc.constantFrom(0xa0, 0xa1, 0xa3, 0xb0, 0xb1, 0xb3, 0xc0, 0xc1, 0xd0, 0xd1, 0xe0, 0xf0),
      fc.constantFrom(0, 1, 2, 3, 4, 0x7f, 0xff, 0x100, 0xffff, 0x7fffffff, 0xffffffff),
      fc.uint8Array({ maxLength: 32 }),
    )
    .map(([c, n, rest]) => {
      const b = Buffer.alloc(9);
      b[0] = c;
      b.writeUInt32BE(n, 1);
      b.writeUInt32BE(n, 5);
      return Uint8Array.of(
        ...b.subarray(0, c >= 0xb0 && c !== 0xc0 && c !== 0xc1 && c !== 0xe0 ? 9 : 3),
        ...rest,
      );
    }),
);

const mutation = mutationOf(["set", "insert", "delete", "truncate", "extend", "flip"]);

function mutate(bytes: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  return Uint8Array.from(mutateBytes(bytes, ms));
}

const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

describe("fuzz: decode never throws anything but DecodeError", () => {
  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(noise, (bytes) => {
        decodesOrDecodeError(bytes, decode);
        decodesOrDecodeError(bytes, (b) => decodeAt(b, 0));
      }),
      { seed: SEED, numRuns: runs(3000) },
    );
  });

  it("on mutated (flipped, truncated, extended) encodings of arbitrary values", () => {
    fc.assert(
      fc.property(amqpValue({ maxDepth: 3, maxItems: 4 }), mutations, (v, ms) => {
        decodesOrDecodeError(mutate(encode(v), ms), decode);
      }),
      { seed: SEED + 1, numRuns: runs(1500) },
    );
  });

  it("on every proper prefix of encodings of arbitrary values (truncation is always detected)", () => {
    fc.assert(
      fc.property(amqpValue({ maxDepth: 2, maxItems: 4 }), (v) => {
        const bytes = encode(v);
        for (let n = 0; n < bytes.length; n++) decodeError(() => decode(bytes.subarray(0, n)));
      }),
      { seed: SEED + 2, numRuns: runs(200) },
    );
  });

  it("str8 and sym8 payloads decode exactly when they are valid UTF-8", () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 20 }).map((s) => new Uint8Array(Buffer.from(s))),
      // Valid text with one byte changed: the hard cases (overlong, surrogates, truncated sequences).
      fc
        .tuple(
          fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
          fc.nat(),
          fc.integer({ min: 0x80, max: 0xff }),
        )
        .map(([s, at, byte]) => {
          const b = Buffer.from(s);
          b[at % b.length] = byte;
          return new Uint8Array(b);
        }),
    );
    fc.assert(
      fc.property(payload, fc.constantFrom(0xa1, 0xa3), (p, code) => {
        const bytes = Uint8Array.of(code, p.length, ...p);
        const valid = isUtf8(p);
        if (valid) {
          const v = decode(bytes);
          const s = typeof v === "string" ? v : (v as { value: string }).value;
          assert.equal(s, Buffer.from(p).toString("utf8"));
        } else {
          const e = decodeError(() => decode(bytes));
          assert.match(e.message, /invalid UTF-8/);
          assert.equal(e.offset, 2);
        }
        // The same bytes as a map key (the cached-key path) behave the same.
        const asKey = Uint8Array.of(0xc1, p.length + 4, 2, code, p.length, ...p, 0x40);
        if (valid) assert.ok(decode(asKey) instanceof Map);
        else decodeError(() => decode(asKey));
      }),
      { seed: SEED + 3, numRuns: runs(1500) },
    );
  });
});

describe("fuzz: composite decoders never throw anything but DecodeError", () => {
  const codecs: (CompositeType<object> | CompositeUnion<unknown>)[] = [
    ...compositeSamples.map((s) => s.type),
    DeliveryState,
    Outcome,
    TargetOrCoordinator,
  ];
  const run = (type: CompositeType<object> | CompositeUnion<unknown>, bytes: Uint8Array): void => {
    decodesOrDecodeError(bytes, (b) => {
      return type.decode(new Decoder(b));
    });
  };
  const encodings = compositeSamples.flatMap(({ type, full, minimal }) =>
    [full, minimal].map((v) => {
      const w = new ByteWriter();
      type.encode(w, v);
      return w.toBuffer();
    }),
  );

  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.constantFrom(...codecs), noise, (type, bytes) =>
        run(type, Uint8Array.of(0x00, 0x53, ...bytes)),
      ),
      { seed: SEED + 4, numRuns: runs(2000) },
    );
  });

  it("on mutated encodings of every composite (decoded by every table)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...codecs), fc.constantFrom(...encodings), mutations, (type, bytes, ms) =>
        run(type, mutate(bytes, ms)),
      ),
      { seed: SEED + 5, numRuns: runs(3000) },
    );
  });

  it("on every proper prefix of every composite encoding", () => {
    for (const { type, full } of compositeSamples) {
      const w = new ByteWriter();
      type.encode(w, full);
      const bytes = w.toBuffer();
      for (let n = 0; n < bytes.length; n++) {
        decodeError(() => type.decode(new Decoder(bytes.subarray(0, n))));
      }
    }
  });
});

describe("fuzz: explicit hostile inputs", () => {
  const bombs: [string, string][] = [
    ["vbin32", "b0 ffffffff"],
    ["str32", "b1 ffffffff 41"],
    ["sym32", "b3 ffffffff 41"],
    ["list32 size", "d0 ffffffff ffffffff"],
    ["map32 size", "d1 ffffffff ffffffff"],
    ["array32 size", "f0 ffffffff ffffffff 70"],
    ["list32 count", "d0 00000008 ffffffff 40404040"],
    ["map32 count", "d1 00000008 ffffffff 40404040"],
    ["array32 count", "f0 00000009 ffffffff 70 00000000"],
    ["array32 count of empty elements", "f0 00000005 ffffffff 40"],
    ["array32 of lists", "f0 0000000d ffffffff d0 00000004 00000000"],
    ["array8 count", "e0 03 ff 50 01"],
    ["list8 count", "c0 02 ff 40"],
    ["nested size lie", "d0 00000010 00000001 d0 ffffffff ffffffff"],
  ];

  it("4 GiB sizes and counts fail at once with a DecodeError at their offset, without allocating", () => {
    global.gc?.();
    const before = process.memoryUsage();
    for (const [name, h] of bombs) {
      const bytes = fromHex(h);
      for (let i = 0; i < 200; i++) {
        const e = decodeError(() => decode(bytes));
        assert.ok(e.offset <= 5, `${name}: offset ${e.offset}`);
        assert.match(e.message, /at offset \d+/, name);
        assert.ok(e.formatCode !== undefined, `${name} names its format code`);
      }
    }
    const after = process.memoryUsage();
    const mib = 1024 * 1024;
    assert.ok(
      after.arrayBuffers - before.arrayBuffers < 16 * mib,
      `arrayBuffers grew by ${after.arrayBuffers - before.arrayBuffers}`,
    );
    assert.ok(
      after.heapUsed - before.heapUsed < 64 * mib,
      `heap grew by ${after.heapUsed - before.heapUsed}`,
    );
    assert.ok(after.rss - before.rss < 256 * mib, `rss grew by ${after.rss - before.rss}`);
  });

  it("the size checks name the offset of the bad constructor, also when nested", () => {
    const e = decodeError(() => decode(fromHex("c0 07 02 41 b0 ffffffff")));
    assert.ok(e.offset >= 4, `offset ${e.offset} is inside the nested value`);
    assert.equal(e.formatCode, 0xb0);
    const list = decodeError(() => decode(fromHex("c0 0b 02 41 d0 ffffffff ffffffff")));
    assert.equal(list.offset, 4);
    assert.equal(list.formatCode, 0xd0);
  });

  it(`nesting deeper than MAX_NESTING_DEPTH (${MAX_NESTING_DEPTH}) fails with a DecodeError, as deep as it goes`, () => {
    const lists = (n: number): Buffer => {
      let b = Buffer.from([0x45]);
      for (let i = 0; i < n; i++) b = Buffer.concat([Buffer.from([0xd0]), u32(b.length + 4), u32(1), b]);
      return b;
    };
    const maps = (n: number): Buffer => {
      let b = Buffer.from([0x40]);
      for (let i = 0; i < n; i++)
        b = Buffer.concat([Buffer.from([0xd1]), u32(b.length + 5), u32(2), Buffer.from([0x40]), b]);
      return b;
    };
    const arrays = (n: number): Buffer => {
      let b = Buffer.concat([Buffer.from([0xf0]), u32(5), u32(0), Buffer.from([0x70])]);
      for (let i = 1; i < n; i++) b = Buffer.concat([Buffer.from([0xf0]), u32(b.length + 4), u32(1), b]);
      return b;
    };
    const described = (n: number): Buffer =>
      Buffer.concat([Buffer.alloc(n, 0x00), Buffer.from([0x40]), Buffer.alloc(n, 0x40)]);
    for (const [name, make] of [
      ["lists", lists],
      ["maps", maps],
      ["arrays", arrays],
      ["described", described],
    ] as const) {
      assert.doesNotThrow(() => decode(make(MAX_NESTING_DEPTH)), `${name} at the limit`);
      const e = decodeError(() => decode(make(MAX_NESTING_DEPTH + 1)));
      assert.match(e.message, /nesting deeper than/, name);
      decodeError(() => decode(make(20_000)));
    }
    // Nesting through a composite table counts too.
    decodeError(() => new Decoder(Buffer.concat([fromHex("005310"), lists(MAX_NESTING_DEPTH + 1)])).value());
  });

  it("invalid UTF-8 in str8, str32, sym8, sym32, map keys and composite fields fails", () => {
    const invalid = ["c328", "ff", "c080", "eda080", "f4908080", "e282", "80", "f8888080"];
    for (const p of invalid) {
      const n = p.length / 2;
      for (const code of ["a1", "a3"])
        decodeError(() => decode(fromHex(`${code} ${n.toString(16).padStart(2, "0")} ${p}`)));
      for (const code of ["b1", "b3"])
        decodeError(() => decode(fromHex(`${code} ${n.toString(16).padStart(8, "0")} ${p}`)));
      decodeError(() =>
        decode(
          fromHex(
            `c1 ${(n + 4).toString(16).padStart(2, "0")} 02 a3 ${n.toString(16).padStart(2, "0")} ${p} 40`,
          ),
        ),
      );
    }
    const open = compositeSamples.find((s) => s.type.name === "open")!.type;
    decodeError(() => open.decode(new Decoder(fromHex("005310 c0 04 01 a1 01 ff"))));
    decodeError(() => open.decode(new Decoder(fromHex("005310 c0 09 03 a1 01 63 40 a3 01 ff"))));
  });

  it("every unknown constructor fails with a DecodeError naming it", () => {
    let unknown = 0;
    for (let code = 0; code < 256; code++) {
      if (knownCodes.has(code)) continue;
      unknown++;
      const e = decodeError(() => decode(Buffer.from([code, 0, 0, 0, 0, 0, 0, 0, 0])));
      assert.equal(e.formatCode, code);
      assert.equal(e.offset, 0);
      assert.match(e.message, /unknown constructor/);
      // As an array element constructor too.
      decodeError(() => decode(Buffer.from([0xe0, 0x02, 0x01, code, 0])));
    }
    assert.equal(unknown, 256 - knownCodes.size);
  });

  it("zero-width element constructors and nested described element constructors are refused in arrays", () => {
    for (const code of [0x40, 0x41, 0x42, 0x43, 0x44, 0x45])
      decodeError(() => decode(Buffer.from([0xe0, 0x02, 0xff, code])));
    decodeError(() => decode(fromHex("e0 06 01 00 53 01 00 53")));
  });

  it("trailing bytes after the value fail in decode, but not in decodeAt", () => {
    const bytes = Buffer.concat([encode([1, "two"]), Buffer.from([0x40])]);
    const e = decodeError(() => decode(bytes));
    assert.match(e.message, /1 trailing bytes/);
    assert.equal(e.offset, bytes.length - 1);
    assert.deepEqual(decodeAt(bytes, 0).offset, bytes.length - 1);
  });

  it("timestamps beyond the range of Date, bad booleans and bad char code points fail", () => {
    decodeError(() => decode(fromHex("83 7fffffff ffffffff")));
    decodeError(() => decode(fromHex("83 001eb208c2dc0001")));
    decodeError(() => decode(fromHex("56 02")));
    decodeError(() => decode(fromHex("73 0000d800")));
    decodeError(() => decode(fromHex("73 00110000")));
    decodeError(() => decode(fromHex("d1 00000005 00000001 40")));
  });
});

/**
 * Inputs that once crashed a decoder (threw something other than a DecodeError) or that a decoder
 * wrongly accepted. Each must now fail with a DecodeError. Add every new finding here, as hex, with
 * the table that decodes it (`value` for `decode`). The seeded and long fuzz runs (`FUZZ_RUNS=40`,
 * several seeds) found no crasher in `decode` itself; the entries below were found by the
 * composite tests.
 */
const crashers: { name: string; table: string; hex: string }[] = [
  {
    // Was decoded as offeredCapabilities: [1, 2] (numbers typed as string[]).
    name: "an int array in a multiple symbol field",
    table: "open",
    hex: "005310c01608a10163404040404040e00a02710000000100000002",
  },
  {
    // Was decoded as saslServerMechanisms: [Buffer] (a binary array typed as string[]).
    name: "a binary array in sasl-mechanisms",
    table: "sasl-mechanisms",
    hex: "005340c00701e00401a00161",
  },
];

describe("fuzz: regression table of past crashers", () => {
  const tables = new Map<string, CompositeType<object>>(compositeSamples.map((c) => [c.type.name, c.type]));
  for (const { name, table, hex } of crashers) {
    it(`${name} (${table})`, () => {
      const bytes = fromHex(hex);
      const t = tables.get(table);
      decodesOrDecodeError(bytes, (b) => (t ? t.decode(new Decoder(b)) : decode(b)));
      decodeError(() => (t ? t.decode(new Decoder(bytes)) : decode(bytes)));
      // The bytes themselves are well-formed AMQP: only the table's field types reject them.
      assert.doesNotThrow(() => decode(bytes));
    });
  }
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
