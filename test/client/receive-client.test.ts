import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { receiveMessage, receiveMessages, sendMessage } from "../../src/client/helpers.js";
import { ReceiverSettleMode } from "../../src/client/link-states.js";
import { AMQPClientShutdown } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import type { DeliveryState } from "../../src/codec/definitions/messaging.js";
import { gather } from "../support/waits.js";
import { startBroker, until, type TestBroker } from "./support.js";

/** `state`, asserted to be of `type`. */
function outcome<T extends DeliveryState["type"]>(
  state: DeliveryState | undefined,
  type: T,
): Extract<DeliveryState, { type: T }> {
  assert.equal(state?.type, type);
  return state as Extract<DeliveryState, { type: T }>;
}

describe("ReceiveClient", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker();
  });
  after(async () => {
    await t.broker.close();
  });

  async function fill(queue: string, n: number, prefix = "m"): Promise<void> {
    const c = new SendClient(t.url(queue));
    for (let i = 0; i < n; i++) c.queueMessage(new Message({ body: `${prefix}${i}` }));
    const states = await c.sendAllMessages();
    assert.ok(states.every((s) => s === MessageState.SendComplete));
  }

  it("receiveMessage returns the message sent; undefined on an empty source after the timeout", async () => {
    await sendMessage(t.url("r19"), "hello");
    const m = await receiveMessage(t.url("r19"), { timeout: 5000 });
    assert.equal(m?.toString(), "hello");
    assert.equal(m.settled, true);
    const start = Date.now();
    assert.equal(await receiveMessage(t.url("r19"), { timeout: 300 }), undefined);
    assert.ok(Date.now() - start >= 300);
    await until(() => t.broker.stats("r19").messageCount === 0, "the accept");
  });

  it("maxBatchSize above prefetch is a RangeError", async () => {
    await using client = new ReceiveClient(t.url("r20"), { prefetch: 50 });
    await assert.rejects(client.receiveMessageBatch({ maxBatchSize: 100 }), RangeError);
    assert.equal(client.state, "idle");
  });

  it("with 3 messages available and maxBatchSize 10 the batch resolves with the 3", async () => {
    await fill("r21", 3);
    await using client = new ReceiveClient(t.url("r21"));
    const batch = await client.receiveMessageBatch({ maxBatchSize: 10 });
    assert.deepEqual(
      batch.map((m) => m.toString()),
      ["m0", "m1", "m2"],
    );
  });

  it("a batch with a timeout on an empty source resolves [] after the timeout", async () => {
    await using client = new ReceiveClient(t.url("r22"));
    const start = Date.now();
    assert.deepEqual(await client.receiveMessageBatch({ timeout: 300 }), []);
    assert.ok(Date.now() - start >= 300);
    assert.equal(client.state, "open");
  });

  it("inactivity timeout without shutdown: [] then 1 then [] then 1 on the same receiver", async () => {
    await using client = new ReceiveClient(t.url("r23"), { timeout: 300, shutdownAfterTimeout: false });
    const start = Date.now();
    assert.deepEqual(await client.receiveMessageBatch(), []);
    assert.ok(Date.now() - start >= 300);
    const receiver = client.receiver;
    assert.ok(receiver);
    await sendMessage(t.url("r23"), "one");
    assert.deepEqual(
      (await client.receiveMessageBatch()).map((m) => m.toString()),
      ["one"],
    );
    assert.deepEqual(await client.receiveMessageBatch(), []);
    await sendMessage(t.url("r23"), "two");
    assert.deepEqual(
      (await client.receiveMessageBatch()).map((m) => m.toString()),
      ["two"],
    );
    assert.equal(client.receiver, receiver);
    assert.equal(client.state, "open");
  });

  it("inactivity timeout with shutdown: [] and the client is closed; later receives reject", async () => {
    const client = new ReceiveClient(t.url("r24"), { timeout: 300 });
    assert.deepEqual(await client.receiveMessageBatch(), []);
    assert.equal(client.state, "closed");
    await assert.rejects(client.receiveMessageBatch(), AMQPClientShutdown);
    await assert.rejects(
      client.receiveMessages(() => undefined),
      AMQPClientShutdown,
    );
    await assert.rejects(async () => {
      for await (const _ of client) assert.fail("no message expected");
    }, AMQPClientShutdown);
  });

  it("credit follows consumption: the buffer never exceeds prefetch (bounded buffer)", async () => {
    await fill("r25", 20);
    await using client = new ReceiveClient(t.url("r25"), { prefetch: 5 });
    const first = await client.receiveMessageBatch({ maxBatchSize: 1 });
    assert.equal(first.length, 1);
    await until(() => client.bufferedCount === 4, "the prefetched messages");
    // Nothing more arrives while the application does not consume.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(client.bufferedCount, 4);
    assert.equal(client.receiver?.credit, 0);
    assert.equal(t.broker.stats("r25").lockedCount, 4);
    const rest: string[] = [];
    while (rest.length < 19) {
      const b = await client.receiveMessageBatch({ maxBatchSize: 5, timeout: 2000 });
      assert.ok(b.length > 0);
      assert.ok(client.bufferedCount + client.receiver.credit <= 5);
      rest.push(...b.map((m) => m.toString()));
    }
    assert.deepEqual(
      rest,
      Array.from({ length: 19 }, (_, i) => `m${i + 1}`),
    );
  });

  it("prefetch 1, then resetLinkCredit(200): 200 messages are delivered", async () => {
    await fill("r26", 200);
    await using client = new ReceiveClient(t.url("r26"), { prefetch: 1 });
    await client.open();
    await until(() => client.bufferedCount === 1, "the prefetched message");
    client.receiver!.resetLinkCredit(200);
    await until(() => client.bufferedCount === 200, "200 messages", 5000);
    let n = 0;
    for await (const _ of client) if (++n === 200) break;
    await until(() => t.broker.stats("r26").messageCount === 0, "every accept");
  });

  it("autoComplete: a returned batch is already accepted", async () => {
    await fill("r27", 3);
    await using client = new ReceiveClient(t.url("r27"));
    const batch = await client.receiveMessageBatch();
    assert.equal(batch.length, 3);
    assert.ok(batch.every((m) => m.settled && m.state === MessageState.ReceivedSettled));
    await until(() => t.outcomes("r27").length === 3, "3 outcomes");
    assert.ok(t.outcomes("r27").every((o) => o.state?.type === "accepted"));
    assert.equal(t.broker.stats("r27").messageCount, 0);
  });

  it("autoComplete false, PeekLock: release() redelivers the same body; true first, false then", async () => {
    await sendMessage(t.url("r28"), "again");
    await using client = new ReceiveClient(t.url("r28"), { autoComplete: false });
    const [m] = await client.receiveMessageBatch({ maxBatchSize: 1 });
    assert.ok(m);
    assert.equal(m.state, MessageState.ReceivedUnsettled);
    assert.equal(await m.release(), true);
    assert.equal(await m.release(), false);
    const [again] = await client.receiveMessageBatch({ maxBatchSize: 1 });
    assert.equal(again?.toString(), "again");
    assert.equal(await again.accept(), true);
    await until(() => t.broker.stats("r28").messageCount === 0, "the accept");
  });

  it("reject() with and without an error", async () => {
    await fill("r29", 2);
    await using client = new ReceiveClient(t.url("r29"), { autoComplete: false });
    const batch = await gather(2, () => client.receiveMessageBatch(), "2 messages");
    assert.equal(await batch[0]!.reject({ condition: "x:bad", description: "why", info: { k: "v" } }), true);
    assert.equal(await batch[1]!.reject(), true);
    await until(() => t.outcomes("r29").length === 2, "2 outcomes");
    const [o1, o2] = t.outcomes("r29").map((o) => outcome(o.state, "rejected"));
    const e1 = o1!.error!;
    assert.deepEqual([e1.condition, e1.description, e1.info], ["x:bad", "why", { k: "v" }]);
    assert.equal(o2!.error!.condition, "amqp:internal-error");
  });

  it("modify() sends exactly the given flags", async () => {
    await sendMessage(t.url("r30"), "x");
    await using client = new ReceiveClient(t.url("r30"), { autoComplete: false });
    const [m] = await client.receiveMessageBatch();
    assert.equal(await m!.modify({ deliveryFailed: true, undeliverableHere: false }), true);
    await until(() => t.outcomes("r30").length === 1, "the outcome");
    const state = outcome(t.outcomes("r30")[0]!.state, "modified");
    assert.equal(state.deliveryFailed, true);
    assert.equal(state.undeliverableHere ?? false, false);
  });

  it("ReceiveAndDelete: messages arrive settled and accept() resolves false", async () => {
    await fill("r31", 2);
    await using client = new ReceiveClient(t.url("r31"), {
      receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete,
    });
    const batch = await gather(2, () => client.receiveMessageBatch(), "2 messages");
    assert.ok(batch.every((m) => m.state === MessageState.ReceivedSettled));
    assert.equal(await batch[0]!.accept(), false);
    assert.equal(t.broker.stats("r31").messageCount, 0);
  });

  it("accept() on a locally created message throws TypeError", () => {
    assert.throws(() => void new Message({ body: "x" }).accept(), TypeError);
  });

  it("a handler that throws leaves its message modified(failed, undeliverable); the loop goes on", async () => {
    await fill("r33", 3);
    await using client = new ReceiveClient(t.url("r33"), { timeout: 300 });
    const seen: string[] = [];
    await client.receiveMessages(async (m) => {
      seen.push(m.toString());
      await Promise.resolve();
      if (m.toString() === "m1") throw new Error("boom");
    });
    assert.deepEqual(seen, ["m0", "m1", "m2"]);
    await until(() => t.outcomes("r33").length === 3, "3 outcomes");
    const states = t.outcomes("r33").map((o) => o.state);
    assert.equal(states[0]?.type, "accepted");
    const failed = outcome(states[1], "modified");
    assert.equal(failed.deliveryFailed, true);
    assert.equal(failed.undeliverableHere, true);
    assert.equal(states[2]?.type, "accepted");
    assert.equal(client.state, "closed", "shutdownAfterTimeout closed the client");
  });

  it("for await with break after 10; the next loop continues with message 11; message 10 was accepted", async () => {
    await fill("r34", 15);
    await using client = new ReceiveClient(t.url("r34"), { timeout: 500 });
    const first: Message[] = [];
    for await (const m of client) {
      first.push(m);
      if (first.length === 10) break;
    }
    assert.equal(first[9]!.toString(), "m9");
    assert.ok(first.every((m) => m.settled));
    const second: string[] = [];
    for await (const m of client.receiveMessagesIter()) {
      second.push(m.toString());
      if (second.length === 5) break;
    }
    assert.deepEqual(second, ["m10", "m11", "m12", "m13", "m14"]);
    await until(() => t.broker.stats("r34").messageCount === 0, "every accept");
    assert.equal(t.outcomes("r34").length, 15);
  });

  it("the iterator keeps an async generator's contract: calls in order, return() and throw() accept the last message", async () => {
    await fill("r-iter", 6);
    await using client = new ReceiveClient(t.url("r-iter"), { timeout: 500 });
    const it = client.receiveMessagesIter();
    // Nothing runs before the first next(): the client is not opened by the call itself.
    assert.equal(client.state, "idle");
    // Calls made together are served in order, each with its own message.
    const [a, b, c] = await Promise.all([it.next(), it.next(), it.next()]);
    assert.deepEqual(
      [a, b, c].map((r) => (r.done === true ? "done" : r.value.toString())),
      ["m0", "m1", "m2"],
    );
    // Asking for the next message let go of the ones before it (autoComplete); m2 is still held.
    assert.equal(a.done === false && a.value.settled, true);
    assert.equal(b.done === false && b.value.settled, true);
    const m2 = c.done === false ? c.value : assert.fail("m2");
    assert.equal(m2.state, MessageState.ReceivedUnsettled);
    // return() is a generator's finally: the message given last is accepted, the iterator is done.
    assert.deepEqual(await it.return(), { done: true, value: undefined });
    assert.equal(m2.state, MessageState.ReceivedSettled);
    assert.deepEqual(await it.next(), { done: true, value: undefined });

    // throw() likewise accepts the message given last, then rejects with what it was given.
    const it2 = client.receiveMessagesIter();
    const m3 = await it2.next();
    assert.equal(m3.done === false && m3.value.toString(), "m3");
    const boom = new Error("boom");
    await assert.rejects(it2.throw(boom), (e) => e === boom);
    assert.equal(m3.done === false && m3.value.settled, true);
    assert.deepEqual(await it2.next(), { done: true, value: undefined });

    // return() before the first next() ends it without receiving; `await using` disposes with return().
    const it3 = client.receiveMessagesIter();
    assert.deepEqual(await it3.return(), { done: true, value: undefined });
    assert.deepEqual(await it3.next(), { done: true, value: undefined });
    {
      await using it4 = client.receiveMessagesIter();
      const m4 = await it4.next();
      assert.equal(m4.done === false && m4.value.toString(), "m4");
    }
    await until(() => t.broker.stats("r-iter").messageCount === 1, "m0 to m4 accepted");
    assert.deepEqual(
      t.outcomes("r-iter").map((o) => o.state?.type),
      ["accepted", "accepted", "accepted", "accepted", "accepted"],
    );
  });

  it("the iterator ends by itself after the inactivity timeout and the client is closed", async () => {
    await fill("r35", 2);
    const client = new ReceiveClient(t.url("r35"), { timeout: 300 });
    const got: string[] = [];
    const start = Date.now();
    for await (const m of client) got.push(m.toString());
    assert.ok(Date.now() - start >= 300);
    assert.deepEqual(got, ["m0", "m1"]);
    assert.equal(client.state, "closed");
  });

  it("receiveMessages (module helper) uses maxBatchSize as prefetch and returns accepted messages", async () => {
    await fill("r-helper", 4);
    const batch = await receiveMessages(t.url("r-helper"), { maxBatchSize: 2, timeout: 2000 });
    assert.equal(batch.length, 2);
    await until(() => t.broker.stats("r-helper").messageCount === 2, "two accepted, two released");
    assert.equal(t.broker.stats("r-helper").lockedCount, 0);
  });

  it("an aborted receive rejects with AbortError and the client stays usable", async () => {
    await using client = new ReceiveClient(t.url("r-abort"));
    const ac = new AbortController();
    const pending = client.receiveMessageBatch({ signal: ac.signal });
    setTimeout(() => {
      ac.abort();
    }, 50);
    await assert.rejects(pending, { name: "AbortError" });
    await sendMessage(t.url("r-abort"), "x");
    assert.equal((await client.receiveMessageBatch())[0]?.toString(), "x");
  });

  it("close() ends a pending batch with [] and a running iterator", async () => {
    const client = new ReceiveClient(t.url("r-close"));
    const batch = client.receiveMessageBatch();
    const loop = (async () => {
      for await (const _ of client) assert.fail("no message expected");
      return "ended";
    })();
    await until(() => client.state === "open", "open");
    await client.close();
    assert.deepEqual(await batch, []);
    assert.equal(await loop, "ended");
  });
});
