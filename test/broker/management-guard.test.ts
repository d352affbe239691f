/**
 * `$management` obeys the `$cbs` guard and `queues.autoCreate: false` (docs/broker.md, "$management"):
 * a request naming a guarded entity needs a token covering it on the connection, and CREATE adds no
 * queue when queues are not auto-created.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type rhea from "rhea";
import type { BrokerOptions } from "../../src/broker/index.js";
import { inAnHour, nodeRequest, putToken, sasToken } from "./cbs-client.js";
import { brokerFixture, collect, connect, openReceiver, openSender, sendAll } from "./rhea-client.js";

const KEY_NAME = "RootManageSharedAccessKey";
const KEY = "bWFuYWdlbWVudC1ndWFyZC1rZXk=";
const AUDIENCE = "sb://ns.example.net/vault";

const status = (m: rhea.Message): unknown => m.application_properties?.["statusCode"];
const description = (m: rhea.Message): string => String(m.application_properties?.["statusDescription"]);

describe("broker: $management obeys the $cbs guard and queues.autoCreate", () => {
  const { setup, keep } = brokerFixture();
  const guarded: BrokerOptions = { cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: ["vault"] } };

  /** A broker whose guarded queue `vault` holds two messages, sent by a client holding a token. */
  const withMessages = async (options: BrokerOptions = guarded) => {
    const { b, c } = await setup(options);
    const owner = keep(await connect(b.port!));
    assert.equal((await putToken(owner, sasToken(AUDIENCE, inAnHour(), KEY, KEY_NAME), AUDIENCE)).code, 200);
    await sendAll(await openSender(owner, "vault"), [{ body: "one" }, { body: "two" }]);
    assert.equal(b.stats("vault").messageCount, 2);
    return { b, c };
  };

  it("refuses READ, CREATE and DELETE of a guarded queue without a token (401); the queue and its messages survive", async () => {
    const { b, c } = await withMessages();
    for (const operation of ["READ", "DELETE", "CREATE"]) {
      const res = await nodeRequest(c, "$management", { operation, type: "q", name: "vault" });
      assert.equal(status(res), 401, operation);
      const props = res.application_properties ?? {};
      assert.equal(props["status-code"], 401, operation);
      assert.match(description(res), /no valid token authorizes 'vault'/, operation);
      assert.equal(props["errorCondition"], "amqp:unauthorized-access", operation);
      // A READ must not leak the counters.
      assert.equal(res.body, null, operation);
    }
    // Entities under a guarded path, and the queue's per-entity management node, are guarded too.
    const sub = await nodeRequest(c, "$management", { operation: "CREATE", name: "vault/inner" });
    assert.equal(status(sub), 401);
    assert.ok(!b.queueNames().includes("vault/inner"));
    assert.ok(b.queueNames().includes("vault"));
    assert.equal(b.stats("vault").messageCount, 2);
    assert.equal(b.deniedRequests, 4);
  });

  it("refuses requests to a guarded queue's own <entity>/$management without a token", async () => {
    const { b, c } = await withMessages();
    const replies = await openReceiver(c, { source: "vault/$management", target: "peek-replies" });
    const requests = await openSender(c, "vault/$management");
    const got = collect(replies, 1);
    await sendAll(requests, [
      {
        message_id: 1,
        reply_to: "peek-replies",
        application_properties: { operation: "com.microsoft:peek-message" },
        body: new Map<string, unknown>([
          ["from-sequence-number", 0],
          ["message-count", 10],
        ]),
      },
    ]);
    const res = (await got)[0]!.message!;
    assert.equal(status(res), 401);
    assert.equal(b.stats("vault").messageCount, 2);
    assert.equal(b.deniedRequests, 1);
  });

  it("lets a client holding a token for the queue READ, DELETE and CREATE it", async () => {
    const { b, c } = await withMessages();
    assert.equal((await putToken(c, sasToken(AUDIENCE, inAnHour(), KEY, KEY_NAME), AUDIENCE)).code, 200);
    const read = await nodeRequest(c, "$management", { operation: "READ", name: "vault" });
    assert.equal(status(read), 200);
    assert.equal((read.body as Record<string, unknown>)["message_count"], 2);
    assert.equal(status(await nodeRequest(c, "$management", { operation: "DELETE", name: "vault" })), 200);
    assert.ok(!b.queueNames().includes("vault"));
    assert.equal(status(await nodeRequest(c, "$management", { operation: "CREATE", name: "vault" })), 201);
    assert.ok(b.queueNames().includes("vault"));
    assert.equal(b.deniedRequests, 0);
  });

  it("a token for another entity does not open a guarded one", async () => {
    const { b, c } = await withMessages({
      cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: ["vault", "other"] },
    });
    const other = "sb://ns.example.net/other";
    assert.equal((await putToken(c, sasToken(other, inAnHour(), KEY, KEY_NAME), other)).code, 200);
    assert.equal(status(await nodeRequest(c, "$management", { operation: "DELETE", name: "vault" })), 401);
    assert.equal(b.stats("vault").messageCount, 2);
  });

  it("refuses CREATE when queues are not auto-created (403) and creates nothing", async () => {
    const { b, c } = await setup({ queues: { autoCreate: false, names: ["existing"] } });
    const res = await nodeRequest(c, "$management", { operation: "CREATE", type: "q", name: "made" });
    assert.equal(status(res), 403);
    assert.match(description(res), /autoCreate is false/);
    assert.equal(res.application_properties?.["errorCondition"], "amqp:not-allowed");
    assert.ok(!b.queueNames().includes("made"));
    // Declared queues still answer READ and DELETE.
    assert.equal(status(await nodeRequest(c, "$management", { operation: "READ", name: "existing" })), 200);
    assert.equal(b.deniedRequests, 1);
  });

  it("leaves unguarded addresses open to management without a token", async () => {
    const { b, c } = await setup(guarded);
    await sendAll(await openSender(c, "open"), [{ body: "x" }]);
    const read = await nodeRequest(c, "$management", { operation: "READ", name: "open" });
    assert.equal(status(read), 200);
    assert.equal((read.body as Record<string, unknown>)["message_count"], 1);
    assert.equal(status(await nodeRequest(c, "$management", { operation: "CREATE", name: "fresh" })), 201);
    assert.equal(status(await nodeRequest(c, "$management", { operation: "DELETE", name: "open" })), 200);
    assert.ok(!b.queueNames().includes("open"));
    assert.equal(b.deniedRequests, 0);
  });
});
