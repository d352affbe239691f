/**
 * Rules of the connection and session layers the engine holds a peer to, on either side: the first
 * frame is an OPEN, no AMQP frame inside SASL, no channel above the channel-max we announced, and
 * one delivery-id sequence per session. The peer is the scripted one, over an in-memory pair.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { ConnectionOptions } from "../../src/engine/options.js";
import type { IncomingDelivery } from "../../src/engine/delivery.js";
import { AMQPConnectionError } from "../../src/errors/exceptions.js";
import { Attach, Begin, Close, Detach, End, Open, SaslInit } from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { createMemoryTransportPair } from "../../src/transport/memory.js";
import {
  assertEnded,
  assertProtocolClose,
  closeCleanly,
  frameError,
  ScriptedPeer,
  scriptedConnection,
} from "../support/scripted-peer.js";
import { until, within } from "../support/waits.js";

const BEGIN = { nextOutgoingId: 0, incomingWindow: 100_000, outgoingWindow: 100_000 };

/** A connecting side whose peer answers OPEN, BEGIN and ATTACH by itself. */
async function openClient(
  options: ConnectionOptions = {},
): Promise<{ conn: AmqpConnection; peer: ScriptedPeer }> {
  const [ours, theirs] = createMemoryTransportPair();
  const peer = new ScriptedPeer(theirs, { autoAnswer: true });
  const conn = new AmqpConnection({ closeTimeoutMs: 200, ...options });
  conn.start(ours);
  await within(conn.opened(), "connection.opened()");
  return { conn, peer };
}

describe("peer rules: the first frame is an OPEN", () => {
  it("connecting side: a BEGIN before the peer's OPEN closes with amqp:not-allowed and is not answered", async () => {
    const { conn, peer } = scriptedConnection();
    await peer.frameNamed("OPEN");
    peer.header(ProtocolId.Amqp);
    peer.frame(0, Begin, { ...BEGIN, remoteChannel: 0 });
    await assertProtocolClose(conn, peer, "amqp:not-allowed", [["connection.opened()", conn.opened()]]);
    assert.match(
      frameError(peer.frames.find((f) => f.name === "CLOSE")!)?.description ?? "",
      /BEGIN before OPEN/,
    );
  });

  it("connecting side: a CLOSE before the peer's OPEN is taken as the close it is, with the peer's error", async () => {
    const { conn, peer } = scriptedConnection();
    await peer.frameNamed("OPEN");
    peer.header(ProtocolId.Amqp);
    peer.frame(0, Close, { error: { condition: "amqp:unauthorized-access", description: "go away" } });
    const err = await within(conn.closed(), "connection.closed()");
    assert.ok(err !== undefined, "closed with the peer's error");
    assert.equal(err.condition, "amqp:unauthorized-access");
    assert.equal(err.description, "go away");
    await peer.frameNamed("CLOSE");
    assert.equal(
      frameError(peer.frames.find((f) => f.name === "CLOSE")!),
      undefined,
      "answered without an error",
    );
  });

  for (const [label, write] of [
    ["BEGIN", (p: ScriptedPeer) => p.frame(0, Begin, BEGIN)],
    ["ATTACH", (p: ScriptedPeer) => p.frame(0, Attach, { name: "early", handle: 0, role: false })],
  ] as const) {
    it(`accepting side: an ${label} as the first frame gets our OPEN, then a CLOSE with amqp:not-allowed, nothing else`, async () => {
      const { conn, peer } = scriptedConnection({ role: "server" });
      peer.header(ProtocolId.Amqp);
      write(peer);
      const close = await peer.frameNamed("CLOSE");
      assert.equal(frameError(close)?.condition, "amqp:not-allowed");
      assert.deepEqual(
        peer.frames.map((f) => f.name),
        ["OPEN", "CLOSE"],
        "the CLOSE is not the first frame, and the frame before OPEN was not handled",
      );
      assert.equal(conn.remote, undefined);
      peer.frame(0, Close, {});
      await assertEnded(conn, peer, AMQPConnectionError, "amqp:not-allowed");
    });
  }

  it("accepting side: empty frames before the OPEN are ignored, the OPEN still opens", async () => {
    const { conn, peer } = scriptedConnection({ role: "server" });
    peer.header(ProtocolId.Amqp);
    peer.raw(Buffer.from([0, 0, 0, 8, 2, 0, 0, 0]));
    peer.frame(0, Open, { containerId: "late" });
    await within(conn.opened(), "connection.opened()");
    await peer.frameNamed("OPEN");
    assert.deepEqual(
      peer.frames.map((f) => f.name),
      ["OPEN"],
    );
    await closeCleanly(conn, peer);
  });

  it("accepting side: an AMQP frame inside SASL closes the socket with amqp:not-allowed, no SASL outcome", async () => {
    const { conn, peer } = scriptedConnection({ role: "server", saslServer: { mechanisms: ["ANONYMOUS"] } });
    peer.header(ProtocolId.Sasl);
    await peer.frameNamed("SASL-MECHANISMS");
    peer.frame(0, Open, { containerId: "too-early" });
    await assertEnded(conn, peer, AMQPConnectionError, "amqp:not-allowed");
    assert.deepEqual(
      peer.frames.map((f) => f.name),
      ["SASL-MECHANISMS"],
    );
  });
});

describe("peer rules: channel-max", () => {
  /** A connecting side with channel-max 3 whose peer answered the AMQP handshake (and nothing else). */
  async function opened(): Promise<{ conn: AmqpConnection; peer: ScriptedPeer }> {
    const { conn, peer } = scriptedConnection({ channelMax: 3 });
    await peer.acceptAmqp();
    await within(conn.opened(), "connection.opened()");
    return { conn, peer };
  }

  it("a BEGIN on a channel above the channel-max we announced closes at once with amqp:connection:framing-error", async () => {
    const { conn, peer } = await opened();
    assert.equal(peer.frames.find((f) => f.name === "OPEN")?.fields["channelMax"], 3);
    peer.frame(4, Begin, BEGIN);
    // A framing error ends the connection without waiting for the peer's CLOSE.
    await assertEnded(conn, peer, AMQPConnectionError, "amqp:connection:framing-error", true);
    const close = peer.frames.find((f) => f.name === "CLOSE");
    assert.equal(frameError(close!)?.description, "frame on channel 4, above the channel-max 3");
    assert.equal(peer.count("BEGIN"), 0, "the BEGIN on channel 4 is not answered");
  });

  it("a BEGIN on the channel-max itself is answered", async () => {
    const { conn, peer } = await opened();
    peer.frame(3, Begin, BEGIN);
    const answer = await peer.frameNamed("BEGIN");
    assert.equal(answer.fields["remoteChannel"], 3);
    assert.ok(conn.isOpen);
    await closeCleanly(conn, peer);
  });
});

describe("peer rules: one delivery-id sequence per session", () => {
  /** A session of `conn` with two receivers (handles 0 and 1) that record their deliveries. */
  async function receivers(conn: AmqpConnection) {
    const session = conn.createSession();
    const got: string[] = [];
    const attach = (address: string) => {
      const r = session.attachReceiver({ source: { address }, autoCredit: 100 });
      r.onDelivery = (d: IncomingDelivery) => got.push(`${address}:${d.deliveryId}:${d.payload.toString()}`);
      return r;
    };
    const a = attach("a");
    const b = attach("b");
    await within(Promise.all([a.attached(), b.attached()]), "both receivers attached");
    return { session, a, b, got };
  }

  const tag = (id: number) => Buffer.from(`t${id}`);

  it("starts anywhere, follows across links, and multi-frame deliveries may omit the id or repeat it", async () => {
    const { conn, peer } = await openClient();
    const { session, got } = await receivers(conn);
    const ch = session.channel;
    peer.transfer(
      ch,
      { handle: 0, deliveryId: 40, deliveryTag: tag(40), messageFormat: 0 },
      Buffer.from("x"),
    );
    // Delivery 41 on link a in three frames, delivery 42 on link b in between.
    peer.transfer(
      ch,
      { handle: 0, deliveryId: 41, deliveryTag: tag(41), messageFormat: 0, more: true },
      Buffer.from("y1"),
    );
    peer.transfer(
      ch,
      { handle: 1, deliveryId: 42, deliveryTag: tag(42), messageFormat: 0 },
      Buffer.from("z"),
    );
    peer.transfer(ch, { handle: 0, more: true }, Buffer.from("y2"));
    peer.transfer(ch, { handle: 0, deliveryId: 41, more: false }, Buffer.from("y3"));
    peer.transfer(
      ch,
      { handle: 1, deliveryId: 43, deliveryTag: tag(43), messageFormat: 0 },
      Buffer.from("w"),
    );
    await until(() => got.length === 4, "four deliveries");
    assert.deepEqual(got, ["a:40:x", "b:42:z", "a:41:y1y2y3", "b:43:w"]);
    assert.equal(peer.count("END") + peer.count("CLOSE"), 0);
    await conn.close();
  });

  it("a delivery-id out of sequence ends the session with amqp:invalid-field; the connection stays open", async () => {
    const { conn, peer } = await openClient();
    const { session, got } = await receivers(conn);
    const ch = session.channel;
    peer.transfer(
      ch,
      { handle: 0, deliveryId: 7, deliveryTag: tag(7), messageFormat: 0 },
      Buffer.from("kept"),
    );
    peer.transfer(
      ch,
      { handle: 1, deliveryId: 9, deliveryTag: tag(9), messageFormat: 0 },
      Buffer.from("skips"),
    );
    const end = await peer.frameNamed("END");
    assert.equal(frameError(end)?.condition, "amqp:invalid-field");
    assert.equal(frameError(end)?.description, "delivery-id 9 is out of sequence (8 was expected)");
    peer.frame(end.channel, End, {});
    await until(() => session.state === "ended", "the session to end");
    assert.deepEqual(got, ["a:7:kept"]);
    // A new session starts a new sequence.
    const again = await receivers(conn);
    peer.transfer(
      again.session.channel,
      { handle: 0, deliveryId: 0, deliveryTag: tag(0), messageFormat: 0 },
      Buffer.from("new"),
    );
    await until(() => again.got.length === 1, "the delivery on the new session");
    assert.ok(conn.isOpen);
    assert.equal(peer.count("CLOSE"), 0);
    await conn.close();
  });

  it("deliveries dropped on a detaching link still count in the sequence", async () => {
    const { conn, peer } = await openClient();
    const { session, a, got } = await receivers(conn);
    const ch = session.channel;
    peer.transfer(ch, { handle: 0, deliveryId: 0, deliveryTag: tag(0), messageFormat: 0 }, Buffer.from("a0"));
    await until(() => got.length === 1, "the first delivery");
    peer.responder = (f, p) => {
      // The peer's TRANSFERs crossed our DETACH: a delivery in two frames, then its DETACH answer.
      if (f.name !== "DETACH") return;
      p.transfer(
        ch,
        { handle: 0, deliveryId: 1, deliveryTag: tag(1), messageFormat: 0, more: true },
        Buffer.from("l"),
      );
      p.transfer(ch, { handle: 0, more: false }, Buffer.from("ost"));
      p.frame(ch, Detach, { handle: 0, closed: true });
    };
    await within(a.detach(), "link a detached");
    peer.transfer(ch, { handle: 1, deliveryId: 2, deliveryTag: tag(2), messageFormat: 0 }, Buffer.from("b2"));
    await until(() => got.length === 2, "the delivery on link b");
    assert.deepEqual(got, ["a:0:a0", "b:2:b2"]);
    assert.equal(peer.count("END") + peer.count("CLOSE"), 0);
    await conn.close();
  });
});

describe("peer rules: SASL then OPEN", () => {
  it("a server's SASL exchange followed by an OPEN still opens (frames before OPEN are only AMQP frames)", async () => {
    const { conn, peer } = scriptedConnection({ role: "server", saslServer: { mechanisms: ["ANONYMOUS"] } });
    peer.header(ProtocolId.Sasl);
    await peer.frameNamed("SASL-MECHANISMS");
    peer.sasl(SaslInit, { mechanism: "ANONYMOUS" });
    await peer.frameNamed("SASL-OUTCOME");
    peer.header(ProtocolId.Amqp);
    peer.frame(0, Open, { containerId: "after-sasl" });
    await within(conn.opened(), "connection.opened()");
    await closeCleanly(conn, peer);
  });
});
