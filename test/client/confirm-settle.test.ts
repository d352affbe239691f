import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import rhea from "rhea";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import type { MessageReceiverOptions } from "../../src/client/client-options.js";
import { Connection } from "../../src/client/connection.js";
import { ReceiverSettleMode } from "../../src/client/link-states.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { Session } from "../../src/client/session.js";
import { SettleMode } from "../../src/client/settle-confirm.js";
import { confirmsOutcome, MessageSettleFailed } from "../../src/message/settlement.js";
import { RcvSettleMode } from "../../src/engine/link.js";
import { AMQPError } from "../../src/errors/amqp-error.js";
import { AMQPConnectionError, LinkDetach } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { startRheaServer, type RheaServer } from "../support/rhea-peer.js";
import { startBroker, until, type TestBroker } from "./support.js";

const conns: Connection[] = [];
const brokers: TestBroker[] = [];
const servers: RheaServer[] = [];
after(async () => {
  for (const c of conns) await c.close();
  for (const b of brokers) await b.broker.close();
  for (const s of servers) await s.close();
});

async function connect(port: number): Promise<Session> {
  const conn = new Connection("localhost", new SASLAnonymous("localhost", { tls: false, port }));
  conns.push(conn);
  await conn.open();
  return new Session(conn);
}

async function fill(session: Session, queue: string, bodies: string[]): Promise<void> {
  const sender = new MessageSender(session, "me", queue);
  await sender.open();
  for (const body of bodies) await sender.send(new Message({ body }));
  await sender.close();
}

/** A receiver with manual credit collecting its messages. */
async function receiver(
  session: Session,
  queue: string,
  options: MessageReceiverOptions = {},
): Promise<{ r: MessageReceiver; got: Message[] }> {
  const got: Message[] = [];
  const r = new MessageReceiver(session, queue, "me", {
    prefetch: 0,
    ...options,
    onMessageReceived: (m) => got.push(m),
  });
  await r.open();
  return { r, got };
}

const bodyOf = (m: Message): string => Buffer.from(m.data![0]!).toString();

describe("settleMode confirm against the embedded broker", () => {
  const start = async (lockDuration = 0): Promise<{ b: TestBroker; session: Session }> => {
    const b = await startBroker(lockDuration > 0 ? { queues: { lockDuration } } : {});
    brokers.push(b);
    return { b, session: await connect(b.broker.port!) };
  };

  it("attaches with rcv-settle-mode second; each settlement resolves once the broker applied it", async () => {
    const { b, session } = await start();
    await fill(session, "c1", ["acc", "rej", "rel", "mod"]);
    const { r, got } = await receiver(session, "c1", { settleMode: "confirm" });
    assert.equal(r.settleMode, SettleMode.Confirm);
    assert.equal(r.link.local.rcvSettleMode, RcvSettleMode.Second);
    assert.equal(r.link.remote?.rcvSettleMode, RcvSettleMode.Second);
    r.addCredit(4);
    await until(() => got.length === 4, "4 messages");
    const [acc, rej, rel, mod] = got as [Message, Message, Message, Message];
    const stats = (): ReturnType<typeof b.broker.stats> => b.broker.stats("c1");

    assert.equal(await acc.accept(), true);
    // No polling: the broker settles only after it applied the outcome.
    assert.equal(stats().messageCount, 3);
    assert.equal(await acc.accept(), false, "already settled");

    assert.equal(await rej.reject({ condition: "app:bad", description: "nope" }), true);
    assert.equal(stats().deadLetterCount, 1);
    assert.equal(stats().messageCount, 2);

    assert.equal(await rel.release(), true);
    assert.equal(await mod.modify({ deliveryFailed: true, undeliverableHere: false }), true);
    assert.equal(stats().lockedCount, 0);
    assert.equal(stats().messageCount, 2, "released and modified are back in the queue");
    r.addCredit(2);
    await until(() => got.length === 6, "the redeliveries");
    assert.deepEqual(
      got.slice(4).map((m) => [bodyOf(m), m.header?.deliveryCount ?? 0]),
      [
        ["rel", 0],
        ["mod", 1],
      ],
    );
    assert.deepEqual(
      b.outcomes("c1").map((e) => e.state?.type),
      ["accepted", "rejected", "released", "modified"],
    );
  });

  it("rejects with MessageSettleFailed carrying com.microsoft:message-lock-lost when the lock expired", async () => {
    const { b, session } = await start(50);
    await fill(session, "c2", ["x"]);
    const { r, got } = await receiver(session, "c2", { settleMode: "confirm" });
    r.addCredit(1);
    await until(() => got.length === 1, "the message");
    // The lock expires; the message goes back to the queue (no credit left to redeliver it).
    await until(() => b.broker.stats("c2").lockedCount === 0, "the lock expiry");
    const err = await got[0]!.accept().then(
      () => assert.fail("the accept must not be confirmed"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MessageSettleFailed);
    assert.ok(err instanceof AMQPError);
    assert.equal(err.code, "AMQP_MESSAGE_SETTLE_FAILED");
    assert.equal(err.condition, "com.microsoft:message-lock-lost");
    assert.deepEqual(err.requested, { type: "accepted" });
    assert.equal(err.outcome?.type, "rejected");
    assert.equal(b.broker.stats("c2").messageCount, 1, "the message is still there");
    assert.equal(b.outcomes("c2").length, 0);
  });

  it("the default settleMode (local) is unchanged: mode first, settled dispositions, lock loss unseen", async () => {
    const { b, session } = await start(50);
    await fill(session, "c3", ["x"]);
    const { r, got } = await receiver(session, "c3");
    assert.equal(r.settleMode, SettleMode.Local);
    assert.equal(r.link.local.rcvSettleMode, RcvSettleMode.First);
    r.addCredit(1);
    await until(() => got.length === 1, "the message");
    await until(() => b.broker.stats("c3").lockedCount === 0, "the lock expiry");
    assert.equal(await got[0]!.accept(), true, "fire-and-forget: uamqp parity");
    assert.equal(b.broker.stats("c3").messageCount, 1);
  });

  it("rejects pending confirmations with the link's error when the connection is lost", async () => {
    const { b, session } = await start();
    await fill(session, "c4", ["x"]);
    const { r, got } = await receiver(session, "c4", { settleMode: "confirm" });
    r.addCredit(1);
    await until(() => got.length === 1, "the message");
    // Stop the broker in the same tick as the accept: its DISPOSITION never gets answered.
    const accepted = got[0]!.accept();
    const stopped = b.broker.stop({ abrupt: true });
    const err = await accepted.then(
      () => assert.fail("not confirmed"),
      (e: unknown) => e,
    );
    await stopped;
    assert.ok(err instanceof AMQPConnectionError, String(err));
    assert.equal(err.retryable, true);
  });

  it("refuses settleMode confirm with ReceiveAndDelete, and unknown modes", async () => {
    const { session } = await start();
    assert.throws(
      () =>
        new MessageReceiver(session, "c5", "me", {
          settleMode: "confirm",
          receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete,
        }),
      RangeError,
    );
    assert.throws(
      () => new ReceiveClient("amqp://127.0.0.1:1/q", { settleMode: "later" as SettleMode }),
      RangeError,
    );
    assert.throws(
      () =>
        new ReceiveClient("amqp://127.0.0.1:1/q", {
          settleMode: "confirm",
          receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete,
        }),
      RangeError,
    );
  });

  it("ReceiveClient autoComplete in confirm mode: confirmed accepts, lost locks never reject unhandled", async () => {
    const b = await startBroker({ queues: { lockDuration: 50 } });
    brokers.push(b);
    const session = await connect(b.broker.port!);
    await fill(session, "c6", ["a"]);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      await using client = new ReceiveClient(`${b.broker.url}/c6`, { settleMode: "confirm", prefetch: 5 });
      assert.equal(client.settleMode, "confirm");
      await client.open();
      // The message sits in the buffer until its lock expires and it arrives a second time.
      await until(() => client.bufferedCount === 2, "the redelivery");
      const batch = await client.receiveMessageBatch({ maxBatchSize: 5 });
      assert.deepEqual(batch.map(bodyOf), ["a", "a"]);
      await until(() => b.broker.stats("c6").messageCount === 0, "the accept of the redelivery");
      assert.equal(b.outcomes("c6").length, 1, "the stale accept was not applied");
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    assert.deepEqual(unhandled, []);
  });
});

describe("confirmsOutcome", () => {
  it("needs the same outcome; a rejected with another condition is not a confirmation", () => {
    const rej = { type: "rejected" as const, error: { condition: "app:x" } };
    assert.equal(confirmsOutcome({ type: "accepted" }, undefined), true);
    assert.equal(confirmsOutcome({ type: "accepted" }, { type: "accepted" }), true);
    assert.equal(confirmsOutcome({ type: "accepted" }, { type: "released" }), false);
    assert.equal(confirmsOutcome(rej, rej), true);
    assert.equal(confirmsOutcome(rej, { type: "rejected" }), true);
    assert.equal(
      confirmsOutcome(rej, { type: "rejected", error: { condition: "com.microsoft:message-lock-lost" } }),
      false,
    );
  });
});

/** rhea's outcome constructors (missing from its typings). */
const outcomes = rhea.message as unknown as {
  accepted(): { described(): unknown };
  rejected(o: { error: { condition: string; description: string } }): { described(): unknown };
};

describe("settleMode confirm against rhea as the sending peer", () => {
  type Answer = "settle" | "lock-lost" | "detach";
  /** A rhea server sending `bodies`; `second` answers the ATTACH with rcv-settle-mode second. */
  const serve = async (bodies: string[], second: boolean, answer: (body: string) => Answer) => {
    const remoteSettled: boolean[] = [];
    const sent = new Map<unknown, string>();
    const server = await startRheaServer((c) => {
      c.on("sender_open", (ctx: rhea.EventContext) => {
        if (second)
          (
            ctx.sender as unknown as { local: { attach: { rcv_settle_mode: number } } }
          ).local.attach.rcv_settle_mode = 1;
        let n = 0;
        const send = (): void => {
          while (ctx.sender!.sendable() && n < bodies.length) {
            const body = bodies[n++]!;
            sent.set(ctx.sender!.send({ body }), body);
          }
        };
        ctx.sender!.on("sendable", send);
        send();
      });
      c.on("accepted", (ctx: rhea.EventContext) => {
        const d = ctx.delivery! as unknown as {
          remote_settled: boolean;
          update(settled: boolean, state: unknown): void;
        };
        remoteSettled.push(d.remote_settled);
        if (d.remote_settled) return;
        const a = answer(sent.get(ctx.delivery) ?? "");
        if (a === "settle") d.update(true, outcomes.accepted().described());
        else if (a === "lock-lost")
          d.update(
            true,
            outcomes
              .rejected({ error: { condition: "com.microsoft:message-lock-lost", description: "gone" } })
              .described(),
          );
        else ctx.sender!.close({ condition: "amqp:link:detach-forced", description: "bye" });
      });
    });
    servers.push(server);
    return { server, remoteSettled };
  };

  it("resolves on rhea's settling disposition and rejects on its lock-lost answer", async () => {
    const { server } = await serve(["ok", "lost"], true, (b) => (b === "ok" ? "settle" : "lock-lost"));
    const session = await connect(server.port);
    const { r, got } = await receiver(session, "q", { settleMode: "confirm" });
    assert.equal(r.link.remote?.rcvSettleMode, RcvSettleMode.Second);
    r.addCredit(2);
    await until(() => got.length === 2, "2 messages");
    assert.equal(got[0]!.value, "ok");
    assert.equal(await got[0]!.accept(), true);
    const err = await got[1]!.accept().then(
      () => assert.fail("not confirmed"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MessageSettleFailed);
    assert.equal(err.condition, "com.microsoft:message-lock-lost");
    assert.equal(err.description, "gone");
  });

  it("rejects with LinkDetach when rhea detaches the link instead of confirming", async () => {
    const { server } = await serve(["x"], true, () => "detach");
    const session = await connect(server.port);
    const { r, got } = await receiver(session, "q", { settleMode: "confirm" });
    r.addCredit(1);
    await until(() => got.length === 1, "the message");
    const err = await got[0]!.accept().then(
      () => assert.fail("not confirmed"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LinkDetach, String(err));
    assert.equal(err.condition, "amqp:link:detach-forced");
  });

  it("falls back to settled dispositions resolved on send when rhea answers rcv-settle-mode first", async () => {
    const { server, remoteSettled } = await serve(["x"], false, () => "detach");
    const session = await connect(server.port);
    const { r, got } = await receiver(session, "q", { settleMode: "confirm" });
    assert.equal(r.link.local.rcvSettleMode, RcvSettleMode.Second);
    assert.equal(r.link.remote?.rcvSettleMode ?? 0, RcvSettleMode.First);
    r.addCredit(1);
    await until(() => got.length === 1, "the message");
    assert.equal(await got[0]!.accept(), true);
    await until(() => remoteSettled.length === 1, "rhea saw the outcome");
    assert.deepEqual(remoteSettled, [true], "the disposition was settled: nothing left for rhea to do");
  });
});
