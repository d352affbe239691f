import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import rhea from "rhea";
import { Broker } from "../../src/broker/index.js";
import {
  attachError,
  close,
  collect,
  connect,
  creditOf,
  openReceiver,
  openSender,
  sendAll,
  until,
  waitEvent,
} from "./rhea-client.js";

describe("broker: queues by address", () => {
  const brokers: Broker[] = [];
  after(async () => {
    for (const b of brokers) await b.close();
  });
  const start = async (options?: Parameters<typeof Broker.start>[0]): Promise<Broker> => {
    const b = await Broker.start(options);
    brokers.push(b);
    return b;
  };

  it("starts on 127.0.0.1 with a free port and closes", async () => {
    const b = await Broker.start();
    assert.ok(b.port! > 0);
    assert.equal(b.url, `amqp://127.0.0.1:${b.port}`);
    const c = await connect(b.port!);
    assert.equal(b.connectionCount, 1);
    await b.close();
    await until(() => !c.is_open(), "the client to see the close");
    assert.equal(b.connectionCount, 0);
  });

  it("round-trips 10,000 messages byte-exact over one connection with credit 1000", async () => {
    const b = await start();
    const c = await connect(b.port!);
    const payloads = Array.from({ length: 10_000 }, (_, i) =>
      Buffer.from(
        rhea.message.encode({
          message_id: i,
          subject: `s${i}`,
          application_properties: { i, tag: "x".repeat(i % 50) },
          message_annotations: { "x-opt-n": i },
          body: i % 2 === 0 ? `body ${i}` : rhea.message.data_section(Buffer.alloc(i % 300, i % 256)),
        }),
      ),
    );
    const sender = await openSender(c, { target: { address: "bulk" } });
    // rhea decodes format-0 messages; keep the raw bytes by wrapping its decoder for this test.
    const raw: Buffer[] = [];
    const decode = rhea.message.decode.bind(rhea.message);
    rhea.message.decode = (buffer: Buffer) => {
      raw.push(Buffer.from(buffer));
      return decode(buffer);
    };
    try {
      const receiver = await openReceiver(c, { source: { address: "bulk" }, credit_window: 1000 });
      const got = collect(receiver, payloads.length, 60_000);
      const outcomes = await new Promise<number>((resolve) => {
        let n = 0;
        sender.on("accepted", () => {
          if (++n === payloads.length) resolve(n);
        });
        let next = 0;
        const pump = (): void => {
          while (next < payloads.length && sender.sendable()) sender.send(payloads[next++]!, undefined, 0);
        };
        sender.on("sendable", pump);
        pump();
      });
      assert.equal(outcomes, payloads.length);
      await got;
    } finally {
      rhea.message.decode = decode;
    }
    assert.equal(raw.length, payloads.length);
    for (let i = 0; i < payloads.length; i++) assert.ok(raw[i]!.equals(payloads[i]!), `message ${i} differs`);
    await until(() => b.stats("bulk").messageCount === 0, "every accept to reach the broker");
    await close(c);
  });

  it("splits batched messages (format 0x80013700) into their inner messages", async () => {
    const b = await start();
    const c = await connect(b.port!);
    const inner = [0, 1, 2].map((i) =>
      Buffer.from(rhea.message.encode({ message_id: i, body: `inner ${i}` })),
    );
    const envelope = Buffer.from(rhea.message.encode({ body: rhea.message.data_sections(inner) }));
    const sender = await openSender(c, "batched");
    const accepted = waitEvent(sender, "accepted");
    sender.send(envelope, undefined, 0x80013700);
    await accepted;
    assert.equal(b.stats("batched").messageCount, 3);
    const r = await openReceiver(c, "batched");
    const got = await collect(r, 3);
    assert.deepEqual(
      got.map((m) => m.message?.body),
      ["inner 0", "inner 1", "inner 2"],
    );
    await close(c);
  });

  it("honours consumer credit and keeps the rest queued", async () => {
    const b = await start();
    const c = await connect(b.port!);
    const sender = await openSender(c, "credit");
    await sendAll(
      sender,
      Array.from({ length: 10 }, (_, i) => ({ body: `m${i}` })),
    );
    assert.equal(b.stats("credit").messageCount, 10);
    const receiver = await openReceiver(c, { source: "credit", credit_window: 0, autoaccept: true });
    const got = collect(receiver, 3);
    receiver.add_credit(3);
    assert.deepEqual(
      (await got).map((m) => m.message?.body),
      ["m0", "m1", "m2"],
    );
    await until(() => b.stats("credit").messageCount === 7, "accepts to be processed");
    const rest = collect(receiver, 7);
    receiver.add_credit(7);
    assert.equal((await rest).length, 7);
    await until(() => b.stats("credit").messageCount === 0, "the queue to drain");
    await close(c);
  });

  it("maps amqp:// and amqps:// URL addresses to the bare queue name", async () => {
    const b = await start();
    const c = await connect(b.port!);
    const sender = await openSender(c, { target: { address: `amqps://localhost:${b.port}/orders` } });
    await sendAll(sender, [{ body: "via url" }]);
    assert.equal(b.stats("orders").messageCount, 1);
    assert.equal(b.stats("amqp://other-host/orders").messageCount, 1);
    const r = await openReceiver(c, { source: { address: "orders" } });
    const [m] = await collect(r, 1);
    assert.equal(m!.message?.body, "via url");
    await close(c);
  });

  it("refuses unknown queues with amqp:not-found when auto-creation is off", async () => {
    const b = await start({ queues: { autoCreate: false, names: ["known"] } });
    const c = await connect(b.port!);
    const err = await attachError(openSender(c, { target: { address: "unknown" } }));
    assert.equal(err.condition, "amqp:not-found");
    const err2 = await attachError(openReceiver(c, { source: { address: "unknown" } }));
    assert.equal(err2.condition, "amqp:not-found");
    await openSender(c, "known");
    await openReceiver(c, "known/$deadletter");
    await close(c);
  });

  it("delivers pre-settled transfers to a consumer with snd-settle-mode settled and removes the message at send", async () => {
    const b = await start();
    const c = await connect(b.port!);
    await sendAll(await openSender(c, "presettled"), [{ body: "a" }, { body: "b" }]);
    const r = await openReceiver(c, { source: "presettled", snd_settle_mode: 1, autoaccept: false });
    const got = await collect(r, 2);
    assert.deepEqual(
      got.map((m) => m.delivery?.remote_settled),
      [true, true],
    );
    await until(() => b.stats("presettled").messageCount === 0, "pre-settled messages to be removed");
    await close(c);
  });

  it("shares a queue between competing consumers round robin", async () => {
    const b = await start();
    const c = await connect(b.port!);
    const r1 = await openReceiver(c, { source: "compete", credit_window: 50 });
    const r2 = await openReceiver(c, { source: "compete", credit_window: 50 });
    await until(() => b.stats("compete").consumerCount === 2, "both consumers");
    const got1 = collect(r1, 10);
    const got2 = collect(r2, 10);
    await sendAll(
      await openSender(c, "compete"),
      Array.from({ length: 20 }, (_, i) => ({ body: i })),
    );
    const bodies1 = (await got1).map((m) => m.message?.body as number);
    const bodies2 = (await got2).map((m) => m.message?.body as number);
    assert.deepEqual(bodies1, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    assert.deepEqual(bodies2, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    await close(c);
  });

  it("gives all messages to the consumer that has credit when the other has none", async () => {
    const b = await start();
    const c = await connect(b.port!);
    const busy = await openReceiver(c, { source: "skewed", credit_window: 0 });
    const free = await openReceiver(c, { source: "skewed", credit_window: 100 });
    await until(() => b.stats("skewed").consumerCount === 2, "both consumers");
    const got = collect(free, 5);
    await sendAll(
      await openSender(c, "skewed"),
      Array.from({ length: 5 }, (_, i) => ({ body: i })),
    );
    assert.equal((await got).length, 5);
    assert.equal(creditOf(busy), 0);
    await close(c);
  });
});
