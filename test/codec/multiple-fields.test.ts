/**
 * Every `multiple="true"` field of the AMQP 1.0 composites decodes from a single value, an array or
 * a list (Qpid Proton sends `offered_capabilities = ["ANONYMOUS-RELAY"]` as a list of symbols), and
 * is still encoded as an array.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { symbolsOf, type CompositeType } from "../../src/codec/composite.js";
import { decode } from "../../src/codec/codec.js";
import { Decoder } from "../../src/codec/decoder.js";
import * as messaging from "../../src/codec/definitions/messaging.js";
import * as security from "../../src/codec/definitions/security.js";
import * as transport from "../../src/codec/definitions/transport.js";
import { DecodeError } from "../../src/errors/decode-error.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

/**
 * The `multiple="true"` fields of the AMQP 1.0 XML (transport.xml: open, begin, attach;
 * messaging.xml: source, target; transactions.xml: coordinator; security.xml: sasl-mechanisms),
 * with the mandatory fields each composite needs to be valid.
 */
const SPEC_MULTIPLE_FIELDS: readonly [CompositeType<object>, string, string, object][] = [
  [transport.Open, "open", "outgoingLocales", { containerId: "c" }],
  [transport.Open, "open", "incomingLocales", { containerId: "c" }],
  [transport.Open, "open", "offeredCapabilities", { containerId: "c" }],
  [transport.Open, "open", "desiredCapabilities", { containerId: "c" }],
  [
    transport.Begin,
    "begin",
    "offeredCapabilities",
    { nextOutgoingId: 1, incomingWindow: 2, outgoingWindow: 3 },
  ],
  [
    transport.Begin,
    "begin",
    "desiredCapabilities",
    { nextOutgoingId: 1, incomingWindow: 2, outgoingWindow: 3 },
  ],
  [transport.Attach, "attach", "offeredCapabilities", { name: "l", handle: 0, role: false }],
  [transport.Attach, "attach", "desiredCapabilities", { name: "l", handle: 0, role: true }],
  [messaging.Source, "source", "outcomes", {}],
  [messaging.Source, "source", "capabilities", {}],
  [messaging.Target, "target", "capabilities", {}],
  [messaging.Coordinator, "coordinator", "capabilities", {}],
  [security.SaslMechanisms, "sasl-mechanisms", "saslServerMechanisms", {}],
];

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const fromHex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");

function encodeWith(type: CompositeType<object>, value: object): Buffer {
  const w = new ByteWriter(64);
  type.encode(w, value);
  return w.toBuffer();
}

function decodeWith(type: CompositeType<object>, bytes: Uint8Array): Record<string, unknown> {
  const d = new Decoder(bytes);
  const v = type.decode(d) as Record<string, unknown>;
  assert.equal(d.pos, bytes.length, "the composite consumed every byte");
  return v;
}

/**
 * The composite `base` with field `key` encoded as `itemHex` (the field is the last item of the
 * list: the composite is first encoded with the field holding the single symbol "X", whose sym8
 * encoding is then replaced).
 */
function withField(type: CompositeType<object>, base: object, key: string, itemHex: string): Buffer {
  const single = encodeWith(type, { ...base, [key]: "X" });
  assert.equal(hex(single.subarray(0, 2)), "0053", "small-ulong descriptor");
  assert.equal(single[3], 0xc0, "list8");
  assert.equal(hex(single.subarray(single.length - 3)), "a30158", "the field is the last item");
  const items = Buffer.concat([single.subarray(6, single.length - 3), fromHex(itemHex)]);
  return Buffer.concat([single.subarray(0, 3), Buffer.from([0xc0, items.length + 1, single[5]!]), items]);
}

/** Encodings of a multiple symbol field, and the value each decodes to. */
const ACCEPTED: readonly [string, string, string[]][] = [
  ["a single sym8", "a3 01 58", ["X"]],
  ["a single sym32", "b3 00000001 58", ["X"]],
  ["an array8 of symbols", "e0 06 02 a3 01 58 01 59", ["X", "Y"]],
  ["an array32 of symbols", "f0 0000000f 00000002 b3 00000001 58 00000001 59", ["X", "Y"]],
  ["an empty list (list0)", "45", []],
  ["a list8 of symbols", "c0 07 02 a3 01 58 a3 01 59", ["X", "Y"]],
  ["a list8 of one symbol", "c0 04 01 a3 01 58", ["X"]],
  ["a list8 mixing sym8 and sym32", "c0 0a 02 a3 01 58 b3 00000001 59", ["X", "Y"]],
  ["a list32 of symbols", "d0 0000000a 00000002 a3 01 58 a3 01 59", ["X", "Y"]],
];

/** Encodings a multiple symbol field refuses with a DecodeError naming the field. */
const REFUSED: readonly [string, string][] = [
  ["a list holding a string", "c0 07 02 a3 01 58 a1 01 59"],
  ["a list holding a null", "c0 05 02 a3 01 58 40"],
  ["a list holding a nested list of symbols", "c0 05 01 c0 04 01 a3 01 58"],
  ["an array of strings", "e0 06 02 a1 01 58 01 59"],
  ["a single string", "a1 01 58"],
];

describe("multiple fields: the table matches the AMQP XML", () => {
  it("every composite field marked multiple is in the spec's list, and every spec field is marked", () => {
    const ours = new Set<string>();
    for (const mod of [transport, messaging, security]) {
      for (const value of Object.values(mod) as unknown[]) {
        if (typeof value !== "object" || value === null || !("fields" in value) || !("symbol" in value))
          continue;
        const type = value as CompositeType<object>;
        for (const f of type.fields) if (f.multiple === true) ours.add(`${type.name}.${f.key}`);
      }
    }
    const spec = new Set(SPEC_MULTIPLE_FIELDS.map(([, name, key]) => `${name}.${key}`));
    assert.deepEqual([...ours].sort(), [...spec].sort());
  });
});

for (const [type, name, key, base] of SPEC_MULTIPLE_FIELDS) {
  describe(`multiple field ${name}.${key}`, () => {
    for (const [what, itemHex, expected] of ACCEPTED) {
      it(`decodes from ${what}`, () => {
        const decoded = decodeWith(type, withField(type, base, key, itemHex));
        assert.deepEqual(decoded[key], expected);
        for (const [k, v] of Object.entries(base)) assert.deepEqual(decoded[k], v, `${k} kept`);
      });
    }

    for (const [what, itemHex] of REFUSED) {
      it(`refuses ${what} with a DecodeError naming the field`, () => {
        const bytes = withField(type, base, key, itemHex);
        assert.throws(
          () => decodeWith(type, bytes),
          (e: unknown) => e instanceof DecodeError && e.message.startsWith(`${name}.${key} expects`),
        );
      });
    }

    it("refuses a list whose size does not match its items", () => {
      // list8 of size 6 announcing 2 items, holding 2 sym8 of 3 bytes each (7 bytes needed)
      const bytes = withField(type, base, key, "c0 06 02 a3 01 58 a3 01 59");
      assert.throws(() => decodeWith(type, bytes), DecodeError);
    });

    it("re-encodes what it decoded from a list as an array (canonical)", () => {
      const decoded = decodeWith(type, withField(type, base, key, "c0 07 02 a3 01 58 a3 01 59"));
      assert.equal(
        hex(encodeWith(type, decoded)),
        hex(withField(type, base, key, "e0 06 02 a3 01 58 01 59")),
      );
    });
  });
}

describe("symbolsOf (a multiple symbol value inside a generic value)", () => {
  it("gives string[] for a single symbol, an array of symbols and a list of symbols", () => {
    assert.deepEqual(symbolsOf(decode(fromHex("a3 01 58"))), ["X"]);
    assert.deepEqual(symbolsOf(decode(fromHex("e0 06 02 a3 01 58 01 59"))), ["X", "Y"]);
    assert.deepEqual(symbolsOf(decode(fromHex("c0 07 02 a3 01 58 a3 01 59"))), ["X", "Y"]);
    assert.deepEqual(symbolsOf(decode(fromHex("45"))), []);
    assert.equal(symbolsOf(null), undefined);
    assert.equal(symbolsOf(decode(fromHex("52 01"))), undefined);
  });
});
