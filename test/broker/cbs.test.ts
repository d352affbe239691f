import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type rhea from "rhea";
import { Broker, type BrokerOptions, parseSasToken } from "../../src/broker/index.js";
import { verifySasToken } from "../../src/broker/nodes/sas-token.js";
import { scopePath } from "../../src/broker/nodes/cbs.js";
import { inAnHour, nodeRequest, putToken, sasToken as sas } from "./cbs-client.js";
import {
  attachError,
  close,
  collect,
  connect,
  linkError,
  openReceiver,
  openSender,
  sendAll,
  waitEvent,
} from "./rhea-client.js";

const KEY_NAME = "RootManageSharedAccessKey";
const KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHM=";

const sasToken = (resource: string, expiresAtSec: number, key = KEY, keyName = KEY_NAME): string =>
  sas(resource, expiresAtSec, key, keyName);

describe("broker: $cbs put-token and guarded addresses", () => {
  const brokers: Broker[] = [];
  const conns: rhea.Connection[] = [];
  after(async () => {
    for (const c of conns) await close(c);
    for (const b of brokers) await b.close();
  });
  const setup = async (options: BrokerOptions = {}): Promise<{ b: Broker; c: rhea.Connection }> => {
    const b = await Broker.start({
      cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: ["hub"] },
      ...options,
    });
    brokers.push(b);
    const c = await connect(b.port!);
    conns.push(c);
    return { b, c };
  };

  it("refuses links to a guarded address without a token (amqp:unauthorized-access)", async () => {
    const { c } = await setup();
    const err = await attachError(openSender(c, "hub"));
    assert.equal(err.condition, "amqp:unauthorized-access");
    const err2 = await attachError(openReceiver(c, "hub/Partitions/0"));
    assert.equal(err2.condition, "amqp:unauthorized-access");
    await openSender(c, "unguarded");
  });

  it("accepts a valid SAS token (200) and then lets guarded links attach", async () => {
    const { b, c } = await setup();
    const audience = `sb://ns.example.net/hub`;
    const res = await putToken(c, sasToken(audience, inAnHour()), audience);
    assert.equal(res.code, 200);
    const s = await openSender(c, `amqps://ns.example.net/hub`);
    await sendAll(s, [{ body: "authorized" }]);
    assert.equal(b.stats("hub").messageCount, 1);
    await openReceiver(c, "hub/Partitions/0");
    // The grant belongs to the connection that put the token.
    const other = await connect(b.port!);
    conns.push(other);
    assert.equal((await attachError(openSender(other, "hub"))).condition, "amqp:unauthorized-access");
  });

  it("answers 401 for an expired or wrongly signed token, and the attach stays refused", async () => {
    const { c } = await setup();
    const audience = "sb://ns.example.net/hub";
    const expired = await putToken(c, sasToken(audience, Math.floor(Date.now() / 1000) - 10), audience);
    assert.equal(expired.code, 401);
    assert.match(String(expired.description), /expired/);
    const wrongKey = await putToken(c, sasToken(audience, inAnHour(), "d3Jvbmc="), audience);
    assert.equal(wrongKey.code, 401);
    assert.match(String(wrongKey.description), /signature/);
    const unknownKey = await putToken(c, sasToken(audience, inAnHour(), KEY, "other"), audience);
    assert.equal(unknownKey.code, 401);
    const otherResource = await putToken(c, sasToken("sb://ns.example.net/elsewhere", inAnHour()), audience);
    assert.equal(otherResource.code, 401);
    const garbage = await putToken(c, "SharedAccessSignature nonsense", audience);
    assert.equal(garbage.code, 401);
    assert.equal((await attachError(openSender(c, "hub"))).condition, "amqp:unauthorized-access");
  });

  it("detaches guarded links with amqp:unauthorized-access when their token expires", async () => {
    const { c } = await setup({
      cbs: {
        guardedAddresses: ["hub"],
        validateJwt: (token, audience) =>
          token === "good-jwt" && audience.endsWith("/hub") ? { expiresAtMs: Date.now() + 150 } : false,
      },
    });
    assert.equal((await putToken(c, "bad-jwt", "sb://ns/hub", "jwt")).code, 401);
    assert.equal((await putToken(c, "good-jwt", "sb://ns/hub", "jwt")).code, 200);
    const r = await openReceiver(c, "hub");
    const detached = await waitEvent(r, "receiver_error");
    assert.equal(linkError(detached).condition, "amqp:unauthorized-access");
    assert.equal((await attachError(openSender(c, "hub"))).condition, "amqp:unauthorized-access");
  });

  it("answers 404 for an audience naming no entity when queues are not auto-created", async () => {
    const { c } = await setup({ queues: { autoCreate: false, names: ["hub"] } });
    const missing = "sb://ns.example.net/missing";
    assert.equal((await putToken(c, sasToken(missing, inAnHour()), missing)).code, 404);
    const hub = "sb://ns.example.net/hub";
    assert.equal((await putToken(c, sasToken(hub, inAnHour()), hub)).code, 200);
  });

  it("accepts any token when no keys are configured, and lets a hook answer instead", async () => {
    const { b, c } = await setup({ cbs: {} });
    assert.equal((await putToken(c, "anything", "sb://ns/q")).code, 200);
    let calls = 0;
    b.setHooks("$cbs", {
      onRequest: () => {
        calls++;
        return { statusCode: 401, statusDescription: "hooked" };
      },
    });
    const res = await putToken(c, "anything", "sb://ns/q");
    assert.deepEqual(res, { code: 401, description: "hooked" });
    assert.equal(calls, 1);
  });

  it("answers $cbs with status-code / status-description (int, string) only, as Azure's CBS does", async () => {
    const { c } = await setup();
    const audience = "sb://ns.example.net/hub";
    const res = await nodeRequest(
      c,
      "$cbs",
      { operation: "put-token", type: "servicebus.windows.net:sastoken", name: audience },
      sasToken(audience, inAnHour()),
    );
    assert.deepEqual(res.application_properties, { "status-code": 200, "status-description": "OK" });
    // $management keeps both spellings: Event Hubs answers status-code, Service Bus statusCode.
    const mgmt = await nodeRequest(c, "$management", { operation: "READ", name: "hub" });
    assert.deepEqual(Object.keys(mgmt.application_properties ?? {}).sort(), [
      "status-code",
      "status-description",
      "statusCode",
      "statusDescription",
    ]);
  });

  it("settles each request before it sends the response (uamqp-C fails a response to an unsettled request)", async () => {
    const { c } = await setup();
    const requestsOf = {
      $management: { operation: "READ", name: "hub", type: "com.microsoft:eventhub" },
      $cbs: { operation: "put-token", type: "jwt", name: "sb://ns/hub" },
    };
    for (const node of ["$management", "$cbs"] as const) {
      const replies = await openReceiver(c, { source: node, target: `order-${node}` });
      const requests = await openSender(c, node);
      const got = collect(replies, 1);
      const request = requests.send({
        message_id: 1,
        reply_to: `order-${node}`,
        application_properties: requestsOf[node],
        body: "token",
      });
      // rhea marks a delivery settled as it reads the DISPOSITION (its "accepted" event comes later),
      // so when the response's "message" event fires, the request must already be settled.
      let settledBeforeResponse: boolean | undefined;
      replies.once("message", () => {
        settledBeforeResponse = request.remote_settled;
      });
      assert.equal((await got)[0]?.message?.correlation_id, 1);
      assert.equal(settledBeforeResponse, true, `${node}: the response came before the request was settled`);
    }
  });

  it("parses and verifies SAS tokens", () => {
    const se = inAnHour();
    const token = sasToken("sb://ns.example.net/hub", se);
    const t = parseSasToken(token)!;
    assert.equal(t.resource, "sb://ns.example.net/hub");
    assert.equal(t.se, se);
    assert.equal(t.skn, KEY_NAME);
    assert.deepEqual(verifySasToken(t, { [KEY_NAME]: KEY }, Date.now()), {
      ok: true,
      expiresAtMs: se * 1000,
    });
    assert.equal(verifySasToken(t, { [KEY_NAME]: "other" }, Date.now()).ok, false);
    assert.equal(verifySasToken(t, { [KEY_NAME]: KEY }, se * 1000 + 1).ok, false);
    assert.equal(parseSasToken("SharedAccessSignature sr=a&sig=b"), undefined);
    assert.equal(parseSasToken("Bearer xyz"), undefined);
    assert.equal(scopePath("sb://ns.example.net/hub/"), "hub");
    assert.equal(scopePath("ns.example.net/hub/Partitions/0"), "hub/Partitions/0");
    assert.equal(scopePath("amqp://127.0.0.1:5672"), "");
    assert.equal(scopePath("hub"), "hub");
  });
});
