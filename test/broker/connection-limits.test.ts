/**
 * Connection slots: one source address cannot take them all (`limits.maxConnectionsPerSource`), and
 * connections that hold a slot without using it are reaped: those that never open
 * (`limits.handshakeTimeoutMs`, SASL included, not extended by what is sent before the OPEN) and
 * those that open but have no link (`limits.attachTimeoutMs`).
 *
 * Source addresses on loopback: Linux routes all of 127.0.0.0/8 to `lo`, so a client socket bound to
 * 127.0.0.2 reaches the broker on 127.0.0.1 from another address than one bound to 127.0.0.3.
 */
import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import { describe, it } from "node:test";
import type rhea from "rhea";
import { Broker, BROKER_DEFAULTS, type BrokerOptions } from "../../src/broker/index.js";
import { Begin, Close, Open, SaslInit } from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { getTestCertificates } from "../support/certs.js";
import { frameError, ScriptedPeer } from "../support/scripted-peer.js";
import { within } from "../support/waits.js";
import {
  brokerFixture,
  collect,
  connect,
  openReceiver,
  openSender,
  roundTrip,
  sendAll,
  until,
  waitEvent,
} from "./rhea-client.js";

/** The flooding source, and the sources of the clients that must still get in. */
const FLOODER = "127.0.0.2";
const OTHER = "127.0.0.3";
const LATE = "127.0.0.4";

/** A raw TCP connection from `localAddress` to the broker; `closed` resolves when the broker drops it. */
interface RawConnection {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  isClosed: boolean;
}

function connectFrom(localAddress: string, port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: "127.0.0.1", port, localAddress });
    const c: RawConnection = {
      socket,
      isClosed: false,
      closed: new Promise<void>((done) => {
        socket.once("close", () => {
          c.isClosed = true;
          done();
        });
      }),
    };
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => undefined);
      resolve(c);
    });
    socket.once("error", reject);
    socket.resume();
  });
}

/** rhea connected from `localAddress` (through rhea's `connect` option, not in its typings). */
function rheaFrom(localAddress: string, port: number): Promise<rhea.Connection> {
  const options = {
    connect: (p: number, host: string, _options: unknown, callback: () => void): Socket =>
      netConnect({ port: p, host, localAddress }, callback),
  };
  return connect(port, options as Partial<rhea.ConnectionOptions>);
}

/**
 * `attempts` raw connections from FLOODER, `concurrency` at a time; resolves with every one of them
 * once all are established (the broker drops the ones beyond its limit right after).
 */
async function flood(port: number, attempts: number, concurrency: number): Promise<RawConnection[]> {
  const all: RawConnection[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < attempts) {
      next++;
      all.push(await connectFrom(FLOODER, port));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return all;
}

/**
 * The acceptance case: `attempts` idle connections from one source; exactly `limit` are kept, the
 * rest are dropped on arrival, and a client from another source connects, sends and receives while
 * the flood runs. Returns how long the flood took.
 */
async function floodCase(
  b: Broker,
  attempts: number,
  limit: number,
  keep: (c: rhea.Connection) => rhea.Connection,
): Promise<number> {
  const port = b.port!;
  const started = performance.now();
  const flooding = flood(port, attempts, 200);
  await until(() => b.refusedConnections > 0, "the flooder to reach its limit", 60_000);
  // Meanwhile, another source gets in and works.
  const other = keep(await rheaFrom(OTHER, port));
  assert.equal((other as unknown as { socket: Socket }).socket.localAddress, OTHER);
  await roundTrip(other, "during-the-flood", "served");
  const conns = await within(flooding, `${attempts} connection attempts`, 120_000);
  const elapsed = performance.now() - started;
  const dropped = attempts - limit;
  await until(
    () => conns.filter((c) => c.isClosed).length === dropped,
    `${dropped} connections dropped`,
    60_000,
  );
  assert.equal(b.refusedConnections, dropped);
  assert.equal(b.connectionCount, limit + 1, "the flooder's kept connections and the other client");
  const kept = conns.filter((c) => !c.isClosed);
  assert.equal(kept.length, limit);
  // The flooder stays at its limit; other sources still get in.
  const more = await connectFrom(FLOODER, port);
  await within(more.closed, "one more connection from the flooder to be dropped");
  const late = keep(await rheaFrom(LATE, port));
  await roundTrip(late, "after-the-flood", "still served");
  // Slots come back as the flooder's connections go.
  for (const c of kept) c.socket.destroy();
  await until(() => b.connectionCount === 2, "the flooder's connections to go", 60_000);
  const again = await connectFrom(FLOODER, port);
  await until(() => b.connectionCount === 3, "a new connection from the flooder to be served");
  assert.equal(again.isClosed, false);
  again.socket.destroy();
  return elapsed;
}

describe("broker: connection limits per source address", () => {
  const { keep } = brokerFixture();
  const start = async (options: BrokerOptions): Promise<Broker> => keep(await Broker.start(options));

  it("defaults: 1000 connections per source, 10 s to open, 30 s to attach a first link", () => {
    assert.equal(BROKER_DEFAULTS.limits.maxConnectionsPerSource, 1000);
    assert.equal(BROKER_DEFAULTS.limits.handshakeTimeoutMs, 10_000);
    assert.equal(BROKER_DEFAULTS.limits.attachTimeoutMs, 30_000);
  });

  it("2,000 idle connections from one source: 500 kept (the limit), the rest dropped, other sources served", async (t) => {
    const b = await start({ limits: { maxConnectionsPerSource: 500, handshakeTimeoutMs: 120_000 } });
    const elapsed = await floodCase(b, 2000, 500, keep);
    t.diagnostic(`2,000 attempts, limit 500: ${elapsed.toFixed(0)} ms`);
  });

  it("10,000 idle connections from one source are refused beyond the per-source limit (default 1000) while other sources connect", async (t) => {
    const b = await start({ limits: { handshakeTimeoutMs: 120_000 } });
    const elapsed = await floodCase(b, 10_000, BROKER_DEFAULTS.limits.maxConnectionsPerSource, keep);
    t.diagnostic(`10,000 attempts, limit 1000: ${elapsed.toFixed(0)} ms`);
  });

  it("loopback counts like any other source: 127.0.0.1 is held to the limit too", async () => {
    const b = await start({ limits: { maxConnectionsPerSource: 2 } });
    const c1 = keep(await connect(b.port!));
    keep(await connect(b.port!));
    const third = await connectFrom("127.0.0.1", b.port!);
    await within(third.closed, "the third connection from 127.0.0.1 to be dropped");
    assert.equal(b.refusedConnections, 1);
    assert.equal(b.connectionCount, 2);
    await roundTrip(c1, "loopback", "ok");
  });
});

/** Milliseconds from `since` until `closed` settles (bounded). */
async function closedAfter(closed: Promise<unknown>, since: number, what: string): Promise<number> {
  await within(closed, what);
  return performance.now() - since;
}

/** A raw client connected to the broker (the time of the connect, for the reaping bounds). */
async function rawPeer(b: Broker): Promise<{ peer: ScriptedPeer; at: number }> {
  const peer = new ScriptedPeer(await connectTcp({ host: "127.0.0.1", port: b.port! }));
  return { peer, at: performance.now() };
}

/** The time-out under test, and the slack allowed after it on a loaded machine. */
const TIMEOUT_MS = 300;
const SLACK_MS = 3000;

describe("broker: reaping connections that never open or never attach", () => {
  const { keep } = brokerFixture();
  const start = async (options: BrokerOptions): Promise<Broker> => keep(await Broker.start(options));

  for (const [label, id] of [
    ["the AMQP protocol header", ProtocolId.Amqp],
    ["the SASL protocol header", ProtocolId.Sasl],
  ] as const) {
    it(`a socket that sends only ${label} is closed after handshakeTimeoutMs`, async () => {
      const b = await start({ limits: { handshakeTimeoutMs: TIMEOUT_MS } });
      const { peer, at } = await rawPeer(b);
      peer.header(id);
      const ms = await closedAfter(peer.ended(), at, "the broker to drop the connection");
      assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS + SLACK_MS, `closed after ${ms.toFixed(0)} ms`);
      assert.equal(peer.count("OPEN") + peer.count("CLOSE"), 0);
      await until(() => b.connectionCount === 0, "the broker to forget it");
    });
  }

  it("a socket that never starts its TLS handshake on the amqps port is closed after handshakeTimeoutMs", async () => {
    const certs = await within(getTestCertificates(), "test certificates", 60_000);
    const b = await start({
      port: null,
      tls: { cert: certs.serverCert, key: certs.serverKey },
      limits: { handshakeTimeoutMs: TIMEOUT_MS },
    });
    const at = performance.now();
    const silent = await connectFrom("127.0.0.1", b.tlsPort!);
    const ms = await closedAfter(silent.closed, at, "the broker to drop the silent TLS socket");
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS + SLACK_MS, `closed after ${ms.toFixed(0)} ms`);
  });

  it("a client that logs in (SASL PLAIN) but never opens is closed after handshakeTimeoutMs, counted from the accept", async () => {
    const b = await start({
      sasl: { users: { alice: "pw" } },
      limits: { handshakeTimeoutMs: TIMEOUT_MS },
    });
    const { peer, at } = await rawPeer(b);
    peer.header(ProtocolId.Sasl);
    await peer.frameNamed("SASL-MECHANISMS");
    peer.sasl(SaslInit, { mechanism: "PLAIN", initialResponse: Buffer.from("\0alice\0pw") });
    const outcome = await peer.frameNamed("SASL-OUTCOME");
    assert.equal(outcome.fields["code"], 0, "the login succeeded");
    const ms = await closedAfter(peer.ended(), at, "the broker to drop the connection");
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS + SLACK_MS, `closed after ${ms.toFixed(0)} ms`);
    assert.equal(peer.count("OPEN"), 0);
  });

  it("frames before the OPEN do not extend the handshake time: a client sending empty frames is closed all the same", async () => {
    const b = await start({ limits: { handshakeTimeoutMs: TIMEOUT_MS } });
    const { peer, at } = await rawPeer(b);
    peer.header(ProtocolId.Amqp);
    const heartbeat = Buffer.from([0, 0, 0, 8, 2, 0, 0, 0]);
    const timer = setInterval(() => {
      peer.raw(heartbeat);
    }, 20);
    try {
      const ms = await closedAfter(peer.ended(), at, "the broker to drop the connection");
      assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS + SLACK_MS, `closed after ${ms.toFixed(0)} ms`);
    } finally {
      clearInterval(timer);
    }
  });

  it("a connection that opens and begins a session but attaches no link is closed after attachTimeoutMs with amqp:resource-limit-exceeded", async () => {
    const b = await start({ limits: { attachTimeoutMs: TIMEOUT_MS } });
    const { peer } = await rawPeer(b);
    peer.header(ProtocolId.Amqp);
    peer.frame(0, Open, { containerId: "idle" });
    const opened = await peer.frameNamed("OPEN").then(() => performance.now());
    peer.frame(0, Begin, { nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100 });
    const close = await peer.frameNamed("CLOSE");
    const ms = performance.now() - opened;
    assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS + SLACK_MS, `closed after ${ms.toFixed(0)} ms`);
    assert.equal(frameError(close)?.condition, "amqp:resource-limit-exceeded");
    assert.equal(frameError(close)?.description, `no link was attached for ${TIMEOUT_MS} ms`);
    peer.frame(0, Close, {});
    await peer.ended();
    await until(() => b.connectionCount === 0, "the broker to forget it");
  });

  it("a refused attach does not count as a link", async () => {
    const b = await start({ queues: { autoCreate: false }, limits: { attachTimeoutMs: TIMEOUT_MS } });
    const c = keep(await connect(b.port!));
    const closed = waitEvent(c, "connection_error", [], TIMEOUT_MS + SLACK_MS);
    await assert.rejects(openSender(c, "nowhere"));
    const ctx = await closed;
    assert.equal((ctx.connection.error as { condition?: string }).condition, "amqp:resource-limit-exceeded");
  });

  it("a connection with a link is kept however long; once its last link is gone, it has attachTimeoutMs to attach another", async () => {
    const b = await start({ limits: { attachTimeoutMs: TIMEOUT_MS } });
    const c = keep(await connect(b.port!));
    const s = await openSender(c, "kept");
    const r = await openReceiver(c, "kept");
    // Twice the time-out with links: still open, and working.
    await new Promise((resolve) => setTimeout(resolve, 2 * TIMEOUT_MS));
    const got = collect(r, 1);
    assert.deepEqual(await sendAll(s, [{ body: "alive" }]), ["accepted"]);
    assert.equal((await got)[0]!.message?.body, "alive");
    assert.equal(b.connectionCount, 1);
    // One link gone, one left: still no clock.
    s.close();
    await waitEvent(s, "sender_close");
    await new Promise((resolve) => setTimeout(resolve, 2 * TIMEOUT_MS));
    assert.equal(b.connectionCount, 1);
    r.close();
    await waitEvent(r, "receiver_close");
    const gone = performance.now();
    const ctx = await waitEvent(c, "connection_error", [], TIMEOUT_MS + SLACK_MS);
    const ms = performance.now() - gone;
    assert.equal((ctx.connection.error as { condition?: string }).condition, "amqp:resource-limit-exceeded");
    assert.ok(ms < TIMEOUT_MS + SLACK_MS, `closed ${ms.toFixed(0)} ms after its last link`);
  });

  it("attachTimeoutMs 0 keeps a connection without links", async () => {
    const b = await start({ limits: { attachTimeoutMs: 0, handshakeTimeoutMs: TIMEOUT_MS } });
    const c = keep(await connect(b.port!));
    await new Promise((resolve) => setTimeout(resolve, 2 * TIMEOUT_MS));
    assert.equal(b.connectionCount, 1);
    await roundTrip(c, "late-link", "fine");
  });
});
