/**
 * Our clients (SendClient, ReceiveClient, sendMessage, receiveMessage) given **plain URLs and no
 * linkAddress** against four brokers: RabbitMQ 3.10 (`/queue/<name>`), the Qpid Proton broker of
 * scripts/peers, rhea's server (in-process) and our embedded broker. The link address comes from
 * the URL by the rule of docs/addresses.md; every scenario runs against every peer.
 *
 * Cases: the send, receive and settlement calls a broker serves (send one and many, batches that
 * return what is there or time out, autoComplete, release, ReceiveAndDelete, the iterator), 1,000
 * messages with properties, 1 MiB bodies, PeekLock release and redelivery (released, and unsettled
 * at a close), iterator break/resume (same client and a new one).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Source, Target } from "../../src/address/index.js";
import { ReceiverSettleMode, SenderSettleMode } from "../../src/client/link-states.js";
import { MessageSettleFailed } from "../../src/message/settlement.js";
import { AMQPAbortError } from "../../src/errors/index.js";
import { receiveMessage, sendMessage } from "../../src/client/helpers.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { startBroker } from "../client/support.js";
import { peerSkip, startPeer } from "../support/peers.js";
import { startRheaQueueServer } from "../support/rhea-peer.js";
import { gather } from "../support/waits.js";

const TIMEOUT = { timeout: 180_000 };
/** Bound of every wait for messages that are there (a receive returns as soon as one arrived). */
const WAIT_MS = 10_000;
const MIB = 1024 * 1024;

/** A started peer, as the suite needs it. */
interface Started {
  /** The plain URL of queue `name` (what a user writes for this broker). */
  url(name: string): string;
  /** The node address the peer saw in ATTACH, when it can tell (rhea, our broker). */
  attached?(): readonly string[];
  stop(): Promise<void>;
}

interface PeerCase {
  readonly name: string;
  readonly skip: string | false;
  start(): Promise<Started>;
  /** The link address the rule gives for queue `name` (the wire address checked where visible). */
  readonly node: (name: string) => string;
  /** Whether the peer's sources offer the `modified` outcome (RabbitMQ 3.10's do not). */
  readonly offersModified: boolean;
  /**
   * Where a message goes after its handler threw (modified delivery-failed undeliverable-here, or
   * released where modified is not offered): the queue again, or for our broker (Azure Service
   * Bus semantics) the queue's dead-letter sub-queue.
   */
  readonly failedTo: (url: string) => string;
  /** Tests of this peer only, on the same running peer. */
  readonly more?: (peer: () => Started) => void;
}

const PEERS: PeerCase[] = [
  {
    name: "RabbitMQ 3.10",
    skip: peerSkip("rabbitmq"),
    node: (q) => `/queue/${q}`,
    offersModified: false,
    failedTo: (url) => url,
    more: rabbitMqAddressForms,
    async start() {
      const p = await startPeer("rabbitmq");
      return { url: (q) => `amqp://guest:guest@${p.host}:${p.port}/queue/${q}`, stop: () => p.stop() };
    },
  },
  {
    // Offers ANONYMOUS-RELAY as a list of symbols, as Proton applications do (decoded liberally).
    name: "Qpid Proton broker (capabilities as a list)",
    offersModified: true,
    failedTo: (url) => url,
    skip: peerSkip("proton"),
    node: (q) => q,
    async start() {
      const p = await startPeer("proton", { offeredCapabilitiesList: ["ANONYMOUS-RELAY"] });
      return { url: (q) => `amqp://${p.host}:${p.port}/${q}`, stop: () => p.stop() };
    },
  },
  {
    name: "rhea server",
    offersModified: true,
    failedTo: (url) => url,
    skip: false,
    node: (q) => q,
    async start() {
      const s = await startRheaQueueServer();
      return {
        url: (q) => `amqp://127.0.0.1:${s.port}/${q}`,
        attached: () => s.attached,
        stop: () => s.close(),
      };
    },
  },
  {
    name: "our broker",
    offersModified: true,
    failedTo: (url) => `${url}/$deadletter`,
    skip: false,
    node: (q) => q,
    async start() {
      const t = await startBroker();
      const attached: string[] = [];
      t.broker.observe((e) => {
        if (e.type === "attach" && e.address !== undefined) attached.push(e.address);
      });
      return { url: (q) => t.url(q), attached: () => attached, stop: () => t.broker.close() };
    },
  },
];

function text(m: Message): string {
  return Buffer.from(m.data![0]!).toString();
}

function bodies(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** Receives `n` messages with one batch call after another (batches of at most `prefetch`; bounded). */
async function receiveN(c: ReceiveClient, n: number, prefetch: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 60_000;
  while (got.length < n) {
    assert.ok(Date.now() < deadline, `received ${got.length} of ${n}`);
    const maxBatchSize = Math.min(n - got.length, prefetch);
    got.push(...(await c.receiveMessageBatch({ maxBatchSize, timeout: WAIT_MS })));
  }
  return got;
}

for (const peerCase of PEERS) {
  describe(`clients with plain URLs against ${peerCase.name}`, { skip: peerCase.skip, ...TIMEOUT }, () => {
    let peer: Started;
    let n = 0;
    /** A fresh queue: its plain URL. */
    const queue = (): { url: string; node: string } => {
      const q = `sc-${process.pid}-${++n}`;
      return { url: peer.url(q), node: peerCase.node(q) };
    };
    const fill = async (url: string, content: string[]): Promise<void> => {
      const c = new SendClient(url);
      c.queueMessage(...content.map((b) => new Message({ body: b })));
      assert.ok((await c.sendAllMessages()).every((s) => s === MessageState.SendComplete));
    };

    before(async () => {
      peer = await peerCase.start();
    }, TIMEOUT);
    after(async () => {
      await peer.stop();
    });

    it("1: sendMessage resolves [SendComplete]; the link address is the URL's node", async () => {
      const { url, node } = queue();
      assert.equal(Target.parse(url).linkAddress, node);
      assert.deepEqual(await sendMessage(url, "Hello world"), [MessageState.SendComplete]);
      if (peer.attached) assert.ok(peer.attached().includes(node), `${node} in ${peer.attached().join()}`);
    });

    it("2 and 3: sendAllMessages, with and without closeOnDone", async () => {
      const { url } = queue();
      const c = new SendClient(url);
      c.queueMessage(...bodies("m", 10).map((body) => new Message({ body })));
      assert.equal(c.pendingMessages.length, 10);
      const states = await c.sendAllMessages({ closeOnDone: false });
      assert.deepEqual(states, Array(10).fill(MessageState.SendComplete));
      assert.equal(c.pendingMessages.length, 0);
      c.queueMessage(new Message({ body: "again" }));
      assert.deepEqual(await c.sendAllMessages(), [MessageState.SendComplete]);
      assert.equal(c.isOpen, false);
    });

    it("4: ten sendMessage calls reuse one connection and one link", async () => {
      const { url } = queue();
      await using c = new SendClient(Target.parse(url));
      await c.sendMessage(new Message({ body: "first" }));
      const conn = c.connection;
      const link = c.messageHandler;
      for (let i = 0; i < 9; i++) await c.sendMessage(new Message({ body: `m${i}` }));
      assert.equal(c.connection, conn);
      assert.equal(c.messageHandler, link);
    });

    it("11: pre-settled sends complete", async () => {
      const { url } = queue();
      await using c = new SendClient(url, { sendSettleMode: SenderSettleMode.Settled });
      const m = new Message({ body: "settled" });
      await c.sendMessage(m);
      assert.equal(m.state, MessageState.SendComplete);
    });

    it("19: receiveMessage returns the message sent, and undefined on an empty source", async () => {
      const { url } = queue();
      await fill(url, ["hello"]);
      const m = await receiveMessage(url, { timeout: WAIT_MS });
      assert.equal(m && text(m), "hello");
      const started = Date.now();
      assert.equal(await receiveMessage(url, { timeout: 1000 }), undefined);
      assert.ok(Date.now() - started >= 900);
    });

    it("21 and 22: a batch returns what is there at once; an empty batch after its timeout", async () => {
      const { url } = queue();
      await fill(url, ["a", "b", "c"]);
      await using c = new ReceiveClient(Source.parse(url));
      const got = await gather(
        3,
        () => c.receiveMessageBatch({ maxBatchSize: 10, timeout: WAIT_MS }),
        "3 messages",
      );
      assert.deepEqual(got.map(text), ["a", "b", "c"]);
      const started = Date.now();
      assert.deepEqual(await c.receiveMessageBatch({ timeout: 1000 }), []);
      assert.ok(Date.now() - started >= 900);
    });

    it("27: autoComplete accepts what a batch returns", async () => {
      const { url } = queue();
      await fill(url, ["x"]);
      {
        await using c = new ReceiveClient(url);
        const [m] = await c.receiveMessageBatch({ timeout: WAIT_MS });
        assert.equal(m!.settled, true);
      }
      assert.equal(await receiveMessage(url, { timeout: 500 }), undefined, "accepted: not redelivered");
    });

    it("31: ReceiveAndDelete messages arrive settled; accept() resolves false", async () => {
      const { url } = queue();
      await fill(url, ["rad"]);
      await using c = new ReceiveClient(url, { receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete });
      const [m] = await c.receiveMessageBatch({ timeout: WAIT_MS });
      assert.equal(m!.state, MessageState.ReceivedSettled);
      assert.equal(await m!.accept(), false);
    });

    it("1,000 messages with properties keep their order, properties and bodies", async () => {
      const { url } = queue();
      const count = 1000;
      const sent = Array.from(
        { length: count },
        (_, i) =>
          new Message({
            body: `body-${i}`,
            properties: {
              messageId: `id-${i}`,
              correlationId: `corr-${i % 7}`,
              subject: "orders",
              contentType: "text/plain",
              replyTo: "replies",
            },
            applicationProperties: { index: i, even: i % 2 === 0, peer: peerCase.name },
          }),
      );
      const sender = new SendClient(url);
      sender.queueMessage(...sent);
      const states = await sender.sendAllMessages();
      assert.equal(states.length, count);
      assert.ok(states.every((s) => s === MessageState.SendComplete));

      await using receiver = new ReceiveClient(url, { prefetch: 300 });
      const got = await receiveN(receiver, count, 300);
      for (let i = 0; i < count; i++) {
        const m = got[i]!;
        assert.equal(text(m), `body-${i}`);
        assert.ok(m.properties, `message ${i} has properties`);
        assert.equal(m.properties.messageId, `id-${i}`);
        assert.equal(m.properties.correlationId, `corr-${i % 7}`);
        assert.equal(m.properties.subject, "orders");
        assert.equal(m.properties.contentType, "text/plain");
        assert.equal(m.properties.replyTo, "replies");
        assert.deepEqual(m.applicationProperties, { index: i, even: i % 2 === 0, peer: peerCase.name });
        assert.equal(m.settled, true, "autoComplete accepted it");
      }
      assert.deepEqual(await receiver.receiveMessageBatch({ timeout: 300 }), [], "nothing more");
    });

    it("1 MiB bodies: sendMessage, SendClient and receiveMessage carry them byte-exact", async () => {
      // uamqp's default max-message-size of a receiver is 1 MiB for the whole message: raise it.
      const maxMessageSize = 2 * MIB;
      const { url } = queue();
      const first = randomBytes(MIB);
      const second = randomBytes(MIB);
      assert.deepEqual(
        await sendMessage(url, new Message({ body: first, properties: { messageId: "big-1" } })),
        [MessageState.SendComplete],
      );
      {
        await using c = new SendClient(url);
        await c.sendMessage(new Message({ body: second, properties: { messageId: "big-2" } }));
      }
      for (const [id, body] of [
        ["big-1", first],
        ["big-2", second],
      ] as const) {
        const m = await receiveMessage(url, { timeout: WAIT_MS, maxMessageSize });
        assert.ok(m, `${id} received`);
        assert.equal(m.properties?.messageId, id);
        assert.equal(m.data?.length, 1);
        assert.ok(Buffer.from(m.data[0]!).equals(body), `${id}: the body is byte-exact`);
      }
    });

    it("28 and PeekLock: released messages, and unsettled ones at a close, are redelivered", async () => {
      const { url } = queue();
      await fill(url, bodies("p", 4));
      {
        await using c = new ReceiveClient(url, { autoComplete: false, prefetch: 4 });
        const got = await receiveN(c, 4, 4);
        assert.deepEqual(got.map(text), bodies("p", 4));
        assert.equal(got[0]!.state, MessageState.ReceivedUnsettled);
        assert.equal(await got[0]!.accept(), true);
        assert.equal(await got[1]!.release(), true);
        assert.equal(await got[1]!.release(), false, "settled once");
        assert.equal(await got[2]!.accept(), true);
        // got[3] stays unsettled: the close gives it back
        const [again] = await c.receiveMessageBatch({ maxBatchSize: 1, timeout: WAIT_MS });
        assert.equal(again && text(again), "p1", "the released message comes back");
        // p1 stays unsettled too
      }
      await using next = new ReceiveClient(url, { autoComplete: false });
      const rest = await receiveN(next, 2, 300);
      assert.deepEqual(rest.map(text).sort(), ["p1", "p3"], "unsettled at the close: redelivered");
      for (const m of rest) assert.equal(await m.accept(), true);
      assert.deepEqual(await next.receiveMessageBatch({ timeout: 300 }), [], "accepted: gone");
    });

    it("modify() settles where the peer offers modified, else rejects without sending and keeps the message", async () => {
      const { url } = queue();
      await fill(url, ["m"]);
      await using c = new ReceiveClient(url, { autoComplete: false });
      const [m] = await c.receiveMessageBatch({ timeout: WAIT_MS });
      assert.ok(m);
      const connection = c.connection;
      if (peerCase.offersModified) {
        assert.equal(await m.modify({ deliveryFailed: true, undeliverableHere: false }), true);
        const [again] = await c.receiveMessageBatch({ timeout: WAIT_MS });
        assert.equal(again && text(again), "m", "modified: delivered again");
        assert.equal(await again!.accept(), true);
      } else {
        await assert.rejects(m.modify({ deliveryFailed: true, undeliverableHere: false }), (e: unknown) => {
          assert.ok(e instanceof MessageSettleFailed);
          assert.deepEqual(e.offeredOutcomes, [
            "amqp:accepted:list",
            "amqp:rejected:list",
            "amqp:released:list",
          ]);
          return true;
        });
        assert.equal(m.state, MessageState.ReceivedUnsettled, "nothing was sent");
        assert.equal(await m.accept(), true);
      }
      assert.equal(c.connection, connection, "the connection stayed up");
      assert.equal(c.state, "open");
    });

    it("a handler that throws leaves its message for later; the connection stays up", async () => {
      const { url } = queue();
      await fill(url, ["boom", "ok"]);
      const seen: string[] = [];
      const done = new AbortController();
      const c = new ReceiveClient(url, { prefetch: 2 });
      await c.open();
      const connection = c.connection;
      const loop = c.receiveMessages(
        (m) => {
          seen.push(text(m));
          if (seen.includes("boom") && seen.includes("ok")) done.abort();
          if (text(m) === "boom") throw new Error("the handler failed");
        },
        { signal: AbortSignal.any([done.signal, AbortSignal.timeout(WAIT_MS)]) },
      );
      await assert.rejects(loop, AMQPAbortError);
      assert.ok(seen.includes("boom") && seen.includes("ok"), seen.join());
      assert.equal(c.connection, connection, "the connection stayed up");
      assert.equal(c.state, "open");
      await c.close();
      const m = await receiveMessage(peerCase.failedTo(url), { timeout: WAIT_MS });
      assert.equal(m && text(m), "boom", "not lost: given to the next receiver");
      assert.equal(await receiveMessage(url, { timeout: 300 }), undefined, "ok was accepted");
    });

    peerCase.more?.(() => peer);

    it("34: for await with break, then again, continues where it left off (same and new client)", async () => {
      const { url } = queue();
      await fill(url, bodies("n", 30));
      const seen: string[] = [];
      {
        await using c = new ReceiveClient(url, { prefetch: 5 });
        for await (const m of c) {
          seen.push(text(m));
          if (seen.length === 10) break;
        }
        for await (const m of c) {
          seen.push(text(m));
          if (seen.length === 20) break;
        }
        assert.deepEqual(seen, bodies("n", 20));
      }
      // The messages prefetched but not taken went back at the close: a new client resumes there.
      await using c2 = new ReceiveClient(url, { prefetch: 5 });
      for await (const m of c2) {
        seen.push(text(m));
        if (seen.length === 30) break;
      }
      assert.deepEqual(seen, bodies("n", 30), "each message once, in order");
      assert.deepEqual(await c2.receiveMessageBatch({ timeout: 300 }), [], "all accepted");
    });
  });
}

/** RabbitMQ's address syntax from plain URLs (run on the RabbitMQ suite's broker). */
function rabbitMqAddressForms(peer: () => Started): void {
  describe("RabbitMQ 3.10 address forms from plain URLs", () => {
    /** The URL of a RabbitMQ path (`url` gives `/queue/<name>`: keep its authority). */
    const at = (path: string): string =>
      peer()
        .url("x")
        .replace(/\/queue\/x$/, path);

    it("a bare name is queue <name>; /amq/queue/<name> reads that existing queue", async () => {
      const q = `bare-${process.pid}`;
      assert.equal(Target.parse(at(`/${q}`)).linkAddress, q);
      assert.deepEqual(await sendMessage(at(`/${q}`), "to a bare name"), [MessageState.SendComplete]);
      const m = await receiveMessage(at(`/amq/queue/${q}`), { timeout: WAIT_MS });
      assert.equal(m && text(m), "to a bare name");
    });

    for (const path of ["/exchange/amq.topic/orders.eu", "/topic/orders.us", "/exchange/amq.fanout"]) {
      it(`${path}: a receiver bound there gets what a sender sends there`, async () => {
        assert.equal(Target.parse(at(path)).linkAddress, path);
        await using receiver = new ReceiveClient(at(path));
        await receiver.open(); // binds its queue before the message is routed
        assert.deepEqual(await sendMessage(at(path), `via ${path}`), [MessageState.SendComplete]);
        const [m] = await receiver.receiveMessageBatch({ timeout: WAIT_MS });
        assert.equal(m && text(m), `via ${path}`);
      });
    }

    it("the full-URL form uamqp sends is refused (why the link address is the path)", async () => {
      const url = at(`/queue/full-${process.pid}`);
      const full = new Target(url, { linkAddress: url.replace(/\/\/[^@]*@/, "//") });
      await assert.rejects(sendMessage(full, "x"), /unknown_destination/);
    });
  });
}
