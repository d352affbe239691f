// Recovery that persists: a peer's idle-timeout close is retried, an idle link survives repeated
// short outages (the attempt count starts over after `healthyMs`), and a client that gives up says why.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { sendMessage } from "../../src/client/helpers.js";
import type { ClientStatus } from "../../src/client/client-status.js";
import { DEFAULT_RECONNECT } from "../../src/policy/reconnect.js";
import { ConnectionClose } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { within } from "../support/waits.js";
import { recordStatus, startBroker, until } from "./support.js";

/** The `closed` status once it was recorded (the recording is asynchronous). */
async function closedStatus(status: ClientStatus[]): Promise<Extract<ClientStatus, { type: "closed" }>> {
  await until(() => status.some((s) => s.type === "closed"), "the closed status");
  const closed = status.find((s) => s.type === "closed");
  assert.ok(closed?.type === "closed");
  assert.equal(status.at(-1), closed, "closed is the last status");
  return closed;
}

describe("client recovery persists", () => {
  for (const condition of ["amqp:resource-limit-exceeded", "amqp:connection:forced"]) {
    it(`a connection closed by the peer with ${condition} (as brokers close on an idle time-out) is reconnected and keeps receiving`, async () => {
      const t = await startBroker();
      try {
        const client = new ReceiveClient(t.url("idle"), { reconnect: { initialMs: 20, maxMs: 100 } });
        const status = recordStatus(client);
        await sendMessage(t.url("idle"), "before");
        const [first] = await client.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
        assert.equal(first?.toString(), "before");
        await until(() => t.broker.stats("idle").messageCount === 0, "the settlement");
        await t.broker.closeConnections({ condition, description: "idle time-out expired" });
        await until(() => status.some((s) => s.type === "reconnected"), "the reconnect");
        await sendMessage(t.url("idle"), "after");
        const [second] = await client.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
        assert.equal(second?.toString(), "after");
        const lost = status.find((s) => s.type === "disconnected");
        assert.equal(lost?.type === "disconnected" ? lost.error.condition : undefined, condition);
        assert.equal(client.state, "open");
        await client.close();
      } finally {
        await t.broker.close();
      }
    });
  }

  it(
    "an idle receiver survives 10 outages of 1.5 s in a row, then receives",
    { timeout: 90_000 },
    async () => {
      const t = await startBroker();
      try {
        // No jitter, backoff capped at 500 ms: attempts 200, 600, 1100, 1600 ms after the loss, so
        // each 1.5 s outage takes 4 attempts and two outages spend the default budget (8) unless
        // the count starts over; healthyMs keeps its default.
        const client = new ReceiveClient(t.url("outages"), { reconnect: { maxMs: 500, jitter: 0 } });
        const status = recordStatus(client);
        await client.open();
        await until(() => client.isReady, "the receiver attached");
        for (let i = 1; i <= 10; i++) {
          // Alternate a peer's idle-timeout close and a dropped socket.
          await t.broker.stop(
            i % 2 === 0
              ? { abrupt: true }
              : {
                  error: { condition: "amqp:resource-limit-exceeded", description: "idle time-out expired" },
                },
          );
          await sleep(1500); // the outage
          await t.broker.restart();
          await until(
            () => status.filter((s) => s.type === "reconnected").length === i,
            `recovery from outage ${i}: ${JSON.stringify(status.map((s) => s.type))}`,
          );
          assert.equal(client.state, "open", `open after outage ${i}`);
          // Healthy (open and attached) long enough for the next failure to start a new count.
          await sleep(DEFAULT_RECONNECT.healthyMs + 100);
        }
        const attempts = status.filter((s) => s.type === "reconnecting").length;
        assert.ok(attempts > DEFAULT_RECONNECT.maxAttempts, `${attempts} attempts in all, beyond one budget`);
        await sendMessage(t.url("outages"), "still here");
        const [m] = await client.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
        assert.equal(m?.toString(), "still here");
        assert.ok(!status.some((s) => s.type === "closed"));
        await client.close();
      } finally {
        await t.broker.close();
      }
    },
  );

  it("a client that gives up says why: attempts spent, in its error and its closed status", async () => {
    const t = await startBroker();
    const client = new SendClient(t.url("gone"), { reconnect: { initialMs: 5, maxMs: 10, maxAttempts: 3 } });
    const status = recordStatus(client);
    await client.sendMessage(new Message({ body: "x" }));
    await t.broker.close();
    const err = await within(client.closed(), "the client fails");
    assert.ok(err !== undefined);
    assert.equal(err.code, "AMQP_CONNECT_FAILED");
    assert.deepEqual(err.recoveryFailure, { reason: "attemptsExhausted", attempts: 3 });
    const closed = await closedStatus(status);
    assert.equal(closed.error, err);
    assert.deepEqual(closed.recoveryFailure, err.recoveryFailure);
    await assert.rejects(client.sendMessage(new Message({ body: "y" })), (e: unknown) => e === err);
    await client.close();
  });

  it("a client whose error the policy refuses to retry says so, with no attempt made", async () => {
    const t = await startBroker();
    try {
      const client = new ReceiveClient(t.url("refused"), { reconnect: { initialMs: 5, maxMs: 10 } });
      const status = recordStatus(client);
      await client.open();
      await until(() => client.isReady, "the receiver attached");
      await t.broker.closeConnections({ condition: "amqp:unauthorized-access", description: "revoked" });
      const err = await within(client.closed(), "the client fails");
      assert.ok(err instanceof ConnectionClose);
      assert.equal(err.condition, "amqp:unauthorized-access");
      assert.deepEqual(err.recoveryFailure, { reason: "notRetryable", attempts: 0 });
      assert.ok(!status.some((s) => s.type === "reconnecting"));
      const closed = await closedStatus(status);
      assert.deepEqual(closed.recoveryFailure, err.recoveryFailure);
      await client.close();
    } finally {
      await t.broker.close();
    }
  });
});
