import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type rhea from "rhea";
import { Broker, sasSignature, type BrokerOptions, parseSasToken } from "../../src/broker/index.js";
import { verifySasToken } from "../../src/broker/nodes/sas-token.js";
import { scopePath } from "../../src/broker/nodes/cbs.js";
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

function sasToken(resource: string, expiresAtSec: number, key = KEY, keyName = KEY_NAME): string {
  const sr = encodeURIComponent(resource);
  const sig = encodeURIComponent(sasSignature(sr, expiresAtSec, key));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expiresAtSec}&skn=${encodeURIComponent(keyName)}`;
}

const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

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
    const c = await connect(b.port);
    conns.push(c);
    return { b, c };
  };

  let nextId = 0;
  /** Sends one put-token and returns the response's status code and description. */
  const putToken = async (
    c: rhea.Connection,
    token: string,
    audience: string,
    type = "servicebus.windows.net:sastoken",
  ): Promise<{ code: unknown; description: unknown }> => {
    const replyTo = `cbs-client-${++nextId}`;
    const replies = await openReceiver(c, { source: "$cbs", target: replyTo });
    const requests = await openSender(c, "$cbs");
    const got = collect(replies, 1);
    const id = nextId;
    await sendAll(requests, [
      {
        message_id: id,
        reply_to: replyTo,
        application_properties: { operation: "put-token", type, name: audience },
        body: token,
      },
    ]);
    const res = (await got)[0]!.message!;
    assert.equal(res.correlation_id, id);
    replies.close();
    requests.close();
    return {
      code: res.application_properties?.["status-code"],
      description: res.application_properties?.["status-description"],
    };
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
    const other = await connect(b.port);
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
