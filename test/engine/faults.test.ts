import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { AMQPError } from "../../src/errors/amqp-error.js";
import {
  AMQPClientShutdown,
  AMQPConnectionError,
  ConnectionClose,
  LinkDetach,
  SessionEnd,
  VendorConnectionClose,
} from "../../src/errors/exceptions.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import { isLocalClose } from "../../src/engine/remote-errors.js";
import type { ConnectionOptions } from "../../src/engine/options.js";
import { Close, Detach, Disposition, End, Flow } from "../../src/frames/performatives.js";
import { SaslAnonymousMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { startScriptedPeer, type PeerOptions, type ScriptedPeerServer } from "../support/scripted-peer.js";

let peer: ScriptedPeerServer | undefined;
const conns: AmqpConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  await peer?.close();
  peer = undefined;
});

async function connect(
  options: PeerOptions = {},
  connOptions: ConnectionOptions = {},
): Promise<{ conn: AmqpConnection; p: ScriptedPeerServer }> {
  peer = await startScriptedPeer(options);
  const conn = new AmqpConnection({
    sasl: new SaslAnonymousMechanism(),
    closeTimeoutMs: 500,
    ...connOptions,
  });
  conns.push(conn);
  conn.start(await connectTcp({ host: "127.0.0.1", port: peer.port }));
  return { conn, p: peer };
}

const settle = <T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> =>
  p.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ err }),
  );

describe("engine faults (scripted peer)", () => {
  it("a CLOSE with an error mid-transfer rejects every pending send with ConnectionClose", async () => {
    const { conn, p } = await connect({ credit: 10 });
    const sender = conn.createSession().attachSender({ target: { address: "t" } });
    await sender.attached();
    const sends = Array.from({ length: 20 }, () => settle(sender.send(Buffer.from("x"))));
    const pc = await p.connection();
    await pc.frameNamed("TRANSFER");
    pc.frame(0, Close, {
      error: { condition: "amqp:connection:forced", description: "going down", info: { k: "v" } },
    });
    const results = await Promise.all(sends);
    assert.equal(results.length, 20);
    for (const r of results) {
      assert.ok("err" in r);
      assert.ok(r.err instanceof ConnectionClose);
      assert.equal(r.err.condition, "amqp:connection:forced");
      assert.equal(r.err.description, "going down");
      assert.equal(r.err.retryable, true);
    }
    assert.ok((await conn.closed()) instanceof ConnectionClose);
  });

  it("a vendor condition on CLOSE gives VendorConnectionClose with the condition kept", async () => {
    const { conn, p } = await connect();
    await conn.opened();
    (await p.connection()).frame(0, Close, {
      error: { condition: "com.microsoft:custom", description: "vendor" },
    });
    const err = await conn.closed();
    assert.ok(err instanceof VendorConnectionClose);
    assert.equal(err.condition, "com.microsoft:custom");
  });

  it("a DETACH with an error rejects pending sends with LinkDetach carrying condition, description and info", async () => {
    const { conn, p } = await connect({ credit: 0 });
    const sender = conn.createSession().attachSender({ target: { address: "t" } });
    await sender.attached();
    const pending = settle(sender.send(Buffer.from("x")));
    const pc = await p.connection();
    const attach = pc.attaches[0]!;
    pc.frame(0, Detach, {
      handle: attach.handle,
      closed: true,
      error: { condition: "amqp:not-allowed", description: "nope", info: { reason: "test" } },
    });
    const r = await pending;
    assert.ok("err" in r && r.err instanceof LinkDetach);
    assert.equal(r.err.condition, "amqp:not-allowed");
    assert.equal(r.err.description, "nope");
    assert.deepEqual(r.err.info, { reason: "test" });
    assert.ok(sender.error instanceof LinkDetach);
    await pc.frameNamed("DETACH");
  });

  it("an END with an error is a session error: SessionEnd for the session and its links, the connection stays open", async () => {
    const { conn, p } = await connect({ credit: 0 });
    const session = conn.createSession();
    const sender = session.attachSender({ target: { address: "t" } });
    await sender.attached();
    const pending = settle(sender.send(Buffer.from("x")));
    const ended: (AMQPError | undefined)[] = [];
    session.onEnd = (e) => ended.push(e);
    const pc = await p.connection();
    pc.frame(0, End, {
      error: { condition: "amqp:session:errant-link", description: "bad link", info: { k: "v" } },
    });
    const r = await pending;
    assert.ok("err" in r && r.err instanceof SessionEnd, String("err" in r ? r.err : r));
    assert.equal(r.err.code, "AMQP_SESSION_ENDED");
    assert.equal(r.err instanceof ConnectionClose, false);
    assert.equal(r.err.condition, "amqp:session:errant-link");
    assert.equal(r.err.description, "bad link");
    assert.deepEqual(r.err.info, { k: "v" });
    assert.equal(session.state, "ended");
    assert.ok(session.error instanceof SessionEnd);
    assert.deepEqual(ended, [session.error]);
    assert.ok(sender.error instanceof SessionEnd);
    // We answer the END; the connection is not closed and begins a new session.
    await pc.frameNamed("END");
    assert.equal(conn.isOpen, true);
    assert.equal(conn.error, undefined);
    const again = conn.createSession();
    await again.begun();
    assert.equal(
      pc.frames.some((f) => f.name === "CLOSE"),
      false,
    );
  });

  it("an END without an error ends the session cleanly; its pending work fails with SessionEnd", async () => {
    const { conn, p } = await connect({ credit: 0 });
    const session = conn.createSession();
    const sender = session.attachSender({ target: { address: "t" } });
    await sender.attached();
    const pending = settle(sender.send(Buffer.from("x")));
    const ended: (AMQPError | undefined)[] = [];
    session.onEnd = (e) => ended.push(e);
    (await p.connection()).frame(0, End, {});
    const r = await pending;
    assert.ok("err" in r && r.err instanceof SessionEnd);
    assert.equal(r.err.condition, "amqp:unknown-error");
    assert.deepEqual(ended, [undefined]);
    assert.equal(session.error, undefined);
    assert.equal(conn.isOpen, true);
  });

  it("no free link handle is a resource limit (amqp:resource-limit-exceeded), not a shutdown", async () => {
    const { conn } = await connect();
    const session = conn.createSession({ handleMax: 0 });
    await session.attachSender({ target: { address: "a" } }).attached();
    assert.throws(
      () => session.attachSender({ target: { address: "b" } }),
      (e: unknown) =>
        e instanceof AMQPConnectionError &&
        !(e instanceof AMQPClientShutdown) &&
        e.condition === "amqp:resource-limit-exceeded",
    );
  });

  it("an oversized frame closes with amqp:connection:framing-error without allocating the claimed size", async () => {
    const { conn, p } = await connect({}, { maxFrameSize: 4096 });
    await conn.opened();
    const pc = await p.connection();
    const before = process.memoryUsage().arrayBuffers;
    pc.raw(Buffer.from([0x7f, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0x53, 0x10]));
    const err = await conn.closed();
    assert.ok(err instanceof AMQPError);
    assert.equal(err.condition, "amqp:connection:framing-error");
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20);
    const close = await pc.frameNamed("CLOSE");
    assert.equal((close.fields["error"] as { condition: string }).condition, "amqp:connection:framing-error");
  });

  it("a malformed performative closes with amqp:decode-error", async () => {
    const { conn, p } = await connect();
    await conn.opened();
    const pc = await p.connection();
    // A FLOW whose list claims 200 bytes but holds 3.
    pc.raw(Buffer.from([0, 0, 0, 16, 2, 0, 0, 0, 0x00, 0x53, 0x13, 0xc0, 200, 3, 0x43, 0x43]));
    const err = await conn.closed();
    assert.ok(err instanceof AMQPError);
    assert.equal(err.condition, "amqp:decode-error");
    const close = await pc.frameNamed("CLOSE");
    assert.equal((close.fields["error"] as { condition: string }).condition, "amqp:decode-error");
  });

  it("with credit 0 a send waits without error and completes when credit arrives", async () => {
    const { conn, p } = await connect({ credit: 0, autoAccept: true });
    const sender = conn.createSession().attachSender({ target: { address: "t" } });
    await sender.attached();
    let done = 0;
    const sends = Array.from({ length: 50 }, () => sender.send(Buffer.alloc(100)).then(() => done++));
    await new Promise((r) => setTimeout(r, 100));
    const pc = await p.connection();
    assert.equal(done, 0);
    assert.equal(sender.queued, 50);
    assert.equal(
      pc.frames.filter((f) => f.name === "TRANSFER").length,
      0,
      "nothing is written without credit",
    );
    const attach = pc.attaches[0]!;
    pc.frame(0, Flow, {
      nextIncomingId: 0,
      incomingWindow: 1000,
      nextOutgoingId: 0,
      outgoingWindow: 1000,
      handle: attach.handle,
      deliveryCount: 0,
      linkCredit: 50,
    });
    await Promise.all(sends);
    assert.equal(done, 50);
  });

  it("an unsettled delivery on link A does not stall link B of the same session", async () => {
    const { conn, p } = await connect({ credit: 10 });
    const session = conn.createSession();
    const a = session.attachSender({ name: "A", target: { address: "a" } });
    const b = session.attachSender({ name: "B", target: { address: "b" } });
    await Promise.all([a.attached(), b.attached()]);
    const pc = await p.connection();
    pc.responder = (f, peerConn) => {
      // Settle only link B's deliveries.
      const handleB = pc.attaches.find((x) => x.name === "B")!.handle;
      if (f.name === "TRANSFER" && f.fields["handle"] === handleB) {
        peerConn.frame(f.channel, Disposition, {
          role: true,
          first: f.fields["deliveryId"] as number,
          settled: true,
          state: { type: "accepted" },
        });
      }
    };
    const pendingA = settle(a.send(Buffer.from("a")));
    for (let i = 0; i < 5; i++) assert.deepEqual(await b.send(Buffer.from(`b${i}`)), { type: "accepted" });
    assert.equal(a.unsettled, 1);
    void pendingA;
  });

  it("sends heartbeats at half the peer's idle-time-out", async () => {
    const { conn, p } = await connect({ open: { idleTimeOut: 1000 } });
    await conn.opened();
    const pc = await p.connection();
    await new Promise((r) => setTimeout(r, 1600));
    assert.ok(pc.heartbeats >= 2, `got ${pc.heartbeats} heartbeats`);
    assert.ok(conn.isOpen);
  });

  it("detects a silent peer within twice its own idle time-out", async () => {
    const { conn } = await connect({}, { idleTimeoutMs: 300 });
    await conn.opened();
    const err = await Promise.race([
      conn.closed(),
      new Promise((r) => setTimeout(() => r("still open"), 600)),
    ]);
    assert.ok(err instanceof AMQPError, String(err));
    assert.equal(err.condition, "amqp:resource-limit-exceeded");
  });
});

describe("engine: local closes fail pending work with the error of their scope (no client vocabulary)", () => {
  /** A pending send's error: the scope's class, no condition, not retryable, marked as a local close. */
  function assertLocalClose(e: unknown, scope: typeof AMQPConnectionError): void {
    assert.ok(e instanceof scope, String(e));
    assert.equal(e instanceof AMQPClientShutdown, false);
    assert.equal(e.condition, undefined);
    assert.equal(e.retryable, false);
    assert.equal(isLocalClose(e), true);
  }

  it("close(): pending sends and the sessions fail with AMQPConnectionError", async () => {
    const { conn } = await connect({ credit: 0 });
    const session = conn.createSession();
    const sender = session.attachSender({ target: { address: "t" } });
    await sender.attached();
    const pending = settle(sender.send(Buffer.from("x")));
    await conn.close();
    const r = await pending;
    assert.ok("err" in r);
    assertLocalClose(r.err, AMQPConnectionError);
    assert.equal(r.err instanceof SessionEnd || r.err instanceof LinkDetach, false);
    assert.equal(session.error, r.err);
    assert.equal(await conn.closed(), undefined);
    assert.throws(
      () => conn.createSession(),
      (e: unknown) => e instanceof AMQPConnectionError && isLocalClose(e),
    );
  });

  it("session.end(): pending sends fail with SessionEnd; the connection stays open", async () => {
    const { conn } = await connect({ credit: 0 });
    const session = conn.createSession();
    const sender = session.attachSender({ target: { address: "t" } });
    await sender.attached();
    const pending = settle(sender.send(Buffer.from("x")));
    // The scripted peer does not answer END: the pending work fails at once, not on the answer.
    void session.end();
    const r = await pending;
    assert.ok("err" in r);
    assertLocalClose(r.err, SessionEnd);
    assert.equal(conn.isOpen, true);
  });

  it("link.detach(): pending sends fail with LinkDetach; the peer's failures are not local closes", async () => {
    const { conn, p } = await connect({ credit: 0 });
    const session = conn.createSession();
    const sender = session.attachSender({ target: { address: "t" } });
    await sender.attached();
    const pending = settle(sender.send(Buffer.from("x")));
    // The scripted peer does not answer DETACH: the pending work fails at once, not on the answer.
    void sender.detach();
    const r = await pending;
    assert.ok("err" in r);
    assertLocalClose(r.err, LinkDetach);
    const other = session.attachSender({ target: { address: "u" } });
    await other.attached();
    const refused = settle(other.send(Buffer.from("y")));
    const pc = await p.connection();
    // The scripted peer mirrors our handle in its ATTACH.
    pc.frame(0, Detach, {
      handle: other.handle,
      closed: true,
      error: { condition: "amqp:link:detach-forced" },
    });
    const r2 = await refused;
    assert.ok("err" in r2 && r2.err instanceof LinkDetach);
    assert.equal(isLocalClose(r2.err), false);
  });

  it("send() takes no timeout: a deadline is the caller's signal, which takes a queued delivery back", async () => {
    const { conn, p } = await connect({ credit: 0 });
    const sender = conn.createSession().attachSender({ target: { address: "t" } });
    await sender.attached();
    const r = await settle(sender.send(Buffer.from("x"), { signal: AbortSignal.timeout(20) }));
    assert.ok("err" in r && r.err instanceof AMQPError && r.err.name === "AbortError");
    assert.equal(sender.queued, 0);
    const pc = await p.connection();
    assert.equal(
      pc.frames.some((f) => f.name === "TRANSFER"),
      false,
    );
  });
});
