/**
 * The non-accepted outcomes of a send (`released`, `modified`, `rejected`), end to end through
 * the embedded broker. uamqp crashed on `modified` and treated `released` as an unknown
 * error; here `released` and `modified` without `undeliverable-here` are retried by the error
 * policy, `modified` with `undeliverable-here` and rejections with a no-retry condition are not.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SendClient } from "../../src/client/send-client.js";
import type { AMQPError } from "../../src/errors/amqp-error.js";
import {
  ClientMessageError,
  MessageModified,
  MessageReleased,
  MessageSendFailed,
} from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { ErrorPolicy } from "../../src/policy/error-policy.js";
import { startBroker, type TestBroker } from "./support.js";

/** A message that records every call of its completion callback. */
function tracked(body: string): { message: Message; calls: [MessageSendResult, AMQPError | undefined][] } {
  const message = new Message({ body });
  const calls: [MessageSendResult, AMQPError | undefined][] = [];
  message.onSendComplete = (result, error) => calls.push([result, error]);
  return { message, calls };
}

/** Sends one message with `sendMessage` and returns what it rejected with. */
async function sendRejection(client: SendClient, message: Message): Promise<ClientMessageError> {
  const error = await client.sendMessage(message).then(
    () => assert.fail("the send should fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ClientMessageError, `expected a ClientMessageError, got ${String(error)}`);
  return error;
}

/** A turn of the event loop, so a late (wrong) completion callback would have been called. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

describe("SendClient: released / modified / rejected outcomes", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker({
      hooks: {
        released: { onDelivery: { outcome: "release" } },
        "released-2": { onDelivery: { outcome: "release" } },
        "modified-undeliverable": {
          onDelivery: { outcome: "modify", deliveryFailed: true, undeliverableHere: true },
        },
        "modified-failed": {
          onDelivery: { outcome: "modify", deliveryFailed: true, undeliverableHere: false },
        },
        "modified-failed-2": {
          onDelivery: { outcome: "modify", deliveryFailed: true, undeliverableHere: false },
        },
        "rejected-precondition": {
          onDelivery: {
            outcome: "reject",
            condition: "amqp:precondition-failed",
            description: "sequence check",
          },
        },
      },
    });
  });
  after(async () => {
    await t.broker.close();
  });

  it("released every time: 4 transfers (1 + 3 retries), SendFailed with MessageReleased, retryable, onSendComplete once", async () => {
    const { message, calls } = tracked("released body");
    const client = new SendClient(t.url("released"));
    client.queueMessage(message);
    assert.deepEqual(await client.sendAllMessages(), [MessageState.SendFailed]);
    await settle();

    assert.equal(t.transfers("released").length, 4);
    assert.equal(message.retries, 3);
    assert.equal(message.state, MessageState.SendFailed);
    assert.ok(message.sendError instanceof MessageReleased, String(message.sendError));
    assert.equal(message.sendError.code, "AMQP_MESSAGE_RELEASED");
    assert.equal(message.sendError.retryable, true);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![0], MessageSendResult.Error);
    assert.equal(calls[0]![1], message.sendError);
    // Every attempt carried the same message.
    for (const transfer of t.transfers("released")) {
      assert.equal(Message.decode(transfer.payload).toString(), "released body");
    }
  });

  it("released with sendMessage: ClientMessageError caused by MessageReleased, retryable; maxRetries 1 → 2 transfers", async () => {
    await using client = new SendClient(t.url("released-2"), {
      errorPolicy: new ErrorPolicy({ maxRetries: 1 }),
    });
    const { message, calls } = tracked("x");
    const error = await sendRejection(client, message);
    await settle();

    assert.equal(t.transfers("released-2").length, 2);
    assert.equal(message.retries, 1);
    assert.ok(error.cause instanceof MessageReleased, String(error.cause));
    assert.equal(error.retryable, true);
    assert.equal(error.numberFailed, 1);
    assert.ok(error.failedMessages?.has(message));
    assert.equal(calls.length, 1);
  });

  it("modified with undeliverable-here: 1 transfer, no retry, MessageModified with the flags, not retryable", async () => {
    await using client = new SendClient(t.url("modified-undeliverable"));
    const { message, calls } = tracked("x");
    const error = await sendRejection(client, message);
    await settle();

    assert.equal(t.transfers("modified-undeliverable").length, 1);
    assert.equal(message.retries, 0);
    assert.equal(message.state, MessageState.SendFailed);
    const modified = message.sendError;
    assert.ok(modified instanceof MessageModified, String(modified));
    assert.equal(modified.code, "AMQP_MESSAGE_MODIFIED");
    assert.equal(modified.undeliverableHere, true);
    assert.equal(modified.deliveryFailed, true);
    assert.equal(modified.retryable, false);
    assert.equal(error.cause, modified);
    assert.equal(error.retryable, false);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![0], MessageSendResult.Error);
    assert.equal(calls[0]![1], modified);
  });

  it("modified with delivery-failed only: retried like released (4 transfers, retries 3), MessageModified retryable", async () => {
    const { message, calls } = tracked("x");
    const client = new SendClient(t.url("modified-failed"));
    client.queueMessage(message);
    assert.deepEqual(await client.sendAllMessages(), [MessageState.SendFailed]);
    await settle();

    assert.equal(t.transfers("modified-failed").length, 4);
    assert.equal(message.retries, 3);
    const modified = message.sendError;
    assert.ok(modified instanceof MessageModified, String(modified));
    assert.equal(modified.deliveryFailed, true);
    assert.equal(modified.undeliverableHere, false);
    assert.equal(modified.retryable, true);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![1], modified);
  });

  it("modified with delivery-failed only follows the error policy: maxRetries 0 → 1 transfer", async () => {
    const { message, calls } = tracked("x");
    const client = new SendClient(t.url("modified-failed-2"), {
      errorPolicy: new ErrorPolicy({ maxRetries: 0 }),
    });
    client.queueMessage(message);
    assert.deepEqual(await client.sendAllMessages(), [MessageState.SendFailed]);
    await settle();

    assert.equal(t.transfers("modified-failed-2").length, 1);
    assert.equal(message.retries, 0);
    assert.ok(message.sendError instanceof MessageModified);
    assert.equal(calls.length, 1);
  });

  it("rejected with a no-retry amqp: condition: 1 transfer, MessageSendFailed with the condition, not retryable", async () => {
    await using client = new SendClient(t.url("rejected-precondition"));
    const { message, calls } = tracked("x");
    const error = await sendRejection(client, message);
    await settle();

    assert.equal(t.transfers("rejected-precondition").length, 1);
    assert.equal(message.retries, 0);
    const failed = message.sendError;
    assert.ok(failed instanceof MessageSendFailed, String(failed));
    assert.equal(failed.condition, "amqp:precondition-failed");
    assert.equal(failed.description, "sequence check");
    assert.equal(failed.retryable, false);
    assert.equal(error.condition, "amqp:precondition-failed");
    assert.equal(error.retryable, false);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![1], failed);
  });
});

describe("SendClient: a message beyond the peer's max-message-size", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker({ limits: { maxMessageSize: 1000 } });
  });
  after(async () => {
    await t.broker.close();
  });

  it("fails alone with amqp:link:message-size-exceeded, never transferred; the messages around it are sent", async () => {
    await using client = new SendClient(t.url("size"));
    const small = tracked("fits");
    const large = tracked("x".repeat(1000));
    const after = tracked("fits too");
    client.queueMessage(small.message, large.message, after.message);
    assert.deepEqual(await client.sendAllMessages({ closeOnDone: false }), [
      MessageState.SendComplete,
      MessageState.SendFailed,
      MessageState.SendComplete,
    ]);
    const failed = large.message.sendError;
    assert.ok(failed instanceof MessageSendFailed, String(failed));
    assert.equal(failed.condition, "amqp:link:message-size-exceeded");
    assert.match(failed.message, /exceeds the peer's max-message-size 1000/);
    assert.deepEqual(
      t.transfers("size").map((e) => Buffer.from(e.payload).length <= 1000),
      [true, true],
    );
    // One just at the limit is sent.
    const edge = new Message({ body: "y".repeat(1000 - (new Message({ body: "" }).encodedSize + 3)) });
    assert.equal(edge.encodedSize, 1000);
    await client.sendMessage(edge);
    assert.equal(t.transfers("size").length, 3);
  });
});
