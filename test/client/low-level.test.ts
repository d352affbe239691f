import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SASLAnonymous, SASLPlain } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import {
  MessageReceiverState,
  MessageSenderState,
  ReceiverSettleMode,
  SenderSettleMode,
} from "../../src/client/link-states.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { Session } from "../../src/client/session.js";
import { AMQPSymbol } from "../../src/codec/values.js";
import { Message } from "../../src/message/message.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { MessageState } from "../../src/message/message-state.js";
import { setLogger } from "../../src/util/log.js";
import { startEngineServer, type EngineServer } from "../support/engine-server.js";
import { until } from "../support/waits.js";

describe("uamqp low-level API: Connection, Session, MessageSender, MessageReceiver", () => {
  let server: EngineServer;
  before(async () => {
    server = await startEngineServer();
  });
  after(async () => {
    await server.close();
  });

  it("sends Messages and receives them with their sections and AMQP types intact", async () => {
    await using conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { tls: false, port: server.port }),
    );
    const session = new Session(conn);
    const sender = new MessageSender(session, "me", "lowlevel-q");
    assert.equal(sender.state, MessageSenderState.Opening);
    await Promise.all([conn.open(), sender.open()]);
    assert.equal(sender.state, MessageSenderState.Open);
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(
        await sender.send(
          new Message({
            body: `hello ${i}`,
            properties: { messageId: `id-${i}`, subject: "s" },
            applicationProperties: { n: i, big: 1n << 60n },
            messageAnnotations: { "x-opt-k": new AMQPSymbol("v") },
          }),
        ),
      );
    }
    assert.ok(outcomes.every((o) => o.result === MessageSendResult.Ok && o.state?.type === "accepted"));
    const got: Message[] = [];
    const receiver = new MessageReceiver(session, "lowlevel-q", "me", {
      prefetch: 10,
      onMessageReceived: (m) => {
        got.push(m);
      },
    });
    await receiver.open();
    assert.equal(receiver.state, MessageReceiverState.Open);
    await until(() => got.length >= 5, "5 messages");
    assert.deepEqual(
      got.map((m) => Buffer.from(m.data![0]!).toString()),
      ["hello 0", "hello 1", "hello 2", "hello 3", "hello 4"],
    );
    const m0 = got[0]!;
    assert.equal(m0.state, MessageState.ReceivedUnsettled);
    assert.equal(m0.properties?.messageId, "id-0");
    assert.equal(m0.applicationProperties?.["n"], 0);
    assert.equal(m0.applicationProperties["big"], 1n << 60n);
    assert.ok(m0.messageAnnotations?.["x-opt-k"] instanceof AMQPSymbol);
    assert.equal(await m0.accept(), true);
    assert.equal(await m0.accept(), false);
    await receiver.close();
    await sender.close();
  });

  it("send() writes a message as it is when transferred: changed while it waited for credit, it goes out changed", async () => {
    await using conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { tls: false, port: server.port }),
    );
    const session = new Session(conn);
    const sender = new MessageSender(session, "me", "changed-q");
    // No credit before the link is attached: the first send waits in the link.
    const waiting = new Message({ body: "a", properties: { subject: "sent" } });
    const first = sender.send(waiting);
    waiting.properties!.subject = "changed";
    await sender.open();
    assert.equal((await first).result, MessageSendResult.Ok);
    // With credit, send() writes it at once, as it is then.
    const now = new Message({ body: "b", properties: { subject: "sent" } });
    const second = sender.send(now);
    now.properties!.subject = "changed too late";
    assert.equal((await second).result, MessageSendResult.Ok);
    const got: Message[] = [];
    const receiver = new MessageReceiver(session, "changed-q", "me", {
      onMessageReceived: (m) => {
        got.push(m);
      },
    });
    await receiver.open();
    await until(() => got.length >= 2, "2 messages");
    assert.deepEqual(
      got.map((m) => m.properties?.subject),
      ["changed", "sent"],
    );
  });

  it("a message larger than a frame (the peer's 64 KiB, our 4 KiB) goes out and comes back in frames, whole, between small ones", async () => {
    await using conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { tls: false, port: server.port }),
      { maxFrameSize: 4096 },
    );
    const session = conn.createSession();
    const sender = new MessageSender(session, "me", "multi-frame-q");
    await sender.open();
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const outcomes = await Promise.all([
      sender.send(new Message({ body: "before" })),
      sender.send(new Message({ body: big, properties: { messageId: "big" } })),
      sender.send(new Message({ body: "after" })),
    ]);
    assert.ok(outcomes.every((o) => o.result === MessageSendResult.Ok));
    const got: Message[] = [];
    const receiver = new MessageReceiver(session, "multi-frame-q", "me", {
      maxMessageSize: 1 << 20,
      onMessageReceived: (m) => got.push(m),
    });
    await receiver.open();
    await until(() => got.length >= 3, "3 messages");
    assert.deepEqual(
      got.map((m) => m.data![0]!.length),
      [6, big.length, 5],
    );
    assert.equal(got[1]!.properties?.messageId, "big");
    assert.ok(Buffer.from(got[1]!.data![0]!).equals(big));
  });

  it("large messages of every layout reach a peer with a 20,000-byte max frame byte for byte, unsettled and pre-settled", async () => {
    // Unsettled, a large message goes out as pieces (its big Data sections written as they are);
    // pre-settled, it is encoded into a buffer of its own. Both are split at the peer's max frame,
    // which cuts through small and large pieces alike.
    const peer = await startEngineServer({ maxFrameSize: 20_000 });
    try {
      await using conn = new Connection(
        "localhost",
        new SASLAnonymous("localhost", { tls: false, port: peer.port }),
      );
      const session = conn.createSession();
      const sender = new MessageSender(session, "me", "layouts-q", {
        sendSettleMode: SenderSettleMode.Mixed,
      });
      await sender.open({ timeout: 10_000 });
      const bytes = (n: number, seed: number): Buffer => {
        const b = Buffer.alloc(n);
        for (let i = 0; i < n; i++) b[i] = (i * seed + 1) & 0xff;
        return b;
      };
      const make = (): Message[] => [
        new Message({ body: bytes(70_000, 3) }),
        new Message({
          body: [bytes(40_000, 5), Buffer.from("between"), bytes(16_384, 7), bytes(19_990, 11)],
          header: { durable: true },
          properties: { messageId: "layout", subject: "s".repeat(300) },
          applicationProperties: { k: "v" },
          footer: { "x-opt-f": "footer" },
        }),
        new Message({ body: { value: bytes(50_000, 13) }, bodyType: "value" }),
        new Message({ body: bytes(16_000, 17) }),
      ];
      const unsettled = make();
      const presettled = make();
      const outcomes = await Promise.all([
        ...unsettled.map((m) => sender.send(m, { timeout: 10_000 })),
        ...presettled.map((m) => sender.send(m, { settled: true, timeout: 10_000 })),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.result),
        outcomes.map(() => MessageSendResult.Ok),
      );
      await until(() => (peer.queues.get("layouts-q")?.length ?? 0) >= 8, "8 messages at the peer");
      const got = peer.queues.get("layouts-q")!;
      [...unsettled, ...presettled].forEach((m, i) => {
        assert.ok(Buffer.from(m.encode()).equals(got[i]!), `message ${i} arrived byte for byte`);
      });
    } finally {
      await peer.close();
    }
  });

  it("ReceiveAndDelete messages arrive settled and accept() resolves false", async () => {
    await using conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { tls: false, port: server.port }),
    );
    const session = conn.createSession();
    const sender = new MessageSender(session, "me", "rad-q");
    await sender.open();
    await sender.send(new Message({ body: "x" }));
    const got: Message[] = [];
    const receiver = new MessageReceiver(session, "rad-q", "me", {
      receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete,
      onMessageReceived: (m) => got.push(m),
    });
    await receiver.open();
    await until(() => got.length >= 1, "the message");
    assert.equal(got[0]!.state, MessageState.ReceivedSettled);
    assert.equal(await got[0]!.accept(), false);
  });

  it("debug: the network trace goes to the logger, with the SASL password redacted", async () => {
    const lines: string[] = [];
    setLogger({
      debug: () => undefined,
      info: (m) => lines.push(m),
      warn: () => undefined,
      error: () => undefined,
    });
    try {
      const conn = new Connection(
        "localhost",
        new SASLPlain("localhost", "user", "pass", { tls: false, port: server.port }),
        {
          debug: true,
        },
      );
      await conn.open();
      await conn.close();
    } finally {
      setLogger(undefined);
    }
    assert.ok(lines.some((l) => l.includes("[SASL-INIT]") && l.includes("<redacted>")));
    assert.ok(lines.some((l) => l.includes("-> [OPEN]")));
    assert.ok(lines.some((l) => l.includes("<- [OPEN]")));
    assert.ok(!lines.some((l) => l.includes("pass\u0000") || l.includes("\u0000pass")));
  });
});
