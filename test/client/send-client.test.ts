import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SendClient } from "../../src/client/send-client.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { sendMessage } from "../../src/client/helpers.js";
import { SenderSettleMode } from "../../src/client/link-states.js";
import {
  ClientMessageError,
  ClientTimeout,
  LinkDetach,
  MessageAlreadySettled,
  MessageContentTooLarge,
  MessageException,
  MessageSendFailed,
} from "../../src/errors/exceptions.js";
import type { AMQPError } from "../../src/errors/amqp-error.js";
import { BatchMessage } from "../../src/message/batch.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { BATCH_MESSAGE_FORMAT } from "../../src/message/constants.js";
import { ErrorPolicy } from "../../src/policy/error-policy.js";
import { gather } from "../support/waits.js";
import { startBroker, until, type TestBroker } from "./support.js";

describe("SendClient", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker({
      queues: { splitBatches: true },
      hooks: {
        "not-found": {
          onDelivery: { outcome: "reject", condition: "amqp:not-found", description: "no such" },
        },
        internal: { onDelivery: { outcome: "reject", condition: "amqp:internal-error" } },
        busy: { onDelivery: { outcome: "reject", condition: "com.microsoft:server-busy" } },
        silent: { neverSettle: true },
        "silent-2": { neverSettle: true },
        "silent-3": { neverSettle: true },
        "silent-4": { neverSettle: true },
        forbidden: { refuseAttach: { condition: "amqp:unauthorized-access", description: "no" } },
      },
    });
  });
  after(async () => {
    await t.broker.close();
  });

  it("sendMessage(target, 'Hello world') resolves [SendComplete]", async () => {
    const states = await sendMessage(t.url("s1"), "Hello world");
    assert.deepEqual(states, [MessageState.SendComplete]);
    assert.equal(t.broker.stats("s1").messageCount, 1);
  });

  it("a message is sent as it is when transferred: changed after queueing, before the client opened, it goes out changed", async () => {
    const client = new SendClient(t.url("changed"));
    const early = new Message({ body: "a", properties: { subject: "queued" } });
    client.queueMessage(early);
    early.properties!.subject = "changed";
    await client.open();
    // On an open client with credit a message is transferred within queueMessage, as it is then.
    const late = new Message({ body: "b", properties: { subject: "queued" } });
    client.queueMessage(late);
    late.properties!.subject = "changed too late";
    await client.sendAllMessages();
    assert.deepEqual([early.state, late.state], [MessageState.SendComplete, MessageState.SendComplete]);
    assert.deepEqual(
      t.transfers("changed").map((e) => Message.decode(e.payload).properties?.subject),
      ["changed", "queued"],
    );
  });

  it("queues 10, sendAllMessages resolves 10 × SendComplete, then nothing is pending and the client is closed", async () => {
    const client = new SendClient(t.url("s2"));
    const messages = Array.from({ length: 10 }, (_, i) => new Message({ body: `m${i}` }));
    client.queueMessage(...messages);
    assert.equal(client.pendingMessages.length, 10);
    assert.equal(client.hasPendingMessages, true);
    assert.ok(messages.every((m) => m.state === MessageState.WaitingToBeSent));
    const states = await client.sendAllMessages();
    assert.deepEqual(states, Array(10).fill(MessageState.SendComplete));
    assert.equal(client.pendingMessages.length, 0);
    assert.equal(client.hasPendingMessages, false);
    assert.equal(client.state, "closed");
    assert.equal(t.broker.stats("s2").messageCount, 10);
  });

  it("sendAllMessages waits for what was queued before the call, not for messages queued meanwhile", async () => {
    await using client = new SendClient(t.url("s-upto"), { maxInFlight: 1 });
    await client.open();
    const before = [new Message({ body: "a" }), new Message({ body: "b" })];
    client.queueMessage(...before);
    const all = client.sendAllMessages({ closeOnDone: false, signal: AbortSignal.timeout(10_000) });
    // Queued after the call, and behind the others (one in flight at a time).
    const later = new Message({ body: "c" });
    client.queueMessage(later);
    assert.deepEqual(await all, [MessageState.SendComplete, MessageState.SendComplete]);
    assert.equal(later.state, MessageState.WaitingForSendAck, "resolved before the later message's outcome");
    await client.wait({ signal: AbortSignal.timeout(10_000) });
    assert.equal(later.state, MessageState.SendComplete);
  });

  it("closeOnDone:false leaves the client open for a second queue+send on the same link", async () => {
    const client = new SendClient(t.url("s3"));
    client.queueMessage(new Message({ body: "a" }));
    await client.sendAllMessages({ closeOnDone: false });
    assert.equal(client.state, "open");
    const link = client.messageHandler;
    client.queueMessage(new Message({ body: "b" }));
    assert.deepEqual(await client.sendAllMessages({ closeOnDone: false }), [MessageState.SendComplete]);
    assert.equal(client.messageHandler, link);
    await client.close();
    assert.equal(t.broker.stats("s3").messageCount, 2);
  });

  it("10 sendMessage calls reuse one connection and one link", async () => {
    await using client = new SendClient(t.url("s4"));
    for (let i = 0; i < 10; i++) await client.sendMessage(new Message({ body: `m${i}` }));
    assert.equal(t.broker.connectionCount, 1);
    assert.equal(t.attaches("s4", "sender"), 1);
    assert.equal(t.broker.stats("s4").messageCount, 10);
  });

  it("amqp:not-found: SendFailed after exactly 1 transfer, onSendComplete once, ClientMessageError numberFailed 1", async () => {
    await using client = new SendClient(t.url("not-found"));
    const calls: [MessageSendResult, AMQPError | undefined][] = [];
    const m = new Message({ body: "x" });
    m.onSendComplete = (result, error) => calls.push([result, error]);
    const err = await client.sendMessage(m).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ClientMessageError);
    assert.equal(err.numberFailed, 1);
    assert.equal(err.totalMessages, 1);
    assert.equal(err.condition, "amqp:not-found");
    assert.ok(err.failedMessages?.has(m));
    assert.equal(m.state, MessageState.SendFailed);
    assert.equal(t.transfers("not-found").length, 1);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![0], MessageSendResult.Error);
    assert.ok(calls[0]![1] instanceof MessageSendFailed);
    assert.equal(calls[0]![1].condition, "amqp:not-found");
  });

  it("amqp:internal-error every time: 4 transfers, retries 3, SendFailed, onSendComplete once", async () => {
    let calls = 0;
    const m = new Message({ body: "x" });
    m.onSendComplete = () => calls++;
    const client = new SendClient(t.url("internal"));
    client.queueMessage(m);
    assert.deepEqual(await client.sendAllMessages(), [MessageState.SendFailed]);
    assert.equal(t.transfers("internal").length, 4);
    assert.equal(m.retries, 3);
    assert.equal(calls, 1);
    assert.equal(m.sendError?.condition, "amqp:internal-error");
  });

  it("maxRetries 0 with a retryable rejection: exactly 1 transfer", async () => {
    const before = t.transfers("internal").length;
    const states = await sendMessage(t.url("internal"), "x", {
      errorPolicy: new ErrorPolicy({ maxRetries: 0 }),
    });
    assert.deepEqual(states, [MessageState.SendFailed]);
    assert.equal(t.transfers("internal").length - before, 1);
  });

  it("a vendor condition goes to onError; its backoff delays the next attempt by a timer", async () => {
    const seen: AMQPError[] = [];
    const policy = new ErrorPolicy({
      maxRetries: 1,
      onError: (e) => {
        seen.push(e);
        return { retry: true, backoffMs: 400 };
      },
    });
    const client = new SendClient(t.url("busy"), { errorPolicy: policy });
    const m = new Message({ body: "x" });
    client.queueMessage(m);
    // Sending is not blocked by the backoff: another client sends meanwhile.
    const other = sendMessage(t.url("s8-other"), "y");
    const states = await client.sendAllMessages();
    assert.deepEqual(await other, [MessageState.SendComplete]);
    assert.deepEqual(states, [MessageState.SendFailed]);
    const transfers = t.transfers("busy");
    assert.equal(transfers.length, 2);
    assert.ok(transfers[1]!.at - transfers[0]!.at >= 400, "the retry waited for the backoff");
    assert.ok(seen[0] instanceof MessageException);
    assert.equal(seen[0].condition, "com.microsoft:server-busy");
    assert.equal(m.retries, 1);
    assert.ok(m.sendError instanceof MessageException);
    assert.equal(m.sendError.action?.backoffMs, 400);
  });

  it("msgTimeout with a broker that never settles: ClientMessageError wrapping a timeout, SendFailed, no retry", async () => {
    await using client = new SendClient(t.url("silent"), { msgTimeout: 300 });
    const m = new Message({ body: "x" });
    const start = Date.now();
    const err = await client.sendMessage(m).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(Date.now() - start >= 300);
    assert.ok(err instanceof ClientMessageError);
    assert.ok(err.cause instanceof ClientTimeout);
    assert.equal(m.state, MessageState.SendFailed);
    assert.equal(m.retries, 0);
    assert.equal(t.transfers("silent").length, 1);
  });

  it("sends are pipelined: many transfers are in flight before any outcome", async () => {
    await using client = new SendClient(t.url("silent-2"), { msgTimeout: 500, maxInFlight: 100 });
    const messages = Array.from({ length: 150 }, (_, i) => new Message({ body: `m${i}` }));
    client.queueMessage(...messages);
    const states = await client.sendAllMessages({ closeOnDone: false });
    // The broker never settled anything, yet it received a window of 100 transfers at once.
    assert.equal(t.transfers("silent-2").length, 100);
    assert.ok(states.every((s) => s === MessageState.SendFailed));
    assert.ok(messages.every((m) => m.sendError instanceof ClientTimeout));
  });

  it("sendSettleMode Settled: SendComplete without any disposition", async () => {
    const states = await sendMessage(t.url("silent-3"), "x", { sendSettleMode: SenderSettleMode.Settled });
    assert.deepEqual(states, [MessageState.SendComplete]);
    const [transfer] = t.transfers("silent-3");
    assert.equal(transfer?.settled, true);
  });

  it("re-queueing a completed message throws MessageAlreadySettled; a failed one re-throws its error", async () => {
    await using client = new SendClient(t.url("s12"));
    const m = new Message({ body: "x" });
    await client.sendMessage(m);
    assert.equal(m.state, MessageState.SendComplete);
    assert.throws(() => {
      client.queueMessage(m);
    }, MessageAlreadySettled);
    const bad = new Message({ body: "y" });
    await sendMessage(t.url("not-found"), bad);
    assert.throws(() => {
      client.queueMessage(bad);
    }, MessageSendFailed);
  });

  it("link detach-forced during a send surfaces retryable; unauthorized-access is not retryable", async () => {
    await using client = new SendClient(t.url("silent-4"), { reconnect: false });
    const pending = client.sendMessage(new Message({ body: "x" }));
    await until(() => t.transfers("silent-4").length === 1, "the transfer");
    t.broker.detachLinks("silent-4", { condition: "amqp:link:detach-forced", description: "idle" });
    const err = await pending.then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LinkDetach);
    assert.equal(err.condition, "amqp:link:detach-forced");
    assert.equal(err.retryable, true);
    assert.equal(client.state, "failed");

    const refused = new SendClient(t.url("forbidden"));
    const e2 = await refused.sendMessage(new Message({ body: "x" })).then(
      () => assert.fail("should reject"),
      (e: unknown) => e,
    );
    assert.ok(e2 instanceof LinkDetach);
    assert.equal(e2.condition, "amqp:unauthorized-access");
    assert.equal(e2.retryable, false);
    await refused.close();
  });

  it("a BatchMessage of 50 strings is one transfer of format 0x80013700 with 50 Data sections", async () => {
    const batch = new BatchMessage(Array.from({ length: 50 }, (_, i) => `item ${i}`));
    const states = await sendMessage(t.url("hub/Partitions/0"), batch);
    assert.deepEqual(states, [MessageState.SendComplete]);
    const transfers = t.transfers("hub/Partitions/0");
    assert.equal(transfers.length, 1);
    assert.equal(transfers[0]!.messageFormat, BATCH_MESSAGE_FORMAT);
    const envelope = Message.decode(transfers[0]!.payload);
    assert.equal(envelope.data?.length, 50);
    const seventh = envelope.data.at(7);
    assert.ok(seventh);
    assert.equal(Message.decode(seventh).toString(), "item 7");
    // The broker splits the batch: each item arrives as a message of its own.
    await using rc = new ReceiveClient(t.url("hub/Partitions/0"), { prefetch: 50, timeout: 2000 });
    const got: string[] = [];
    while (got.length < 50) {
      const b = await rc.receiveMessageBatch({ maxBatchSize: 50 });
      assert.ok(b.length > 0);
      got.push(...b.map((m) => m.toString()));
    }
    assert.deepEqual(
      got,
      Array.from({ length: 50 }, (_, i) => `item ${i}`),
    );
  });

  it("multiMessages batches go out as several envelopes, every item arrives in order", async () => {
    const items = Array.from({ length: 100 }, (_, i) =>
      i % 10 === 0 ? new Message({ body: `item ${i}`, applicationProperties: { own: i } }) : `item ${i}`,
    );
    const batch = new BatchMessage(items, {
      multiMessages: true,
      maxMessageLength: 1000,
      applicationProperties: { batch: "yes" },
    });
    const states = await sendMessage(t.url("multi"), batch);
    assert.ok(states.length > 1);
    assert.ok(states.every((s) => s === MessageState.SendComplete));
    assert.equal(t.transfers("multi").length, states.length);
    assert.ok(t.transfers("multi").every((e) => e.payload.length <= 1000));
    await using rc = new ReceiveClient(t.url("multi"), { prefetch: 100 });
    const got = await gather(100, () => rc.receiveMessageBatch({ timeout: 2000 }), "100 items");
    assert.deepEqual(
      got.map((m) => m.toString()),
      items.map((_, i) => `item ${i}`),
    );
    assert.deepEqual(got[10]!.applicationProperties, { own: 10 });
    assert.deepEqual(got[11]!.applicationProperties, { batch: "yes" });
  });

  it("a batch over 1 MiB without multiMessages throws MessageContentTooLarge at queueMessage", async () => {
    await using client = new SendClient(t.url("s15"));
    const big = new BatchMessage(Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 1)));
    assert.throws(() => {
      client.queueMessage(big);
    }, MessageContentTooLarge);
    assert.equal(client.hasPendingMessages, false);
  });

  it("queueMessage on a closed client throws; close() cancels what is still queued", async () => {
    const client = new SendClient(t.url("s-close"));
    const m = new Message({ body: "x" });
    client.queueMessage(m);
    await client.close();
    assert.equal(m.state, MessageState.SendFailed);
    assert.equal(m.sendError?.code, "AMQP_CLIENT_SHUTDOWN");
    assert.throws(() => {
      client.queueMessage(new Message({ body: "y" }));
    }, /closed/);
    await assert.rejects(client.sendAllMessages(), { code: "AMQP_CLIENT_SHUTDOWN" });
  });

  it("wait() sends what is queued and an aborted sendMessage cancels its unsent message", async () => {
    await using client = new SendClient(t.url("s-wait"));
    client.queueMessage(new Message({ body: "a" }), new Message({ body: "b" }));
    assert.equal(await client.wait(), true);
    assert.equal(client.hasPendingMessages, false);
    assert.equal(t.broker.stats("s-wait").messageCount, 2);
    const fresh = new SendClient(t.url("s-wait"));
    const ac = new AbortController();
    ac.abort();
    const m = new Message({ body: "c" });
    await assert.rejects(fresh.sendMessage(m, { signal: ac.signal }), { name: "AbortError" });
    assert.equal(m.state, MessageState.SendFailed);
    assert.equal(fresh.state, "idle");
    await fresh.close();
    assert.equal(t.broker.stats("s-wait").messageCount, 2);
  });
});
