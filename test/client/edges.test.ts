/**
 * Edge cases of the client API a production messaging library must get right, not covered by the
 * other client suites: close() racing open(), calls after close(), AbortSignals before and during
 * each call, refused addresses and credentials without retry storms, an abruptly stopped broker
 * with recovery off and on, `await using`, breaking out of an iterator, and no handle left behind.
 * Faults come from the embedded broker's hooks, a silent TCP server, and frame-level scripts
 * (`ScriptedPeer` over an in-memory transport, through an auth whose `connect()` returns it).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { NoSASL, SASLAnonymous, SASLPlain } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { receiveMessage, receiveMessages, sendMessage } from "../../src/client/helpers.js";
import { MessageReceiverState, MessageSenderState } from "../../src/client/link-states.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { Session } from "../../src/client/session.js";
import {
  AMQPAbortError,
  AMQPClientShutdown,
  AMQPConnectionError,
  AuthenticationException,
  ClientTimeout,
  LinkDetach,
} from "../../src/errors/exceptions.js";
import { Attach, Begin, Close, Flow, type AttachFields } from "../../src/frames/performatives.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { createMemoryTransportPair } from "../../src/transport/memory.js";
import type { Transport } from "../../src/transport/transport.js";
import { ScriptedPeer, startScriptedPeer } from "../support/scripted-peer.js";
import { observe, rejectionOf, within } from "../support/waits.js";
import { recordStatus, startBroker, until, type TestBroker } from "./support.js";

// ---- helpers ---------------------------------------------------------------------------------------

/** A TCP server that accepts connections and never writes a byte (a hung broker). */
interface SilentServer {
  readonly port: number;
  /** Sockets accepted so far. */
  readonly accepted: number;
  /** Accepted sockets that are closed again. */
  readonly closed: number;
  close(): Promise<void>;
}

async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let closed = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on("error", () => undefined);
    s.resume(); // read (and drop) what the client writes, so its FIN is seen
    s.on("close", () => {
      closed++;
      sockets.delete(s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get closed() {
      return closed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** No SASL; every connect() returns an in-memory transport whose other end is a ScriptedPeer. */
class ScriptAuth extends NoSASL {
  readonly peers: ScriptedPeer[] = [];
  constructor() {
    super("script.invalid", { tls: false, port: 5672 });
  }
  override connect(): Promise<Transport> {
    const [ours, theirs] = createMemoryTransportPair();
    this.peers.push(new ScriptedPeer(theirs));
    return Promise.resolve(ours);
  }
  override withHost(): this {
    return this;
  }
}

/** SASL PLAIN that counts its connection attempts. */
class CountingPlain extends SASLPlain {
  connects = 0;
  override connect(signal?: AbortSignal): Promise<Transport> {
    this.connects++;
    return super.connect(signal);
  }
}

/** SASL ANONYMOUS that counts its connection attempts. */
class CountingAnonymous extends SASLAnonymous {
  connects = 0;
  override connect(signal?: AbortSignal): Promise<Transport> {
    this.connects++;
    return super.connect(signal);
  }
}

/** Receives (and accepts) `n` messages from `url`, batch by batch; fewer if the source runs dry. */
async function drain(url: string, n: number): Promise<string[]> {
  await using client = new ReceiveClient(url, { prefetch: n });
  const out: string[] = [];
  while (out.length < n) {
    const batch = await client.receiveMessageBatch({ maxBatchSize: n - out.length, timeout: 5000 });
    if (batch.length === 0) break;
    out.push(...batch.map(body));
  }
  return out;
}

/** Plays the peer up to (and including) the answer to BEGIN; returns the client's ATTACH. */
async function acceptUpToAttach(peer: ScriptedPeer): Promise<AttachFields> {
  await peer.acceptAmqp();
  const begin = await peer.frameNamed("BEGIN");
  peer.frame(0, Begin, {
    remoteChannel: begin.channel,
    nextOutgoingId: 0,
    incomingWindow: 1000,
    outgoingWindow: 1000,
  });
  const attach = await peer.frameNamed("ATTACH");
  return attach.fields as unknown as AttachFields;
}

/** The outcome of `p` (fails rather than hangs). */
async function outcomeOf<T>(
  p: Promise<T>,
  what: string,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return within(
    p.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    what,
    10_000,
  );
}

/** The rejection reason of an outcome (fails when it resolved). */
function errorOf(r: { ok: true; value: unknown } | { ok: false; error: unknown }): unknown {
  if (r.ok) assert.fail(`expected a rejection, got ${String(r.value)}`);
  return r.error;
}

/** Counts of the active handles of a kind that keeps the process alive (sockets, timers). */
function handles(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (r === "TTYWrap" || r === "FSReqCallback") continue;
    out.set(r, (out.get(r) ?? 0) + 1);
  }
  return out;
}

/** Waits until no kind of handle is more numerous than in `baseline`. */
async function noHandleAbove(baseline: Map<string, number>): Promise<void> {
  const excess = (): string[] =>
    [...handles()]
      .filter(([k, n]) => n > (baseline.get(k) ?? 0))
      .map(([k, n]) => `${k} ${n} > ${baseline.get(k) ?? 0}`);
  try {
    await until(() => excess().length === 0, "the handles to go", 5000);
  } catch {
    assert.fail(`handles left: ${excess().join(", ")}`);
  }
}

const body = (m: Message): string => m.toString();

// ---- close() racing open() -------------------------------------------------------------------------

describe("client edges: close() while open() is in progress", () => {
  let silent: SilentServer;
  before(async () => {
    silent = await silentServer();
  });
  after(async () => {
    await silent.close();
  });

  it("a hung peer: close() settles the pending open() with AMQPClientShutdown, resolves, and closes the socket", async () => {
    const client = new SendClient(`amqp://127.0.0.1:${silent.port}/q`);
    const status = recordStatus(client);
    const acceptedBefore = silent.accepted;
    const opening = observe(client.open());
    await until(() => silent.accepted === acceptedBefore + 1, "the TCP connection");
    assert.equal(client.state, "opening");
    const [closeResult, openResult] = await Promise.all([
      outcomeOf(client.close(), "close()"),
      outcomeOf(opening, "open()"),
    ]);
    assert.deepEqual(closeResult, { ok: true, value: undefined });
    assert.ok(errorOf(openResult) instanceof AMQPClientShutdown);
    assert.equal(client.state, "closed");
    assert.equal(await client.closed(), undefined);
    await until(() => silent.closed === silent.accepted, "the socket to close");
    await until(() => status.length > 0, "the closed status");
    assert.deepEqual(status, [{ type: "closed", error: undefined }]);
    await assert.rejects(client.open(), AMQPClientShutdown);
  });

  it("frame level: close() while the ATTACH is unanswered settles open(), writes CLOSE and resolves once the peer answers", async () => {
    const auth = new ScriptAuth();
    const client = new ReceiveClient("amqp://script.invalid/q", { auth });
    const opening = observe(client.open());
    await until(() => auth.peers.length === 1, "the transport");
    const peer = auth.peers[0]!;
    await acceptUpToAttach(peer);
    const closing = client.close();
    await peer.frameNamed("CLOSE");
    peer.frame(0, Close, {});
    const [closeResult, openResult] = await Promise.all([
      outcomeOf(closing, "close()"),
      outcomeOf(opening, "open()"),
    ]);
    assert.equal(closeResult.ok, true);
    assert.ok(errorOf(openResult) instanceof AMQPClientShutdown);
    await within(peer.ended(), "the transport to close");
    assert.equal(peer.count("FLOW"), 0, "no credit for a link that never attached");
    assert.equal(client.state, "closed");
  });

  it("receive calls pending while the client opens end as on a close of an open client: [] and a finished loop", async () => {
    const client = new ReceiveClient(`amqp://127.0.0.1:${silent.port}/q`);
    const acceptedBefore = silent.accepted;
    const batch = observe(client.receiveMessageBatch());
    const handled: Message[] = [];
    const handler = observe(
      client.receiveMessages((m) => {
        handled.push(m);
      }),
    );
    const loop = observe(
      (async () => {
        for await (const _ of client) assert.fail("no message expected");
        return "ended";
      })(),
    );
    await until(() => silent.accepted === acceptedBefore + 1, "the TCP connection");
    await client.close();
    assert.deepEqual(await outcomeOf(batch, "receiveMessageBatch()"), { ok: true, value: [] });
    assert.deepEqual(await outcomeOf(handler, "receiveMessages()"), { ok: true, value: undefined });
    assert.deepEqual(await outcomeOf(loop, "the for-await loop"), { ok: true, value: "ended" });
    assert.equal(handled.length, 0);
  });

  it("a sendMessage pending while the client opens rejects with AMQPClientShutdown; its message fails once", async () => {
    const client = new SendClient(`amqp://127.0.0.1:${silent.port}/q`);
    const acceptedBefore = silent.accepted;
    const m = new Message({ body: "x" });
    const calls: MessageSendResult[] = [];
    m.onSendComplete = (result) => calls.push(result);
    const sending = observe(client.sendMessage(m));
    await until(() => silent.accepted === acceptedBefore + 1, "the TCP connection");
    await client.close();
    const r = await outcomeOf(sending, "sendMessage()");
    assert.ok(errorOf(r) instanceof AMQPClientShutdown);
    assert.equal(m.state, MessageState.SendFailed);
    assert.ok(m.sendError instanceof AMQPClientShutdown);
    assert.deepEqual(calls, [MessageSendResult.Cancelled]);
    assert.equal(client.hasPendingMessages, false);
  });
});

// ---- after close(), concurrent close(), await using -------------------------------------------------

describe("client edges: calls after close(), concurrent close(), await using", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker();
  });
  after(async () => {
    await t.broker.close();
  });

  it("every call on a closed SendClient rejects at once with AMQPClientShutdown and nothing reconnects", async () => {
    const client = new SendClient(t.url("after-close-s"));
    await client.sendMessage(new Message({ body: "x" }));
    await client.close();
    const opens = t.events.filter((e) => e.type === "connection-open").length;
    for (const [what, call] of [
      ["sendMessage", () => client.sendMessage(new Message({ body: "y" }))],
      ["sendAllMessages", () => client.sendAllMessages()],
      ["wait", () => client.wait()],
      ["open", () => client.open()],
      ["clientReady", () => client.clientReady()],
      ["authComplete", () => client.authComplete()],
    ] as const) {
      const e = await rejectionOf((call as () => Promise<unknown>)(), what);
      assert.ok(e instanceof AMQPClientShutdown, `${what}: ${String(e)}`);
      assert.equal(e.retryable, false);
    }
    assert.throws(() => {
      client.queueMessage(new Message({ body: "z" }));
    }, AMQPClientShutdown);
    assert.equal(client.hasPendingMessages, false);
    assert.equal(t.events.filter((e) => e.type === "connection-open").length, opens);
    assert.equal(client.state, "closed");
  });

  it("every call on a closed ReceiveClient rejects at once with AMQPClientShutdown and nothing reconnects", async () => {
    const client = new ReceiveClient(t.url("after-close-r"));
    await client.open();
    await client.close();
    const attaches = t.attaches("after-close-r", "receiver");
    for (const [what, call] of [
      ["receiveMessageBatch", () => client.receiveMessageBatch({ timeout: 5000 })],
      ["receiveMessages", () => client.receiveMessages(() => undefined)],
      ["iterator", () => client[Symbol.asyncIterator]().next()],
      ["receiveMessagesIter", () => client.receiveMessagesIter().next()],
    ] as const) {
      const e = await rejectionOf((call as () => Promise<unknown>)(), what);
      assert.ok(e instanceof AMQPClientShutdown, `${what}: ${String(e)}`);
    }
    assert.equal(t.attaches("after-close-r", "receiver"), attaches);
  });

  it("concurrent close() calls and disposal all resolve; one closed status; pending calls end once", async () => {
    const client = new ReceiveClient(t.url("concurrent-close"));
    const status = recordStatus(client);
    await client.open();
    const batch = client.receiveMessageBatch();
    const results = await Promise.all([
      outcomeOf(client.close(), "close() #1"),
      outcomeOf(client.close(), "close() #2"),
      outcomeOf(client[Symbol.asyncDispose](), "asyncDispose"),
      outcomeOf(batch, "the pending batch"),
    ]);
    assert.deepEqual(results, [
      { ok: true, value: undefined },
      { ok: true, value: undefined },
      { ok: true, value: undefined },
      { ok: true, value: [] },
    ]);
    await outcomeOf(client.close(), "close() after close()");
    await until(() => status.length > 0, "the closed status");
    assert.deepEqual(status, [{ type: "closed", error: undefined }]);
    await until(() => t.broker.stats("concurrent-close").consumerCount === 0, "the consumer to go");
  });

  it("await using closes the client (and ends a pending receive) when the block is left, also by a throw", async () => {
    let sender: SendClient | undefined;
    let receiver: ReceiveClient | undefined;
    let pending: Promise<Message[]> | undefined;
    await assert.rejects(async () => {
      await using s = new SendClient(t.url("using"));
      await using r = new ReceiveClient(t.url("using-r"));
      sender = s;
      receiver = r;
      await s.sendMessage(new Message({ body: "x" }));
      await r.open();
      pending = observe(r.receiveMessageBatch());
      throw new Error("leave the block");
    }, /leave the block/);
    assert.equal(sender?.state, "closed");
    assert.equal(receiver?.state, "closed");
    assert.deepEqual(await outcomeOf(pending!, "the pending batch"), { ok: true, value: [] });
    await until(() => t.broker.stats("using-r").consumerCount === 0, "the consumer to go");
    await until(() => t.broker.stats("using").producerCount === 0, "the producer to go");
    // A client that never opened disposes without a connection.
    {
      await using idle = new SendClient(t.url("using"));
      assert.equal(idle.state, "idle");
    }
  });

  it("await using on the low-level Connection, MessageSender and MessageReceiver detaches and closes", async () => {
    const auth = new SASLAnonymous("127.0.0.1", { tls: false, port: t.broker.port! });
    let conn: Connection | undefined;
    let sender: MessageSender | undefined;
    let receiver: MessageReceiver | undefined;
    {
      await using c = new Connection("127.0.0.1", auth);
      await using session = new Session(c);
      await using s = new MessageSender(session, "me", "ll-using");
      await using r = new MessageReceiver(session, "ll-using", "me", { prefetch: 1 });
      conn = c;
      sender = s;
      receiver = r;
      await Promise.all([s.open(), r.open()]);
      assert.equal((await s.send(new Message({ body: "x" }))).result, MessageSendResult.Ok);
    }
    assert.equal(sender.state, MessageSenderState.Idle);
    assert.equal(receiver.state, MessageReceiverState.Idle);
    assert.equal(conn.state, "closed");
    assert.equal(await conn.closed(), undefined);
    await until(() => t.broker.connectionCount === 0, "the broker to see the connection go");
  });
});

// ---- AbortSignal -----------------------------------------------------------------------------------

describe("client edges: AbortSignal before and during open, send and receive", () => {
  let t: TestBroker;
  let silent: SilentServer;
  before(async () => {
    t = await startBroker({ hooks: { hold: { neverSettle: true } } });
    silent = await silentServer();
  });
  after(async () => {
    await t.broker.close();
    await silent.close();
  });

  it("open() with an aborted signal rejects with AMQPAbortError (cause = reason); the client stays idle and opens later", async () => {
    const client = new SendClient(t.url("abort-open"));
    const reason = new Error("not now");
    const e = await rejectionOf(client.open({ signal: AbortSignal.abort(reason) }), "open()");
    assert.ok(e instanceof AMQPAbortError);
    assert.equal(e.name, "AbortError");
    assert.equal(e.cause, reason);
    assert.equal(client.state, "idle");
    await client.open();
    assert.equal(client.state, "open");
    await client.close();
  });

  it("open() aborted while the peer is silent rejects with AMQPAbortError, closes the socket, leaves the client idle", async () => {
    const client = new ReceiveClient(`amqp://127.0.0.1:${silent.port}/q`);
    const acceptedBefore = silent.accepted;
    const ac = new AbortController();
    const opening = observe(client.open({ signal: ac.signal }));
    await until(() => silent.accepted === acceptedBefore + 1, "the TCP connection");
    ac.abort();
    const e = await rejectionOf(opening, "open()");
    assert.ok(e instanceof AMQPAbortError);
    assert.equal(client.state, "idle");
    await until(() => silent.closed === silent.accepted, "the socket to close");
    await client.close();
  });

  it("one caller's abort does not fail another call waiting for the same open", async () => {
    const client = new SendClient(t.url("abort-shared"));
    const ac = new AbortController();
    const a = new Message({ body: "a" });
    const b = new Message({ body: "b" });
    const first = observe(client.sendMessage(a, { signal: ac.signal }));
    const second = observe(client.sendMessage(b));
    ac.abort();
    const r1 = await outcomeOf(first, "the aborted sendMessage");
    assert.ok(errorOf(r1) instanceof AMQPAbortError);
    assert.deepEqual(await outcomeOf(second, "the other sendMessage"), { ok: true, value: undefined });
    assert.equal(b.state, MessageState.SendComplete);
    assert.equal(a.state, MessageState.SendFailed);
    assert.equal(client.state, "open");
    await client.close();
    assert.deepEqual(
      t.transfers("abort-shared").map((e) => body(Message.decode(e.payload))),
      ["b"],
    );
  });

  it("sendMessage with an aborted signal on an open client sends nothing; the message is cancelled", async () => {
    await using client = new SendClient(t.url("abort-send"));
    await client.open();
    const m = new Message({ body: "never" });
    const calls: MessageSendResult[] = [];
    m.onSendComplete = (result) => calls.push(result);
    const e = await rejectionOf(client.sendMessage(m, { signal: AbortSignal.abort() }), "sendMessage()");
    assert.ok(e instanceof AMQPAbortError);
    assert.equal(m.state, MessageState.SendFailed);
    assert.deepEqual(calls, [MessageSendResult.Cancelled]);
    // The next message is sent on the same link: the aborted one never went out.
    await client.sendMessage(new Message({ body: "next" }));
    assert.deepEqual(
      t.transfers("abort-send").map((ev) => body(Message.decode(ev.payload))),
      ["next"],
    );
  });

  it("sendMessage aborted while waiting for the outcome rejects at once; the client stays open and usable", async () => {
    await using client = new SendClient(t.url("hold"));
    const ac = new AbortController();
    const pending = observe(client.sendMessage(new Message({ body: "held" }), { signal: ac.signal }));
    await until(() => t.transfers("hold").length === 1, "the transfer");
    ac.abort();
    const e = await rejectionOf(pending, "sendMessage()");
    assert.ok(e instanceof AMQPAbortError);
    assert.equal(client.state, "open");
    t.broker.setHooks("hold", undefined);
    try {
      await within(client.sendMessage(new Message({ body: "after" })), "the next sendMessage", 10_000);
    } finally {
      t.broker.setHooks("hold", { neverSettle: true });
    }
  });

  it("frame level: sendMessage aborted while the link has no credit cancels the message; it is never transferred", async () => {
    const auth = new ScriptAuth();
    const client = new SendClient("amqp://script.invalid/q", { auth, reconnect: false });
    const opening = observe(client.open());
    await until(() => auth.peers.length === 1, "the transport");
    const peer = auth.peers[0]!;
    const attach = await acceptUpToAttach(peer);
    const { initialDeliveryCount: _count, ...fields } = attach;
    peer.frame(0, Attach, { ...fields, role: true });
    await within(opening, "open()");
    const ac = new AbortController();
    const m = new Message({ body: "no credit" });
    const pending = observe(client.sendMessage(m, { signal: ac.signal }));
    ac.abort();
    const e = await rejectionOf(pending, "sendMessage()");
    assert.ok(e instanceof AMQPAbortError);
    assert.equal(m.state, MessageState.SendFailed);
    // Credit arrives: only the next message goes out.
    peer.frame(0, Flow, {
      nextIncomingId: 0,
      incomingWindow: 1000,
      nextOutgoingId: 0,
      outgoingWindow: 1000,
      handle: attach.handle,
      deliveryCount: 0,
      linkCredit: 10,
    });
    const next = observe(client.sendMessage(new Message({ body: "with credit" })));
    await peer.frameNamed("TRANSFER");
    await new Promise((r) => setImmediate(r));
    assert.equal(peer.count("TRANSFER"), 1);
    const closing = client.close();
    await peer.frameNamed("CLOSE");
    peer.frame(0, Close, {});
    await within(closing, "close()");
    await assert.rejects(next, AMQPClientShutdown);
  });

  it("receiveMessageBatch / receiveMessages with an aborted signal reject and take no buffered message", async () => {
    await sendMessage(t.url("abort-rx"), "kept");
    await using client = new ReceiveClient(t.url("abort-rx"));
    await client.open();
    await until(() => client.bufferedCount === 1, "the buffered message");
    const e1 = await rejectionOf(
      client.receiveMessageBatch({ signal: AbortSignal.abort() }),
      "receiveMessageBatch()",
    );
    assert.ok(e1 instanceof AMQPAbortError);
    const seen: string[] = [];
    const e2 = await rejectionOf(
      client.receiveMessages(
        (m) => {
          seen.push(body(m));
        },
        { signal: AbortSignal.abort() },
      ),
      "receiveMessages()",
    );
    assert.ok(e2 instanceof AMQPAbortError);
    assert.deepEqual(seen, []);
    assert.equal(client.bufferedCount, 1);
    const batch = await client.receiveMessageBatch();
    assert.deepEqual(batch.map(body), ["kept"]);
  });

  it("receiveMessages and the iterator aborted while waiting reject with AMQPAbortError; the client stays usable", async () => {
    await using client = new ReceiveClient(t.url("abort-loop"));
    const ac = new AbortController();
    const loop = observe(
      client.receiveMessages(() => assert.fail("no message expected"), { signal: ac.signal }),
    );
    await until(() => client.isReady, "open");
    ac.abort();
    assert.ok((await rejectionOf(loop, "receiveMessages()")) instanceof AMQPAbortError);
    const ac2 = new AbortController();
    const iterated = observe(
      (async () => {
        for await (const _ of client.receiveMessagesIter({ signal: ac2.signal })) assert.fail("no message");
      })(),
    );
    await new Promise((r) => setImmediate(r));
    ac2.abort();
    assert.ok((await rejectionOf(iterated, "the iterator")) instanceof AMQPAbortError);
    assert.equal(client.state, "open");
    await sendMessage(t.url("abort-loop"), "after");
    assert.deepEqual((await client.receiveMessageBatch()).map(body), ["after"]);
  });
});

// ---- refused addresses and credentials ---------------------------------------------------------------

describe("client edges: refused address and wrong credentials (no retry storm)", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker({
      queues: { autoCreate: false, names: ["exists", "doomed"] },
      sasl: { users: { alice: "secret" }, allowAnonymous: true },
    });
  });
  after(async () => {
    await t.broker.close();
  });

  it("an unknown node (default policy and recovery): typed LinkDetach amqp:not-found after exactly one ATTACH", async () => {
    const sender = new SendClient(t.url("missing"));
    const status = recordStatus(sender);
    const e1 = await rejectionOf(sender.sendMessage(new Message({ body: "x" })), "sendMessage()");
    assert.ok(e1 instanceof LinkDetach);
    assert.equal(e1.code, "AMQP_LINK_DETACHED");
    assert.equal(e1.condition, "amqp:not-found");
    assert.equal(e1.retryable, false);
    assert.equal(sender.state, "idle");
    assert.equal(t.attaches("missing", "sender"), 1);
    assert.ok(!status.some((s) => s.type === "reconnecting"));
    await sender.close();

    const receiver = new ReceiveClient(t.url("missing"));
    const e2 = await rejectionOf(receiver.receiveMessageBatch({ timeout: 5000 }), "receiveMessageBatch()");
    assert.ok(e2 instanceof LinkDetach);
    assert.equal(e2.condition, "amqp:not-found");
    assert.equal(t.attaches("missing", "receiver"), 1);
    await receiver.close();

    const e3 = await rejectionOf(sendMessage(t.url("missing"), "x"), "the sendMessage helper");
    assert.ok(e3 instanceof LinkDetach);
    const e4 = await rejectionOf(receiveMessage(t.url("missing"), { timeout: 5000 }), "receiveMessage");
    assert.ok(e4 instanceof LinkDetach);
    assert.equal(t.attaches("missing", "sender"), 2);
    assert.equal(t.attaches("missing", "receiver"), 2);
    await until(() => t.broker.connectionCount === 0, "every connection to close");
  });

  it("close() while a failed open is being torn down: the client ends closed, not idle", async () => {
    const sender = new SendClient(t.url("missing"), { reconnect: false });
    const opening = sender.open();
    await until(() => sender.connection !== undefined, "the connection to exist");
    const conn = sender.connection;
    assert.ok(conn);
    // The failed open closes its connection: close() the client at that very moment.
    let closing: Promise<void> | undefined;
    const closeConnection = conn.close.bind(conn);
    conn.close = (error) => {
      closing ??= sender.close();
      return closeConnection(error);
    };
    const e = await rejectionOf(opening, "open()");
    assert.ok(e instanceof AMQPClientShutdown || e instanceof LinkDetach, String(e));
    assert.ok(closing, "the failed open closed its connection");
    await closing;
    await until(() => sender.state === "closed", "every teardown to finish");
    await new Promise((r) => setTimeout(r, 30)); // nothing may reopen it afterwards
    assert.equal(sender.state, "closed");
    const again = await rejectionOf(sender.open(), "open() after close()");
    assert.ok(again instanceof AMQPClientShutdown);
  });

  it("a queue deleted under an attached receiver fails it at once with amqp:resource-deleted, without reconnecting", async () => {
    const client = new ReceiveClient(t.url("doomed"), { reconnect: { initialMs: 5, maxMs: 10 } });
    const status = recordStatus(client);
    const pending = observe(client.receiveMessageBatch());
    await until(() => client.isReady, "open");
    assert.equal(t.broker.deleteQueue("doomed"), true);
    const e = await rejectionOf(pending, "receiveMessageBatch()");
    assert.ok(e instanceof LinkDetach);
    assert.equal(e.condition, "amqp:resource-deleted");
    assert.equal(e.retryable, false);
    assert.equal(client.state, "failed");
    assert.equal(await client.closed(), e);
    assert.ok(!status.some((s) => s.type === "reconnecting"));
    assert.equal(t.attaches("doomed", "receiver"), 1);
    await assert.rejects(client.receiveMessageBatch(), LinkDetach);
    await client.close();
  });

  it("wrong SASL credentials: AuthenticationException from every entry point, one connection attempt each", async () => {
    const auth = new CountingPlain("127.0.0.1", "alice", "wrong", { tls: false, port: t.broker.port! });
    const sender = new SendClient(t.url("exists"), { auth });
    const status = recordStatus(sender);
    const e1 = await rejectionOf(sender.sendMessage(new Message({ body: "x" })), "sendMessage()");
    assert.ok(e1 instanceof AuthenticationException);
    assert.equal(e1.retryable, false);
    assert.equal(auth.connects, 1);
    assert.equal(sender.state, "idle");
    assert.ok(!status.some((s) => s.type === "reconnecting"));
    await sender.close();

    const receiver = new ReceiveClient(t.url("exists"), { auth });
    const loop = (async () => {
      for await (const _ of receiver) assert.fail("no message expected");
    })();
    assert.ok((await rejectionOf(loop, "the iterator")) instanceof AuthenticationException);
    assert.equal(auth.connects, 2);
    await receiver.close();

    const e3 = await rejectionOf(
      receiveMessages(t.url("exists"), { auth, timeout: 5000 }),
      "receiveMessages",
    );
    assert.ok(e3 instanceof AuthenticationException);
    assert.equal(auth.connects, 3);
    const conn = new Connection("127.0.0.1", auth);
    assert.ok((await rejectionOf(conn.open(), "Connection.open()")) instanceof AuthenticationException);
    assert.equal(auth.connects, 4);
    assert.ok((await conn.closed()) instanceof AuthenticationException);
    await conn.close();
    await until(() => t.broker.connectionCount === 0, "every connection to close");
  });
});

// ---- broker stopped abruptly -------------------------------------------------------------------------

describe("client edges: broker stopped abruptly while sends are in flight", () => {
  it("recovery off: every pending call and message settles once with the typed connection error", async () => {
    const t = await startBroker({ hooks: { held: { neverSettle: true } } });
    try {
      const client = new SendClient(t.url("held"), { reconnect: false });
      const completions = new Map<Message, MessageSendResult[]>();
      const track = (m: Message): Message => {
        completions.set(m, []);
        m.onSendComplete = (result) => completions.get(m)!.push(result);
        return m;
      };
      for (let i = 0; i < 10; i++) client.queueMessage(track(new Message({ body: `q${i}` })));
      const all = outcomeOf(client.sendAllMessages({ closeOnDone: false }), "sendAllMessages()");
      const singles = Array.from({ length: 5 }, (_, i) =>
        outcomeOf(client.sendMessage(track(new Message({ body: `s${i}` }))), `sendMessage #${i}`),
      );
      await until(() => t.transfers("held").length === 15, "15 transfers in flight");
      await t.broker.stop({ abrupt: true });
      const results = [await all, ...(await Promise.all(singles))];
      const error = await client.closed();
      assert.ok(error instanceof AMQPConnectionError, String(error));
      assert.equal(error.retryable, true);
      for (const r of results) assert.equal(errorOf(r), error);
      for (const [m, calls] of completions) {
        assert.equal(m.state, MessageState.SendFailed);
        assert.equal(m.sendError, error);
        assert.equal(calls.length, 1);
      }
      assert.equal(client.state, "failed");
      assert.equal(client.hasPendingMessages, false);
      await assert.rejects(client.sendMessage(new Message({ body: "later" })), (e) => e === error);
      await client.close();
    } finally {
      await t.broker.close();
    }
  });

  it("recovery on: sendMessage calls in flight across an abrupt stop and restart all complete; every message is stored", async () => {
    const t = await startBroker({ hooks: { held: { neverSettle: true } } });
    try {
      const client = new SendClient(t.url("held"), { reconnect: { initialMs: 20, maxMs: 100 } });
      const status = recordStatus(client);
      const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
      const sends = bodies.map((b) => outcomeOf(client.sendMessage(new Message({ body: b })), b));
      await until(() => t.transfers("held").length === bodies.length, "every transfer in flight");
      await t.broker.stop({ abrupt: true });
      t.broker.setHooks("held", undefined);
      await t.broker.restart();
      for (const r of await Promise.all(sends)) assert.deepEqual(r, { ok: true, value: undefined });
      const reconnected = status.find((s) => s.type === "reconnected");
      assert.ok(reconnected?.type === "reconnected");
      assert.equal(reconnected.resent, bodies.length);
      assert.ok(status.some((s) => s.type === "disconnected"));
      await client.close();
      const stored = await drain(t.url("held"), bodies.length);
      assert.deepEqual(stored.sort(), [...bodies].sort());
      await until(() => t.broker.stats("held").messageCount === 0, "no duplicate left behind");
    } finally {
      await t.broker.close();
    }
  });
});

// ---- iterators broken out of early ---------------------------------------------------------------------

describe("client edges: breaking out of a receive loop", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker();
  });
  after(async () => {
    await t.broker.close();
  });

  async function fill(queue: string, n: number): Promise<void> {
    const c = new SendClient(t.url(queue));
    for (let i = 0; i < n; i++) c.queueMessage(new Message({ body: `m${i}` }));
    assert.ok((await c.sendAllMessages()).every((s) => s === MessageState.SendComplete));
  }

  it("break keeps credit bounded; after close the unconsumed messages go to the next receiver, in order", async () => {
    await fill("brk", 10);
    const client = new ReceiveClient(t.url("brk"), { prefetch: 5 });
    const first: string[] = [];
    for await (const m of client) {
      first.push(body(m));
      if (first.length === 2) break;
    }
    assert.deepEqual(first, ["m0", "m1"]);
    await until(() => t.outcomes("brk").length === 2, "the two accepts");
    assert.ok(client.bufferedCount + client.receiver!.credit <= 5);
    assert.ok(t.broker.stats("brk").lockedCount <= 5);
    await client.close();
    await until(() => t.broker.stats("brk").lockedCount === 0, "the locks to be released");
    const stats = t.broker.stats("brk");
    assert.equal(stats.messageCount, 8);
    assert.equal(stats.consumerCount, 0);
    assert.deepEqual(await drain(t.url("brk"), 8), ["m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"]);
    await until(() => t.broker.stats("brk").messageCount === 0, "nothing left behind");
  });

  it("an empty source: the handler loop and the iterator end at the inactivity timeout; without shutdown the link stays", async () => {
    await using client = new ReceiveClient(t.url("empty"), { timeout: 100, shutdownAfterTimeout: false });
    let calls = 0;
    await within(
      client.receiveMessages(() => {
        calls++;
      }),
      "receiveMessages()",
      10_000,
    );
    const receiver = client.receiver;
    const seen: Message[] = [];
    for await (const m of client) seen.push(m);
    assert.equal(calls + seen.length, 0);
    assert.equal(client.state, "open");
    assert.equal(client.receiver, receiver);
    await sendMessage(t.url("empty"), "late");
    assert.deepEqual((await client.receiveMessageBatch()).map(body), ["late"]);
  });

  it("autoComplete off: the message held at the break is not settled and is redelivered after close", async () => {
    await fill("brk-held", 3);
    const client = new ReceiveClient(t.url("brk-held"), { autoComplete: false, prefetch: 2 });
    let held: Message | undefined;
    for await (const m of client) {
      held = m;
      break;
    }
    assert.equal(held?.state, MessageState.ReceivedUnsettled);
    await client.close();
    await until(() => t.broker.stats("brk-held").lockedCount === 0, "the locks to be released");
    assert.equal(t.outcomes("brk-held").length, 0);
    const again = await receiveMessage(t.url("brk-held"), { timeout: 5000 });
    assert.equal(again && body(again), "m0");
  });
});

// ---- low-level API ---------------------------------------------------------------------------------

describe("client edges: low-level Connection, MessageSender, MessageReceiver", () => {
  let t: TestBroker;
  let silent: SilentServer;
  before(async () => {
    t = await startBroker({ queues: { autoCreate: false, names: ["ll"] } });
    silent = await silentServer();
  });
  after(async () => {
    await t.broker.close();
    await silent.close();
  });

  const anonymous = (port: number): SASLAnonymous => new SASLAnonymous("127.0.0.1", { tls: false, port });

  it("Connection.open() with an aborted signal rejects with AMQPAbortError and connects nowhere", async () => {
    const auth = new CountingAnonymous("127.0.0.1", { tls: false, port: t.broker.port! });
    const conn = new Connection("127.0.0.1", auth);
    const e = await rejectionOf(conn.open({ signal: AbortSignal.abort() }), "Connection.open()");
    assert.ok(e instanceof AMQPAbortError);
    assert.notEqual(conn.state, "open");
    assert.equal(auth.connects, 0);
    await conn.close();
  });

  it("Connection.open() aborted during the handshake rejects with AMQPAbortError and closes the socket", async () => {
    const acceptedBefore = silent.accepted;
    const conn = new Connection("127.0.0.1", anonymous(silent.port));
    const ac = new AbortController();
    const opening = observe(conn.open({ signal: ac.signal }));
    await until(() => silent.accepted === acceptedBefore + 1, "the TCP connection");
    ac.abort();
    assert.ok((await rejectionOf(opening, "Connection.open()")) instanceof AMQPAbortError);
    await until(() => silent.closed === silent.accepted, "the socket to close");
    await conn.close();
  });

  it("Connection.close() during open(): open rejects, close resolves, the state is closed with no error", async () => {
    const conn = new Connection("127.0.0.1", anonymous(t.broker.port!));
    const opening = observe(conn.open());
    const closing = conn.close();
    const [o, c] = await Promise.all([outcomeOf(opening, "open()"), outcomeOf(closing, "close()")]);
    assert.ok(errorOf(o) instanceof AMQPClientShutdown);
    assert.equal(c.ok, true);
    await new Promise((r) => setImmediate(r));
    assert.equal(conn.state, "closed");
    assert.equal(await conn.closed(), undefined);
    await assert.rejects(conn.open(), AMQPClientShutdown);
  });

  it("links to an unknown node: open() rejects with LinkDetach amqp:not-found; a later send reports Cancelled", async () => {
    await using conn = new Connection("127.0.0.1", anonymous(t.broker.port!));
    const session = conn.createSession();
    const sender = new MessageSender(session, "me", "nowhere");
    const receiver = new MessageReceiver(session, "nowhere", "me");
    const [es, er] = await Promise.all([
      rejectionOf(sender.open(), "MessageSender.open()"),
      rejectionOf(receiver.open(), "MessageReceiver.open()"),
    ]);
    for (const e of [es, er]) {
      assert.ok(e instanceof LinkDetach);
      assert.equal(e.condition, "amqp:not-found");
    }
    assert.equal(sender.state, MessageSenderState.Error);
    assert.equal(receiver.state, MessageReceiverState.Error);
    const outcome = await within(sender.send(new Message({ body: "x" })), "send()");
    assert.equal(outcome.result, MessageSendResult.Cancelled);
    assert.ok(outcome.error instanceof LinkDetach);
  });

  it("a send on a link whose connection was closed reports Cancelled with AMQPClientShutdown, never hangs", async () => {
    const conn = new Connection("127.0.0.1", anonymous(t.broker.port!));
    const session = conn.createSession();
    const sender = new MessageSender(session, "me", "ll");
    await sender.open();
    await conn.close();
    const outcome = await within(sender.send(new Message({ body: "x" })), "send()");
    assert.equal(outcome.result, MessageSendResult.Cancelled);
    // The engine fails the link with a condition-less connection error; the client, which closed
    // the connection itself, says AMQPClientShutdown (one object, the sticky error of the link).
    assert.ok(outcome.error instanceof AMQPClientShutdown, String(outcome.error));
    assert.ok(outcome.error.cause instanceof AMQPConnectionError);
    assert.equal(sender.error, outcome.error);
    assert.ok(session.error instanceof AMQPClientShutdown);
    assert.throws(() => conn.createSession(), AMQPClientShutdown);
    await within(sender.close(), "MessageSender.close()");
  });

  it("sends pending when the link, the session or the connection is closed end Cancelled with AMQPClientShutdown", async () => {
    const peer = await startScriptedPeer({ credit: 0 });
    try {
      for (const close of ["link", "session", "connection"] as const) {
        const conn = new Connection("127.0.0.1", anonymous(peer.port), { closeTimeoutMs: 200 });
        const session = conn.createSession();
        const sender = new MessageSender(session, "me", "q");
        const receiver = new MessageReceiver(session, "q", "me");
        await Promise.all([sender.open(), receiver.open()]);
        const sending = sender.send(new Message({ body: "x" }));
        const draining = receiver.drain().then(
          () => undefined,
          (e: unknown) => e,
        );
        if (close === "link") {
          void sender.close();
          void receiver.close();
        } else if (close === "session") {
          void session.close();
        } else {
          void conn.close();
        }
        const outcome = await within(sending, `send() after closing the ${close}`);
        assert.equal(outcome.result, MessageSendResult.Cancelled, close);
        assert.ok(outcome.error instanceof AMQPClientShutdown, `${close}: ${String(outcome.error)}`);
        const drained = await within(draining, `drain() after closing the ${close}`);
        assert.ok(drained instanceof AMQPClientShutdown, `${close}: ${String(drained)}`);
        await conn.close();
      }
    } finally {
      await peer.close();
    }
  });

  it("send({ timeout }): Timeout with ClientTimeout, the message taken back while it waits for credit", async () => {
    const peer = await startScriptedPeer({ credit: 0 });
    try {
      await using conn = new Connection("127.0.0.1", anonymous(peer.port), { closeTimeoutMs: 200 });
      const sender = new MessageSender(conn.createSession(), "me", "q");
      await sender.open();
      const started = Date.now();
      const outcome = await within(sender.send(new Message({ body: "x" }), { timeout: 50 }), "send()");
      assert.equal(outcome.result, MessageSendResult.Timeout);
      assert.ok(outcome.error instanceof ClientTimeout, String(outcome.error));
      assert.match(outcome.error.message, /message send timed out after 50 ms/);
      assert.ok(Date.now() - started >= 45);
      assert.equal(sender.queued, 0);
      // A signal that aborts first is an abort, not a timeout.
      const aborted = await within(
        sender.send(new Message({ body: "y" }), { timeout: 5000, signal: AbortSignal.timeout(20) }),
        "send() with a signal",
      );
      assert.equal(aborted.result, MessageSendResult.Cancelled);
      assert.ok(aborted.error instanceof AMQPAbortError);
      const c = await peer.connection();
      assert.equal(c.count("TRANSFER"), 0);
    } finally {
      await peer.close();
    }
  });

  it("send({ timeout }) with the delivery out: Timeout when no outcome arrives in time", async () => {
    const broker = await startBroker({ hooks: { silent: { neverSettle: true } } });
    try {
      await using conn = new Connection("127.0.0.1", anonymous(broker.broker.port!));
      const sender = new MessageSender(conn.createSession(), "me", "silent");
      await sender.open();
      const outcome = await within(sender.send(new Message({ body: "x" }), { timeout: 100 }), "send()");
      assert.equal(outcome.result, MessageSendResult.Timeout);
      assert.ok(outcome.error instanceof ClientTimeout);
      assert.equal(sender.link.unsettled, 1);
    } finally {
      await broker.broker.close();
    }
  });
});

// ---- nothing left behind -------------------------------------------------------------------------------

describe("client edges: no handle left behind", () => {
  it("after successes, refusals, aborts and closes the clients leave no socket or timer behind", async () => {
    const t = await startBroker({
      queues: { autoCreate: false, names: ["ok"] },
      sasl: { users: { alice: "secret" } },
    });
    const silent = await silentServer();
    try {
      const baseline = handles();
      const good = new SASLPlain("127.0.0.1", "alice", "secret", { tls: false, port: t.broker.port! });
      const bad = new SASLPlain("127.0.0.1", "alice", "nope", { tls: false, port: t.broker.port! });
      assert.deepEqual(await sendMessage(t.url("ok"), "x", { auth: good, msgTimeout: 5000 }), [
        MessageState.SendComplete,
      ]);
      assert.equal(body((await receiveMessage(t.url("ok"), { auth: good, timeout: 5000 }))!), "x");
      assert.equal(await receiveMessage(t.url("ok"), { auth: good, timeout: 50 }), undefined);
      await assert.rejects(sendMessage(t.url("ok"), "x", { auth: bad }), AuthenticationException);
      await assert.rejects(sendMessage(t.url("nope"), "x", { auth: good }), LinkDetach);
      await assert.rejects(sendMessage("amqp://127.0.0.1:1/q", "x"), { code: "AMQP_CONNECT_FAILED" });
      const idle = new ReceiveClient(`amqp://127.0.0.1:${silent.port}/q`, { timeout: 100 });
      const opening = idle.open();
      opening.catch(() => undefined);
      await until(() => silent.accepted === 1, "the TCP connection");
      await idle.close();
      await assert.rejects(opening, AMQPClientShutdown);
      const aborted = new SendClient(t.url("ok"), { auth: good });
      await assert.rejects(aborted.open({ signal: AbortSignal.abort() }), AMQPAbortError);
      const receiver = new ReceiveClient(t.url("ok"), { auth: good, timeout: 100 });
      assert.deepEqual(await receiver.receiveMessageBatch(), []);
      assert.equal(receiver.state, "closed");
      await noHandleAbove(baseline);
    } finally {
      await t.broker.close();
      await silent.close();
    }
  });

  it("a receiver that failed for good leaves no socket or timer behind, even before close()", async () => {
    const t = await startBroker();
    const baseline = handles();
    const client = new ReceiveClient(t.url("fail-here"), { timeout: 60_000, reconnect: false });
    try {
      const pending = observe(client.receiveMessageBatch());
      await until(() => client.isReady, "open");
      t.broker.detachLinks("fail-here", { condition: "amqp:unauthorized-access" });
      assert.ok((await rejectionOf(pending, "receiveMessageBatch()")) instanceof LinkDetach);
      assert.equal(client.state, "failed");
      await noHandleAbove(baseline);
    } finally {
      await client.close();
      await t.broker.close();
    }
  });
});
