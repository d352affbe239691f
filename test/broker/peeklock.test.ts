import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type rhea from "rhea";
import {
  collect,
  connect,
  openReceiver,
  openSender,
  quiet,
  sendAll,
  until,
  brokerFixture,
} from "./rhea-client.js";

type Ctx = rhea.EventContext;

describe("broker: PeekLock, redelivery and dead-lettering", () => {
  const { setup } = brokerFixture();
  const peekLock = (c: rhea.Connection, address: string, credit = 1): Promise<rhea.Receiver> =>
    openReceiver(c, { source: address, credit_window: 0, autoaccept: false }).then((r) => {
      r.add_credit(credit);
      return r;
    });
  const next = async (r: rhea.Receiver): Promise<Ctx> => (await collect(r, 1))[0]!;

  it("keeps a delivery locked until settled; released → redelivered first with delivery-count unchanged", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "rel"), [{ body: "m0" }, { body: "m1" }]);
    const r = await openReceiver(c, { source: "rel", credit_window: 0, autoaccept: false });
    const first = collect(r, 1);
    r.add_credit(1);
    const m0 = (await first)[0]!;
    assert.equal(m0.message?.body, "m0");
    assert.equal(b.stats("rel").lockedCount, 1);
    assert.equal(b.stats("rel").messageCount, 2);
    const again = collect(r, 1);
    m0.delivery?.release();
    await until(() => b.stats("rel").lockedCount === 0, "the release");
    r.add_credit(1);
    const redelivered = (await again)[0]!;
    assert.equal(redelivered.message?.body, "m0");
    assert.equal(redelivered.message.delivery_count ?? 0, 0);
    redelivered.delivery?.accept();
    await until(() => b.stats("rel").messageCount === 1, "the accept");
    const last = collect(r, 1);
    r.add_credit(1);
    const m1 = (await last)[0]!;
    assert.equal(m1.message?.body, "m1");
    m1.delivery?.accept();
    await until(() => b.stats("rel").messageCount === 0, "both accepts");
  });

  it("modified(delivery-failed) → redelivered with header delivery-count 1, other fields intact", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "mod"), [
      { body: "payload", message_id: "id-1", application_properties: { k: "v" }, durable: true, priority: 7 },
    ]);
    const r = await peekLock(c, "mod");
    const m = await next(r);
    assert.equal(m.message?.delivery_count ?? 0, 0);
    const again = collect(r, 1);
    m.delivery?.release({ delivery_failed: true });
    r.add_credit(1);
    const red = (await again)[0]!;
    assert.equal(red.message?.delivery_count, 1);
    assert.equal(red.message.durable, true);
    assert.equal(red.message.priority, 7);
    assert.equal(red.message.message_id, "id-1");
    assert.deepEqual(red.message.application_properties, { k: "v" });
    assert.equal(red.message.body, "payload");
    red.delivery?.accept();
    await until(() => b.stats("mod").messageCount === 0, "the accept");
  });

  it("requeues unsettled deliveries of a consumer that disconnects, in order, with delivery-count 1", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "dc"), [{ body: "a" }, { body: "b" }, { body: "c" }]);
    const c2 = await connect(b.port!);
    const r = await openReceiver(c2, { source: "dc", credit_window: 0, autoaccept: false });
    const got = collect(r, 2);
    r.add_credit(2);
    assert.deepEqual(
      (await got).map((m) => m.message?.body),
      ["a", "b"],
    );
    assert.equal(b.stats("dc").lockedCount, 2);
    (c2 as unknown as { socket: { destroy(): void } }).socket.destroy();
    await until(() => b.stats("dc").lockedCount === 0 && b.stats("dc").consumerCount === 0, "the requeue");
    const r2 = await peekLock(c, "dc", 3);
    const again = await collect(r2, 3);
    assert.deepEqual(
      again.map((m) => [m.message?.body, m.message?.delivery_count ?? 0]),
      [
        ["a", 1],
        ["b", 1],
        ["c", 0],
      ],
    );
    for (const m of again) m.delivery?.accept();
    await until(() => b.stats("dc").messageCount === 0, "the accepts");
  });

  it("requeues unsettled deliveries when the consumer detaches its link", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "det"), [{ body: "x" }]);
    const r = await peekLock(c, "det");
    await next(r);
    r.close();
    await until(() => b.stats("det").lockedCount === 0 && b.stats("det").messageCount === 1, "the requeue");
    const r2 = await peekLock(c, "det");
    const m = await next(r2);
    assert.equal(m.message?.body, "x");
    assert.equal(m.message.delivery_count, 1);
    m.delivery?.accept();
  });

  it("dead-letters rejected messages to <queue>/$deadletter", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "rej"), [{ body: "bad", message_id: 42 }]);
    const r = await peekLock(c, "rej");
    (await next(r)).delivery?.reject({ condition: "x:bad", description: "why" });
    await until(() => b.stats("rej").deadLetterCount === 1, "the dead-letter");
    assert.equal(b.stats("rej").messageCount, 0);
    const dlq = await openReceiver(c, { source: "rej/$deadletter" });
    const m = await next(dlq);
    assert.equal(m.message?.body, "bad");
    assert.equal(m.message.message_id, 42);
    await until(() => b.stats("rej").deadLetterCount === 0, "the DLQ accept");
  });

  it("dead-letters modified(undeliverable-here) messages", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "undeliv"), [{ body: "u" }]);
    const r = await peekLock(c, "undeliv");
    (await next(r)).delivery?.modified({ undeliverable_here: true });
    await until(() => b.stats("undeliv").deadLetterCount === 1, "the dead-letter");
    assert.equal(b.stats("undeliv").messageCount, 0);
  });

  it("dead-letters a message after maxDeliveryCount failed deliveries", async () => {
    const { b, c } = await setup({ queues: { maxDeliveryCount: 3 } });
    await sendAll(await openSender(c, "maxdc"), [{ body: "poison" }]);
    const r = await openReceiver(c, { source: "maxdc", credit_window: 10, autoaccept: false });
    const seen: number[] = [];
    r.on("message", (ctx: Ctx) => {
      seen.push(ctx.message?.delivery_count ?? 0);
      ctx.delivery?.release({ delivery_failed: true });
    });
    await until(() => b.stats("maxdc").deadLetterCount === 1, "the dead-letter");
    assert.deepEqual(seen, [0, 1, 2]);
    const dlq = await openReceiver(c, { source: "maxdc/$deadletter" });
    const m = await next(dlq);
    assert.equal(m.message?.body, "poison");
    assert.equal(m.message.delivery_count, 3);
  });

  it("expires messages by header ttl into the dead-letter queue", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "ttl"), [{ body: "short", ttl: 30 }, { body: "long" }]);
    await until(() => b.stats("ttl").deadLetterCount === 1, "the expiry");
    const r = await openReceiver(c, { source: "ttl" });
    const got = await collect(r, 1);
    assert.equal(got[0]!.message?.body, "long");
    assert.equal((await quiet(r, 50)).length, 0);
    const dlq = await openReceiver(c, { source: "ttl/$deadletter" });
    assert.equal((await next(dlq)).message?.body, "short");
  });

  it("drops expired messages when deadLetterOnExpiry is false", async () => {
    const { b, c } = await setup({ queues: { deadLetterOnExpiry: false } });
    await sendAll(await openSender(c, "ttl2"), [{ body: "gone", ttl: 20 }]);
    await until(() => b.stats("ttl2").messageCount === 0, "the expiry");
    assert.equal(b.stats("ttl2").deadLetterCount, 0);
  });
});
