/**
 * The send/receive/settlement scenarios a broker can serve (spec §15: 1–4, 11, 19, 21, 22, 27, 28,
 * 31, 34) against real brokers: RabbitMQ 3.10 and the Qpid Proton broker of scripts/peers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Source, Target } from "../../src/address/index.js";
import { ReceiverSettleMode, SenderSettleMode } from "../../src/client/link-states.js";
import { receiveMessage, sendMessage } from "../../src/client/helpers.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { peerSkip, startPeer, type PeerName, type RunningPeer } from "../support/peers.js";

const TIMEOUT = { timeout: 120_000 };

function text(m: Message): string {
  return Buffer.from(m.data![0]!).toString();
}

function suite(name: PeerName, credentials: string, nodeOf: (q: string) => string): void {
  describe(`client scenarios against ${name}`, { skip: peerSkip(name), ...TIMEOUT }, () => {
    let peer: RunningPeer;
    let n = 0;
    const base = (): string => `amqp://${credentials}${peer.host}:${peer.port}`;
    /** A fresh queue: a Target and Source whose wire address is what the broker expects. */
    const queue = (): { target: Target; source: Source } => {
      const q = `${name}-sc-${process.pid}-${++n}`;
      return {
        target: new Target(`${base()}/${q}`, { linkAddress: nodeOf(q) }),
        source: new Source(`${base()}/${q}`, { linkAddress: nodeOf(q) }),
      };
    };
    const fill = async (target: Target, bodies: string[]): Promise<void> => {
      const c = new SendClient(target);
      c.queueMessage(...bodies.map((b) => new Message({ body: b })));
      assert.ok((await c.sendAllMessages()).every((s) => s === MessageState.SendComplete));
    };

    before(async () => {
      peer = await startPeer(name);
    }, TIMEOUT);
    after(async () => {
      await peer.stop();
    });

    it("1: sendMessage resolves [SendComplete]", async () => {
      const { target } = queue();
      assert.deepEqual(await sendMessage(target, "Hello world"), [MessageState.SendComplete]);
    });

    it("2 and 3: sendAllMessages, with and without closeOnDone", async () => {
      const { target } = queue();
      const c = new SendClient(target);
      c.queueMessage(...Array.from({ length: 10 }, (_, i) => new Message({ body: `m${i}` })));
      assert.equal(c.pendingMessages.length, 10);
      const states = await c.sendAllMessages({ closeOnDone: false });
      assert.deepEqual(states, Array(10).fill(MessageState.SendComplete));
      assert.equal(c.pendingMessages.length, 0);
      c.queueMessage(new Message({ body: "again" }));
      assert.deepEqual(await c.sendAllMessages(), [MessageState.SendComplete]);
      assert.equal(c.isOpen, false);
    });

    it("4: ten sendMessage calls reuse one connection and one link", async () => {
      const { target } = queue();
      await using c = new SendClient(target);
      await c.sendMessage(new Message({ body: "first" }));
      const conn = c.connection;
      const link = c.messageHandler;
      for (let i = 0; i < 9; i++) await c.sendMessage(new Message({ body: `m${i}` }));
      assert.equal(c.connection, conn);
      assert.equal(c.messageHandler, link);
    });

    it("11: pre-settled sends complete", async () => {
      const { target } = queue();
      await using c = new SendClient(target, { sendSettleMode: SenderSettleMode.Settled });
      const m = new Message({ body: "settled" });
      await c.sendMessage(m);
      assert.equal(m.state, MessageState.SendComplete);
    });

    it("19: receiveMessage returns the message sent, and undefined on an empty source", async () => {
      const { target, source } = queue();
      await fill(target, ["hello"]);
      const m = await receiveMessage(source, { timeout: 10_000 });
      assert.equal(m && text(m), "hello");
      const started = Date.now();
      assert.equal(await receiveMessage(source, { timeout: 1000 }), undefined);
      assert.ok(Date.now() - started >= 900);
    });

    it("21 and 22: a batch returns what is there at once; an empty batch after its timeout", async () => {
      const { target, source } = queue();
      await fill(target, ["a", "b", "c"]);
      await using c = new ReceiveClient(source);
      const got: Message[] = [];
      while (got.length < 3) got.push(...(await c.receiveMessageBatch({ maxBatchSize: 10, timeout: 5000 })));
      assert.deepEqual(got.map(text), ["a", "b", "c"]);
      const started = Date.now();
      assert.deepEqual(await c.receiveMessageBatch({ timeout: 2000 }), []);
      assert.ok(Date.now() - started >= 1900);
    });

    it("27: autoComplete accepts what a batch returns", async () => {
      const { target, source } = queue();
      await fill(target, ["x"]);
      {
        await using c = new ReceiveClient(source);
        const [m] = await c.receiveMessageBatch({ timeout: 5000 });
        assert.equal(m!.settled, true);
      }
      assert.equal(await receiveMessage(source, { timeout: 500 }), undefined, "accepted: not redelivered");
    });

    it("28: release() makes the broker redeliver the same body", async () => {
      const { target, source } = queue();
      await fill(target, ["again"]);
      await using c = new ReceiveClient(source, { autoComplete: false });
      const [m] = await c.receiveMessageBatch({ timeout: 5000 });
      assert.equal(await m!.release(), true);
      assert.equal(await m!.release(), false);
      const [again] = await c.receiveMessageBatch({ timeout: 5000 });
      assert.equal(again && text(again), "again");
      await again!.accept();
    });

    it("31: ReceiveAndDelete messages arrive settled; accept() resolves false", async () => {
      const { target, source } = queue();
      await fill(target, ["rad"]);
      await using c = new ReceiveClient(source, { receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete });
      const [m] = await c.receiveMessageBatch({ timeout: 5000 });
      assert.equal(m!.state, MessageState.ReceivedSettled);
      assert.equal(await m!.accept(), false);
    });

    it("34: for await with break, then again, continues where it left off", async () => {
      const { target, source } = queue();
      await fill(
        target,
        Array.from({ length: 20 }, (_, i) => `n${i}`),
      );
      await using c = new ReceiveClient(source, { prefetch: 5 });
      const seen: string[] = [];
      for await (const m of c) {
        seen.push(text(m));
        if (seen.length === 10) break;
      }
      for await (const m of c) {
        seen.push(text(m));
        if (seen.length === 20) break;
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 20 }, (_, i) => `n${i}`),
      );
    });
  });
}

suite("rabbitmq", "guest:guest@", (q) => `/queue/${q}`);
suite("proton", "", (q) => q);
