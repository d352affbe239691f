import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { sendMessage } from "../../src/client/helpers.js";
import { AMQPClientShutdown, LinkDetach, VendorConnectionClose } from "../../src/errors/exceptions.js";
import { ErrorPolicy } from "../../src/policy/error-policy.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { setLogger, type AMQPLogger } from "../../src/util/log.js";
import { gather } from "../support/waits.js";
import { recordStatus, startBroker, until } from "./support.js";

const FAST = { initialMs: 20, maxMs: 200, maxAttempts: 50 } as const;

describe("client recovery", () => {
  for (const abrupt of [true, false]) {
    it(`broker stopped (${abrupt ? "sockets dropped" : "CLOSE sent"}) and restarted on the same port during 10,000 unsettled sends: all arrive at least once`, async (ctx) => {
      const t = await startBroker();
      try {
        const client = new SendClient(t.url("bulk"), { reconnect: FAST });
        const status = recordStatus(client);
        const n = 10_000;
        const messages = Array.from(
          { length: n },
          (_, i) => new Message({ body: `m${i}`, applicationProperties: { i } }),
        );
        client.queueMessage(...messages);
        const sending = client.sendAllMessages({ closeOnDone: false });
        await until(() => t.broker.stats("bulk").messageCount >= 2000, "2000 messages stored");
        await t.broker.stop({ abrupt });
        await new Promise((r) => setTimeout(r, 150));
        await t.broker.restart();
        const states = await sending;
        assert.equal(states.length, n);
        assert.ok(states.every((s) => s === MessageState.SendComplete));
        const types = status.map((s) => s.type);
        assert.ok(types.includes("disconnected"));
        assert.ok(types.includes("reconnecting"));
        const reconnected = status.find((s) => s.type === "reconnected");
        assert.ok(reconnected?.type === "reconnected");
        await client.close();

        // Every message reported sent is in the queue (at least once); count the duplicates.
        const stored = t.broker.stats("bulk").messageCount;
        assert.ok(stored >= n, `${stored} stored`);
        const seen = new Map<number, number>();
        const rc = new ReceiveClient(t.url("bulk"), { prefetch: 1000, timeout: 1000 });
        for await (const m of rc) {
          const i = m.applicationProperties?.["i"] as number;
          seen.set(i, (seen.get(i) ?? 0) + 1);
        }
        assert.equal(seen.size, n);
        let duplicates = 0;
        for (const c of seen.values()) duplicates += c - 1;
        assert.equal(stored, n + duplicates);
        // Only messages in flight at the disconnect (at most maxInFlight) can be duplicated.
        assert.ok(duplicates <= client.maxInFlight, `${duplicates} duplicates`);
        ctx.diagnostic(`resent after reconnecting: ${reconnected.resent}, duplicates stored: ${duplicates}`);
      } finally {
        await t.broker.close();
      }
    });
  }

  it("a PeekLock receiver whose connection is cut gets its unsettled messages again after reconnecting", async () => {
    const t = await startBroker();
    try {
      for (let i = 0; i < 5; i++) await sendMessage(t.url("locked"), `m${i}`);
      const client = new ReceiveClient(t.url("locked"), {
        autoComplete: false,
        prefetch: 10,
        reconnect: FAST,
      });
      const status = recordStatus(client);
      const first = await gather(5, () => client.receiveMessageBatch({ timeout: 5000 }), "5 messages");
      assert.equal(t.broker.stats("locked").lockedCount, 5);
      const receiver = client.receiver;
      await t.broker.closeConnections({ condition: "amqp:connection:forced", description: "cut" });
      const again = await gather(5, () => client.receiveMessageBatch({ timeout: 5000 }), "5 redelivered");
      assert.deepEqual(
        again.map((m) => m.toString()),
        first.map((m) => m.toString()),
      );
      assert.notEqual(client.receiver, receiver);
      for (const m of again) assert.equal(await m.accept(), true);
      await until(() => t.broker.stats("locked").messageCount === 0, "the accepts");
      assert.deepEqual(
        status.map((s) => s.type).filter((x) => x !== "reconnecting"),
        ["disconnected", "reconnected"],
      );
      await client.close();
    } finally {
      await t.broker.close();
    }
  });

  it("a link detached with a retryable condition mid-send is re-attached and every message completes", async () => {
    const t = await startBroker();
    try {
      const client = new SendClient(t.url("flap"), { reconnect: FAST });
      const status = recordStatus(client);
      for (let i = 0; i < 3000; i++) client.queueMessage(new Message({ body: `m${i}` }));
      const sending = client.sendAllMessages();
      await until(() => t.broker.stats("flap").messageCount >= 300, "300 stored");
      assert.equal(t.broker.detachLinks("flap", { condition: "amqp:link:detach-forced" }), 1);
      const states = await sending;
      assert.ok(states.every((s) => s === MessageState.SendComplete));
      assert.ok(t.broker.stats("flap").messageCount >= 3000);
      const detached = status.find((s) => s.type === "linkDetached");
      assert.ok(detached?.type === "linkDetached");
      assert.equal(detached.error.condition, "amqp:link:detach-forced");
      assert.equal(detached.error.retryable, true);
      assert.ok(status.some((s) => s.type === "reconnected"));
      assert.equal(t.broker.connectionCount, 0);
    } finally {
      await t.broker.close();
    }
  });

  it("a non-retryable error surfaces once, typed, to every pending call", async () => {
    const t = await startBroker({ hooks: { hold: { neverSettle: true } } });
    try {
      const sender = new SendClient(t.url("hold"), { reconnect: FAST });
      const status = recordStatus(sender);
      const a = new Message({ body: "a" });
      const b = new Message({ body: "b" });
      sender.queueMessage(a);
      const all = sender.sendAllMessages({ closeOnDone: false }).then(
        () => "resolved",
        (e: unknown) => e,
      );
      const one = sender.sendMessage(b).then(
        () => "resolved",
        (e: unknown) => e,
      );
      const waiting = sender.wait().then(
        () => "resolved",
        (e: unknown) => e,
      );
      const receiver = new ReceiveClient(t.url("hold"), { reconnect: FAST });
      const batch = receiver.receiveMessageBatch().then(
        () => "resolved",
        (e: unknown) => e,
      );
      const iterated = (async () => {
        for await (const _ of receiver) assert.fail("no message expected");
      })().then(
        () => "resolved",
        (e: unknown) => e,
      );
      await until(() => t.transfers("hold").length === 2 && receiver.isReady, "both clients busy");
      assert.equal(
        t.broker.detachLinks("hold", { condition: "amqp:unauthorized-access", description: "revoked" }),
        2,
      );
      const results = await Promise.all([all, one, waiting, batch, iterated]);
      for (const r of results) {
        assert.ok(r instanceof LinkDetach, String(r));
        assert.equal(r.condition, "amqp:unauthorized-access");
        assert.equal(r.retryable, false);
      }
      assert.equal(results[0], results[1]);
      assert.equal(a.state, MessageState.SendFailed);
      assert.equal(b.state, MessageState.SendFailed);
      assert.equal(a.sendError, results[0]);
      assert.equal(sender.state, "failed");
      assert.equal(await sender.closed(), results[0]);
      await until(() => status.at(-1)?.type === "closed", "the closed status");
      assert.ok(!status.some((s) => s.type === "reconnecting"));
      await assert.rejects(sender.sendMessage(new Message({ body: "c" })), LinkDetach);
      await sender.close();
      await receiver.close();
    } finally {
      await t.broker.close();
    }
  });

  it("a link that is detached again after every attach uses up the attempt budget, then fails", async () => {
    const t = await startBroker({
      hooks: { flaky: { detachAfterAttach: { condition: "amqp:link:detach-forced", description: "again" } } },
    });
    try {
      const client = new ReceiveClient(t.url("flaky"), {
        reconnect: { initialMs: 5, maxMs: 10, maxAttempts: 3 },
      });
      const status = recordStatus(client);
      const err = await client.receiveMessageBatch().then(
        () => assert.fail("should reject"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof LinkDetach);
      assert.equal(err.condition, "amqp:link:detach-forced");
      assert.equal(status.filter((s) => s.type === "reconnecting").length, 3);
      assert.equal(status.filter((s) => s.type === "reconnected").length, 3);
      assert.equal(t.attaches("flaky", "receiver"), 4);
      await client.close();
    } finally {
      await t.broker.close();
    }
  });

  it("the error policy decides: a vendor connection close the policy refuses to retry fails at once", async () => {
    const t = await startBroker();
    try {
      const client = new ReceiveClient(t.url("policy"), {
        reconnect: FAST,
        errorPolicy: new ErrorPolicy({ onError: () => ({ retry: false }) }),
      });
      const pending = client.receiveMessageBatch().then(
        () => assert.fail("should reject"),
        (e: unknown) => e,
      );
      await until(() => client.isReady, "open");
      await t.broker.closeConnections({ condition: "com.microsoft:server-busy" });
      const err = await pending;
      assert.ok(err instanceof VendorConnectionClose);
      assert.equal(err.action?.retry, false);
      await client.close();
    } finally {
      await t.broker.close();
    }
  });

  it("gives up after maxAttempts and fails the pending calls with the last error", async () => {
    const t = await startBroker({ hooks: { gone: { neverSettle: true } } });
    const client = new SendClient(t.url("gone"), { reconnect: { initialMs: 10, maxMs: 20, maxAttempts: 3 } });
    const status = recordStatus(client);
    const pending = client.sendMessage(new Message({ body: "x" })).then(
      () => "resolved",
      (e: unknown) => e,
    );
    await until(() => t.transfers("gone").length === 1, "the transfer");
    await t.broker.close();
    const err = await pending;
    assert.ok(err instanceof Error);
    assert.equal((err as { code?: string }).code, "AMQP_CONNECT_FAILED");
    assert.equal(status.filter((s) => s.type === "reconnecting").length, 3);
    assert.equal(status.at(-1)?.type, "closed");
    await client.close();
  });

  it("close() during a recovery ends it at once; pending calls end with AMQPClientShutdown", async () => {
    const t = await startBroker({ hooks: { slow: { neverSettle: true } } });
    const client = new SendClient(t.url("slow"), {
      reconnect: { initialMs: 60_000, maxMs: 60_000, jitter: 0, maxAttempts: 5 },
    });
    const status = recordStatus(client);
    const pending = client.sendMessage(new Message({ body: "x" })).then(
      () => "resolved",
      (e: unknown) => e,
    );
    await until(() => t.transfers("slow").length === 1, "the transfer");
    await t.broker.close();
    await until(() => status.some((s) => s.type === "reconnecting"), "the reconnect");
    assert.equal(client.state, "recovering");
    await client.close();
    const err = await pending;
    assert.ok(err instanceof AMQPClientShutdown);
    assert.equal(client.state, "closed");
  });
  it("logs losses, recovery attempts, the recovery and the failure through the logger, password masked", async () => {
    const lines: { level: string; line: string }[] = [];
    const capture = (level: string) => (message: string) => {
      if (message.includes(" uamqp:client ")) lines.push({ level, line: message });
    };
    const logger: AMQPLogger = {
      debug: capture("debug"),
      info: capture("info"),
      warn: capture("warn"),
      error: capture("error"),
    };
    setLogger(logger);
    const t = await startBroker({ sasl: { users: { alice: "s3cret-pw" }, mechanisms: ["PLAIN"] } });
    try {
      const url = t.url("logged").replace("amqp://", "amqp://alice:s3cret-pw@");
      const client = new SendClient(url, { reconnect: FAST, clientName: "log-test" });
      const status = recordStatus(client);
      await client.sendMessage(new Message({ body: "a" }));
      await t.broker.stop({ abrupt: true });
      await until(() => status.some((s) => s.type === "reconnecting"), "a reconnect attempt");
      await t.broker.restart();
      await until(() => status.some((s) => s.type === "reconnected"), "the recovery");
      await client.close();
      const levels = (word: string): string[] =>
        lines.filter((l) => l.line.includes(word)).map((l) => l.level);
      assert.deepEqual(levels("connection lost"), ["warn"]);
      assert.ok(levels("reconnecting (attempt 1)").every((l) => l === "warn"));
      assert.ok(levels("reconnecting (attempt 1)").length === 1);
      assert.deepEqual(levels("recovered"), ["info"]);
      assert.deepEqual(levels(" closed"), ["debug"]);
      assert.ok(lines.every((l) => l.line.includes("log-test") && l.line.includes("alice:***@")));
      assert.ok(!lines.some((l) => l.line.includes("s3cret-pw")), "the password never appears");

      const doomed = new SendClient(url, {
        reconnect: { initialMs: 5, maxMs: 10, maxAttempts: 1 },
        clientName: "doomed",
      });
      await doomed.sendMessage(new Message({ body: "b" }));
      await t.broker.close();
      assert.ok((await doomed.closed()) !== undefined, "the client failed");
      await doomed.close();
      assert.ok(
        lines.some((l) => l.level === "error" && l.line.includes("doomed") && l.line.includes("failed")),
      );
    } finally {
      setLogger(undefined);
      await t.broker.close();
    }
  });
});
