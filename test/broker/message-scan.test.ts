import assert from "node:assert/strict";
import { describe, it } from "node:test";
import rhea from "rhea";
import { decode } from "../../src/codec/index.js";
import {
  encodeResponse,
  messageAnnotationsInclude,
  readApplicationProperties,
  readHeader,
  readProperties,
  readValueBody,
  scanSections,
  skipValue,
  startsWithBody,
  withDeliveryCount,
} from "../../src/broker/message-scan.js";
import { incrementDeliveryCount, storeMessage } from "../../src/broker/stored-message.js";
import { loadVectors } from "../support/vectors.js";

const encode = (m: rhea.Message): Buffer => Buffer.from(rhea.message.encode(m));

describe("broker: reading and rewriting encoded messages", () => {
  it("skips over every valid encoding of the spec vectors exactly", () => {
    let n = 0;
    for (const v of loadVectors()) {
      if (v.note?.includes("invalid") || v.name.startsWith("invalid")) continue;
      const bytes = Buffer.from(v.hex.replace(/\s/g, ""), "hex");
      let ok = true;
      try {
        decode(bytes);
      } catch {
        ok = false;
      }
      if (!ok) continue;
      assert.equal(skipValue(bytes, 0, bytes.length), bytes.length, v.name);
      n++;
    }
    assert.ok(n > 50);
  });

  it("rejects values running past the end", () => {
    assert.throws(() => skipValue(Buffer.from([0xa1, 5, 0x61]), 0, 3));
    assert.throws(() => skipValue(Buffer.from([0xb0, 0, 0, 0]), 0, 4));
    assert.throws(() => skipValue(Buffer.from([0x00, 0x00, 0x00]), 0, 3));
  });

  it("locates sections and reads header, properties, application properties and an amqp-value body", () => {
    const bytes = encode({
      durable: true,
      ttl: 1000,
      delivery_count: 2,
      message_id: "m-1",
      to: "queue-a",
      reply_to: "me",
      application_properties: { operation: "READ", n: 5 },
      body: "hello",
    });
    const map = scanSections(bytes)!;
    assert.equal(map.headerStart, 0);
    assert.deepEqual({ ...readHeader(bytes, map) }, { durable: true, ttl: 1000, deliveryCount: 2 });
    const props = readProperties(bytes, map)!;
    assert.equal(props.messageId, "m-1");
    assert.equal(props.to, "queue-a");
    assert.equal(props.replyTo, "me");
    const app = readApplicationProperties(bytes, map);
    assert.equal(app.get("operation"), "READ");
    assert.equal((app.get("n") as { value: number }).value, 5);
    assert.equal(readValueBody(bytes, map), "hello");
  });

  it("rewrites only the header when the delivery-count changes (byte-exact rest)", () => {
    const bytes = encode({
      durable: true,
      priority: 9,
      message_id: 7,
      body: rhea.message.data_section(Buffer.from("xyz")),
    });
    const map = scanSections(bytes)!;
    const out = withDeliveryCount(bytes, map, 3);
    const outMap = scanSections(out)!;
    assert.deepEqual({ ...readHeader(out, outMap) }, { durable: true, priority: 9, deliveryCount: 3 });
    assert.ok(out.subarray(outMap.headerEnd).equals(bytes.subarray(map.headerEnd)));
  });

  it("adds a header when the message had none", () => {
    const bytes = encodeResponse({ properties: { messageId: "no-header" }, body: "b" });
    const map = scanSections(bytes)!;
    assert.equal(map.headerStart, -1);
    const m = storeMessage(bytes, 0, Date.now());
    incrementDeliveryCount(m);
    const outMap = scanSections(m.payload)!;
    assert.equal(readHeader(m.payload, outMap)?.deliveryCount, 1);
    assert.ok(m.payload.subarray(outMap.headerEnd).equals(bytes));
  });

  it("leaves messages of other formats and non-section payloads untouched", () => {
    const opaque = Buffer.from("not an AMQP message");
    assert.equal(scanSections(opaque), undefined);
    const m = storeMessage(opaque, 0, Date.now());
    incrementDeliveryCount(m);
    assert.equal(m.deliveryCount, 1);
    assert.ok(m.payload.equals(opaque));
    const custom = storeMessage(encode({ body: "x" }), 0x1234, Date.now());
    const before = Buffer.from(custom.payload);
    incrementDeliveryCount(custom);
    assert.ok(custom.payload.equals(before));
  });

  it("reads the expiry from ttl and absolute-expiry-time", () => {
    const now = 1_000_000;
    assert.equal(storeMessage(encode({ ttl: 500, body: 1 }), 0, now).expiresAt, now + 500);
    assert.equal(storeMessage(encode({ body: 1 }), 0, now).expiresAt, Infinity);
    const abs = storeMessage(encode({ absolute_expiry_time: new Date(now + 100), body: 1 }), 0, now);
    assert.equal(abs.expiresAt, now + 100);
  });

  it("reads nothing more of a message that starts with its body: it has no header and no properties", () => {
    const data = Buffer.from("005375a003616263", "hex");
    const value = Buffer.from("005377a10178", "hex");
    const sequence = Buffer.from("00537645", "hex");
    for (const m of [data, value, sequence]) assert.equal(startsWithBody(m), true, m.toString("hex"));
    // rhea writes a header (and properties) before every body.
    assert.equal(startsWithBody(encode({ body: 1 })), false);
    assert.equal(startsWithBody(Buffer.from([0x00, 0x53])), false);
    const bare = storeMessage(Buffer.concat([value, data]), 0, 1_000_000);
    assert.equal(bare.deliveryCount, 0);
    assert.equal(bare.expiresAt, Infinity);
    assert.ok(bare.payload.equals(Buffer.concat([value, data])));
  });

  it("stores a small payload as a copy, not as a view of the chunk it arrived in", () => {
    const chunk = Buffer.concat([Buffer.alloc(100), encode({ body: "in a chunk" }), Buffer.alloc(4000)]);
    const payload = chunk.subarray(100, chunk.length - 4000);
    const m = storeMessage(payload, 0, Date.now());
    assert.ok(m.payload.equals(payload));
    assert.notEqual(m.payload.buffer, chunk.buffer);
    chunk.fill(0);
    assert.equal((rhea.message.decode(m.payload) as unknown as rhea.Message).body, "in a chunk");
  });

  it("finds a key in the message annotations only, not in a later section", () => {
    const key = Buffer.from("x-opt-scheduled-enqueue-time");
    const annotated = encode({ message_annotations: { "x-opt-scheduled-enqueue-time": 1 }, body: 1 });
    assert.equal(messageAnnotationsInclude(annotated, key), true);
    const inProperties = encode({ application_properties: { "x-opt-scheduled-enqueue-time": 1 }, body: 1 });
    assert.equal(messageAnnotationsInclude(inProperties, key), false);
    assert.equal(messageAnnotationsInclude(encode({ body: "x-opt-scheduled-enqueue-time" }), key), false);
  });

  it("encodes responses rhea can decode", () => {
    const bytes = encodeResponse({
      properties: { correlationId: "c-1", to: "reply" },
      applicationProperties: new Map([["status-code", 200]]),
      body: new Map([["k", "v"]]),
    });
    const m = rhea.message.decode(bytes) as unknown as rhea.Message;
    assert.equal(m.correlation_id, "c-1");
    assert.equal(m.to, "reply");
    assert.deepEqual(m.application_properties, { "status-code": 200 });
    assert.deepEqual(m.body, { k: "v" });
  });
});
