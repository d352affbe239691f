/**
 * AMQPClient.waitUntilReady(): opens if needed, waits out a recovery, bounded by
 * timeout and an AbortSignal.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { AMQPAbortError, AMQPClientShutdown, ClientTimeout } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { rejectionOf } from "../support/waits.js";
import { startBroker, until, type TestBroker } from "./support.js";

describe("AMQPClient.waitUntilReady", () => {
  let t: TestBroker;
  let mute: net.Server;
  let mutePort = 0;
  const sockets: net.Socket[] = [];
  before(async () => {
    t = await startBroker();
    // Accepts TCP connections and never answers: an open that cannot complete.
    mute = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
    mutePort = (mute.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => mute.close(r));
    await t.broker.close();
  });

  it("opens a client that was not opened and resolves when the link is up", async () => {
    const client = new SendClient(t.url("ready-1"));
    try {
      assert.equal(client.isReady, false);
      await client.waitUntilReady({ timeout: 10_000 });
      assert.equal(client.isReady, true);
      assert.equal(t.attaches("ready-1", "sender"), 1);
      await client.waitUntilReady(); // already ready: at once
    } finally {
      await client.close();
    }
  });

  it("rejects with ClientTimeout after timeout when the peer never answers", async () => {
    const client = new AMQPClient(`amqp://127.0.0.1:${mutePort}/q`, { reconnect: false });
    try {
      const e = await rejectionOf(client.waitUntilReady({ timeout: 150 }), "waitUntilReady()");
      assert.ok(e instanceof ClientTimeout, String(e));
    } finally {
      await client.close();
    }
  });

  it("an AbortSignal stops it with AMQPAbortError", async () => {
    const client = new AMQPClient(`amqp://127.0.0.1:${mutePort}/q`, { reconnect: false });
    try {
      const ac = new AbortController();
      const waiting = client.waitUntilReady({ signal: ac.signal });
      ac.abort();
      const e = await rejectionOf(waiting, "waitUntilReady()");
      assert.ok(e instanceof AMQPAbortError, String(e));
    } finally {
      await client.close();
    }
  });

  it("waits out a recovery: resolves once the broker is back and the link re-attached", async () => {
    const client = new SendClient(t.url("ready-2"));
    try {
      await client.waitUntilReady({ timeout: 10_000 });
      await t.broker.stop({ abrupt: true });
      await until(() => !client.isReady, "the client to notice the loss");
      let resolved = false;
      const waiting = client.waitUntilReady({ timeout: 20_000 }).then(() => {
        resolved = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(resolved, false, "not ready while the broker is down");
      await t.broker.restart();
      await waiting;
      assert.equal(client.isReady, true);
      assert.equal(t.attaches("ready-2", "sender"), 2);
      await client.sendMessage(new Message({ body: "after recovery" }), { closeOnDone: false });
    } finally {
      await client.close();
    }
  });

  it("rejects with AMQPClientShutdown on a closed client", async () => {
    const client = new AMQPClient(t.url("ready-3"));
    await client.close();
    const e = await rejectionOf(client.waitUntilReady(), "waitUntilReady()");
    assert.ok(e instanceof AMQPClientShutdown, String(e));
  });
});
