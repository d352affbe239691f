import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AMQPSymbol } from "../../src/codec/index.js";
import { MessageContentTooLarge } from "../../src/errors/index.js";
import {
  BATCH_MESSAGE_FORMAT,
  BatchMessage,
  Message,
  MessageSendResult,
  type BatchItem,
} from "../../src/message/index.js";

const str = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

/** Decodes every inner message of every envelope. */
const inner = (envelopes: Message[]): Message[] =>
  envelopes.flatMap((e) => e.data!.map((d) => Message.decode(d)));

describe("BatchMessage", () => {
  it("has uamqp's batch format", () => {
    assert.equal(BatchMessage.BATCH_FORMAT, 0x80013700);
    assert.equal(new BatchMessage([]).maxMessageLength, 1048576);
  });

  it("50 strings → one envelope of 50 Data sections, each a full message", () => {
    const items = Array.from({ length: 50 }, (_, i) => `Hello world ${i}`);
    const envelopes = new BatchMessage(items).gather();
    assert.equal(envelopes.length, 1);
    const env = envelopes[0]!;
    assert.equal(env.messageFormat, BATCH_MESSAGE_FORMAT);
    assert.equal(env.bodyType, "data");
    assert.equal(env.data?.length, 50);
    // The envelope survives its own encoding: 50 Data sections, each decodable as a message.
    const wire = Message.decode(env.encode());
    assert.deepEqual(
      inner([wire]).map((m) => str(m.data![0]!)),
      items,
    );
  });

  it("the envelope with no application properties and the batch's header/properties/annotations", () => {
    const env = new BatchMessage(["a"], {
      applicationProperties: { k: "v" },
      properties: { messageId: "batch-1" },
      messageAnnotations: { "x-opt-partition-key": "p" },
      header: { durable: true },
    }).gather()[0]!;
    const wire = Message.decode(env.encode());
    assert.equal(wire.applicationProperties, undefined);
    assert.deepEqual(wire.properties, { messageId: "batch-1" });
    assert.deepEqual(wire.messageAnnotations, { "x-opt-partition-key": "p" });
    assert.deepEqual(wire.header, { durable: true, deliveryCount: 0 });
  });

  it("throws MessageContentTooLarge when the items exceed 1 MiB without multiMessages", () => {
    const chunk = Buffer.alloc(100 * 1024, 1);
    const batch = new BatchMessage(Array.from({ length: 11 }, () => chunk));
    assert.throws(() => batch.gather(), MessageContentTooLarge);
  });

  it("multiMessages splits in order, each envelope ≤ maxMessageLength", () => {
    const items = Array.from({ length: 25 }, (_, i) => Buffer.alloc(100 * 1024, i));
    const envelopes = new BatchMessage(items, { multiMessages: true }).gather();
    assert.ok(envelopes.length > 1);
    for (const e of envelopes) {
      assert.ok(e.encode().length <= 1048576, `envelope of ${e.encodedSize} bytes`);
      assert.equal(e.messageFormat, BATCH_MESSAGE_FORMAT);
    }
    const got = inner(envelopes).map((m) => m.data![0]![0]);
    assert.deepEqual(
      got,
      items.map((_, i) => i),
    );
  });

  it("counts Data framing: a packed envelope lands exactly on the limit", () => {
    // Each inner message "xx…" of n bytes encodes to 3 + 2 + n bytes; as a Data section it takes 5 more.
    const empty = new Message({ body: [], messageFormat: BATCH_MESSAGE_FORMAT }).encodedSize;
    const itemSize = 3 + 2 + 10; // inner message of a 10-byte Data section
    const sectionSize = 3 + 2 + itemSize;
    const max = empty + 4 * sectionSize;
    const items = Array.from({ length: 9 }, () => "0123456789");
    const envelopes = new BatchMessage(items, { multiMessages: true, maxMessageLength: max }).gather();
    assert.deepEqual(
      envelopes.map((e) => e.data!.length),
      [4, 4, 1],
    );
    assert.equal(envelopes[0]!.encodedSize, max);
    assert.throws(
      () => new BatchMessage(items.slice(0, 5), { maxMessageLength: max }).gather(),
      MessageContentTooLarge,
    );
    assert.equal(new BatchMessage(items.slice(0, 4), { maxMessageLength: max }).gather().length, 1);
    // sizeOffset reserves room in every envelope
    const offset = new BatchMessage(items, {
      multiMessages: true,
      maxMessageLength: max,
      sizeOffset: 1,
    }).gather();
    assert.deepEqual(
      offset.map((e) => e.data!.length),
      [3, 3, 3],
    );
  });

  it("a single item that can never fit throws even with multiMessages", () => {
    const batch = new BatchMessage(["small", Buffer.alloc(2000)], {
      multiMessages: true,
      maxMessageLength: 1000,
    });
    assert.throws(() => batch.gather(), MessageContentTooLarge);
  });

  it("batch applicationProperties go to inner messages that have none", () => {
    const own = new Message({ body: "own", applicationProperties: { mine: 1 } });
    const none = new Message({ body: "none" });
    const emptyProps = new Message({ body: "empty", applicationProperties: {} });
    const batch = new BatchMessage([own, none, emptyProps, "raw", new Map([["k", 1]])], {
      applicationProperties: { batch: "yes" },
    });
    const msgs = inner(batch.gather());
    assert.deepEqual(
      msgs.map((m) => m.applicationProperties),
      [{ mine: 1 }, { batch: "yes" }, { batch: "yes" }, { batch: "yes" }, { batch: "yes" }],
    );
    assert.equal(none.applicationProperties, undefined, "the caller's message is not modified");
    assert.equal(msgs[4]!.bodyType, "value");
  });

  it("inner message sections survive the round trip", () => {
    const m = new Message({
      body: ["p1", "p2"],
      header: { priority: 7 },
      deliveryAnnotations: { "x-d": 1 },
      messageAnnotations: { "x-m": new AMQPSymbol("s") },
      properties: { messageId: 9, subject: "subj" },
      applicationProperties: { a: true },
      footer: { "x-f": "foot" },
    });
    const got = inner(new BatchMessage([m, { message: m }] as BatchItem[]).gather());
    assert.equal(got.length, 2);
    for (const g of got) {
      assert.deepEqual(g.header, { priority: 7, deliveryCount: 0 });
      assert.deepEqual(g.deliveryAnnotations, { "x-d": 1 });
      assert.deepEqual(g.messageAnnotations, { "x-m": new AMQPSymbol("s") });
      assert.deepEqual(g.properties, { messageId: 9n, subject: "subj" });
      assert.deepEqual(g.applicationProperties, { a: true });
      assert.deepEqual(g.footer, { "x-f": "foot" });
      assert.deepEqual(g.data?.map(str), ["p1", "p2"]);
    }
  });

  it("copies onSendComplete to each envelope and reads a generator once", () => {
    function* gen(): Generator<string> {
      for (let i = 0; i < 3; i++) yield `m${i}`;
    }
    const batch = new BatchMessage(gen(), { multiMessages: true, maxMessageLength: 30 });
    const seen: number[] = [];
    batch.onSendComplete = (r) => seen.push(r);
    const envelopes = batch.gather();
    assert.ok(envelopes.length >= 2);
    for (const e of envelopes) e.completeSend(MessageSendResult.Ok);
    assert.equal(seen.length, envelopes.length);
    assert.equal(inner(envelopes).length, 3);
    assert.deepEqual(
      batch.gather().map((e) => e.data!.length),
      [0],
      "a consumed generator gives one empty envelope",
    );
  });

  it("validates its sizes", () => {
    assert.throws(() => new BatchMessage([], { maxMessageLength: -1 }), RangeError);
    assert.throws(
      () => new BatchMessage([], { maxMessageLength: 5, header: { durable: true } }).gather(),
      MessageContentTooLarge,
    );
  });
});
