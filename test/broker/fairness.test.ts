/**
 * Fairness between many consumers and many producers of one queue (rhea as the clients): consumers
 * take turns among those with credit, one without credit is passed over and joins when it grants
 * some, and producers held back by the queue's depth take turns at the room a consumer frees.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type rhea from "rhea";
import {
  brokerFixture,
  collect,
  connect,
  creditOf,
  openReceiver,
  openSender,
  sendAll,
  until,
} from "./rhea-client.js";

const bodies = (got: { message?: rhea.Message }[]): number[] => got.map((m) => m.message?.body as number);
const ascending = (xs: number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

describe("broker: fairness between consumers and between producers", () => {
  const fx = brokerFixture();

  it("passes over consumers without credit; one that grants credit later joins the turns", async () => {
    const { b, c } = await fx.setup();
    const rs = [
      await openReceiver(c, { source: "turns", credit_window: 0 }),
      await openReceiver(c, { source: "turns", credit_window: 0 }),
      await openReceiver(c, { source: "turns", credit_window: 0 }),
    ];
    await until(() => b.stats("turns").consumerCount === 3, "three consumers");
    rs[0]!.add_credit(10);
    rs[1]!.add_credit(10);
    const first = rs.slice(0, 2).map((r) => collect(r, 5));
    const s = await openSender(c, "turns");
    await sendAll(
      s,
      Array.from({ length: 10 }, (_, i) => ({ body: i })),
    );
    const [a, bb] = await Promise.all(first);
    assert.deepEqual(bodies(a!), [0, 2, 4, 6, 8]);
    assert.deepEqual(bodies(bb!), [1, 3, 5, 7, 9]);
    assert.equal(creditOf(rs[2]!), 0);

    // The third grants credit (its FLOW goes out before the transfers below, on the same connection).
    rs[2]!.add_credit(5);
    const second = rs.map((r) => collect(r, 5));
    await sendAll(
      s,
      Array.from({ length: 15 }, (_, i) => ({ body: 10 + i })),
    );
    const got = (await Promise.all(second)).map(bodies);
    for (const g of got) assert.ok(ascending(g), `in order: ${g.join(",")}`);
    assert.deepEqual(
      got.flat().sort((x, y) => x - y),
      Array.from({ length: 15 }, (_, i) => 10 + i),
    );
    await until(() => b.stats("turns").messageCount === 0, "every message accepted");
  });

  it("gives 40 consumers of one credit each one message each", async () => {
    const { b, c } = await fx.setup();
    const rs: rhea.Receiver[] = [];
    for (let i = 0; i < 40; i++) rs.push(await openReceiver(c, { source: "many", credit_window: 0 }));
    await until(() => b.stats("many").consumerCount === 40, "40 consumers");
    for (const r of rs) r.add_credit(1);
    const each = rs.map((r) => collect(r, 1));
    await sendAll(
      await openSender(c, "many"),
      Array.from({ length: 40 }, (_, i) => ({ body: i })),
    );
    const got = (await Promise.all(each)).map((g) => bodies(g)[0]!);
    assert.deepEqual(
      got,
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it("lets producers held back at maxQueueDepth take turns at the room a consumer frees", async () => {
    // Deeper than the credit the producers may hold between them (a producer that is done keeps
    // its unused credit, which counts against the room).
    const depth = 12;
    const { b, c } = await fx.setup({ limits: { maxQueueDepth: depth, producerCredit: 2 } });
    // A connection each: rhea sends the deliveries of one session in order, so a sender without
    // credit would hold back the others of its session.
    const senders: rhea.Sender[] = [];
    for (let k = 0; k < 3; k++) senders.push(await openSender(fx.keep(await connect(b.port!)), "room"));
    const perSender = 30;
    const sending = senders.map((s, k) =>
      sendAll(
        s,
        Array.from({ length: perSender }, (_, i) => ({ body: k * 1000 + i })),
        30_000,
      ),
    );
    await until(() => b.stats("room").messageCount === depth, "the queue to fill");
    const r = await openReceiver(c, { source: "room", credit_window: 1 });
    const got = bodies(await collect(r, 3 * perSender, 30_000));
    for (const o of await Promise.all(sending)) assert.ok(o.every((x) => x === "accepted"));
    for (let k = 0; k < 3; k++) {
      const mine = got.filter((x) => Math.floor(x / 1000) === k);
      assert.deepEqual(
        mine,
        Array.from({ length: perSender }, (_, i) => k * 1000 + i),
      );
    }
    // While the queue was full each producer got its turns: none waited for the others to finish.
    const firstHalf = got.slice(0, (3 * perSender) / 2);
    for (let k = 0; k < 3; k++) {
      const n = firstHalf.filter((x) => Math.floor(x / 1000) === k).length;
      assert.ok(n >= perSender / 5, `producer ${k} had ${n} of the first ${firstHalf.length} messages`);
    }
  });
});
