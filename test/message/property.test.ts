import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  AMQPDouble,
  AMQPSymbol,
  AMQPuInt,
  AMQPuLong,
  AMQPUuid,
  amqpEquals,
  type AMQPValue,
} from "../../src/codec/index.js";
import { DecodeError } from "../../src/errors/index.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import {
  Message,
  ulongKey,
  type MessageBodyType,
  type MessageHeader,
  type MessageInit,
  type MessageProperties,
} from "../../src/message/index.js";

const simple: fc.Arbitrary<AMQPValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.string({ unit: "grapheme" }),
  fc.uint8Array({ maxLength: 16 }),
  fc.date({ noInvalidDate: true }),
  fc.double().map((d) => new AMQPDouble(d)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) => new AMQPuLong(b)),
  fc.nat().map((n) => new AMQPuInt(n)),
  fc.string({ unit: "grapheme" }).map((s) => new AMQPSymbol(s)),
  fc.uuid().map((u) => new AMQPUuid(u)),
);

const compound: fc.Arbitrary<AMQPValue> = fc.oneof(
  simple,
  fc.array(simple, { maxLength: 4 }),
  fc.array(fc.tuple(simple, simple), { maxLength: 4 }).map((es) => new Map(es)),
);

const annotationKey = fc.oneof(
  fc.string({ unit: "grapheme" }).map((s) => `x-${s}`),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(ulongKey),
);

const header: fc.Arbitrary<MessageHeader> = fc.record(
  {
    durable: fc.boolean(),
    priority: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 0, max: 0xffffffff }),
    firstAcquirer: fc.boolean(),
    deliveryCount: fc.integer({ min: 0, max: 0xffffffff }),
  },
  { requiredKeys: [] },
);

const messageId = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.uint8Array({ maxLength: 8 }),
  fc.uuid().map((u) => new AMQPUuid(u)),
  fc.maxSafeNat(),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);

const properties: fc.Arbitrary<MessageProperties> = fc.record(
  {
    messageId,
    userId: fc.uint8Array({ maxLength: 8 }),
    to: fc.string({ unit: "grapheme" }),
    subject: fc.string({ unit: "grapheme" }),
    replyTo: fc.string({ unit: "grapheme" }),
    correlationId: messageId,
    contentType: fc.string({ unit: "grapheme" }),
    contentEncoding: fc.string({ unit: "grapheme" }),
    absoluteExpiryTime: fc.date({ noInvalidDate: true }),
    creationTime: fc.date({ noInvalidDate: true }),
    groupId: fc.string({ unit: "grapheme" }),
    groupSequence: fc.integer({ min: 0, max: 0xffffffff }),
    replyToGroupId: fc.string({ unit: "grapheme" }),
  },
  { requiredKeys: [] },
);

const body: fc.Arbitrary<{ body: AMQPValue; bodyType: MessageBodyType }> = fc.oneof(
  fc
    .array(fc.uint8Array({ maxLength: 300 }), { maxLength: 3 })
    .map((b) => ({ body: b, bodyType: "data" as const })),
  compound.map((v) => ({ body: v, bodyType: "value" as const })),
  fc
    .array(fc.array(compound, { maxLength: 3 }), { minLength: 1, maxLength: 3 })
    .map((b) => ({ body: b, bodyType: "sequence" as const })),
);

const message: fc.Arbitrary<MessageInit> = fc
  .record(
    {
      header,
      properties,
      deliveryAnnotations: fc.dictionary(annotationKey, compound, { maxKeys: 3 }),
      messageAnnotations: fc.dictionary(annotationKey, compound, { maxKeys: 3 }),
      applicationProperties: fc.dictionary(fc.string({ unit: "grapheme" }), simple, { maxKeys: 4 }),
      footer: fc.dictionary(annotationKey, simple, { maxKeys: 2 }),
      body,
    },
    { requiredKeys: ["body"] },
  )
  .map(({ body: b, ...rest }) => ({ ...rest, ...b }));

function sameMap(
  got: Record<string, AMQPValue> | undefined,
  want: Record<string, AMQPValue> | undefined,
): void {
  if (!want || Object.keys(want).length === 0) {
    assert.equal(got, undefined);
    return;
  }
  assert.ok(got);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const k of Object.keys(want)) assert.ok(amqpEquals(got[k], want[k]), `key ${k}`);
}

function normalId(v: unknown): unknown {
  if (typeof v === "number") return BigInt(v);
  if (v instanceof AMQPuLong) return v.value;
  return v;
}

describe("property: arbitrary messages round-trip", () => {
  it("decode(encode(m)) has the same sections, body and AMQP types", () => {
    fc.assert(
      fc.property(message, (init) => {
        const m = new Message(init);
        const bytes = m.encode();
        assert.equal(bytes.length, m.encodedSize);
        const d = Message.decode(bytes);
        if (init.header)
          assert.deepEqual(d.header, { ...init.header, deliveryCount: init.header.deliveryCount ?? 0 });
        else assert.equal(d.header, undefined);
        const want = init.properties ?? {};
        if (Object.keys(want).length === 0) assert.equal(d.properties, undefined);
        else {
          const got = d.properties!;
          assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
          for (const [k, v] of Object.entries(want)) {
            const g = (got as Record<string, unknown>)[k];
            if (k === "messageId" || k === "correlationId") {
              const w = normalId(v);
              if (typeof w === "bigint") assert.equal(g, w);
              else assert.ok(amqpEquals(g as AMQPValue, w as AMQPValue), k);
            } else assert.ok(amqpEquals(g as AMQPValue, v as AMQPValue), k);
          }
        }
        sameMap(d.deliveryAnnotations, init.deliveryAnnotations);
        sameMap(d.messageAnnotations, init.messageAnnotations);
        sameMap(d.applicationProperties, init.applicationProperties);
        sameMap(d.footer, init.footer);
        assert.equal(d.bodyType, m.bodyType);
        assert.ok(amqpEquals(d.getData(), m.getData()));
        assert.deepEqual(Buffer.from(d.encode()), Buffer.from(bytes), "re-encoding is stable");
      }),
      { numRuns: 200 },
    );
  });
});

describe("property: a message measured for its write", () => {
  it("writeTo after measureToWrite writes what encode() does, after what the writer held", () => {
    fc.assert(
      fc.property(message, fc.uint8Array({ maxLength: 8 }), (init, before) => {
        const m = new Message(init);
        const want = Buffer.from(m.encode());
        const w = new ByteWriter(4);
        w.bytes(before);
        assert.equal(m.measureToWrite(), want.length);
        m.writeTo(w);
        assert.deepEqual(w.view(), Buffer.concat([before, want]));
      }),
      { numRuns: 200 },
    );
  });
});

describe("property: malformed input only raises DecodeError", () => {
  const onlyDecodeErrors = (b: Uint8Array): void => {
    try {
      Message.decode(b);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  };
  it("arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), onlyDecodeErrors), { numRuns: 1000 });
  });
  it("arbitrary bytes after a section prefix", () => {
    const prefix = fc.constantFrom(0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78);
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 48 }), (code, rest) =>
        onlyDecodeErrors(Buffer.concat([Buffer.of(0x00, 0x53, code), rest])),
      ),
      { numRuns: 1000 },
    );
  });
  it("valid messages with one byte changed or truncated", () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (init, at, v, cut) => {
        const b = Buffer.from(new Message(init).encode());
        if (b.length === 0) return;
        const i = at % b.length;
        if (cut) onlyDecodeErrors(b.subarray(0, i));
        else {
          b[i] = v;
          onlyDecodeErrors(b);
        }
      }),
      { numRuns: 300 },
    );
  });
});
