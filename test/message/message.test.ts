import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AMQPArray,
  AMQPChar,
  AMQPDescribed,
  AMQPDouble,
  AMQPFloat,
  AMQPSymbol,
  AMQPuByte,
  AMQPuInt,
  AMQPuLong,
  AMQPUuid,
  amqpEquals,
  type AMQPValue,
} from "../../src/codec/index.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { EncodeError } from "../../src/errors/index.js";
import { dropMeasure } from "../../src/message/message.js";
import {
  BATCH_MESSAGE_FORMAT,
  DONE_STATES,
  MAX_MESSAGE_LENGTH_BYTES,
  Message,
  MessageBodyType,
  MessageSendResult,
  MessageState,
  PENDING_STATES,
  RECEIVE_STATES,
  ulongKey,
} from "../../src/message/index.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const text = (s: string): string => Buffer.from(s, "utf8").toString("hex");

describe("enums and constants", () => {
  it("are numerically identical to uamqp", () => {
    assert.deepEqual(MessageState, {
      WaitingToBeSent: 0,
      WaitingForSendAck: 1,
      SendComplete: 2,
      SendFailed: 3,
      ReceivedUnsettled: 4,
      ReceivedSettled: 5,
    });
    assert.deepEqual(MessageSendResult, { Ok: 1, Error: 2, Timeout: 3, Cancelled: 4 });
    assert.deepEqual(MessageBodyType, { Data: "data", Value: "value", Sequence: "sequence" });
    assert.equal(BATCH_MESSAGE_FORMAT, 2147563264);
    assert.equal(MAX_MESSAGE_LENGTH_BYTES, 1048576);
  });
  it("groups the states like uamqp", () => {
    assert.deepEqual([...DONE_STATES].sort(), [2, 3]);
    assert.deepEqual([...RECEIVE_STATES].sort(), [4, 5]);
    assert.deepEqual([...PENDING_STATES].sort(), [0, 1]);
  });
});

describe("body selection (uamqp rules)", () => {
  it("string or bytes → one Data section, strings UTF-8", () => {
    const m = new Message({ body: "héllo" });
    assert.equal(m.bodyType, "data");
    assert.deepEqual(m.data?.map(hex), [text("héllo")]);
    const bytes = Uint8Array.of(1, 2, 3);
    const b = new Message({ body: bytes });
    assert.equal(b.data?.[0], bytes, "bytes are kept by reference");
  });
  it("honours the encoding option for strings", () => {
    const m = new Message({ body: "é", encoding: "latin1" });
    assert.deepEqual(m.data?.map(hex), ["e9"]);
    assert.equal(new Message({ body: "é", encoding: "latin1" }).toString(), Buffer.of(0xe9).toString("utf8"));
    assert.equal(
      hex(new Message({ body: "0aff", encoding: "hex", bodyType: "data" }).encode()),
      "005375a0020aff",
    );
  });
  it("a body of one string or byte array is the same before and after its MessageBody is asked for", () => {
    const bytes = Buffer.from("abc");
    const fresh = (): Message => new Message({ body: bytes, properties: { subject: "s" } });
    const want = hex(fresh().encode());
    // Encoded, measured and written without asking for the body, then with it asked for first.
    for (const ask of [false, true]) {
      const m = fresh();
      if (ask) assert.deepEqual(m.body, { type: "data", sections: [bytes] });
      assert.equal(m.bodyType, "data");
      assert.equal(m.value, undefined);
      assert.equal(m.sequence, undefined);
      assert.equal(m.toString(), "abc");
      assert.equal(hex(m.encode()), want);
      assert.equal(m.encodedSize, want.length / 2);
      assert.deepEqual(Buffer.concat(m.pieces(1)), Buffer.from(want, "hex"));
      const w = new ByteWriter(4);
      m.measureToWrite();
      m.writeTo(w);
      dropMeasure();
      assert.equal(w.view().toString("hex"), want);
    }
    // Once asked for, the body is one object, and what is done to its sections is what is sent.
    const m = fresh();
    assert.equal(m.body, m.body);
    assert.equal(m.data, (m.body as { sections: Uint8Array[] }).sections);
    assert.deepEqual(m.getData(), [bytes]);
    const sections = m.data;
    assert.ok(sections);
    sections.push(Buffer.from("de"));
    assert.equal(m.toString(), "abcde");
    assert.deepEqual(
      Message.decode(m.encode()).data?.map((d) => Buffer.from(d).toString()),
      ["abc", "de"],
    );
  });
  it("array of strings/bytes (including []) → one Data section per item", () => {
    const m = new Message({ body: ["a", Uint8Array.of(0xff)] });
    assert.equal(m.bodyType, "data");
    assert.deepEqual(m.data?.map(hex), ["61", "ff"]);
    const empty = new Message({ body: [] });
    assert.equal(empty.bodyType, "data");
    assert.deepEqual(empty.data, []);
  });
  it("anything else → AmqpValue; no body → null value", () => {
    assert.equal(new Message().bodyType, "value");
    assert.equal(new Message().value, null);
    for (const body of [1, true, new Map([["k", 1]]), ["a", 1], [["x"]], { a: 1 }] as AMQPValue[]) {
      const m = new Message({ body });
      assert.equal(m.bodyType, "value");
      assert.equal(m.value, body);
      assert.equal(m.data, undefined);
      assert.equal(m.sequence, undefined);
    }
  });
  it("explicit Data checks its input", () => {
    assert.deepEqual(new Message({ body: ["x", "y"], bodyType: "data" }).data?.length, 2);
    for (const body of [1, true, { k: "v" }, ["abc", true]] as AMQPValue[]) {
      assert.throws(() => new Message({ body, bodyType: MessageBodyType.Data }), TypeError);
    }
  });
  it("explicit Sequence: array of arrays → one section each, flat array → one section", () => {
    const multi = new Message({ body: [[1, 2], ["a"]], bodyType: "sequence" });
    assert.deepEqual(multi.sequence, [[1, 2], ["a"]]);
    const flat = new Message({ body: [1, "a", [2]], bodyType: "sequence" });
    assert.deepEqual(flat.sequence, [[1, "a", [2]]]);
    assert.deepEqual(new Message({ body: [], bodyType: "sequence" }).sequence, [[]]);
    assert.throws(() => new Message({ body: { k: 1 }, bodyType: "sequence" }), TypeError);
    assert.throws(() => new Message({ body: 1, bodyType: "sequence" }), TypeError);
  });
  it("explicit Value takes anything, even a string", () => {
    const m = new Message({ body: "s", bodyType: "value" });
    assert.equal(m.value, "s");
    assert.equal(m.getData(), "s");
  });
  it("rejects an unknown body type", () => {
    assert.throws(() => new Message({ body: 1, bodyType: "nope" as MessageBodyType }), TypeError);
  });
  it("getData() follows the body kind", () => {
    assert.deepEqual(new Message({ body: [[1]], bodyType: "sequence" }).getData(), [[1]]);
    assert.equal((new Message({ body: "a" }).getData() as Uint8Array[]).length, 1);
  });
});

describe("golden encoding: uamqp's sample message (every section set), byte for byte", () => {
  const golden = new Message({
    body: "hello world",
    header: { durable: true },
    properties: { messageId: "message id", subject: "test_subject" },
    applicationProperties: { "x-opt-partition-key": "PartitionKeyInfo" },
    messageAnnotations: { "x-opt-partition-key": "PartitionKeyInfo" },
  });
  // Derived by hand from the AMQP 1.0 encoding rules:
  const key = text("x-opt-partition-key"); // 19 bytes
  const val = text("PartitionKeyInfo"); // 16 bytes
  const expected = [
    // header: list8 of 5 = [true, null, null, null, uint0] (delivery-count 0 always written, as uamqp)
    "005370" + "c00605" + "41404040" + "43",
    // message-annotations: map8 of 2 with a *symbol* key (uamqp wrote a string key: a1 instead of a3)
    "005372" + "c12802" + "a313" + key + "a110" + val,
    // properties: list8 of 4 = [str "message id", null, null, str "test_subject"]
    "005373" + "c01d04" + "a10a" + text("message id") + "4040" + "a10c" + text("test_subject"),
    // application-properties: map8 of 2 with a string key
    "005374" + "c12802" + "a113" + key + "a110" + val,
    // one data section
    "005375" + "a00b" + text("hello world"),
  ].join("");

  it("encodes to the exact bytes derived from the spec: 151 bytes", () => {
    const bytes = golden.encode();
    assert.equal(bytes.length, 151);
    assert.equal(hex(bytes), expected);
    assert.equal(golden.encodedSize, 151);
  });
  it("differs from uamqp's encoding only in the annotation key's constructor (symbol vs string)", () => {
    const ours = Buffer.from(golden.encode());
    const uamqp = Buffer.from(ours);
    const at = 11 + 6; // after the header section and the annotations' descriptor + map8 header
    assert.equal(uamqp[at], 0xa3);
    uamqp[at] = 0xa1; // uamqp's string key
    const diff = [...ours].filter((b, i) => b !== uamqp[i]).length;
    assert.equal(diff, 1);
    // Both decode to the same message: string and symbol annotation keys become the same object key.
    const a = Message.decode(ours);
    const b = Message.decode(uamqp);
    assert.deepEqual(a.messageAnnotations, b.messageAnnotations);
    assert.deepEqual(b.messageAnnotations, { "x-opt-partition-key": "PartitionKeyInfo" });
    assert.equal(hex(b.encode()), expected, "re-encoding uses symbol keys");
  });
});

describe("round trips", () => {
  const full = (body: AMQPValue, bodyType?: MessageBodyType): Message =>
    new Message({
      body,
      bodyType,
      header: { durable: true, priority: 9, ttl: 60_000, firstAcquirer: true, deliveryCount: 3 },
      deliveryAnnotations: { "x-opt-lock-token": new AMQPUuid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6") },
      messageAnnotations: { "x-opt-offset": "12", "x-opt-seq": 5n, [ulongKey(77n)]: "numeric key" },
      properties: {
        messageId: 42,
        userId: Buffer.from("user"),
        to: "queue-a",
        subject: "s",
        replyTo: "queue-b",
        correlationId: new AMQPUuid("00112233-4455-6677-8899-aabbccddeeff"),
        contentType: "application/json",
        contentEncoding: "gzip",
        absoluteExpiryTime: new Date(1_700_000_000_000),
        creationTime: new Date(1_600_000_000_123),
        groupId: "g",
        groupSequence: 4_000_000_000,
        replyToGroupId: "rg",
      },
      applicationProperties: { color: "blue", weight: 2500 },
      footer: { "x-opt-hash": Uint8Array.of(1, 2) },
      messageFormat: 7,
    });

  const check = (m: Message): Message => {
    const d = Message.decode(m.encode(), { messageFormat: m.messageFormat });
    assert.equal(d.state, MessageState.ReceivedSettled);
    assert.equal(d.messageFormat, m.messageFormat);
    assert.deepEqual(d.header, m.header);
    assert.ok(amqpEquals(d.deliveryAnnotations, m.deliveryAnnotations));
    assert.ok(amqpEquals(d.messageAnnotations, m.messageAnnotations));
    assert.ok(amqpEquals(d.applicationProperties, m.applicationProperties));
    assert.ok(amqpEquals(d.footer, m.footer));
    const { messageId, ...rest } = m.properties!;
    const { messageId: gotId, ...gotRest } = d.properties!;
    assert.equal(gotId, BigInt(messageId as number), "a number message-id comes back as a ulong bigint");
    assert.equal(Object.keys(gotRest).length, Object.keys(rest).length);
    for (const [k, v] of Object.entries(rest)) {
      assert.ok(amqpEquals((gotRest as Record<string, AMQPValue>)[k], v), `properties.${k}`);
    }
    assert.equal(d.bodyType, m.bodyType);
    assert.ok(amqpEquals(d.getData(), m.getData()), "body");
    assert.equal(hex(d.encode()), hex(m.encode()), "re-encoding gives the same bytes");
    return d;
  };

  it("every section with one Data section", () => {
    check(full("payload"));
  });
  it("several Data sections", () => {
    const d = check(full(["one", "two", Uint8Array.of()]));
    assert.equal(d.data?.length, 3);
  });
  it("an empty Data body (no body section) decodes as a Data body with no sections", () => {
    const m = new Message({ body: [] });
    assert.equal(hex(m.encode()), "");
    const d = Message.decode(m.encode());
    assert.equal(d.bodyType, "data");
    assert.deepEqual(d.data, []);
  });
  it("large Data sections (vbin32) and a large message", () => {
    const big = Buffer.alloc(70_000, 7);
    const d = check(full([big, big]));
    assert.equal(d.data?.[1]?.length, 70_000);
  });
  it("AmqpValue of every kind", () => {
    const values: AMQPValue[] = [
      null,
      true,
      -5,
      2n ** 40n,
      123n,
      new AMQPDouble(1.5),
      new AMQPFloat(0.25),
      "text",
      new AMQPSymbol("sym"),
      Uint8Array.of(9, 8),
      new Date(0),
      new AMQPUuid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
      new AMQPuLong(2n ** 64n - 1n),
      new AMQPuByte(7),
      new AMQPChar("€"),
      [1, "a", [true]],
      new Map<AMQPValue, AMQPValue>([
        ["k", 1],
        [new AMQPSymbol("s"), [null]],
      ]),
      new AMQPArray("int", [1, 2, 3]),
      new AMQPDescribed(new AMQPSymbol("my:type"), "described"),
    ];
    for (const v of values) check(full(v, "value"));
  });
  it("one and several AmqpSequence sections", () => {
    check(full([1, "two", new AMQPuInt(3)], "sequence"));
    const d = check(full([[1], ["a", "b"], []], "sequence"));
    assert.equal(d.sequence?.length, 3);
  });
  it("preserves value types in application properties", () => {
    const props: Record<string, AMQPValue> = {
      int: 1,
      long: 1n,
      ulong: new AMQPuLong(1),
      str: "1",
      sym: new AMQPSymbol("1"),
      ts: new Date(1),
      bin: Uint8Array.of(1),
      uuid: new AMQPUuid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
      dbl: new AMQPDouble(1),
      bool: false,
      nul: null,
    };
    const d = Message.decode(new Message({ applicationProperties: props }).encode());
    const got = d.applicationProperties!;
    assert.equal(got["int"], 1);
    assert.equal(got["long"], 1n);
    assert.ok(got["ulong"] instanceof AMQPuLong);
    assert.equal(got["str"], "1");
    assert.ok(got["sym"] instanceof AMQPSymbol);
    assert.ok(got["ts"] instanceof Date);
    assert.ok(got["bin"] instanceof Uint8Array);
    assert.ok(got["uuid"] instanceof AMQPUuid);
    assert.ok(got["dbl"] instanceof AMQPDouble);
    assert.equal(got["bool"], false);
    assert.equal(got["nul"], null);
    for (const k of Object.keys(props)) assert.ok(amqpEquals(got[k], props[k]), k);
  });
  it("Data sections of a decoded message are views into the input", () => {
    const bytes = Buffer.from(new Message({ body: "abc" }).encode());
    const d = Message.decode(bytes);
    bytes[bytes.length - 1] = 0x7a; // 'c' → 'z'
    assert.equal(Buffer.from(d.data![0]!).toString(), "abz");
  });
  it("writeTo appends to a caller's writer", () => {
    const m = new Message({ body: "x" });
    const w = new ByteWriter(4);
    w.u8(0xee);
    m.writeTo(w);
    assert.equal(w.view().toString("hex"), "ee" + hex(m.encode()));
  });
  it("encodedSize is the length of encode() for every body kind, Data sections counted without being copied", () => {
    const big = Buffer.alloc(70_000, 7);
    for (const m of [
      full("payload"),
      full(["one", big, Uint8Array.of()]),
      full({ k: [1, 2, 3] }, "value"),
      full([[1, "a"], [big]], "sequence"),
      new Message({ body: [] }),
      new Message({ body: Buffer.alloc(255) }),
      new Message({ body: Buffer.alloc(256) }),
    ]) {
      assert.equal(m.encodedSize, m.encode().length);
    }
    const bad = new Message({ body: [Buffer.from("a")] });
    (bad.data as unknown[]).push("not bytes");
    assert.throws(() => bad.encodedSize, EncodeError);
  });
  it("a measure its caller did not drop ends with the synchronous step that made it", async () => {
    const m = new Message({ body: "b", properties: { subject: "measured" } });
    m.measureToWrite();
    await Promise.resolve();
    m.properties!.subject = "changed";
    const w = new ByteWriter(4);
    m.writeTo(w);
    assert.equal(
      w.view().toString("hex"),
      hex(new Message({ body: "b", properties: { subject: "changed" } }).encode()),
    );
  });
  it("a measure is used by the measured message's next writeTo only, and never after it is dropped", () => {
    const written = (m: Message): string => {
      const w = new ByteWriter(4);
      m.writeTo(w);
      return w.view().toString("hex");
    };
    const a = full("payload");
    const b = new Message({ body: "b", properties: { subject: "before" } });
    // Another message written meanwhile does not use it; the measured one does, once.
    a.measureToWrite();
    assert.equal(written(b), hex(b.encode()));
    b.measureToWrite();
    assert.equal(written(b), hex(b.encode()));
    // The write copies what the measure encoded: a change in between (what the sending layer never
    // lets happen) is not seen, which shows that the sections are not encoded again.
    const measured = hex(b.encode());
    b.measureToWrite();
    b.properties!.subject = "unseen";
    assert.equal(written(b), measured);
    b.properties!.subject = "before";
    // Changed after its measure was dropped (as the sending layer does before the application's
    // code runs): written as it is now.
    b.measureToWrite();
    dropMeasure();
    b.properties!.subject = "after";
    assert.equal(written(b), hex(new Message({ body: "b", properties: { subject: "after" } }).encode()));
    // Each other use of the scratch space drops it: encode, encodedSize, pieces, another measure.
    for (const use of [
      () => a.encode(),
      () => a.encodedSize,
      () => a.pieces(1024),
      () => a.measureToWrite(),
    ]) {
      b.properties!.subject = "measured";
      b.measureToWrite();
      use();
      b.properties!.subject = "changed";
      assert.equal(
        written(b),
        hex(new Message({ body: "b", properties: { subject: "changed" } }).encode()),
        String(use),
      );
    }
    dropMeasure();
    const bad = new Message({ body: [Buffer.from("a")] });
    (bad.data as unknown[]).push("not bytes");
    assert.throws(() => bad.measureToWrite(), EncodeError);
  });
  it("pieces(minView) join to encode(), Data sections of at least minView bytes given as the body's own arrays", () => {
    const big = Buffer.alloc(40_000, 1);
    const bigger = Buffer.alloc(70_000, 2);
    const small = Buffer.from("small");
    const cases: [Message, Uint8Array[]][] = [
      [full([big, small, bigger]), [big, bigger]],
      [new Message({ body: bigger }), [bigger]],
      [new Message({ body: [small, big] }), [big]],
      [full(small), []],
      [full({ blob: Buffer.alloc(20_000) }, "value"), []],
      [new Message({ body: Buffer.alloc(300) }), []],
    ];
    for (const [m, views] of cases) {
      const pieces = m.pieces(16_384);
      assert.equal(hex(Buffer.concat(pieces)), hex(m.encode()));
      assert.deepEqual(
        pieces.filter((p) => views.includes(p)),
        views,
        "the large Data sections are the body's arrays, in order",
      );
      assert.ok(
        pieces.every((p) => views.includes(p) || !views.some((v) => v.buffer === p.buffer)),
        "the other pieces are buffers of their own",
      );
    }
    // Below 256 bytes a view keeps the short binary head that encode() writes.
    const tiny = new Message({ body: [Buffer.from("ab"), Buffer.alloc(100, 3)] });
    assert.equal(hex(Buffer.concat(tiny.pieces(1))), hex(tiny.encode()));
    const bad = new Message({ body: [big] });
    (bad.data as unknown[]).push(1);
    assert.throws(() => bad.pieces(16_384), EncodeError);
  });
  it("omits empty sections but keeps a given header", () => {
    const m = new Message({
      body: "x",
      header: {},
      properties: {},
      applicationProperties: {},
      messageAnnotations: { "x-a": undefined as unknown as AMQPValue },
      deliveryAnnotations: {},
      footer: {},
    });
    assert.equal(hex(m.encode()), "005370c00605" + "40404040" + "43" + "005375a00178");
  });
});

describe("properties encoding", () => {
  const enc = (properties: object): string => hex(new Message({ body: [], properties: properties }).encode());
  it("number and bigint ids are ulong", () => {
    assert.equal(enc({ messageId: 5 }), "005373c003015305");
    assert.equal(enc({ correlationId: 0n }), "005373c00706" + "4040404040" + "44");
    assert.equal(enc({ messageId: new AMQPuLong(300) }), "005373c00a0180000000000000012c");
  });
  it("binary and uuid ids keep their types; user-id is binary", () => {
    assert.equal(enc({ messageId: Uint8Array.of(1) }), "005373c00401a00101");
    const d = Message.decode(
      new Message({
        body: [],
        properties: { messageId: new AMQPUuid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6") },
      }).encode(),
    );
    assert.ok(d.properties?.messageId instanceof AMQPUuid);
    assert.equal(enc({ userId: Buffer.from("u") }), "005373c00502" + "40" + "a00175");
  });
  it("rejects values of the wrong type with EncodeError", () => {
    for (const p of [
      { messageId: -1 },
      { messageId: 1.5 },
      { messageId: 2n ** 64n },
      { messageId: true },
      { userId: "user" },
      { subject: 1 },
      { creationTime: 5 },
      { creationTime: new Date(NaN) },
      { groupSequence: -1 },
    ]) {
      assert.throws(
        () => enc(p),
        EncodeError,
        JSON.stringify(p, (_k, v: unknown) => String(v)),
      );
    }
  });
  it("rejects a Data section that is not bytes with EncodeError, on every encoding path", () => {
    const m = new Message({ body: [Buffer.from("ok")] });
    m.data!.push("not bytes" as never);
    const data = /a Data section must be a Uint8Array/;
    assert.throws(() => m.encode(), data);
    assert.throws(() => m.encodedSize, data);
    assert.throws(() => m.measureToWrite(), data);
    assert.throws(() => m.pieces(1), data);
    assert.throws(() => m.writeTo(new ByteWriter(64)), data);
  });
  it("rejects a bad header with EncodeError", () => {
    for (const header of [{ priority: 256 }, { ttl: -1 }, { durable: 1 }, { deliveryCount: 1.5 }]) {
      assert.throws(() => new Message({ header: header as never }).encode(), EncodeError);
    }
  });
  it("header.ttlMs (the spec's name) encodes as the AMQP ttl; a disagreeing ttl is an EncodeError", () => {
    const d = Message.decode(new Message({ body: "x", header: { ttlMs: 5000, durable: true } }).encode());
    assert.equal(d.header?.ttl, 5000);
    assert.equal(d.header.durable, true);
    const same = Message.decode(new Message({ body: "x", header: { ttl: 7, ttlMs: 7 } }).encode());
    assert.equal(same.header?.ttl, 7);
    assert.throws(() => new Message({ header: { ttl: 1, ttlMs: 2 } }).encode(), EncodeError);
    assert.throws(() => new Message({ header: { ttlMs: -5 } }).encode(), EncodeError);
  });
  it("rejects a bad message format", () => {
    assert.throws(() => new Message({ messageFormat: -1 }), RangeError);
  });
});

describe("misc", () => {
  it("annotations is uamqp's alias of messageAnnotations", () => {
    const m = new Message({ messageAnnotations: { "x-a": 1 } });
    assert.deepEqual(m.annotations, { "x-a": 1 });
    m.annotations = { "x-b": 2 };
    assert.deepEqual(m.messageAnnotations, { "x-b": 2 });
  });
  it("toString renders the body", () => {
    assert.equal(String(new Message({ body: ["hello ", "world"] })), "hello world");
    assert.equal(String(new Message({ body: "v", bodyType: "value" })), "v");
    assert.equal(String(new Message({ body: 5 })), "5");
  });
  it("ulongKey validates its range", () => {
    assert.equal(ulongKey(7), "ulong:7");
    assert.throws(() => ulongKey(-1n), RangeError);
  });
});
