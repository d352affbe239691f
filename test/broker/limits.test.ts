import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import rhea from "rhea";
import { Broker, type BrokerOptions } from "../../src/broker/index.js";
import {
  attachError,
  close,
  collect,
  connect,
  linkError,
  openReceiver,
  openSender,
  sendAll,
  until,
  waitEvent,
} from "./rhea-client.js";

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

function closedBy(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    s.on("close", () => resolve());
    s.on("error", () => undefined);
    s.resume();
  });
}

describe("broker: limits and hygiene", () => {
  const brokers: Broker[] = [];
  const conns: rhea.Connection[] = [];
  after(async () => {
    for (const c of conns) await close(c);
    for (const b of brokers) await b.close();
  });
  const start = async (options?: BrokerOptions): Promise<Broker> => {
    const b = await Broker.start(options);
    brokers.push(b);
    return b;
  };
  const open = async (b: Broker, options?: Partial<rhea.ConnectionOptions>): Promise<rhea.Connection> => {
    const c = await connect(b.port!, options);
    conns.push(c);
    return c;
  };

  it("closes connections beyond maxConnections with amqp:resource-limit-exceeded", async () => {
    const b = await start({ limits: { maxConnections: 2 } });
    await open(b);
    await open(b);
    const container = rhea.create_container();
    container.on("error", () => undefined);
    const c3 = container.connect({ host: "127.0.0.1", port: b.port!, reconnect: false });
    conns.push(c3);
    const err = await waitEvent(c3, "connection_error");
    assert.equal((err.connection.error as { condition?: string }).condition, "amqp:resource-limit-exceeded");
    await until(() => b.connectionCount === 2, "the refused connection to go");
  });

  it("announces maxSessionsPerConnection - 1 as channel-max and closes a connection that begins a session above it with amqp:connection:framing-error", async () => {
    const b = await start({ limits: { maxSessionsPerConnection: 2 } });
    const c = await open(b);
    assert.equal((c as unknown as { remote: { open: { channel_max?: number } } }).remote.open.channel_max, 1);
    await openSender(c, "first-session");
    const second = c.create_session();
    const opened = waitEvent(second, "session_open");
    second.begin();
    await opened;
    // rhea takes the lowest free channel whatever the peer's channel-max: this BEGIN is on channel 2.
    const third = c.create_session();
    const closed = waitEvent(c, "connection_error");
    third.begin();
    const ctx = await closed;
    assert.equal(
      (ctx.connection.error as { condition?: string } | undefined)?.condition,
      "amqp:connection:framing-error",
    );
    await until(() => b.connectionCount === 0, "the connection to go");
    // A client that ends a session before beginning another stays within the limit.
    const d = await open(b);
    const s1 = d.create_session();
    s1.begin();
    await waitEvent(s1, "session_open");
    const s2 = d.create_session();
    s2.begin();
    await waitEvent(s2, "session_open");
    const ended = waitEvent(s2, "session_close");
    s2.close();
    await ended;
    await openSender(d, "still-works");
    assert.equal(b.connectionCount, 1);
  });

  it("refuses links beyond maxLinksPerSession", async () => {
    const b = await start({ limits: { maxLinksPerSession: 2 } });
    const c = await open(b);
    await openSender(c, "a");
    await openReceiver(c, "a");
    assert.equal((await attachError(openSender(c, "b"))).condition, "amqp:resource-limit-exceeded");
  });

  it("detaches a producer whose message exceeds maxMessageSize with amqp:link:message-size-exceeded", async () => {
    const b = await start({ limits: { maxMessageSize: 1000 } });
    const c = await open(b);
    const s = await openSender(c, "small");
    assert.equal(
      (s as unknown as { remote: { attach: { max_message_size?: number } } }).remote.attach.max_message_size,
      1000,
    );
    await sendAll(s, [{ body: "fits" }]);
    const detached = waitEvent(s, "sender_error");
    s.send({ body: "x".repeat(2000) });
    assert.equal(linkError(await detached).condition, "amqp:link:message-size-exceeded");
    assert.equal(b.stats("small").messageCount, 1);
  });

  it("withholds producer credit at maxQueueDepth and resumes as consumers make room", async () => {
    const depth = 20;
    const b = await start({ limits: { maxQueueDepth: depth, producerCredit: 8 } });
    const c = await open(b);
    let maxSeen = 0;
    b.observe((e) => {
      if (e.type === "message") maxSeen = Math.max(maxSeen, b.stats("deep").messageCount + 1);
    });
    const s = await openSender(c, "deep");
    const all = sendAll(
      s,
      Array.from({ length: 100 }, (_, i) => ({ body: i })),
      30_000,
    );
    await until(() => b.stats("deep").messageCount === depth, "the queue to fill");
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(b.stats("deep").messageCount, depth);
    assert.equal(s.sendable(), false);
    const r = await openReceiver(c, { source: "deep", credit_window: 5 });
    const got = await collect(r, 100, 30_000);
    assert.deepEqual(
      got.map((m) => m.message?.body),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal((await all).length, 100);
    assert.ok(maxSeen <= depth, `the queue held ${maxSeen} messages`);
  });

  it("closes a client that sends garbage without disturbing the others", async () => {
    const b = await start();
    const good = await open(b);
    const s = await openSender(good, "steady");
    const r = await openReceiver(good, "steady");
    const garbage = await rawSocket(b.port!);
    const gone = closedBy(garbage);
    garbage.write(randomBytes(4096));
    await gone;
    const broken = await rawSocket(b.port!);
    const gone2 = closedBy(broken);
    // A valid header, then a frame whose declared size is far beyond max-frame-size.
    broken.write(
      Buffer.concat([
        Buffer.from("AMQP\x00\x01\x00\x00", "latin1"),
        Buffer.from([0x7f, 0xff, 0xff, 0xff, 2, 0, 0, 0]),
      ]),
    );
    await gone2;
    const got = collect(r, 3);
    await sendAll(s, [{ body: 1 }, { body: 2 }, { body: 3 }]);
    assert.equal((await got).length, 3);
    await until(() => b.connectionCount === 1, "the bad connections to go");
  });

  it("disconnects a client that never opens within handshakeTimeoutMs", async () => {
    const b = await start({ limits: { handshakeTimeoutMs: 50 } });
    const silent = await rawSocket(b.port!);
    await closedBy(silent);
    await until(() => b.connectionCount === 0, "the broker to drop it");
  });

  it("serves 200 concurrent connections each sending and receiving 100 messages, losing nothing", async () => {
    const b = await start();
    const n = 200;
    const perConnection = 100;
    const clients = await Promise.all(Array.from({ length: n }, () => open(b)));
    assert.equal(b.connectionCount, n);
    const results = await Promise.all(
      clients.map(async (c, i) => {
        const address = `load-${i}`;
        const r = await openReceiver(c, { source: address, credit_window: 50 });
        const s = await openSender(c, address);
        const got = collect(r, perConnection, 60_000);
        const outcomes = await sendAll(
          s,
          Array.from({ length: perConnection }, (_, k) => ({ body: `${i}:${k}` })),
          60_000,
        );
        return { outcomes, got: await got };
      }),
    );
    const bodies = new Set<string>();
    for (const { outcomes, got } of results) {
      assert.ok(outcomes.every((o) => o === "accepted"));
      for (const m of got) bodies.add(String(m.message?.body));
    }
    assert.equal(bodies.size, n * perConnection);
    await Promise.all(clients.map((c) => close(c)));
    conns.length = 0;
    await until(() => b.connectionCount === 0, "every connection to close");
    for (let q = 0; q < n; q++) assert.equal(b.stats(`load-${q}`).messageCount, 0);
  });
});
