/**
 * The section-level editing of the Service Bus emulation: messages encoded by rhea, stamped or
 * edited by the broker, read back by rhea; only the changed sections differ, the body and footer
 * stay byte-identical. And the GUID byte-order swap of lock tokens against the SDK's own rendering.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import rhea from "rhea";
import type { AMQPValue } from "../../src/codec/index.js";
import { editMessage, readFacts, stampMessage } from "../../src/broker/servicebus/sections.js";
import { swapGuidOrder, dotNetTicks } from "../../src/broker/servicebus/lock-token.js";

const encode = (m: rhea.Message): Buffer => Buffer.from(rhea.message.encode(m));
const decode = (b: Buffer): rhea.Message => rhea.message.decode(b) as unknown as rhea.Message;

/** The encoded body section(s) and footer: everything after the application properties. */
function tail(bytes: Buffer, body: Buffer): Buffer {
  const at = bytes.lastIndexOf(body);
  assert.ok(at >= 0, "the body bytes are present");
  return bytes.subarray(at);
}

describe("broker: Service Bus message stamping and editing", () => {
  const body = rhea.message.data_section(Buffer.from("payload bytes \u0000\u0001"));
  const bodyBytes = Buffer.from("payload bytes \u0000\u0001");

  it("stamps the header delivery-count and annotations over the sender's, keeping its message-id and body", () => {
    const original = encode({
      durable: true,
      message_id: "sent-id",
      group_id: "session-1",
      message_annotations: { "x-opt-partition-key": "pk", "x-opt-sequence-number": 99 },
      application_properties: { a: 1 },
      body,
    });
    const at = new Date(1_700_000_000_000);
    const stamped = stampMessage(original, {
      deliveryCount: 2,
      annotations: new Map<string, AMQPValue>([
        ["x-opt-sequence-number", 7n],
        ["x-opt-enqueued-time", at],
      ]),
      messageId: "unused",
    });
    const m = decode(stamped);
    assert.equal(m.durable, true);
    assert.equal(m.delivery_count, 2);
    assert.equal(m.message_id, "sent-id");
    assert.equal(m.group_id, "session-1");
    assert.deepEqual(m.message_annotations, {
      "x-opt-partition-key": "pk",
      "x-opt-sequence-number": 7,
      "x-opt-enqueued-time": at,
    });
    assert.deepEqual(m.application_properties, { a: 1 });
    assert.ok(tail(stamped, bodyBytes).equals(tail(original, bodyBytes)));
  });

  it("adds a message-id and a header to a message that has neither", () => {
    const original = encode({ body });
    const m = decode(stampMessage(original, { deliveryCount: 0, annotations: new Map(), messageId: "abc" }));
    assert.equal(m.message_id, "abc");
    assert.equal(m.delivery_count, 0);
  });

  it("edits application properties and annotations, replacing keys of either type", () => {
    const original = encode({ application_properties: { keep: "k", DeadLetterReason: "old" }, body });
    const edited = editMessage(original, {
      applicationProperties: new Map([
        ["DeadLetterReason", "new"],
        ["DeadLetterErrorDescription", "why"],
      ]),
      annotations: new Map([["x-opt-deadletter-source", "q"]]),
    });
    const m = decode(edited);
    assert.deepEqual(m.application_properties, {
      keep: "k",
      DeadLetterReason: "new",
      DeadLetterErrorDescription: "why",
    });
    assert.deepEqual(m.message_annotations, { "x-opt-deadletter-source": "q" });
    assert.ok(tail(edited, bodyBytes).equals(tail(original, bodyBytes)));
  });

  it("reads the session id, the message-id's presence and the scheduled time", () => {
    const at = new Date(1_800_000_000_000);
    assert.deepEqual(
      readFacts(
        encode({
          group_id: "g",
          message_id: 5,
          message_annotations: { "x-opt-scheduled-enqueue-time": at },
          body,
        }),
      ),
      { groupId: "g", hasMessageId: true, scheduledEnqueueTime: at.getTime() },
    );
    assert.deepEqual(readFacts(encode({ body })), {
      groupId: undefined,
      hasMessageId: false,
      scheduledEnqueueTime: undefined,
    });
  });

  it("leaves bytes that are not a section sequence alone", () => {
    const junk = Buffer.from([1, 2, 3, 4]);
    assert.equal(stampMessage(junk, { deliveryCount: 1, annotations: new Map([["k", 1]]) }), junk);
  });

  it("swaps GUID byte order as the SDK renders delivery tags, and back", () => {
    const tag = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    const shown = swapGuidOrder(tag);
    assert.equal(shown.toString("hex"), "33221100554477668899aabbccddeeff");
    assert.ok(swapGuidOrder(shown).equals(tag));
    // The SDK's string for a lock token is the standard GUID text of the swapped bytes.
    assert.equal(rhea.uuid_to_string(shown), "33221100-5544-7766-8899-aabbccddeeff");
  });

  it("converts times to .NET ticks", () => {
    assert.equal(dotNetTicks(0), 621_355_968_000_000_000n);
    assert.equal(dotNetTicks(1), 621_355_968_000_010_000n);
  });
});
