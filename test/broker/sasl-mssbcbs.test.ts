/**
 * SASL MSSBCBS on the broker (Azure's token authentication: no credentials in SASL, a token put on
 * `$cbs` afterwards). Offered wherever anonymous clients are allowed; next to users only when `$cbs`
 * verifies tokens, and then such a client reaches only what its verified tokens grant. rhea is the
 * client (with a custom MSSBCBS mechanism, as Azure's JavaScript clients could), and a raw socket
 * reads the offer and sends the sasl-init itself.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type rhea from "rhea";
import { Broker, BrokerError, type BrokerEvent, type BrokerOptions } from "../../src/broker/index.js";
import { inAnHour, nodeRequest, putToken, sasToken } from "./cbs-client.js";
import { saslExchange } from "./raw-sasl.js";
import {
  attachError,
  brokerFixture,
  collect,
  connect,
  linkError,
  openReceiver,
  openSender,
  sendAll,
  until,
  waitEvent,
} from "./rhea-client.js";

const KEY_NAME = "RootManageSharedAccessKey";
const KEY = "bXNzYmNicy10ZXN0LWtleQ==";
const USERS = { alice: "s3cret" };
const token = (resource: string): string => sasToken(resource, inAnHour(), KEY, KEY_NAME);

/** rhea's client options for SASL MSSBCBS: the mechanism name, no initial response. */
const MSSBCBS: Partial<rhea.ConnectionOptions> = {
  sasl_mechanisms: {
    MSSBCBS: () => ({
      start: (callback: (error: unknown, response: unknown) => void) => {
        callback(undefined, undefined);
      },
    }),
  },
} as unknown as Partial<rhea.ConnectionOptions>;

describe("broker: SASL MSSBCBS (token authentication through $cbs)", () => {
  const { keep } = brokerFixture();
  const start = async (options: BrokerOptions): Promise<Broker> => keep(await Broker.start(options));

  it("is offered on an open broker, and next to users only when $cbs verifies tokens", async () => {
    const offer = async (options: BrokerOptions): Promise<string[]> =>
      (await saslExchange((await start(options)).port!)).offered;
    assert.deepEqual(await offer({}), ["PLAIN", "MSSBCBS", "ANONYMOUS"]);
    assert.deepEqual(await offer({ sasl: { users: USERS } }), ["PLAIN"]);
    assert.deepEqual(await offer({ sasl: { users: USERS }, cbs: { guardedAddresses: ["hub"] } }), ["PLAIN"]);
    assert.deepEqual(await offer({ sasl: { users: USERS }, cbs: { keys: { [KEY_NAME]: KEY } } }), [
      "PLAIN",
      "MSSBCBS",
    ]);
    assert.deepEqual(await offer({ sasl: { users: USERS }, cbs: { validateJwt: () => false } }), [
      "PLAIN",
      "MSSBCBS",
    ]);
    assert.deepEqual(await offer({ sasl: { users: USERS, allowAnonymous: true } }), [
      "PLAIN",
      "MSSBCBS",
      "ANONYMOUS",
    ]);
    assert.deepEqual(await offer({ sasl: { mechanisms: ["PLAIN"] } }), ["PLAIN"]);
  });

  it("accepts a sasl-init for MSSBCBS only where it is offered", async () => {
    const locked = await start({ sasl: { users: USERS, failedLoginDelayMs: 0 } });
    assert.deepEqual(await saslExchange(locked.port!, "MSSBCBS"), { offered: ["PLAIN"], code: 1 });
    const withKeys = await start({ sasl: { users: USERS }, cbs: { keys: { [KEY_NAME]: KEY } } });
    assert.deepEqual(await saslExchange(withKeys.port!, "MSSBCBS"), {
      offered: ["PLAIN", "MSSBCBS"],
      code: 0,
    });
    const open = await start({});
    assert.equal((await saslExchange(open.port!, "MSSBCBS")).code, 0);
  });

  it("refuses to start with MSSBCBS listed next to users while $cbs verifies no token", async () => {
    let started: Broker | undefined;
    await assert.rejects(
      Broker.start({ port: 0, sasl: { users: USERS, mechanisms: ["PLAIN", "MSSBCBS"] } }).then((b) => {
        started = b; // closed below, so that a failure cannot keep the process alive
      }),
      (e: unknown) => e instanceof BrokerError && /MSSBCBS.*cbs\.keys/.test(e.message),
    );
    await started?.close();
    await start({
      sasl: { users: USERS, mechanisms: ["PLAIN", "MSSBCBS"] },
      cbs: { keys: { [KEY_NAME]: KEY } },
    });
  });

  it("on an open broker an MSSBCBS client gets in like an anonymous one; guarded addresses still need a token", async () => {
    const b = await start({ cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: ["hub"] } });
    const opened: BrokerEvent[] = [];
    b.observe((e) => {
      if (e.type === "connection-open") opened.push(e);
    });
    const c = keep(await connect(b.port!, MSSBCBS));
    assert.deepEqual(
      opened.map((e) => e.type === "connection-open" && [e.mechanism, e.identity]),
      [["MSSBCBS", undefined]],
    );
    await sendAll(await openSender(c, "free"), [{ body: "no token needed" }]);
    assert.equal((await attachError(openSender(c, "hub"))).condition, "amqp:unauthorized-access");
    assert.equal((await putToken(c, token("sb://ns/hub"), "sb://ns/hub")).code, 200);
    await sendAll(await openSender(c, "hub"), [{ body: "with a token" }]);
    assert.equal(b.stats("hub").messageCount, 1);
  });

  it("next to users an MSSBCBS client reaches only what its tokens grant: links, relay, $management", async () => {
    const b = await start({ sasl: { users: USERS }, cbs: { keys: { [KEY_NAME]: KEY } } });
    const alice = keep(await connect(b.port!, { username: "alice", password: "s3cret" }));
    await sendAll(await openSender(alice, "alice-inbox"), [{ body: "for alice only" }]);

    const c = keep(await connect(b.port!, MSSBCBS));
    // No token yet: no queue at all (none is guarded, yet none is open to this client).
    assert.equal((await attachError(openReceiver(c, "alice-inbox"))).condition, "amqp:unauthorized-access");
    assert.equal((await attachError(openSender(c, "orders"))).condition, "amqp:unauthorized-access");
    const refused = await putToken(
      c,
      sasToken("sb://ns/orders", inAnHour(), "d3Jvbmc=", KEY_NAME),
      "sb://ns/orders",
    );
    assert.equal(refused.code, 401);

    assert.equal((await putToken(c, token("sb://ns/orders"), "sb://ns/orders")).code, 200);
    await sendAll(await openSender(c, "orders"), [{ body: "order 1" }]);
    assert.equal((await attachError(openReceiver(c, "alice-inbox"))).condition, "amqp:unauthorized-access");

    // The anonymous relay: only to what the token covers.
    const relay = await openSender(c, { target: {} });
    assert.deepEqual(
      await sendAll(relay, [
        { to: "orders", body: "order 2" },
        { to: "alice-inbox", body: "spam" },
      ]),
      ["accepted", "rejected"],
    );
    assert.equal(b.stats("orders").messageCount, 2);
    assert.equal(b.stats("alice-inbox").messageCount, 1);

    // $management: the entity of the request must be covered too.
    const read = await nodeRequest(c, "$management", { operation: "READ", name: "orders" });
    assert.equal(read.application_properties?.["statusCode"], 200);
    assert.equal((read.body as Record<string, unknown>)["message_count"], 2);
    for (const operation of ["READ", "DELETE"]) {
      const other = await nodeRequest(c, "$management", { operation, name: "alice-inbox" });
      assert.equal(other.application_properties?.["statusCode"], 401, operation);
    }
    const create = await nodeRequest(c, "$management", { operation: "CREATE", name: "new-queue" });
    assert.equal(create.application_properties?.["statusCode"], 401);
    assert.ok(!b.queueNames().includes("new-queue"));

    // A response does not go into a queue the client may not reach (reply-to naming it).
    const replies = await openReceiver(c, { source: "$management", target: "mine" });
    const requests = await openSender(c, "$management");
    const got = collect(replies, 1);
    await sendAll(requests, [
      {
        message_id: 9,
        reply_to: "alice-inbox",
        application_properties: { operation: "READ", name: "orders" },
        body: null,
      },
    ]);
    assert.equal((await got)[0]?.message?.correlation_id, 9);
    assert.equal(b.stats("alice-inbox").messageCount, 1);

    // A PLAIN user of the same broker is not confined.
    await openSender(alice, "anything");
    const r = await openReceiver(alice, "alice-inbox");
    assert.equal((await collect(r, 1))[0]?.message?.body, "for alice only");
  });

  it("next to users $cbs grants an MSSBCBS client verified tokens only, and detaches its links when they expire", async () => {
    let expiresAtMs = 0;
    const b = await start({
      sasl: { users: USERS },
      cbs: {
        validateJwt: (jwt, audience) =>
          jwt === "good-jwt" && audience.endsWith("/orders") ? { expiresAtMs } : false,
      },
    });
    const c = keep(await connect(b.port!, MSSBCBS));
    // No SAS keys: a SAS token cannot be verified, so it authorizes nothing here.
    const sas = await putToken(c, sasToken("sb://ns/orders", inAnHour(), KEY, KEY_NAME), "sb://ns/orders");
    assert.equal(sas.code, 401);
    assert.match(String(sas.description), /cannot be verified/);
    assert.equal((await putToken(c, "bad-jwt", "sb://ns/orders", "jwt")).code, 401);
    expiresAtMs = Date.now() + 300;
    assert.equal((await putToken(c, "good-jwt", "sb://ns/orders", "jwt")).code, 200);
    const r = await openReceiver(c, "orders");
    const detached = await waitEvent(r, "receiver_error");
    assert.equal(linkError(detached).condition, "amqp:unauthorized-access");
    await until(() => b.stats("orders").consumerCount === 0, "the expired link to go");
    assert.equal((await attachError(openSender(c, "orders"))).condition, "amqp:unauthorized-access");
  });
});
