/**
 * Connection edge cases no real broker produces, driven frame by frame over an in-memory pair:
 * protocol-header mismatches, SASL misuse, channel misuse, a second OPEN, the local idle
 * time-out and channel-max. Each case checks the typed error and its condition, the CLOSE written
 * to the peer (where one can be written), that pending promises reject, and that the connection
 * ends closed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AMQPConnectionError, AuthenticationException } from "../../src/errors/exceptions.js";
import type { AmqpConnection } from "../../src/engine/connection.js";
import {
  Begin,
  Close,
  End,
  Flow,
  Open,
  SaslOutcome,
  SaslInit,
  SaslResponse,
  Transfer,
  type BeginFields,
} from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { SaslAnonymousMechanism } from "../../src/sasl/mechanisms.js";
import {
  assertEnded,
  assertProtocolClose,
  assertTyped,
  closeCleanly,
  frameError,
  scriptedConnection,
  type ScriptedPeer,
} from "../support/scripted-peer.js";
import { observe, rejectionOf, until, within } from "../support/waits.js";

const begin = (remoteChannel?: number): BeginFields => ({
  ...(remoteChannel === undefined ? {} : { remoteChannel }),
  nextOutgoingId: 0,
  incomingWindow: 100,
  outgoingWindow: 100,
});

/** A connecting side without SASL whose peer answered the AMQP handshake. */
async function openConnection(
  options: Parameters<typeof scriptedConnection>[0] = {},
  open: Parameters<ScriptedPeer["acceptAmqp"]>[0] = {},
): Promise<{ conn: AmqpConnection; peer: ScriptedPeer }> {
  const { conn, peer } = scriptedConnection(options);
  await peer.acceptAmqp(open);
  await within(conn.opened(), "connection.opened()");
  return { conn, peer };
}

describe("connection edges: protocol headers", () => {
  it("a server that requires SASL answers a plain AMQP header with the SASL header and refuses the connection", async () => {
    const { conn, peer } = scriptedConnection({
      role: "server",
      saslServer: { mechanisms: ["PLAIN"], users: { user: "pass" } },
    });
    peer.header(ProtocolId.Amqp);
    assert.deepEqual(await peer.headerNo(1), { id: ProtocolId.Sasl, major: 1, minor: 0, revision: 0 });
    await assertEnded(conn, peer, AuthenticationException, "amqp:unauthorized-access");
    assert.equal(peer.frames.length, 0, "no mechanisms, no OPEN, no CLOSE after a refused header");
    assert.equal(peer.headers.length, 1);
  });

  for (const [label, bytes] of [
    ["AMQP version 2.0.0", [ProtocolId.Amqp, 2, 0, 0]],
    ["AMQP version 1.1.0", [ProtocolId.Amqp, 1, 1, 0]],
    ["the TLS protocol id", [ProtocolId.Tls, 1, 0, 0]],
  ] as const) {
    it(`a server answers a header with ${label} with the header it supports and closes with a framing error`, async () => {
      const { conn, peer } = scriptedConnection({ role: "server" });
      const [id, major, minor, revision] = bytes;
      peer.header(id, major, minor, revision);
      assert.deepEqual(await peer.headerNo(1), { id: ProtocolId.Amqp, major: 1, minor: 0, revision: 0 });
      await assertEnded(conn, peer, AMQPConnectionError, "amqp:connection:framing-error");
      assert.equal(peer.frames.length, 0);
    });
  }

  it("a server receiving bytes that are no protocol header closes with a framing error", async () => {
    const { conn, peer } = scriptedConnection({ role: "server", saslServer: { mechanisms: ["ANONYMOUS"] } });
    peer.raw(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
    const err = await assertEnded(conn, peer, AMQPConnectionError, "amqp:connection:framing-error");
    assert.equal(err.retryable, false);
    assert.equal(peer.frames.length, 0);
  });

  it("a client answered with an unsupported AMQP version fails every pending operation with a framing error", async () => {
    const { conn, peer } = scriptedConnection();
    const session = conn.createSession();
    assert.deepEqual(await peer.headerNo(1), { id: ProtocolId.Amqp, major: 1, minor: 0, revision: 0 });
    peer.header(ProtocolId.Amqp, 2, 0, 0);
    assertTyped(
      await rejectionOf(session.begun(), "session.begun()"),
      AMQPConnectionError,
      "amqp:connection:framing-error",
    );
    await assertEnded(conn, peer, AMQPConnectionError, "amqp:connection:framing-error");
  });

  it("a client answered with garbage instead of a protocol header closes with a framing error", async () => {
    const { conn, peer } = scriptedConnection();
    await peer.headerNo(1);
    peer.raw(Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n"));
    await assertEnded(conn, peer, AMQPConnectionError, "amqp:connection:framing-error");
  });

  it("a client with credentials answered with a plain AMQP header (SASL skipped) closes with a framing error", async () => {
    const { conn, peer } = scriptedConnection({ sasl: new SaslAnonymousMechanism() });
    assert.deepEqual(await peer.headerNo(1), { id: ProtocolId.Sasl, major: 1, minor: 0, revision: 0 });
    peer.header(ProtocolId.Amqp);
    await assertEnded(conn, peer, AMQPConnectionError, "amqp:connection:framing-error");
    assert.equal(peer.frames.length, 0, "no sasl-init and no OPEN were written");
  });

  it("a server asking for SASL from a client without credentials fails with AuthenticationException", async () => {
    const { conn, peer } = scriptedConnection();
    const session = conn.createSession();
    assert.deepEqual(await peer.headerNo(1), { id: ProtocolId.Amqp, major: 1, minor: 0, revision: 0 });
    peer.header(ProtocolId.Sasl);
    const pending = await rejectionOf(session.begun(), "session.begun()");
    assertTyped(pending, AuthenticationException, "amqp:unauthorized-access");
    const err = await assertEnded(conn, peer, AuthenticationException, "amqp:unauthorized-access");
    assert.equal(err.code, "AMQP_AUTHENTICATION");
    assert.equal(err.retryable, false);
  });
});

describe("connection edges: SASL misuse", () => {
  it("a server receiving a sasl-response it never asked for sends a failed outcome and closes", async () => {
    const { conn, peer } = scriptedConnection({
      role: "server",
      saslServer: { mechanisms: ["PLAIN"], users: { user: "pass" } },
    });
    peer.header(ProtocolId.Sasl);
    await peer.frameNamed("SASL-MECHANISMS");
    peer.sasl(SaslResponse, { response: Buffer.from("unexpected") });
    const outcome = await peer.frameNamed("SASL-OUTCOME");
    assert.notEqual(outcome.fields["code"], 0, "the outcome is a failure");
    await assertEnded(conn, peer, AuthenticationException, "amqp:unauthorized-access");
    assert.equal(conn.saslIdentity, undefined);
    assert.equal(peer.count("OPEN"), 0);
  });

  it("a server receiving a second sasl-init while the first is checked answers sys-perm and closes", async () => {
    let release: (ok: boolean) => void = () => undefined;
    const checks: string[] = [];
    const { conn, peer } = scriptedConnection({
      role: "server",
      saslServer: {
        mechanisms: ["PLAIN"],
        authenticate: (req) => {
          checks.push(req.username ?? "");
          return new Promise<boolean>((resolve) => (release = resolve));
        },
      },
    });
    peer.header(ProtocolId.Sasl);
    await peer.frameNamed("SASL-MECHANISMS");
    const plain = (user: string): Buffer => Buffer.from(`\0${user}\0secret`);
    peer.sasl(SaslInit, { mechanism: "PLAIN", initialResponse: plain("first") });
    await until(() => checks.length === 1, "the first sasl-init checked");
    peer.sasl(SaslInit, { mechanism: "PLAIN", initialResponse: plain("second") });
    const outcome = await peer.frameNamed("SASL-OUTCOME");
    assert.equal(outcome.fields["code"], 3, "sys-perm");
    await assertEnded(conn, peer, AuthenticationException, "amqp:not-allowed");
    release(true);
    // Let the first check's continuation run: it must find the exchange over and write nothing.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(checks, ["first"], "the second sasl-init is never checked");
    assert.equal(peer.count("SASL-OUTCOME"), 1, "the first check, finishing late, answers nothing");
    assert.equal(conn.saslIdentity, undefined);
    assert.equal(peer.count("OPEN"), 0);
  });

  it("a SASL frame after SASL is done (in the AMQP layer) closes with a framing error", async () => {
    const { conn, peer } = scriptedConnection({ sasl: new SaslAnonymousMechanism() });
    await peer.acceptSaslThenAmqp();
    await within(conn.opened(), "connection.opened()");
    const session = conn.createSession();
    await peer.frameNamed("BEGIN");
    peer.sasl(SaslOutcome, { code: 0 });
    await assertProtocolClose(conn, peer, "amqp:connection:framing-error", [
      ["session.begun()", session.begun()],
    ]);
  });
});

describe("connection edges: channels", () => {
  it("a BEGIN answering a channel we never opened closes with amqp:not-allowed", async () => {
    const { conn, peer } = await openConnection();
    const session = conn.createSession();
    await peer.frameNamed("BEGIN");
    peer.frame(0, Begin, begin(7));
    await assertProtocolClose(conn, peer, "amqp:not-allowed", [["session.begun()", session.begun()]]);
    assert.equal(session.state, "ended");
  });

  it("a second BEGIN answering a session that is already mapped closes with amqp:not-allowed", async () => {
    const { conn, peer } = await openConnection();
    const session = conn.createSession();
    await peer.frameNamed("BEGIN");
    peer.frame(0, Begin, begin(0));
    await within(session.begun(), "session.begun()");
    const sender = session.attachSender({ target: { address: "q" } });
    await peer.frameNamed("ATTACH");
    peer.frame(1, Begin, begin(0));
    await assertProtocolClose(conn, peer, "amqp:not-allowed", [["sender.attached()", sender.attached()]]);
    assert.ok(sender.error instanceof AMQPConnectionError);
  });

  it("a peer beginning a session on a channel it already uses closes with amqp:not-allowed", async () => {
    const { conn, peer } = await openConnection();
    peer.frame(3, Begin, begin());
    const answer = await peer.frameNamed("BEGIN");
    assert.equal(answer.fields["remoteChannel"], 3);
    const ours = conn.createSession();
    await peer.frameWhere((f) => f.name === "BEGIN" && f.fields["remoteChannel"] === undefined, "our BEGIN");
    peer.frame(3, Begin, begin());
    await assertProtocolClose(conn, peer, "amqp:not-allowed", [["session.begun()", ours.begun()]]);
    assert.equal(peer.count("BEGIN"), 2, "the duplicate BEGIN is not answered");
  });

  it("a FLOW on a channel with no session closes with amqp:not-allowed", async () => {
    const { conn, peer } = await openConnection();
    const session = conn.createSession();
    await peer.frameNamed("BEGIN");
    peer.frame(0, Begin, begin(0));
    await within(session.begun(), "session.begun()");
    const sender = session.attachSender({ target: { address: "q" } });
    const send = observe(sender.send(Buffer.from("m")));
    await peer.frameNamed("ATTACH");
    peer.frame(4, Flow, { nextIncomingId: 0, incomingWindow: 10, nextOutgoingId: 0, outgoingWindow: 10 });
    await assertProtocolClose(conn, peer, "amqp:not-allowed", [
      ["sender.attached()", sender.attached()],
      ["sender.send()", send],
    ]);
    assert.equal(peer.count("TRANSFER"), 0);
  });

  it("a TRANSFER on a channel with no session closes with amqp:not-allowed", async () => {
    const { conn, peer } = await openConnection();
    const session = conn.createSession();
    await peer.frameNamed("BEGIN");
    // Channel 0 of the peer is not mapped yet: our session waits for its answer.
    peer.frame(0, Transfer, { handle: 0, deliveryId: 0, deliveryTag: Buffer.from([1]), messageFormat: 0 });
    await assertProtocolClose(conn, peer, "amqp:not-allowed", [["session.begun()", session.begun()]]);
  });
});

describe("connection edges: connection frames", () => {
  it("a second OPEN from the peer closes with amqp:not-allowed", async () => {
    const { conn, peer } = await openConnection();
    const session = conn.createSession();
    await peer.frameNamed("BEGIN");
    peer.frame(0, Open, { containerId: "again" });
    await assertProtocolClose(conn, peer, "amqp:not-allowed", [["session.begun()", session.begun()]]);
    assert.equal(conn.remote?.containerId, "scripted-peer", "the first OPEN stays in force");
  });
});

describe("connection edges: out-of-spec OPEN", () => {
  it("an OPEN with max-frame-size below 512 closes with amqp:invalid-field", async () => {
    const { conn, peer } = scriptedConnection();
    await peer.acceptAmqp({ maxFrameSize: 511 });
    await assertProtocolClose(conn, peer, "amqp:invalid-field", [["connection.opened()", conn.opened()]]);
    assert.equal(conn.remote, undefined, "the out-of-spec OPEN is not taken");
  });

  it("an OPEN with max-frame-size 512 is accepted", async () => {
    const { conn, peer } = await openConnection({}, { maxFrameSize: 512 });
    assert.equal(conn.remote?.maxFrameSize, 512);
    await closeCleanly(conn, peer);
  });
});

describe("connection edges: closing", () => {
  it("the peer's CLOSE answering ours ends the connection at once (no wait for the close time-out)", async () => {
    const { conn, peer } = await openConnection({ closeTimeoutMs: 60_000 });
    peer.frame(0, Open, { containerId: "again" });
    const close = await peer.frameNamed("CLOSE");
    assert.ok(frameError(close), "our CLOSE carries an error");
    peer.frame(0, Close, {});
    const err = await within(conn.closed(), "connection.closed() after the peer answered our CLOSE");
    assert.ok(err instanceof AMQPConnectionError);
    await peer.ended();
  });

  it("frames the peer sends before answering our CLOSE are ignored, and its CLOSE completes a clean close", async () => {
    const { conn, peer } = await openConnection({ closeTimeoutMs: 60_000 });
    const session = conn.createSession();
    await peer.frameNamed("BEGIN");
    peer.frame(0, Begin, begin(0));
    await within(session.begun(), "session.begun()");
    const closing = conn.close();
    await peer.frameNamed("CLOSE");
    // In flight when our CLOSE arrived: a FLOW for the session we no longer track, then the answer.
    peer.frame(0, Flow, { nextIncomingId: 0, incomingWindow: 10, nextOutgoingId: 0, outgoingWindow: 10 });
    peer.frame(0, Close, {});
    await within(closing, "connection.close()");
    assert.equal(await conn.closed(), undefined);
    assert.equal(conn.error, undefined);
    assert.equal(peer.count("CLOSE"), 1);
    await peer.ended();
  });
});

describe("connection edges: idle time-out", () => {
  it("our idle time-out closes a silent peer with amqp:resource-limit-exceeded, even if it never answers the CLOSE", async () => {
    const { conn, peer } = await openConnection({ idleTimeoutMs: 150, closeTimeoutMs: 100 });
    const session = conn.createSession();
    const close = await peer.frameNamed("CLOSE");
    assert.equal(frameError(close)?.condition, "amqp:resource-limit-exceeded");
    assert.equal(peer.count("BEGIN"), 1);
    assertTyped(
      await rejectionOf(session.begun(), "session.begun()"),
      AMQPConnectionError,
      "amqp:resource-limit-exceeded",
    );
    // The peer stays silent: the close time-out ends the connection.
    await assertEnded(conn, peer, AMQPConnectionError, "amqp:resource-limit-exceeded", true);
  });

  it("our idle time-out also ends a connection whose peer never sends its protocol header", async () => {
    const { conn, peer } = scriptedConnection({ idleTimeoutMs: 150, closeTimeoutMs: 100 });
    await peer.headerNo(1);
    const session = conn.createSession();
    assertTyped(
      await rejectionOf(session.begun(), "session.begun()"),
      AMQPConnectionError,
      "amqp:resource-limit-exceeded",
    );
    await assertEnded(conn, peer, AMQPConnectionError, "amqp:resource-limit-exceeded");
  });
});

describe("connection edges: heartbeats (mocked clock)", () => {
  it("the peer's idle-time-out is honoured even when our own idle time-out is much longer", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval", "setTimeout", "Date"], now: 1_000_000 });
    const { conn, peer } = await openConnection({ idleTimeoutMs: 4000 }, { idleTimeOut: 400 });
    // Simulated time only: the peer must hear from us within each 400 ms of its idle-time-out.
    let lastHeard = Date.now();
    let heard = peer.heartbeats + peer.frames.length;
    for (let step = 0; step < 40; step++) {
      t.mock.timers.tick(50);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      const now = peer.heartbeats + peer.frames.length;
      if (now !== heard) {
        heard = now;
        lastHeard = Date.now();
      }
      assert.ok(Date.now() - lastHeard <= 400, `silent for ${Date.now() - lastHeard} ms of simulated time`);
    }
    assert.ok(conn.isOpen);
    t.mock.timers.reset();
    await closeCleanly(conn, peer);
  });
});

describe("connection edges: heartbeat pace (mocked clock)", () => {
  it("an idle connection sends an empty frame every idle-time-out × 0.5 of the peer, no sooner, no later", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval", "setTimeout", "Date"], now: 2_000_000 });
    const { conn, peer } = await openConnection({}, { idleTimeOut: 240_000 });
    const beats: number[] = [];
    let seen = peer.heartbeats;
    for (let step = 0; step < 80; step++) {
      t.mock.timers.tick(5_000);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      if (peer.heartbeats !== seen) {
        seen = peer.heartbeats;
        beats.push(Date.now());
      }
    }
    assert.ok(beats.length >= 3, `${beats.length} heartbeats in 400 s`);
    const gaps = beats.slice(1).map((b, i) => b - (beats[i] ?? 0));
    assert.deepEqual(
      gaps,
      gaps.map(() => 120_000),
      "120000 ms between empty frames",
    );
    assert.ok(conn.isOpen);
    t.mock.timers.reset();
    await closeCleanly(conn, peer);
  });

  it("a custom remoteIdleTimeoutEmptyFrameSendRatio sets the pace; traffic postpones the next heartbeat", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval", "setTimeout", "Date"], now: 3_000_000 });
    const { conn, peer } = await openConnection(
      { remoteIdleTimeoutEmptyFrameSendRatio: 0.25 },
      { idleTimeOut: 1000 },
    );
    const opened = Date.now();
    const settle = async (): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    };
    t.mock.timers.tick(249);
    await settle();
    assert.equal(peer.heartbeats, 0, "nothing before 250 ms of silence");
    t.mock.timers.tick(1);
    await settle();
    assert.equal(peer.heartbeats, 1, "one empty frame at 250 ms");
    t.mock.timers.tick(100);
    conn.createSession(); // a BEGIN at 350 ms: the next empty frame is due 250 ms after it
    await settle();
    t.mock.timers.tick(249);
    await settle();
    assert.equal(peer.heartbeats, 1, `no empty frame at ${Date.now() - opened} ms, 249 ms after the BEGIN`);
    t.mock.timers.tick(1);
    await settle();
    assert.equal(peer.heartbeats, 2, "an empty frame 250 ms after the BEGIN");
    t.mock.timers.reset();
    await closeCleanly(conn, peer);
  });

  it("neither idle timer keeps the process alive", async () => {
    const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timeouts();
    const { conn, peer } = await openConnection({ idleTimeoutMs: 60_000 }, { idleTimeOut: 240_000 });
    assert.equal(timeouts(), before, "no ref'd timer added by an open, idle connection");
    await closeCleanly(conn, peer);
  });
});

describe("connection edges: channel-max", () => {
  const isLimit = (e: unknown): boolean => {
    assertTyped(e, AMQPConnectionError, "amqp:resource-limit-exceeded");
    return true;
  };

  it("our channel-max bounds the sessions; a channel is reused once its session ended", async () => {
    const { conn, peer } = await openConnection({ channelMax: 1 });
    const s0 = conn.createSession();
    const s1 = conn.createSession();
    assert.deepEqual([s0.channel, s1.channel], [0, 1]);
    assert.throws(() => conn.createSession(), isLimit);
    assert.ok(conn.isOpen, "a refused session does not harm the connection");
    await peer.frameWhere((f) => f.name === "BEGIN" && f.channel === 1, "BEGIN on channel 1");
    peer.frame(0, Begin, begin(0));
    peer.frame(1, Begin, begin(1));
    await within(Promise.all([s0.begun(), s1.begun()]), "both sessions begun");
    assert.equal(peer.count("BEGIN"), 2);

    const ending = s1.end();
    const endFrame = await peer.frameWhere((f) => f.name === "END" && f.channel === 1, "END on channel 1");
    peer.frame(1, End, {});
    await within(ending, "session.end()");
    const s2 = conn.createSession();
    assert.equal(s2.channel, 1);
    await peer.frameWhere(
      (f) => f.name === "BEGIN" && f.channel === 1 && peer.frames.indexOf(f) > peer.frames.indexOf(endFrame),
      "a new BEGIN on channel 1",
    );
    assert.equal(peer.count("BEGIN"), 3);
    assert.ok(conn.isOpen);
    await closeCleanly(conn, peer);
  });

  it("the peer's channel-max bounds the sessions we begin", async () => {
    const { conn, peer } = await openConnection({}, { channelMax: 0 });
    const s0 = conn.createSession();
    assert.equal(s0.channel, 0);
    assert.throws(() => conn.createSession(), isLimit);
    await peer.frameNamed("BEGIN");
    peer.frame(0, Begin, begin(0));
    await within(s0.begun(), "session.begun()");
    assert.equal(peer.count("BEGIN"), 1, "no BEGIN beyond the peer's channel-max is written");
    assert.ok(conn.isOpen);
    await closeCleanly(conn, peer);
  });
});
