import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Broker } from "../../src/broker/index.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { IncomingDelivery } from "../../src/engine/delivery.js";
import { RcvSettleMode } from "../../src/engine/link.js";
import { SaslPlainMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { valueMessage, valueOf } from "../support/rhea-peer.js";

describe("broker with our own engine as the client", () => {
  const brokers: Broker[] = [];
  const conns: AmqpConnection[] = [];
  after(async () => {
    for (const c of conns) await c.close();
    for (const b of brokers) await b.close();
  });

  const open = async (): Promise<{ b: Broker; conn: AmqpConnection }> => {
    const b = await Broker.start({ sasl: { users: { u: "p" } } });
    brokers.push(b);
    const conn = new AmqpConnection({ sasl: new SaslPlainMechanism("u", "p"), hostname: "localhost" });
    conns.push(conn);
    conn.start(await connectTcp({ host: "127.0.0.1", port: b.port! }));
    return { b, conn };
  };

  it("sends byte-exact payloads and settles them in receiver-settle-mode second", async () => {
    const { b, conn } = await open();
    const session = conn.createSession();
    const sender = session.attachSender({ target: { address: "engine-q" } });
    await sender.attached();
    const payloads = Array.from({ length: 50 }, (_, i) => valueMessage(`e${i}`));
    const outcomes = await Promise.all(payloads.map((p) => sender.send(p)));
    assert.ok(outcomes.every((o) => o?.type === "accepted"));
    const receiver = session.attachReceiver({
      source: { address: "engine-q" },
      rcvSettleMode: RcvSettleMode.Second,
      autoCredit: 20,
    });
    const got: IncomingDelivery[] = [];
    await new Promise<void>((resolve) => {
      receiver.onDelivery = (d) => {
        got.push(d);
        receiver.settle(d, { type: "accepted" });
        if (got.length === payloads.length) resolve();
      };
    });
    for (let i = 0; i < payloads.length; i++) assert.ok(got[i]!.payload.equals(payloads[i]!));
    for (let i = 0; i < 1000 && b.stats("engine-q").messageCount > 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(b.stats("engine-q").messageCount, 0);
  });

  it("routes through the anonymous relay and completes a drain with the messages available", async () => {
    const { b, conn } = await open();
    const session = conn.createSession();
    const relay = session.attachSender({ target: { address: null } });
    await relay.attached();
    b.createQueue("drained");
    const ok = await relay.send(Buffer.concat([propertiesTo("drained"), valueMessage("d1")]));
    assert.equal(ok?.type, "accepted");
    const receiver = session.attachReceiver({ source: { address: "drained" } });
    await receiver.attached();
    const bodies: unknown[] = [];
    receiver.onDelivery = (d) => {
      bodies.push(valueOf(d.payload));
      receiver.settle(d);
    };
    receiver.flow(5);
    await receiver.drain();
    assert.deepEqual(bodies, ["d1"]);
    assert.equal(receiver.linkCredit, 0);
  });

  it("tags each delivery with its own lock token, also those it could not write at once", async () => {
    const { b, conn } = await open();
    const sender = conn.createSession().attachSender({ target: { address: "tags" } });
    await sender.attached();
    const n = 40;
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => sender.send(valueMessage(`t${i}`))),
    );
    assert.ok(outcomes.every((o) => o?.type === "accepted"));
    // A session window of 2 transfers: the broker writes two, and holds the rest of its deliveries
    // until our FLOW reopens the window.
    const receiver = conn.createSession({ incomingWindow: 2 }).attachReceiver({
      source: { address: "tags" },
      rcvSettleMode: RcvSettleMode.Second,
      autoCredit: n,
    });
    const got: IncomingDelivery[] = [];
    await new Promise<void>((resolve) => {
      receiver.onDelivery = (d) => {
        got.push(d);
        if (got.length === n) resolve();
      };
    });
    // The broker's tokens count up per queue from 1: each tag is its own lock's token.
    assert.deepEqual(
      got.map((d) => Buffer.from(d.tag).toString("hex")),
      Array.from({ length: n }, (_, i) => (i + 1).toString(16).padStart(16, "0")),
    );
    assert.deepEqual(
      got.map((d) => valueOf(d.payload)),
      Array.from({ length: n }, (_, i) => `t${i}`),
    );
    // Outcomes in receiver-settle-mode second find their locks: nothing is redelivered.
    const settled = await Promise.all(
      got.map(async (d) => receiver.settleAndConfirm(d, { type: "accepted" })),
    );
    assert.ok(settled.every((c) => c?.confirmed === true && c.state?.type === "accepted"));
    assert.equal(b.stats("tags").messageCount, 0);
  });
});

/** A properties section with only `to` set. */
function propertiesTo(to: string): Buffer {
  const addr = Buffer.from(to, "utf8");
  // described(0x73, list[ null message-id, null user-id, str8 to ])
  const list = Buffer.concat([Buffer.from([0x40, 0x40, 0xa1, addr.length]), addr]);
  return Buffer.concat([Buffer.from([0x00, 0x53, 0x73, 0xc0, list.length + 1, 3]), list]);
}
