/**
 * What a client holds and how long it waits, by default: the bounded pending messages of a
 * `SendClient` (`maxPendingMessages`, `maxPendingBytes`, `PendingLimitExceeded`, `waitForRoom()`),
 * the default `msgTimeout` that ends a send to a peer that never grants credit or never settles,
 * and the `openTimeout` that ends an open against a peer that never answers OPEN or ATTACH
 * (docs/clients.md, SECURITY.md). The embedded broker plays the peer that works; the scripted peer
 * the ones that never answer.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { DEFAULTS, PendingLimitExceeded, ReceiveClient, SendClient } from "../../src/index.js";
import {
  AMQPAbortError,
  AMQPClientShutdown,
  ClientMessageError,
  ClientTimeout,
} from "../../src/errors/index.js";
import { SaslMechanisms, SaslOutcome } from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { startScriptedPeer, type ScriptedPeer } from "../support/scripted-peer.js";
import { observe, rejectionOf, within } from "../support/waits.js";
import { startBroker, until, type TestBroker } from "./support.js";

const bodyOf = (m: Message): string => m.toString();
const messages = (prefix: string, n: number): Message[] =>
  Array.from({ length: n }, (_, i) => new Message({ body: `${prefix}-${i}` }));

/** The messages `address` holds on the broker, drained with a receiver, in order. */
async function stored(t: TestBroker, address: string, n: number): Promise<string[]> {
  await using receiver = new ReceiveClient(t.url(address), { prefetch: Math.max(1, n) });
  const out: string[] = [];
  while (out.length < n) {
    const batch = await receiver.receiveMessageBatch({ maxBatchSize: n - out.length, timeout: 5000 });
    if (batch.length === 0) break;
    out.push(...batch.map(bodyOf));
  }
  return out;
}

describe("SendClient: the documented defaults bound every wait and what is held", () => {
  it("msgTimeout, maxPendingMessages, maxPendingBytes and openTimeout are finite, exported and applied", async () => {
    for (const name of ["msgTimeout", "maxPendingMessages", "maxPendingBytes", "openTimeout"] as const) {
      const v = DEFAULTS[name];
      assert.ok(Number.isFinite(v) && v > 0, `DEFAULTS.${name} = ${v}`);
    }
    assert.equal(DEFAULTS.msgTimeout, 60_000);
    assert.equal(DEFAULTS.openTimeout, 30_000);
    assert.equal(DEFAULTS.maxPendingMessages, 100_000);
    assert.equal(DEFAULTS.maxPendingBytes, 64 * 1024 * 1024);
    await using client = new SendClient("amqp://127.0.0.1:1/q");
    assert.equal(client.msgTimeout, DEFAULTS.msgTimeout);
    assert.equal(client.maxPendingMessages, DEFAULTS.maxPendingMessages);
    assert.equal(client.maxPendingBytes, DEFAULTS.maxPendingBytes);
    // 0 (no deadline) and Infinity (no bound) remain, as explicit choices.
    await using unbounded = new SendClient("amqp://127.0.0.1:1/q", {
      msgTimeout: 0,
      maxPendingMessages: Infinity,
      maxPendingBytes: Infinity,
    });
    assert.equal(unbounded.msgTimeout, 0);
    assert.equal(unbounded.maxPendingMessages, Infinity);
  });

  it("docs/clients.md states the same defaults", () => {
    const doc = readFileSync(new URL("../../docs/clients.md", import.meta.url), "utf8");
    for (const [name, value] of [
      ["msgTimeout", DEFAULTS.msgTimeout],
      ["maxPendingMessages", DEFAULTS.maxPendingMessages],
      ["maxPendingBytes", DEFAULTS.maxPendingBytes],
      ["openTimeout", DEFAULTS.openTimeout],
    ] as const) {
      const row = new RegExp(`\\| \`${name}\` \\| ${value} `);
      assert.ok(row.test(doc), `docs/clients.md has no row "| \`${name}\` | ${value} |"`);
    }
  });

  it("a bound that is neither an integer >= 1 nor Infinity is a RangeError", () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      assert.throws(() => new SendClient("amqp://127.0.0.1:1/q", { maxPendingMessages: bad }), RangeError);
      assert.throws(() => new SendClient("amqp://127.0.0.1:1/q", { maxPendingBytes: bad }), RangeError);
    }
  });
});

describe("SendClient: bounded pending messages", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker();
  });
  after(async () => {
    await t.broker.close();
  });

  it("beyond maxPendingMessages queueMessage throws PendingLimitExceeded, queues nothing of the call and loses nothing queued before", async () => {
    const client = new SendClient(t.url("count"), { maxPendingMessages: 5 });
    const first = messages("first", 3);
    client.queueMessage(...first);
    const refused = messages("refused", 3);
    const e = (() => {
      try {
        client.queueMessage(...refused);
      } catch (error) {
        return error;
      }
      return assert.fail("queueMessage should throw");
    })();
    assert.ok(e instanceof PendingLimitExceeded, String(e));
    assert.equal(e.code, "AMQP_PENDING_LIMIT_EXCEEDED");
    assert.equal(e.limit, "maxPendingMessages");
    assert.equal(e.messages, 3);
    assert.equal(
      e.bytes,
      refused.reduce((n, m) => n + m.encodedSize, 0),
    );
    assert.equal(e.retryable, true);
    assert.match(e.message, /maxPendingMessages is 5/);
    // All or nothing: the refused call left no trace; what was queued before is all there.
    assert.deepEqual(client.pendingMessages, first);
    assert.ok(refused.every((m) => m.state === MessageState.WaitingToBeSent && m.idleTime === 0));
    // Two fit.
    client.queueMessage(refused[0]!, refused[1]!);
    assert.equal(client.pendingMessages.length, 5);
    const extra = new Message({ body: "extra" });
    assert.throws(() => client.queueMessage(extra), PendingLimitExceeded);
    await assert.rejects(client.sendMessage(extra, { closeOnDone: false }), PendingLimitExceeded);
    assert.equal(client.pendingMessages.length, 5);
    assert.equal(client.state, "idle", "a refused sendMessage does not open the client");
    const states = await within(client.sendAllMessages(), "sendAllMessages()");
    assert.deepEqual(states, Array(5).fill(MessageState.SendComplete));
    assert.deepEqual(await stored(t, "count", 5), [
      "first-0",
      "first-1",
      "first-2",
      "refused-0",
      "refused-1",
    ]);
  });

  it("maxPendingBytes counts encoded sizes; an empty queue takes a message larger than the bound", async () => {
    const payload = (c: string): Message => new Message({ body: Buffer.alloc(1000, c) });
    const client = new SendClient(t.url("bytes"), { maxPendingBytes: 2500 });
    const a = payload("a");
    const b = payload("b");
    client.queueMessage(a, b);
    assert.equal(client.pendingBytes, a.encodedSize + b.encodedSize);
    const c = payload("c");
    const e = (() => {
      try {
        client.queueMessage(c);
      } catch (error) {
        return error;
      }
      return assert.fail("queueMessage should throw");
    })();
    assert.ok(e instanceof PendingLimitExceeded);
    assert.equal(e.limit, "maxPendingBytes");
    assert.equal(e.messages, 1);
    assert.equal(e.bytes, c.encodedSize);
    assert.deepEqual(client.pendingMessages, [a, b]);
    assert.deepEqual(await within(client.sendAllMessages(), "sendAllMessages()"), [
      MessageState.SendComplete,
      MessageState.SendComplete,
    ]);

    await using small = new SendClient(t.url("bytes-big"), { maxPendingBytes: 100 });
    const big = payload("z");
    small.queueMessage(big);
    assert.equal(small.pendingBytes, big.encodedSize);
    assert.ok(small.pendingBytes > small.maxPendingBytes);
    assert.throws(() => small.queueMessage(new Message({ body: "1" })), { limit: "maxPendingBytes" });
    await within(small.wait(), "wait()");
    assert.equal(big.state, MessageState.SendComplete);
    assert.equal(small.pendingBytes, 0);
    assert.equal(t.broker.stats("bytes-big").messageCount, 1);
  });

  it("a producer loop of 10× the bound waits for room and delivers every message, in order", async () => {
    const bound = 20;
    await using client = new SendClient(t.url("loop"), { maxPendingMessages: bound });
    const n = bound * 10;
    let refusals = 0;
    let most = 0;
    const loop = async (): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const m = new Message({ body: `loop-${i}` });
        try {
          client.queueMessage(m);
        } catch (e) {
          if (!(e instanceof PendingLimitExceeded)) throw e;
          refusals++;
          await client.waitForRoom({ messages: e.messages, bytes: e.bytes, timeout: 10_000 });
          client.queueMessage(m);
        }
        most = Math.max(most, client.pendingMessages.length);
      }
    };
    await within(loop(), "the producer loop", 20_000);
    await within(client.wait(), "wait()");
    assert.ok(refusals > 0, "the bound was reached");
    assert.ok(most <= bound, `at most ${bound} pending, saw ${most}`);
    const bodies = await stored(t, "loop", n);
    assert.deepEqual(
      bodies,
      Array.from({ length: n }, (_, i) => `loop-${i}`),
    );
  });

  it("waitForRoom: resolves at once with room, is served in order, and says at once when room never comes", async () => {
    await using client = new SendClient(t.url("room"), { maxPendingMessages: 2 });
    await within(client.waitForRoom(), "waitForRoom() with room");
    assert.equal(client.state, "idle", "room at once: nothing opened");
    await assert.rejects(client.waitForRoom({ messages: 3 }), RangeError);
    await assert.rejects(client.waitForRoom({ bytes: -1 }), RangeError);
    // @ts-expect-error an unknown option from JavaScript
    await assert.rejects(client.waitForRoom({ timout: 5 }), TypeError);
    client.queueMessage(...messages("room", 2));
    const order: string[] = [];
    const one = client.waitForRoom().then(() => order.push("one"));
    const two = client.waitForRoom({ messages: 2 }).then(() => order.push("two"));
    // No room: it opens the client, the pending messages drain, the waits end in order.
    await within(Promise.all([one, two]), "both waits for room");
    assert.deepEqual(order, ["one", "two"]);
    assert.equal(client.state, "open");
  });
});

describe("SendClient: peers that never grant credit, never settle, never answer", () => {
  it("a send to a peer that never grants credit ends with ClientTimeout at msgTimeout; nothing is transferred", async () => {
    const peer = await startScriptedPeer({ credit: 0 });
    try {
      await using client = new SendClient(`amqp://127.0.0.1:${peer.port}/q`, { msgTimeout: 300 });
      await client.open();
      const m = new Message({ body: "never credited" });
      const started = Date.now();
      const e = await rejectionOf(client.sendMessage(m), "sendMessage()");
      const took = Date.now() - started;
      assert.ok(e instanceof ClientMessageError, String(e));
      assert.ok(e.cause instanceof ClientTimeout);
      assert.ok(took >= 290, `failed after ${took} ms`);
      assert.equal(m.state, MessageState.SendFailed);
      assert.ok(m.sendError instanceof ClientTimeout);
      assert.equal(m.retries, 0);
      // The messages queued behind it fail in time too, and room comes back.
      const later = messages("later", 3);
      const results: MessageSendResult[] = [];
      for (const l of later) l.onSendComplete = (r) => results.push(r);
      client.queueMessage(...later);
      await within(client.wait(), "wait()");
      assert.deepEqual(results, Array(3).fill(MessageSendResult.Timeout));
      assert.equal(client.pendingBytes, 0);
      const c = await peer.connection();
      assert.equal(c.count("TRANSFER"), 0);
    } finally {
      await peer.close();
    }
  });

  it("a transfer whose outcome never comes fails at msgTimeout and gives its in-flight slot to the next message", async () => {
    const peer = await startScriptedPeer({ credit: 100 });
    try {
      await using client = new SendClient(`amqp://127.0.0.1:${peer.port}/q`, {
        msgTimeout: 1500,
        maxInFlight: 1,
      });
      await client.open();
      const first = new Message({ body: "first" });
      const second = new Message({ body: "second" });
      client.queueMessage(first);
      const c = await peer.connection();
      await c.frameNamed("TRANSFER");
      await new Promise((r) => setTimeout(r, 500));
      client.queueMessage(second);
      // One transfer at a time: the second waits until the first expires.
      assert.equal(c.count("TRANSFER"), 1);
      await within(
        new Promise<void>((resolve) => {
          first.onSendComplete = () => resolve();
        }),
        "the first message to expire",
      );
      assert.equal(first.state, MessageState.SendFailed);
      assert.ok(first.sendError instanceof ClientTimeout);
      await until(() => c.count("TRANSFER") === 2, "the second TRANSFER");
      await within(client.wait(), "wait()");
      assert.equal(second.state, MessageState.SendFailed);
      assert.ok(second.sendError instanceof ClientTimeout);
    } finally {
      await peer.close();
    }
  });

  it("waitForRoom on a peer that never grants credit: ClientTimeout at its timeout, AbortError on its signal, AMQPClientShutdown on close", async () => {
    const peer = await startScriptedPeer({ credit: 0 });
    try {
      const client = new SendClient(`amqp://127.0.0.1:${peer.port}/q`, {
        maxPendingMessages: 2,
        msgTimeout: 0,
      });
      const held = messages("held", 2);
      client.queueMessage(...held);
      const started = Date.now();
      const timedOut = await rejectionOf(client.waitForRoom({ timeout: 200 }), "waitForRoom({ timeout })");
      assert.ok(timedOut instanceof ClientTimeout, String(timedOut));
      assert.ok(Date.now() - started >= 190);
      assert.equal(client.state, "open", "waiting for room opened the client");
      const ac = new AbortController();
      const aborted = observe(client.waitForRoom({ signal: ac.signal }));
      ac.abort();
      assert.ok((await rejectionOf(aborted, "waitForRoom({ signal })")) instanceof AMQPAbortError);
      // Nothing queued was lost to the waits.
      assert.deepEqual(client.pendingMessages, held);
      const waiting = observe(client.waitForRoom());
      await client.close();
      assert.ok((await rejectionOf(waiting, "waitForRoom() at close")) instanceof AMQPClientShutdown);
      assert.ok(held.every((m) => m.state === MessageState.SendFailed));
      await assert.rejects(client.waitForRoom(), AMQPClientShutdown);
    } finally {
      await peer.close();
    }
  });

  /** A peer that does SASL and sends its AMQP header, then never answers the client's OPEN. */
  function neverOpens(peer: ScriptedPeer): void {
    void (async () => {
      await peer.headerNo(1);
      peer.header(ProtocolId.Sasl);
      peer.sasl(SaslMechanisms, { saslServerMechanisms: ["ANONYMOUS"] });
      await peer.frameNamed("SASL-INIT");
      peer.expectHeader();
      peer.sasl(SaslOutcome, { code: 0 });
      await peer.headerNo(2);
      peer.header(ProtocolId.Amqp);
    })().catch(() => undefined);
  }

  it("open() against a peer that never answers OPEN ends with ClientTimeout at openTimeout; the client stays idle", async () => {
    const server = await startScriptedPeer({ autoAnswer: false }, neverOpens);
    try {
      const client = new SendClient(`amqp://127.0.0.1:${server.port}/q`, { openTimeout: 300 });
      const m = new Message({ body: "never opened" });
      const started = Date.now();
      const e = await rejectionOf(client.sendMessage(m), "sendMessage() on a peer that never opens");
      const took = Date.now() - started;
      assert.ok(e instanceof ClientTimeout, String(e));
      // At openTimeout, not after the close that follows (which waits up to 5 s for the peer's CLOSE).
      assert.ok(took >= 290 && took < 3000, `failed after ${took} ms`);
      const c = await server.connection();
      assert.equal(c.count("OPEN"), 1);
      assert.equal(client.state, "idle");
      // The message was not lost: it is still queued, for a later open or close to settle.
      assert.deepEqual(client.pendingMessages, [m]);
      await client.close();
      assert.equal(m.state, MessageState.SendFailed);
      // The failed open's connection goes (close() waited for it).
      await c.ended();
    } finally {
      await server.close();
    }
  });

  it("open() against a peer that never answers ATTACH ends with ClientTimeout at openTimeout", async () => {
    const server = await startScriptedPeer({ autoAttach: false });
    try {
      await using client = new SendClient(`amqp://127.0.0.1:${server.port}/q`, { openTimeout: 300 });
      const e = await rejectionOf(client.open(), "open() on a peer that never attaches");
      assert.ok(e instanceof ClientTimeout, String(e));
      const c = await server.connection();
      assert.equal(c.count("ATTACH"), 1);
      assert.equal(client.state, "idle");
    } finally {
      await server.close();
    }
  });
});
