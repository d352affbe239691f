/**
 * The low-level API beyond uamqp: Session.createSender / createReceiver (attached links), open({ signal })
 * on links, and creditMode "manual".
 */
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { MessageReceiverState, MessageSenderState } from "../../src/client/link-states.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { Session } from "../../src/client/session.js";
import { AMQPAbortError, ClientTimeout, LinkDetach } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { rejectionOf } from "../support/waits.js";
import { startBroker, until, type TestBroker } from "./support.js";

describe("Session.createSender / createReceiver", () => {
  let t: TestBroker;
  let conn: Connection;
  before(async () => {
    t = await startBroker({ queues: { autoCreate: false, names: ["orders", "manual", "held"] } });
    conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port: t.broker.port! }));
    await conn.open();
  });
  after(async () => {
    await conn.close();
    await t.broker.close();
  });

  it("return attached links that send and receive", async () => {
    const session = new Session(conn);
    const sender = await session.createSender("orders", { timeout: 10_000 });
    assert.equal(sender.state, MessageSenderState.Open);
    const outcome = await sender.send(new Message({ body: "created" }));
    assert.equal(outcome.result, MessageSendResult.Ok);
    const got: Message[] = [];
    const receiver = await session.createReceiver("orders", {
      prefetch: 5,
      onMessageReceived: (m) => got.push(m),
    });
    assert.equal(receiver.state, MessageReceiverState.Open);
    await until(() => got.length === 1, "the message");
    assert.equal(got[0]!.toString(), "created");
    assert.equal(await got[0]!.accept(), true);
    await sender.close();
    await receiver.close();
    await session.close();
  });

  it("an address the broker refuses rejects with LinkDetach; the connection stays up", async () => {
    const session = new Session(conn);
    const e = await rejectionOf(session.createSender("nowhere", { timeout: 10_000 }), "createSender");
    assert.ok(e instanceof LinkDetach, String(e));
    const e2 = await rejectionOf(session.createReceiver("nowhere", { timeout: 10_000 }), "createReceiver");
    assert.ok(e2 instanceof LinkDetach, String(e2));
    await until(() => t.broker.connectionCount === 1, "one connection still");
    await session.close();
  });

  it('creditMode "manual": no credit until addCredit()', async () => {
    const session = new Session(conn);
    const sender = await session.createSender("manual");
    for (const body of ["a", "b", "c"]) await sender.send(new Message({ body }));
    const got: Message[] = [];
    const receiver = await session.createReceiver("manual", {
      creditMode: "manual",
      prefetch: 100, // ignored in manual mode
      onMessageReceived: (m) => got.push(m),
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 0, "nothing without credit");
    receiver.addCredit(2);
    await until(() => got.length === 2, "two messages");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 2, "no more than the credit");
    for (const m of got) await m.accept();
    await receiver.close();
    await sender.close();
    await session.close();
  });

  it("open({ signal }) stops waiting with AMQPAbortError; a pre-aborted signal rejects at once", async () => {
    // Until the broker answers the ATTACH: a connection that is not open yet keeps the link waiting.
    const unopened = new Connection(
      "127.0.0.1",
      new SASLAnonymous("127.0.0.1", { tls: false, port: t.broker.port! }),
    );
    try {
      const session = new Session(unopened);
      const sender = new MessageSender(session, "me", "held");
      const ac = new AbortController();
      const opening = sender.open({ signal: ac.signal });
      ac.abort();
      const e = await rejectionOf(opening, "open()");
      assert.ok(e instanceof AMQPAbortError, String(e));
      assert.equal(sender.state, MessageSenderState.Error);
      await sender.close();
      const pre = await rejectionOf(
        session.createReceiver("held", { signal: AbortSignal.abort() }),
        "createReceiver",
      );
      assert.ok(pre instanceof AMQPAbortError, String(pre));
    } finally {
      await unopened.close();
    }
  });

  it("timeout bounds the attach with ClientTimeout", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const mute = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }), {
      closeTimeoutMs: 100,
    });
    try {
      const e = await rejectionOf(new Session(mute).createSender("x", { timeout: 100 }), "createSender");
      assert.ok(e instanceof ClientTimeout, String(e));
    } finally {
      await mute.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
