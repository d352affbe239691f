import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AMQPDescribed,
  AMQPInt,
  AMQPSymbol,
  AMQPuLong,
  amqpEquals,
  encode,
  type AMQPValue,
} from "../../src/codec/index.js";
import { DecodeError } from "../../src/errors/index.js";
import { Message } from "../../src/message/index.js";
import { fromTyped, loadVectors } from "../support/vectors.js";

const bytes = (h: string): Buffer => Buffer.from(h, "hex");
const section = (code: number | string, value: AMQPValue): Buffer =>
  Buffer.from(
    encode(new AMQPDescribed(typeof code === "number" ? new AMQPuLong(code) : new AMQPSymbol(code), value)),
  );

describe("section vectors of test/fixtures/amqp10-vectors.jsonl", () => {
  const vectors = loadVectors();
  const get = (name: string): string => {
    const v = vectors.find((x) => x.name === name);
    assert.ok(v, name);
    return v.hex;
  };

  it("section-header-durable", () => {
    const m = Message.decode(bytes(get("section-header-durable")));
    assert.deepEqual(m.header, { durable: true, deliveryCount: 0 });
    assert.equal(m.bodyType, "data");
    assert.deepEqual(m.data, []);
  });
  it("section-properties-message-id", () => {
    const m = Message.decode(bytes(get("section-properties-message-id")));
    assert.deepEqual(m.properties, { messageId: "id-1", to: "queue-a" });
    assert.equal(
      Buffer.from(
        new Message({ body: [], properties: { messageId: "id-1", to: "queue-a" } }).encode(),
      ).toString("hex"),
      get("section-properties-message-id"),
    );
  });
  it("section-application-properties", () => {
    const h = get("section-application-properties");
    const m = Message.decode(bytes(h));
    assert.deepEqual(m.applicationProperties, { color: "blue", weight: 2500 });
    assert.equal(
      Buffer.from(
        new Message({ body: [], applicationProperties: { color: "blue", weight: 2500 } }).encode(),
      ).toString("hex"),
      h,
    );
  });
  it("section-data", () => {
    const h = get("section-data");
    const m = Message.decode(bytes(h));
    assert.deepEqual(
      m.data?.map((d) => Buffer.from(d).toString()),
      ["hello"],
    );
    assert.equal(Buffer.from(new Message({ body: "hello" }).encode()).toString("hex"), h);
  });
  it("section-amqp-value-string", () => {
    const h = get("section-amqp-value-string");
    const m = Message.decode(bytes(h));
    assert.equal(m.bodyType, "value");
    assert.equal(m.value, "hello");
    assert.equal(Buffer.from(new Message({ body: "hello", bodyType: "value" }).encode()).toString("hex"), h);
  });
  it("section-amqp-sequence", () => {
    const v = vectors.find((x) => x.name === "section-amqp-sequence")!;
    const m = Message.decode(bytes(v.hex));
    assert.equal(m.bodyType, "sequence");
    const expected = fromTyped((v.value as { value: unknown }).value);
    assert.ok(amqpEquals(m.sequence?.[0], expected));
    assert.equal(Buffer.from(m.encode()).toString("hex"), v.hex);
  });
  it("ext-eventhubs-batch-body: two Data sections, each a complete message", () => {
    const h = get("ext-eventhubs-batch-body");
    const m = Message.decode(bytes(h));
    assert.equal(m.data?.length, 2);
    const inner = m.data.map((d) => Message.decode(d));
    assert.deepEqual(
      inner.map((x) => Buffer.from(x.data![0]!).toString()),
      ["a", "b"],
    );
  });
});

describe("decoding sections", () => {
  it("accepts symbolic descriptors", () => {
    const b = Buffer.concat([
      section("amqp:header:list", [true]),
      section("amqp:message-annotations:map", new Map([[new AMQPSymbol("x-a"), 1]])),
      section("amqp:application-properties:map", new Map([["k", "v"]])),
      section("amqp:data:binary", Buffer.from("a")),
      section("amqp:data:binary", Buffer.from("b")),
      section("amqp:footer:map", new Map([[new AMQPSymbol("x-f"), 2]])),
    ]);
    const m = Message.decode(b);
    assert.deepEqual(m.header, { durable: true, deliveryCount: 0 });
    assert.deepEqual(m.messageAnnotations, { "x-a": 1 });
    assert.deepEqual(m.applicationProperties, { k: "v" });
    assert.equal(m.data?.length, 2);
    assert.deepEqual(m.footer, { "x-f": 2 });
  });
  it("keeps ulong annotation keys as ulong:<n> and re-encodes them as ulong", () => {
    const b = section(
      0x72,
      new Map<AMQPValue, AMQPValue>([
        [new AMQPuLong(9), "nine"],
        [new AMQPuLong(2n ** 64n - 1n), 1],
      ]),
    );
    const m = Message.decode(Buffer.concat([b, section(0x77, null)]));
    assert.deepEqual(m.messageAnnotations, { "ulong:9": "nine", "ulong:18446744073709551615": 1 });
    assert.equal(
      Buffer.from(m.encode()).toString("hex"),
      Buffer.concat([b, section(0x77, null)]).toString("hex"),
    );
  });
  it("a __proto__ key is an ordinary own key", () => {
    const b = Buffer.concat([section(0x74, new Map([["__proto__", 1]])), section(0x77, null)]);
    const m = Message.decode(b);
    assert.deepEqual(Object.keys(m.applicationProperties!), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(m.applicationProperties), Object.prototype);
    assert.equal(Buffer.from(m.encode()).toString("hex"), b.toString("hex"));
  });
  it("accepts symbol keys in application properties and null maps", () => {
    const m = Message.decode(
      Buffer.concat([
        section(0x71, null),
        section(0x74, new Map([[new AMQPSymbol("s"), 1]])),
        section(0x77, 1),
      ]),
    );
    assert.deepEqual(m.deliveryAnnotations, {});
    assert.deepEqual(m.applicationProperties, { s: 1 });
  });
  it("decodes properties sent with other types leniently (Python uamqp)", () => {
    // message-id int, to symbol, content-type string, absolute-expiry long, creation-time int, group-sequence int
    const list: AMQPValue[] = [
      5,
      null,
      new AMQPSymbol("q"),
      null,
      null,
      "c",
      "text/plain",
      null,
      1000n,
      20,
      "g",
      3,
    ];
    const m = Message.decode(Buffer.concat([section(0x73, list), section(0x77, null)]));
    const p = m.properties!;
    assert.ok(p.messageId instanceof AMQPInt && p.messageId.value === 5);
    assert.equal(p.to, "q");
    assert.equal(p.contentType, "text/plain");
    assert.equal(p.correlationId, "c");
    assert.equal(p.absoluteExpiryTime?.getTime(), 1000);
    assert.equal(p.creationTime?.getTime(), 20);
    assert.equal(p.groupId, "g");
    assert.equal(p.groupSequence, 3);
    // the int message-id is re-encoded as int
    const again = Message.decode(m.encode());
    assert.ok(again.properties?.messageId instanceof AMQPInt);
  });
  it("decodes a ulong message-id as bigint", () => {
    const m = Message.decode(Buffer.concat([section(0x73, [new AMQPuLong(7)]), section(0x77, null)]));
    assert.equal(m.properties?.messageId, 7n);
  });
});

describe("decode errors are DecodeError", () => {
  const data = section(0x75, Buffer.from("x"));
  const cases: [string, Buffer][] = [
    ["garbage", bytes("ffffffff")],
    ["a non-described value", bytes("40")],
    ["a truncated section", data.subarray(0, data.length - 1)],
    ["an unknown numeric descriptor", section(0x79, null)],
    ["an unknown symbolic descriptor", section("amqp:nope:list", null)],
    ["a described descriptor", bytes("00" + "005375" + "40")],
    ["properties before header", Buffer.concat([section(0x73, []), section(0x70, [])])],
    ["a repeated header", Buffer.concat([section(0x70, []), section(0x70, [])])],
    ["annotations after the body", Buffer.concat([data, section(0x72, new Map())])],
    ["two amqp-value sections", Buffer.concat([section(0x77, 1), section(0x77, 2)])],
    ["data then amqp-value", Buffer.concat([data, section(0x77, 2)])],
    ["sequence then data", Buffer.concat([section(0x76, []), data])],
    ["a data section holding a string", section(0x75, "x")],
    ["a sequence section holding a map", section(0x76, new Map())],
    ["an annotations section holding a list", section(0x72, [])],
    ["an annotation with an int key", section(0x72, new Map([[1, 1]]))],
    ["application properties with a ulong key", section(0x74, new Map([[new AMQPuLong(1), 1]]))],
    ["a header that is not a list", section(0x70, "x")],
    ["a header field of the wrong type", section(0x70, ["yes"])],
    ["a properties field of an impossible type", section(0x73, [[1]])],
    ["a footer before the body", Buffer.concat([section(0x78, new Map()), data])],
    ["bytes after a complete section", Buffer.concat([data, bytes("40")])],
    ["a section with a wrong inner map size", bytes("005374c10502a10161")],
  ];
  for (const [name, b] of cases) {
    it(`rejects ${name}`, () => {
      assert.throws(() => Message.decode(b), DecodeError);
    });
  }
  it("a message decodes the same after a failed decode, from a Buffer or any Uint8Array", () => {
    const good = Buffer.concat([section(0x70, [true]), section(0x74, new Map([["k", 1]])), data]);
    for (const [, b] of cases) {
      assert.throws(() => Message.decode(b), DecodeError);
      for (const input of [good, new Uint8Array(good)]) {
        const m = Message.decode(input);
        assert.deepEqual(m.header, { durable: true, deliveryCount: 0 });
        assert.deepEqual(m.applicationProperties, { k: 1 });
        assert.equal(m.bodyType, "data");
        assert.equal(m.data?.length, 1);
      }
    }
  });
  it("decodeRange decodes a range of a larger buffer as decode decodes it, errors and offsets alike", () => {
    const prefix = Buffer.from("0053140000", "hex");
    const around = (b: Buffer): Buffer => Buffer.concat([prefix, b, bytes("ffff")]);
    const range = (b: Buffer): Message =>
      Message.decodeRange(around(b), prefix.length, prefix.length + b.length, { deliveryNo: 7 });
    for (const [name, b] of cases) {
      const expected = (() => {
        try {
          Message.decode(b);
        } catch (e) {
          return e as DecodeError;
        }
        return assert.fail(name);
      })();
      assert.throws(
        () => range(b),
        (e: unknown) =>
          e instanceof DecodeError && e.message === expected.message && e.offset === expected.offset,
        name,
      );
    }
    const good = Buffer.concat([section(0x73, ["id-1"]), data]);
    const m = range(good);
    assert.deepEqual(m.properties, { messageId: "id-1" });
    assert.deepEqual(m.data, [Buffer.from("x")]);
    assert.equal(m.deliveryNo, 7);
  });
  it("names the problem in the message", () => {
    assert.throws(
      () => Message.decode(Buffer.concat([section(0x73, []), section(0x70, [])])),
      /header section out of order/,
    );
    assert.throws(() => Message.decode(section(0x79, null)), /unknown message section descriptor 0x79/);
  });
});
