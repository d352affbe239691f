/**
 * The spec's option names (`timeoutMs`, `msgTimeoutMs`, `inactivityTimeoutMs`, `networkTrace`,
 * `idleTimeoutMs`, `connectionProperties`, `openTimeoutMs`) work beside uamqp's; both at once with
 * different values is a RangeError.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { Connection } from "../../src/client/connection.js";
import { receiveMessage, receiveMessages, sendMessage } from "../../src/client/helpers.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { setLogger } from "../../src/util/log.js";
import { startBroker, type TestBroker } from "./support.js";

/** Captures the logger's info lines while `fn` runs. */
async function traced(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const keep = (m: string): void => {
    lines.push(m);
  };
  setLogger({ debug: () => undefined, info: keep, warn: () => undefined, error: () => undefined });
  try {
    await fn();
  } finally {
    setLogger(undefined);
  }
  return lines;
}

describe("option names of the spec's TypeScript shape", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker();
  });
  after(async () => {
    await t.broker.close();
  });
  afterEach(() => {
    setLogger(undefined);
  });

  it("receiveMessage / receiveMessages take timeoutMs: an empty source resolves after it", async () => {
    // Were timeoutMs ignored, these would wait for a message: the signal turns that into a failure.
    const signal = AbortSignal.timeout(5000);
    assert.equal(await receiveMessage(t.url("alias-empty"), { timeoutMs: 150, signal }), undefined);
    assert.deepEqual(
      await receiveMessages(t.url("alias-empty"), { timeoutMs: 150, maxBatchSize: 5, signal }),
      [],
    );
    await sendMessage(t.url("alias-one"), "here");
    const m = await receiveMessage(t.url("alias-one"), { timeoutMs: 5000 });
    assert.equal(m?.toString(), "here");
  });

  it("receiveMessageBatch takes timeoutMs; ReceiveClient takes inactivityTimeoutMs", async () => {
    const client = new ReceiveClient(t.url("alias-batch"), {
      inactivityTimeoutMs: 60_000,
      shutdownAfterTimeout: false,
    });
    try {
      assert.equal(client.timeout, 60_000);
      const signal = AbortSignal.timeout(5000);
      assert.deepEqual(await client.receiveMessageBatch({ timeoutMs: 100, signal }), []);
    } finally {
      await client.close();
    }
    // The inactivity timeout ends the iteration and closes the client (scenario 35's wording).
    const idle = new ReceiveClient(t.url("alias-idle"), { inactivityTimeoutMs: 150 });
    const got: unknown[] = [];
    for await (const m of idle.messages({ signal: AbortSignal.timeout(5000) })) got.push(m);
    assert.deepEqual(got, []);
    assert.equal(idle.state, "closed");
  });

  it("SendClient takes msgTimeoutMs", async () => {
    const client = new SendClient(t.url("alias-send"), { msgTimeoutMs: 5000 });
    await client.close();
    assert.equal(client.msgTimeout, 5000);
  });

  it("networkTrace traces the frames; idleTimeoutMs and connectionProperties reach the OPEN", async () => {
    const lines = await traced(async () => {
      await sendMessage(t.url("alias-trace"), "x", {
        networkTrace: true,
        idleTimeoutMs: 40_000,
        connectionProperties: { product: "alias-test" },
      });
    });
    const open = lines.find((l) => l.includes("amqp:frames") && l.includes("OPEN") && l.includes("->"));
    assert.ok(open, `an outgoing OPEN in the trace:\n${lines.join("\n")}`);
    assert.match(open, /40000/);
    assert.match(open, /alias-test/);
  });

  it("the low-level Connection takes networkTrace", async () => {
    const lines = await traced(async () => {
      const port = Number(new URL(t.broker.url).port);
      const conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }), {
        networkTrace: true,
      });
      await conn.open();
      await conn.close();
    });
    assert.ok(lines.some((l) => l.includes("amqp:frames")));
  });

  it("open() takes timeoutMs and the client openTimeoutMs", async () => {
    const client = new AMQPClient(t.url("alias-open"), { openTimeoutMs: 10_000 });
    try {
      assert.equal(client.options.openTimeout, 10_000);
      await client.open({ timeoutMs: 10_000 });
    } finally {
      await client.close();
    }
  });

  it("both names of one option with different values: RangeError naming both", () => {
    assert.throws(
      () => new SendClient(t.url("x"), { msgTimeout: 1, msgTimeoutMs: 2 }),
      /msgTimeout.*msgTimeoutMs/,
    );
    assert.throws(() => new ReceiveClient(t.url("x"), { timeout: 1, inactivityTimeoutMs: 2 }), RangeError);
    assert.throws(() => new AMQPClient(t.url("x"), { debug: true, networkTrace: false }), RangeError);
    assert.throws(() => new AMQPClient(t.url("x"), { idleTimeout: 1, idleTimeoutMs: 2 }), RangeError);
    // The same value under both names is not a conflict.
    const ok = new SendClient(t.url("x"), { msgTimeout: 7, msgTimeoutMs: 7 });
    assert.equal(ok.msgTimeout, 7);
  });

  it("receiveMessage with timeout and timeoutMs different rejects with RangeError", async () => {
    await assert.rejects(receiveMessage(t.url("x"), { timeout: 1, timeoutMs: 2 }), RangeError);
  });
});
