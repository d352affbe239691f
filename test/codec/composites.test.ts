/**
 * Round trips of every composite of src/codec/definitions/ through its field table, the encoding
 * rules (trailing nulls dropped, middle nulls kept, mandatory fields, descriptors, multiple fields),
 * and the performative / frame vectors of test/fixtures/amqp10-vectors.jsonl.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineComposite, type CompositeType, type CompositeUnion } from "../../src/codec/composite.js";
import { Decoder } from "../../src/codec/decoder.js";
import {
  DeliveryState,
  HeaderSection,
  Outcome,
  PropertiesSection,
  Source,
  TargetOrCoordinator,
} from "../../src/codec/definitions/messaging.js";
import { SaslInit, SaslMechanisms, SaslOutcome } from "../../src/codec/definitions/security.js";
import {
  Attach,
  Begin,
  Close,
  Disposition,
  ErrorComposite,
  Flow,
  Open,
  Transfer,
} from "../../src/codec/definitions/transport.js";
import {
  AMQPArray,
  AMQPDescribed,
  AMQPSymbol,
  AMQPuLong,
  decode,
  encode,
  type AMQPValue,
} from "../../src/codec/index.js";
import { DecodeError, EncodeError } from "../../src/errors/decode-error.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import * as messaging from "../../src/codec/definitions/messaging.js";
import * as security from "../../src/codec/definitions/security.js";
import * as transport from "../../src/codec/definitions/transport.js";
import { loadVectors } from "../support/vectors.js";
import { compositeSamples } from "./composite-samples.js";

type Codec = Pick<CompositeType<object>, "encode" | "decode"> | CompositeUnion<unknown>;

function encodeWith(type: Codec, value: unknown): Buffer {
  const w = new ByteWriter(64);
  (type.encode as (w: ByteWriter, v: unknown) => void)(w, value);
  return w.toBuffer();
}

function decodeWith(type: Codec, bytes: Uint8Array): unknown {
  const d = new Decoder(bytes);
  const v = type.decode(d);
  assert.equal(d.pos, bytes.length, "the composite consumed every byte");
  return v;
}

/** An open performative (container-id "c") whose 8th field (offered-capabilities) is `capsHex`. */
function openWithCapabilities(capsHex: string): Buffer {
  const body = fromHex("08 a10163 40 40 40 40 40 40" + capsHex);
  return Buffer.concat([fromHex("005310 c0"), Buffer.from([body.length]), body]);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const fromHex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");

/** The generic view of a composite encoding: its descriptor and its field list. */
function generic(bytes: Uint8Array): { descriptor: AMQPValue; fields: AMQPValue[] } {
  const v = decode(bytes);
  assert.ok(v instanceof AMQPDescribed);
  assert.ok(Array.isArray(v.value));
  return { descriptor: v.descriptor, fields: v.value as AMQPValue[] };
}

describe("composites: every table round-trips", () => {
  for (const { type, full, minimal } of compositeSamples) {
    it(`${type.name}: a fully populated value round-trips`, () => {
      const bytes = encodeWith(type, full);
      assert.deepEqual(decodeWith(type, bytes), full);
      const g = generic(bytes);
      assert.ok(g.descriptor instanceof AMQPuLong && g.descriptor.value === BigInt(type.code));
      assert.equal(g.fields.length, type.fields.length, "no field dropped when all are set");
    });

    it(`${type.name}: a minimal value round-trips with its trailing absent fields dropped`, () => {
      const bytes = encodeWith(type, minimal);
      assert.deepEqual(decodeWith(type, bytes), minimal);
      const lastMandatory = type.fields.findLastIndex((f) => f.mandatory === true);
      assert.equal(generic(bytes).fields.length, lastMandatory + 1);
      if (lastMandatory < 0) assert.equal(hex(bytes), `0053${type.code.toString(16).padStart(2, "0")}45`);
    });

    it(`${type.name}: numeric (smallulong, ulong) and symbolic descriptors all decode`, () => {
      const bytes = encodeWith(type, full);
      assert.equal(hex(bytes.subarray(0, 3)), `0053${type.code.toString(16).padStart(2, "0")}`);
      const body = bytes.subarray(3);
      const ulong = Buffer.concat([fromHex("0080"), fromHex(type.code.toString(16).padStart(16, "0")), body]);
      const symbolic = Buffer.concat([Buffer.from([0x00]), encode(new AMQPSymbol(type.symbol)), body]);
      assert.deepEqual(decodeWith(type, ulong), full);
      assert.deepEqual(decodeWith(type, symbolic), full);
      const wrongCode = Buffer.concat([
        fromHex("0053"),
        Buffer.from([type.code === 0x10 ? 0x11 : 0x10]),
        body,
      ]);
      assert.throws(() => decodeWith(type, wrongCode), DecodeError);
      const wrongSymbol = Buffer.concat([
        Buffer.from([0x00]),
        encode(new AMQPSymbol("amqp:nope:list")),
        body,
      ]);
      assert.throws(() => decodeWith(type, wrongSymbol), DecodeError);
    });

    const mandatory = type.fields.flatMap((f, i) => (f.mandatory ? [{ key: f.key, index: i }] : []));
    if (mandatory.length > 0) {
      it(`${type.name}: a missing mandatory field is an EncodeError on encode and a DecodeError on decode`, () => {
        for (const { key, index } of mandatory) {
          const without = Object.fromEntries(Object.entries(full).filter(([k]) => k !== key));
          assert.throws(
            () => encodeWith(type, without),
            (e: unknown) => {
              return e instanceof EncodeError && e.message.includes(key);
            },
          );
          const withNull = { ...full, [key]: null };
          assert.throws(() => encodeWith(type, withNull), EncodeError);

          const g = generic(encodeWith(type, full));
          const nulled = [...g.fields];
          nulled[index] = null;
          assert.throws(
            () => decodeWith(type, encode(new AMQPDescribed(g.descriptor, nulled))),
            (e: unknown) => e instanceof DecodeError && e.message.includes(`${key} is mandatory but null`),
          );
          const short = g.fields.slice(0, index);
          assert.throws(
            () => decodeWith(type, encode(new AMQPDescribed(g.descriptor, short))),
            (e: unknown) => e instanceof DecodeError && e.message.includes(`${key} is mandatory but missing`),
          );
        }
      });
    }
  }

  it("covers every composite of the definitions", () => {
    const defined = [...Object.values(transport), ...Object.values(messaging), ...Object.values(security)]
      .filter((x): x is CompositeType<object> => typeof x === "object" && "fields" in x && "code" in x)
      .map((t) => t.name);
    const sampled = compositeSamples.map((s) => s.type.name);
    assert.equal(new Set(sampled).size, sampled.length);
    assert.deepEqual([...new Set(defined)].sort(), [...sampled].sort());
  });
});

describe("composites: encoding rules", () => {
  it("drops trailing absent (undefined or null) fields and writes null for absent fields in the middle", () => {
    const trailing = encodeWith(Open, { containerId: "c", hostname: undefined, properties: null as never });
    assert.equal(hex(trailing), "005310c00401a10163");
    const middle = encodeWith(Open, { containerId: "c", channelMax: 5 });
    assert.equal(hex(middle), "005310c00904a10163404060" + "0005");
    assert.deepEqual(decodeWith(Open, middle), { containerId: "c", channelMax: 5 });
    assert.equal(hex(encodeWith(Close, {})), "00531845");
  });

  it("the full form writes every field, absent ones as null, in nested composites too", () => {
    const close = new ByteWriter(64);
    Close.encode(close, {}, true);
    assert.equal(hex(close.toBuffer()), "005318c0020140");
    const detach = new ByteWriter(64);
    transport.Detach.encode(detach, { handle: 1, error: { condition: "amqp:not-found" } }, true);
    // handle 1, closed null, error (condition, description null, info null)
    const error = "00531dc01303a30e" + Buffer.from("amqp:not-found").toString("hex") + "4040";
    assert.equal(hex(detach.toBuffer()), "005316c01c03" + "5201" + "40" + error);
    assert.deepEqual(decodeWith(transport.Detach, detach.toBuffer()), {
      handle: 1,
      error: { condition: "amqp:not-found" },
    });
    for (const { type, full, minimal } of compositeSamples) {
      for (const value of [full, minimal]) {
        const w = new ByteWriter(64);
        type.encode(w, value, true);
        const bytes = w.toBuffer();
        const list = decode(bytes);
        assert.ok(list instanceof AMQPDescribed && Array.isArray(list.value));
        assert.equal(list.value.length, type.fields.length, `${type.name} in full`);
        assert.deepEqual(decodeWith(type, bytes), decodeWith(type, encodeWith(type, value)), type.name);
      }
    }
  });

  it("decodes list0, list8 and list32 bodies alike, and ignores fields beyond the table", () => {
    const list32 = fromHex("005318 d0 00000005 00000001 40");
    assert.deepEqual(decodeWith(Close, list32), {});
    const extra = encode(
      new AMQPDescribed(new AMQPuLong(0x18), [
        new AMQPDescribed(new AMQPuLong(0x1d), [new AMQPSymbol("amqp:internal-error")]),
        "a field of a later protocol version",
        new AMQPDescribed(new AMQPSymbol("x"), [1, 2]),
      ]),
    );
    assert.deepEqual(decodeWith(Close, extra), { error: { condition: "amqp:internal-error" } });
  });

  it("reads a table whose names are not identifiers (the generated reader quotes them)", () => {
    const Odd = defineComposite({
      name: 'odd name */ with quotes"',
      code: 0x7f,
      symbol: "test:odd",
      fields: [
        { key: 'quote"key', type: "string" },
        { key: "two words", type: "uint" },
        { key: "back\\slash", type: "boolean" },
      ] as const,
    });
    const value = { 'quote"key': "a", "two words": 7, "back\\slash": true };
    assert.deepEqual(decodeWith(Odd, encodeWith(Odd, value)), value);
    assert.deepEqual(decodeWith(Odd, encodeWith(Odd, { "two words": 1 })), { "two words": 1 });
  });

  it("a field of the wrong AMQP type is a DecodeError naming the field", () => {
    const bad = encode(new AMQPDescribed(new AMQPuLong(0x10), [new AMQPSymbol("not-a-string")]));
    assert.throws(
      () => decodeWith(Open, bad),
      (e: unknown) => e instanceof DecodeError && e.message.includes("open.containerId expects string"),
    );
    const notList = fromHex("005310 a10163");
    assert.throws(() => decodeWith(Open, notList), DecodeError);
  });

  it("a value of the wrong JS type or out of range is an EncodeError naming the field", () => {
    const cases: [CompositeType<object>, Record<string, unknown>, string][] = [
      [Open, { containerId: 5 }, "containerId"],
      [Open, { containerId: "c", maxFrameSize: -1 }, "maxFrameSize"],
      [Open, { containerId: "c", maxFrameSize: 2 ** 32 }, "maxFrameSize"],
      [Open, { containerId: "c", channelMax: 1.5 }, "channelMax"],
      [Open, { containerId: "c", channelMax: 65536 }, "channelMax"],
      [Open, { containerId: "c", offeredCapabilities: [1] }, "offeredCapabilities"],
      [Open, { containerId: "c", properties: "p" }, "properties"],
      [Attach, { name: "l", handle: 0, role: "receiver" }, "role"],
      [Attach, { name: "l", handle: 0, role: true, sndSettleMode: 256 }, "sndSettleMode"],
      [Attach, { name: "l", handle: 0, role: true, maxMessageSize: -1n }, "maxMessageSize"],
      [Attach, { name: "l", handle: 0, role: true, maxMessageSize: 2n ** 64n }, "maxMessageSize"],
      [Attach, { name: "l", handle: 0, role: true, unsettled: [1] }, "unsettled"],
      [Transfer, { handle: 0, deliveryTag: "tag" }, "deliveryTag"],
      [PropertiesSection, { creationTime: new Date(NaN) }, "creationTime"],
      [PropertiesSection, { groupSequence: "1" }, "groupSequence"],
    ];
    for (const [type, value, key] of cases) {
      assert.throws(
        () => encodeWith(type, value),
        (e: unknown) => e instanceof EncodeError && e.message.includes(key),
        `${type.name}.${key}`,
      );
    }
  });

  it("ulong and long fields accept bigint and safe integer numbers; timestamps accept Date", () => {
    const a = encodeWith(Attach, { name: "l", handle: 0, role: true, maxMessageSize: 1024 });
    assert.equal((decodeWith(Attach, a) as { maxMessageSize: bigint }).maxMessageSize, 1024n);
  });

  it("fields maps take symbol keys from a plain object or a Map; a __proto__ key stays an own property", () => {
    const fromMap = encodeWith(Open, {
      containerId: "c",
      properties: new Map<unknown, AMQPValue>([
        ["a", 1],
        [new AMQPSymbol("b"), 2],
      ]) as never,
    });
    assert.deepEqual(decodeWith(Open, fromMap), { containerId: "c", properties: { a: 1, b: 2 } });
    const g = generic(fromMap);
    const props = g.fields[9] as Map<AMQPValue, AMQPValue>;
    assert.ok([...props.keys()].every((k) => k instanceof AMQPSymbol));

    const proto = encode(
      new AMQPDescribed(new AMQPuLong(0x10), [
        "c",
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        new Map([[new AMQPSymbol("__proto__"), new Map([[new AMQPSymbol("polluted"), true]])]]),
      ]),
    );
    const open = decodeWith(Open, proto) as { properties: Record<string, unknown> };
    assert.ok(Object.hasOwn(open.properties, "__proto__"));
    assert.equal(Object.getPrototypeOf(open.properties), Object.prototype);
    assert.equal((open.properties as { polluted?: unknown }).polluted, undefined);
    const badKey = encode(
      new AMQPDescribed(new AMQPuLong(0x10), [
        "c",
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        new Map([[1, 2]]),
      ]),
    );
    assert.throws(() => decodeWith(Open, badKey), DecodeError);
  });
});

describe("composites: multiple fields", () => {
  it("a multiple symbol field decodes from a single symbol or from an array (sym8 or sym32)", () => {
    const single = openWithCapabilities("a301 58");
    assert.deepEqual(decodeWith(Open, single), { containerId: "c", offeredCapabilities: ["X"] });
    const array8 = openWithCapabilities("e0 06 02 a3 0158 0159");
    assert.deepEqual(decodeWith(Open, array8), { containerId: "c", offeredCapabilities: ["X", "Y"] });
    const array32 = openWithCapabilities("f0 0000000f 00000002 b3 00000001 58 00000001 59");
    assert.deepEqual(decodeWith(Open, array32), { containerId: "c", offeredCapabilities: ["X", "Y"] });
    const sym32 = openWithCapabilities("b3 00000001 58");
    assert.deepEqual(decodeWith(Open, sym32), { containerId: "c", offeredCapabilities: ["X"] });
  });

  it("a multiple field holding an array of another type, or a non-symbol, is a DecodeError", () => {
    const ints = encode(
      new AMQPDescribed(new AMQPuLong(0x10), [
        "c",
        null,
        null,
        null,
        null,
        null,
        null,
        new AMQPArray("int", [1, 2]),
      ]),
    );
    assert.throws(() => decodeWith(Open, ints), DecodeError);
    const str = encode(
      new AMQPDescribed(new AMQPuLong(0x10), ["c", null, null, null, null, null, null, "X"]),
    );
    assert.throws(() => decodeWith(Open, str), DecodeError);
  });

  it("encodes an array of symbols, and accepts a single symbol where an array is expected", () => {
    const arr = encodeWith(Open, { containerId: "c", offeredCapabilities: ["X"] });
    assert.equal(hex(arr), hex(openWithCapabilities("e0 04 01 a3 01 58")));
    const one = encodeWith(Open, { containerId: "c", offeredCapabilities: "X" as never });
    assert.equal(hex(one), hex(openWithCapabilities("a3 01 58")));
    assert.deepEqual(decodeWith(Open, one), { containerId: "c", offeredCapabilities: ["X"] });
    const empty = encodeWith(Open, { containerId: "c", offeredCapabilities: [] });
    assert.deepEqual(decodeWith(Open, empty), { containerId: "c", offeredCapabilities: [] });
  });
});

describe("composites: unions", () => {
  it("DeliveryState and Outcome decode every member, tagged by type", () => {
    const members = [
      { type: "received", sectionNumber: 1, sectionOffset: 5n },
      { type: "accepted" },
      { type: "rejected", error: { condition: "amqp:not-found" } },
      { type: "released" },
      { type: "modified", deliveryFailed: true },
      { type: "declared", txnId: Buffer.from("t") },
      { type: "transactional-state", txnId: Buffer.from("t"), outcome: { type: "accepted" } },
    ];
    for (const m of members) assert.deepEqual(decodeWith(DeliveryState, encodeWith(DeliveryState, m)), m);
    for (const m of members.slice(1, 6)) assert.deepEqual(decodeWith(Outcome, encodeWith(Outcome, m)), m);
    assert.throws(
      () => encodeWith(Outcome, { type: "received", sectionNumber: 1, sectionOffset: 5n }),
      EncodeError,
    );
  });

  it("an unknown descriptor is kept as { type: 'unknown', described } and re-encodes to the same bytes", () => {
    const bytes = encode(new AMQPDescribed(new AMQPSymbol("com.example:state"), [1, "x"]));
    const v = decodeWith(DeliveryState, bytes) as { type: string; described: AMQPDescribed };
    assert.equal(v.type, "unknown");
    assert.ok(v.described instanceof AMQPDescribed);
    assert.equal(hex(encodeWith(DeliveryState, v)), hex(bytes));
  });

  it("a union member given by its symbolic descriptor decodes", () => {
    const bytes = Buffer.concat([
      Buffer.from([0]),
      encode(new AMQPSymbol("amqp:accepted:list")),
      fromHex("45"),
    ]);
    assert.deepEqual(decodeWith(DeliveryState, bytes), { type: "accepted" });
    const target = Buffer.concat([
      Buffer.from([0]),
      encode(new AMQPSymbol("amqp:coordinator:list")),
      fromHex("45"),
    ]);
    assert.deepEqual(decodeWith(TargetOrCoordinator, target), { type: "coordinator" });
  });
});

// ---- vectors ------------------------------------------------------------------------------------

const vectors = new Map(loadVectors().map((v) => [v.name, v]));
function vectorBytes(name: string): Buffer {
  const v = vectors.get(name);
  assert.ok(v, `vector ${name} exists`);
  return fromHex(v.hex);
}

const selectorFilter = new AMQPDescribed(
  new AMQPuLong(0x0000468c00000004n),
  "amqp.annotation.x-opt-offset > '-1'",
);

/** Performative vectors: the table to decode with, the expected fields, and whether they re-encode byte-exact. */
const performativeVectors: [string, Codec, object, boolean][] = [
  [
    "open-performative-list8",
    Open,
    {
      containerId: "container-1",
      hostname: "example.com",
      maxFrameSize: 65536,
      channelMax: 255,
      idleTimeOut: 30000,
    },
    true,
  ],
  [
    "open-performative-list32",
    Open,
    {
      containerId: "container-1",
      hostname: "example.com",
      maxFrameSize: 65536,
      channelMax: 255,
      idleTimeOut: 30000,
    },
    false,
  ],
  ["open-performative-symbolic", Open, { containerId: "c" }, false],
  ["close-performative-empty", Close, {}, true],
  [
    "disposition-accepted-list8",
    Disposition,
    { role: true, first: 0, settled: true, state: { type: "accepted" } },
    true,
  ],
  [
    "disposition-accepted-list32",
    Disposition,
    { role: true, first: 0, settled: true, state: { type: "accepted" } },
    false,
  ],
  [
    "attach-receiver-list8",
    Attach,
    { name: "link-1", handle: 0, role: true, source: { address: "queue-a" }, target: { type: "target" } },
    true,
  ],
  ["sasl-mechanisms-array", SaslMechanisms, { saslServerMechanisms: ["PLAIN", "ANONYMOUS"] }, true],
  ["sasl-mechanisms-single", SaslMechanisms, { saslServerMechanisms: ["ANONYMOUS"] }, false],
  ["sasl-init-plain", SaslInit, { mechanism: "PLAIN", initialResponse: Buffer.from("\0user\0pass") }, true],
  ["sasl-outcome-ok", SaslOutcome, { code: 0 }, true],
  ["section-header-durable", HeaderSection, { durable: true }, true],
  ["section-properties-message-id", PropertiesSection, { messageId: "id-1", to: "queue-a" }, true],
  [
    "ext-source-with-selector-filter",
    Source,
    {
      address: "myhub/ConsumerGroups/$default/Partitions/0",
      filter: { "apache.org:selector-filter:string": selectorFilter },
    },
    true,
  ],
];

describe("composites: AMQP 1.0 vectors through the tables", () => {
  for (const [name, type, expected, byteExact] of performativeVectors) {
    it(`decodes ${name}${byteExact ? " and re-encodes it byte-exact" : ""}`, () => {
      const bytes = vectorBytes(name);
      const value = decodeWith(type, bytes);
      assert.deepEqual(value, expected);
      if (byteExact) assert.equal(hex(encodeWith(type, value)), hex(bytes));
    });
  }

  it("parses the frame vectors' 8-byte header by hand and decodes the body through its table", () => {
    const bodies: Record<number, Codec> = { 0x10: Open, 0x11: Begin, 0x40: SaslMechanisms };
    const expected: Record<string, [number, number, object | undefined]> = {
      "frame-empty-heartbeat": [0, 0, undefined],
      "frame-open": [
        0,
        0,
        {
          containerId: "container-1",
          hostname: "example.com",
          maxFrameSize: 65536,
          channelMax: 255,
          idleTimeOut: 30000,
        },
      ],
      "frame-begin-channel-1": [
        0,
        1,
        { remoteChannel: 0, nextOutgoingId: 1, incomingWindow: 2048, outgoingWindow: 2048 },
      ],
      "frame-sasl-mechanisms": [1, 0, { saslServerMechanisms: ["PLAIN", "ANONYMOUS"] }],
    };
    const frames = [...vectors.values()].filter((v) => v.type === "frame");
    assert.deepEqual(frames.map((f) => f.name).sort(), Object.keys(expected).sort());
    for (const f of frames) {
      const bytes = fromHex(f.hex);
      const size = bytes.readUInt32BE(0);
      const doff = bytes[4]!;
      const frameType = bytes[5]!;
      const channel = bytes.readUInt16BE(6);
      const [type, ch, body] = expected[f.name]!;
      assert.equal(size, bytes.length, f.name);
      assert.equal(doff, 2);
      assert.equal(frameType, type);
      assert.equal(channel, ch);
      const payload = bytes.subarray(doff * 4, size);
      if (body === undefined) {
        assert.equal(payload.length, 0);
        continue;
      }
      const code = Number((generic(payload).descriptor as AMQPuLong).value);
      assert.deepEqual(decodeWith(bodies[code]!, payload), body, f.name);
    }
  });

  it("the error composite decodes the info map as fields", () => {
    const bytes = encodeWith(ErrorComposite, { condition: "amqp:not-found", info: { a: 1 } });
    assert.deepEqual(decodeWith(ErrorComposite, bytes), { condition: "amqp:not-found", info: { a: 1 } });
  });

  it("flow and transfer, the hot performatives, encode their smallest form", () => {
    const flow = encodeWith(Flow, { incomingWindow: 0, nextOutgoingId: 256, outgoingWindow: 255, handle: 0 });
    assert.equal(hex(flow), "005313c00b05" + "40" + "43" + "7000000100" + "52ff" + "43");
    const transfer = encodeWith(Transfer, {
      handle: 0,
      deliveryId: 1,
      deliveryTag: Buffer.from([7]),
      settled: true,
    });
    assert.equal(hex(transfer), "005314c00905" + "43" + "5201" + "a00107" + "40" + "41");
  });
});
