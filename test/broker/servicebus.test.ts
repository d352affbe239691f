/**
 * Microsoft's own `@azure/service-bus` SDK against the broker started in-process: every operation of
 * the Service Bus emulation (docs/azure-emulator.md) answers what a namespace answers. The SDK's own
 * reads (its annotation keys, its lock-token rendering, its management response keys) are the test.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isServiceBusError, ServiceBusClient } from "@azure/service-bus";
import { Broker } from "../../src/broker/index.js";
import { rejectionOf, until, within } from "../support/waits.js";
import { bodies, emulatorConnectionString, receiveN, seqs } from "./servicebus-sdk.js";

const TIMEOUT = { timeout: 60_000 };
/** Bounds of the SDK's own operations (its default is 60 s per try, with retries). */
const RETRY = { maxRetries: 0, timeoutInMs: 10_000 };

function code(e: unknown): string | undefined {
  return isServiceBusError(e) ? e.code : (e as { code?: string }).code;
}

describe("@azure/service-bus against the in-process broker", TIMEOUT, () => {
  let broker: Broker;
  let client: ServiceBusClient;

  before(async () => {
    broker = await Broker.start({
      serviceBus: {
        queues: {
          "short-locks": { lockDuration: 1500 },
          "two-tries": { maxDeliveryCount: 2 },
          sessions: { requiresSession: true, lockDuration: 5000 },
          "sessions-abandoned": { requiresSession: true, lockDuration: 5000 },
        },
        topics: { events: { subscriptions: { audit: {}, billing: {} } } },
      },
    });
    client = new ServiceBusClient(emulatorConnectionString(broker.port!), { retryOptions: RETRY });
  });
  after(async () => {
    await within(client.close(), "closing the SDK client");
    await broker.close();
  });

  it("stamps sequence numbers from 1 per entity, enqueued and locked-until times, delivery count and a GUID lock token", async () => {
    const before = Date.now();
    await client.createSender("stamp-a").sendMessages([{ body: "a1" }, { body: "a2" }, { body: "a3" }]);
    await client.createSender("stamp-b").sendMessages([{ body: "b1" }, { body: "b2" }]);
    const ra = client.createReceiver("stamp-a");
    const a = await receiveN(ra, 3, "stamp-a");
    const b = await receiveN(
      client.createReceiver("stamp-b", { receiveMode: "receiveAndDelete" }),
      2,
      "stamp-b",
    );
    assert.deepEqual(bodies(a), ["a1", "a2", "a3"]);
    assert.deepEqual(seqs(a), [1, 2, 3]);
    assert.deepEqual(seqs(b), [1, 2]);
    for (const m of a) {
      assert.equal(m.deliveryCount, 0);
      assert.equal(m.state, "active");
      assert.equal(Number(m.enqueuedSequenceNumber), Number(m.sequenceNumber));
      assert.ok(m.enqueuedTimeUtc && m.enqueuedTimeUtc.getTime() >= before - 5);
      assert.ok(m.enqueuedTimeUtc.getTime() <= Date.now());
      // Service Bus's default lock of 60 s.
      const lockMs = (m.lockedUntilUtc?.getTime() ?? 0) - Date.now();
      assert.ok(lockMs > 55_000 && lockMs <= 60_000, `locked for ${lockMs} ms`);
      assert.match(m.lockToken ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      // A message sent without a message-id gets one from the broker, as from Service Bus.
      assert.match(String(m.messageId), /^[0-9a-f]{32}$/);
    }
    assert.equal(new Set(a.map((m) => m.lockToken)).size, 3);
    assert.equal(b[0]!.lockToken, undefined);
    for (const m of a) await ra.completeMessage(m);
    assert.equal(broker.stats("stamp-a").messageCount, 0);
  });

  it("sends a message batch and receives it through the message iterator", async () => {
    const q = "batch";
    const sender = client.createSender(q);
    const batch = await sender.createMessageBatch();
    for (const body of ["b1", "b2", "b3"]) assert.ok(batch.tryAddMessage({ body }));
    await sender.sendMessages(batch);
    const r = client.createReceiver(q);
    const got: string[] = [];
    for await (const m of r.getMessageIterator()) {
      got.push(String(m.body));
      assert.equal(Number(m.sequenceNumber), got.length);
      await r.completeMessage(m);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, ["b1", "b2", "b3"]);
    assert.equal(broker.stats(q).messageCount, 0);
  });

  it("peek pages through every message in order without locking any, and keeps the message-id", async () => {
    const q = "peek";
    await client.createSender(q).sendMessages([1, 2, 3, 4, 5].map((i) => ({ body: `p${i}` })));
    const r = client.createReceiver(q);
    const pages = [await r.peekMessages(2), await r.peekMessages(2), await r.peekMessages(2)];
    assert.deepEqual(pages.map(bodies), [["p1", "p2"], ["p3", "p4"], ["p5"]]);
    assert.deepEqual(pages.map(seqs), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(await r.peekMessages(2), [], "past the last message");
    for (const m of pages.flat()) assert.equal(m.lockToken, undefined);
    assert.equal(broker.stats(q).lockedCount, 0);
    // Nothing was locked: a receiver gets all five, with the message-ids peek showed.
    const got = await receiveN(r, 5, "all five after peeking");
    assert.deepEqual(bodies(got), ["p1", "p2", "p3", "p4", "p5"]);
    assert.deepEqual(
      got.map((m) => m.messageId),
      pages.flat().map((m) => m.messageId),
    );
    // Locked messages are still peeked (from a given sequence number).
    const again = await r.peekMessages(10, { fromSequenceNumber: got[2]!.sequenceNumber! });
    assert.deepEqual(bodies(again), ["p3", "p4", "p5"]);
    for (const m of got) await r.completeMessage(m);
  });

  it("renewMessageLock extends lockedUntilUtc; an expired lock redelivers the message and loses the old lock", async () => {
    const q = "short-locks";
    await client.createSender(q).sendMessages({ body: "renew me" });
    const r = client.createReceiver(q, { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await receiveN(r, 1, "the message");
    const first = m!.lockedUntilUtc!.getTime();
    assert.ok(first - Date.now() <= 1500);
    await new Promise((res) => setTimeout(res, 300));
    const renewed = await r.renewMessageLock(m!);
    assert.ok(renewed.getTime() >= first + 250, `renewed to ${renewed.toISOString()}`);
    assert.equal(m!.lockedUntilUtc!.getTime(), renewed.getTime());
    // Left unrenewed, the lock expires and the message comes again with delivery count 1.
    const [again] = await receiveN(r, 1, "the redelivered message", 10_000);
    assert.equal(again!.body, "renew me");
    assert.equal(again!.deliveryCount, 1);
    assert.notEqual(again!.lockToken, m!.lockToken);
    const lost = await rejectionOf(r.completeMessage(m!), "completing with the expired lock");
    assert.equal(code(lost), "MessageLockLost");
    const lostRenew = await rejectionOf(r.renewMessageLock(m!), "renewing the expired lock");
    assert.equal(code(lostRenew), "MessageLockLost");
    await r.completeMessage(again!);
    assert.equal(broker.stats(q).messageCount, 0);
  });

  it("abandon redelivers with delivery count + 1 and the properties to modify", async () => {
    const q = "abandon";
    await client.createSender(q).sendMessages({ body: "x", applicationProperties: { kept: 1 } });
    const r = client.createReceiver(q);
    const [m] = await receiveN(r, 1, "first delivery");
    await r.abandonMessage(m!, { attempt: "first" });
    const [again] = await receiveN(r, 1, "after abandon");
    assert.equal(again!.deliveryCount, 1);
    assert.equal(Number(again!.sequenceNumber), Number(m!.sequenceNumber));
    assert.deepEqual(again!.applicationProperties, { kept: 1, attempt: "first" });
    await r.completeMessage(again!);
  });

  it("a message abandoned maxDeliveryCount times is dead-lettered with MaxDeliveryCountExceeded", async () => {
    const q = "two-tries";
    await client.createSender(q).sendMessages({ body: "doomed" });
    const r = client.createReceiver(q);
    for (let i = 0; i < 2; i++) {
      const [m] = await receiveN(r, 1, `delivery ${i + 1}`);
      await r.abandonMessage(m!);
    }
    const dlq = client.createReceiver(q, { subQueueType: "deadLetter" });
    const [d] = await receiveN(dlq, 1, "the dead letter");
    assert.equal(d!.body, "doomed");
    assert.equal(d!.deadLetterReason, "MaxDeliveryCountExceeded");
    assert.match(d!.deadLetterErrorDescription ?? "", /2 delivery attempts/);
    assert.equal(d!.deadLetterSource, q);
    await dlq.completeMessage(d!);
  });

  it("a deferred message comes back by sequence number (only then), and settles through the management node", async () => {
    const q = "defer";
    await client.createSender(q).sendMessages([{ body: "later" }, { body: "now" }]);
    const r = client.createReceiver(q);
    const [later, now] = await receiveN(r, 2, "both");
    await r.deferMessage(later!, { deferredOnce: true });
    await r.completeMessage(now!);
    assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 300 }), [], "not delivered again");
    const [peeked] = await r.peekMessages(1, { fromSequenceNumber: later!.sequenceNumber! });
    assert.equal(peeked!.state, "deferred");
    const [back] = await r.receiveDeferredMessages([later!.sequenceNumber!]);
    assert.equal(back!.body, "later");
    assert.equal(back!.state, "deferred");
    assert.equal(Number(back!.sequenceNumber), 1);
    assert.deepEqual(back!.applicationProperties, { deferredOnce: true });
    assert.ok(back!.lockedUntilUtc && back!.lockedUntilUtc.getTime() > Date.now());
    // Deferred messages are settled through `<entity>/$management` (update-disposition).
    const renewed = await r.renewMessageLock(back!);
    assert.ok(renewed.getTime() >= back!.lockedUntilUtc.getTime());
    await r.completeMessage(back!);
    const gone = await rejectionOf(
      r.receiveDeferredMessages([later!.sequenceNumber!]),
      "receiving a completed deferred message",
    );
    assert.equal(code(gone), "MessageNotFound");
    const active = await rejectionOf(
      r.receiveDeferredMessages([now!.sequenceNumber!]),
      "receiving a message that was never deferred",
    );
    assert.equal(code(active), "MessageNotFound");
    assert.equal(broker.stats(q).messageCount, 0);
  });

  it("a receiveAndDelete receiver takes deferred messages by sequence number without a lock", async () => {
    const q = "defer-delete";
    await client.createSender(q).sendMessages({ body: "kept aside" });
    const locking = client.createReceiver(q);
    const [m] = await receiveN(locking, 1, "the message");
    await locking.deferMessage(m!);
    const deleting = client.createReceiver(q, { receiveMode: "receiveAndDelete" });
    const [back] = await deleting.receiveDeferredMessages([m!.sequenceNumber!]);
    assert.equal(back!.body, "kept aside");
    assert.equal(back!.lockToken, undefined);
    const gone = await rejectionOf(
      deleting.receiveDeferredMessages([m!.sequenceNumber!]),
      "receiving it a second time",
    );
    assert.equal(code(gone), "MessageNotFound");
  });

  it("deadLetterMessage succeeds and the dead-letter queue's message carries the reason, description and source", async () => {
    const q = "dead";
    await client.createSender(q).sendMessages({ body: "poison", applicationProperties: { a: 1 } });
    const r = client.createReceiver(q);
    const [m] = await receiveN(r, 1, "the message");
    await r.deadLetterMessage(m!, {
      deadLetterReason: "bad input",
      deadLetterErrorDescription: "field x is missing",
      extra: "kept",
    });
    assert.equal(broker.stats(q).messageCount, 0);
    assert.equal(broker.stats(q).deadLetterCount, 1);
    // `<q>/$DeadLetterQueue`, in any case, is the dead-letter queue.
    assert.equal(broker.stats(`${q}/$deadLetterQueue`).messageCount, 1);
    const dlq = client.createReceiver(q, { subQueueType: "deadLetter" });
    const [peeked] = await dlq.peekMessages(1);
    assert.equal(peeked!.deadLetterReason, "bad input");
    const [d] = await receiveN(dlq, 1, "the dead letter");
    assert.equal(d!.body, "poison");
    assert.equal(d!.deadLetterReason, "bad input");
    assert.equal(d!.deadLetterErrorDescription, "field x is missing");
    assert.equal(d!.deadLetterSource, q);
    assert.deepEqual(d!.applicationProperties, {
      a: 1,
      extra: "kept",
      DeadLetterReason: "bad input",
      DeadLetterErrorDescription: "field x is missing",
    });
    await dlq.completeMessage(d!);
    assert.equal(broker.stats(q).deadLetterCount, 0);
  });

  it("a scheduled message appears at its time and a cancelled one never", async () => {
    const q = "scheduled";
    const s = client.createSender(q);
    const at = new Date(Date.now() + 1500);
    const [kept, cancelled] = await s.scheduleMessages([{ body: "on time" }, { body: "cancelled" }], at);
    // A message sent with a scheduled time on the link is scheduled as well.
    await s.sendMessages({ body: "via link", scheduledEnqueueTimeUtc: at });
    assert.deepEqual([Number(kept), Number(cancelled)], [1, 2]);
    await s.cancelScheduledMessages([cancelled!]);
    const r = client.createReceiver(q);
    const peeked = await r.peekMessages(10);
    assert.deepEqual(bodies(peeked), ["on time", "via link"]);
    assert.deepEqual(
      peeked.map((m) => m.state),
      ["scheduled", "scheduled"],
    );
    assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 300 }), [], "nothing before its time");
    const got = await receiveN(r, 2, "the scheduled messages", 10_000);
    const arrived = Date.now();
    assert.ok(arrived >= at.getTime() - 5, `arrived ${at.getTime() - arrived} ms early`);
    assert.deepEqual(bodies(got).sort(), ["on time", "via link"]);
    assert.equal(got[0]!.state, "active");
    assert.deepEqual(seqs(got), [1, 3]);
    for (const m of got) await r.completeMessage(m);
    // The cancelled message never appears.
    assert.deepEqual(await r.receiveMessages(1, { maxWaitTimeInMs: 500 }), []);
    assert.deepEqual(await r.peekMessages(10, { fromSequenceNumber: cancelled! }), []);
  });

  it("each subscription of a topic gets every message (declared up front, and created on first use)", async () => {
    const sender = client.createSender("events");
    await sender.sendMessages([{ body: "e1" }, { body: "e2" }, { body: "e3" }]);
    for (const sub of ["audit", "billing"]) {
      const r = client.createReceiver("events", sub);
      const got = await receiveN(r, 3, `subscription ${sub}`);
      assert.deepEqual(bodies(got), ["e1", "e2", "e3"]);
      assert.deepEqual(seqs(got), [1, 2, 3]);
      for (const m of got) await r.completeMessage(m);
    }
    // A topic nobody declared: its subscriptions are created when their receivers attach.
    const one = client.createReceiver("news", "one");
    const two = client.createReceiver("news", "two");
    await Promise.all([one.peekMessages(1), two.peekMessages(1)]);
    await client.createSender("news").sendMessages([{ body: "n1" }, { body: "n2" }]);
    assert.deepEqual(bodies(await receiveN(one, 2, "news/one")), ["n1", "n2"]);
    assert.deepEqual(bodies(await receiveN(two, 2, "news/two")), ["n1", "n2"]);
    assert.equal(broker.stats("news/Subscriptions/one").lockedCount, 2);
  });

  it("a session receiver gets only its session and its state; acceptNextSession picks a free one", async () => {
    const q = "sessions";
    await client.createSender(q).sendMessages([
      { body: "s1-a", sessionId: "s1" },
      { body: "s2-a", sessionId: "s2" },
      { body: "s1-b", sessionId: "s1" },
      { body: "s3-a", sessionId: "s3" },
    ]);
    // A receiver without a session cannot read a session queue.
    const plain = await rejectionOf(
      client.createReceiver(q).receiveMessages(1, { maxWaitTimeInMs: 1000 }),
      "a plain receiver on a session queue",
    );
    assert.match((plain as Error).message, /requires sessions/);
    const s1 = await client.acceptSession(q, "s1");
    assert.equal(s1.sessionId, "s1");
    const lock = s1.sessionLockedUntilUtc.getTime() - Date.now();
    assert.ok(lock > 3000 && lock <= 5000, `session locked for ${lock} ms`);
    const got1 = await receiveN(s1, 2, "session s1");
    assert.deepEqual(bodies(got1), ["s1-a", "s1-b"]);
    assert.deepEqual(await s1.receiveMessages(1, { maxWaitTimeInMs: 300 }), [], "nothing of other sessions");
    await s1.setSessionState("step 2");
    assert.equal(await s1.getSessionState(), "step 2");
    for (const m of got1) await s1.completeMessage(m);
    // s1 is held: the next available session is s2 (its first message came next), then s3.
    const next = await client.acceptNextSession(q);
    assert.equal(next.sessionId, "s2");
    assert.deepEqual(bodies(await receiveN(next, 1, "session s2")), ["s2-a"]);
    const third = await client.acceptNextSession(q);
    assert.equal(third.sessionId, "s3");
    // A held session cannot be accepted again.
    const held = await rejectionOf(client.acceptSession(q, "s1"), "accepting a held session");
    assert.equal(code(held), "SessionCannotBeLocked");
    // Renewing the session lock extends it.
    const before = s1.sessionLockedUntilUtc.getTime();
    await new Promise((res) => setTimeout(res, 50));
    await s1.renewSessionLock();
    assert.ok(s1.sessionLockedUntilUtc.getTime() > before);
    // Session state outlives the receiver.
    await s1.close();
    const s1again = await client.acceptSession(q, "s1");
    assert.equal(await s1again.getSessionState(), "step 2");
    await s1again.setSessionState(null);
    await Promise.all([s1again.close(), next.close(), third.close()]);
  });

  it("a session receiver never gets another session's abandoned message waiting for redelivery", async () => {
    const q = "sessions-abandoned";
    await client.createSender(q).sendMessages([
      { body: "s1-a", sessionId: "s1" },
      { body: "s2-a", sessionId: "s2" },
    ]);
    const s1 = await client.acceptSession(q, "s1");
    const [m1] = await receiveN(s1, 1, "session s1");
    // Back in the queue ahead of s2-a, for s1 only.
    await s1.abandonMessage(m1!);
    const s2 = await client.acceptSession(q, "s2");
    const got2 = await receiveN(s2, 1, "session s2");
    assert.deepEqual(bodies(got2), ["s2-a"]);
    assert.equal(got2[0]!.sessionId, "s2");
    const again = await receiveN(s1, 1, "s1-a again");
    assert.deepEqual(bodies(again), ["s1-a"]);
    await Promise.all([s1.completeMessage(again[0]!), s2.completeMessage(got2[0]!)]);
    await Promise.all([s1.close(), s2.close()]);
  });

  it("acceptNextSession with no free session fails with ServiceTimeout within the client's timeout", async () => {
    const short = new ServiceBusClient(emulatorConnectionString(broker.port!), {
      retryOptions: { maxRetries: 0, timeoutInMs: 1500 },
    });
    try {
      const t0 = Date.now();
      const e = await rejectionOf(
        short.acceptNextSession("no-sessions"),
        "acceptNextSession on an empty queue",
      );
      assert.equal(code(e), "ServiceTimeout");
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    } finally {
      await within(short.close(), "closing the second client");
    }
  });

  it("acceptNextSession waits for a session that appears while it waits", async () => {
    const q = "late-session";
    const waiting = client.acceptNextSession(q);
    await new Promise((res) => setTimeout(res, 200));
    await client.createSender(q).sendMessages({ body: "hello", sessionId: "late" });
    const r = await within(waiting, "acceptNextSession");
    assert.equal(r.sessionId, "late");
    assert.deepEqual(bodies(await receiveN(r, 1, "the late session")), ["hello"]);
    await r.close();
  });

  it("subscribe() with defaults receives, renews locks and completes", async () => {
    const q = "subscribe";
    await client.createSender(q).sendMessages([{ body: "one" }, { body: "two" }]);
    const r = client.createReceiver(q);
    const got: string[] = [];
    const errors: unknown[] = [];
    const sub = r.subscribe({
      processMessage: async (m) => {
        got.push(String(m.body));
        await Promise.resolve();
      },
      processError: async (args) => {
        errors.push(args.error);
        await Promise.resolve();
      },
    });
    await until(() => got.length === 2 && broker.stats(q).messageCount === 0, "both processed and completed");
    await sub.close();
    assert.deepEqual(got, ["one", "two"]);
    assert.deepEqual(errors, []);
  });

  it("an operation the broker does not implement is answered 501 at once (no time-out)", async () => {
    const rules = client.createRuleManager("events", "audit");
    const t0 = Date.now();
    const e = await rejectionOf(rules.listRules().next(), "listing rules");
    assert.ok(Date.now() - t0 < 5000);
    assert.match((e as Error).message, /not implemented/i);
  });
});
