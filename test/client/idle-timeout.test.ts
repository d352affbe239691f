// The broker's idle time-out and our client: a client that heartbeats (the default) is never closed
// for idleness however long it waits; one that does not is closed by the broker with
// amqp:resource-limit-exceeded, reconnects, and keeps receiving.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sendMessage } from "../../src/client/helpers.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { BROKER_DEFAULTS } from "../../src/broker/index.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { within } from "../support/waits.js";
import { recordStatus, startBroker, until } from "./support.js";

describe("client and the broker's idle time-out", () => {
  it("reads half of the broker's default idle time-out (60 s) from its OPEN (AMQP 1.0 section 2.4.5)", async () => {
    const t = await startBroker();
    const connection = new AmqpConnection({ containerId: "idle-reader" });
    try {
      connection.start(await connectTcp({ host: "127.0.0.1", port: t.broker.port! }));
      const open = await within(connection.opened(), "the broker's OPEN");
      assert.equal(open.idleTimeOut, BROKER_DEFAULTS.limits.idleTimeoutMs / 2);
      assert.equal(open.idleTimeOut, 30_000);
    } finally {
      await connection.close();
      await t.broker.close();
    }
  });

  it("a receiver that heartbeats (the default) survives 4 s of silence with a 1 s idle time-out", async () => {
    const t = await startBroker({ limits: { idleTimeoutMs: 1000 } });
    try {
      const client = new ReceiveClient(t.url("quiet"), { timeout: 0 });
      const status = recordStatus(client);
      await client.open();
      await until(() => client.isReady, "the receiver attached");
      await sleep(4000); // four idle time-outs without a message either way
      assert.deepEqual(
        t.events.filter((e) => e.type === "connection-close"),
        [],
        "the broker closed a connection",
      );
      assert.ok(!status.some((s) => s.type === "disconnected"), JSON.stringify(status.map((s) => s.type)));
      await sendMessage(t.url("quiet"), "after the silence");
      const [m] = await client.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
      assert.equal(m?.toString(), "after the silence");
      await client.close();
    } finally {
      await t.broker.close();
    }
  });

  it("a receiver that does not heartbeat in time is closed by the broker's idle time-out, reconnects and keeps receiving", async () => {
    const idleTimeoutMs = 600;
    const t = await startBroker({ limits: { idleTimeoutMs } });
    try {
      // Heartbeats at 3 × the broker's idle time-out: the broker closes the connection first.
      const client = new ReceiveClient(t.url("sleepy"), {
        remoteIdleTimeoutEmptyFrameSendRatio: 3,
        reconnect: { initialMs: 20, maxMs: 100 },
        timeout: 0,
      });
      const status = recordStatus(client);
      await client.open();
      await until(() => client.isReady, "the receiver attached");
      await until(() => status.some((s) => s.type === "reconnected"), "the reconnect after the idle close");
      const closed = t.events.find((e) => e.type === "connection-close");
      assert.ok(closed?.type === "connection-close");
      assert.equal(closed.error?.condition, "amqp:resource-limit-exceeded");
      assert.match(closed.error.description ?? "", /idle-timeout expired/);
      const lost = status.find((s) => s.type === "disconnected");
      assert.equal(
        lost?.type === "disconnected" ? lost.error.condition : undefined,
        "amqp:resource-limit-exceeded",
      );
      await sendMessage(t.url("sleepy"), "after the idle close");
      const [m] = await client.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
      assert.equal(m?.toString(), "after the idle close");
      assert.notEqual(client.state, "closed");
      await client.close();
    } finally {
      await t.broker.close();
    }
  });
});
