/**
 * Management requests: `AMQPClient.mgmtRequest`, `Session.mgmtRequest` and `MgmtOperation` against
 * the broker's `$management` (READ of an entity, Event Hubs READ), the wire form (operation, type,
 * ulong message-id, reply-to), 100 requests in flight on one link pair, timeouts, aborts, non-2xx
 * replies (`ErrorResponse`, or uamqp's way with `throwOnErrorStatus: false`), and requests over a
 * token-authenticated connection.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { Connection } from "../../src/client/connection.js";
import { ErrorResponse, MgmtOperation } from "../../src/management/mgmt-operation.js";
import { responseStatus } from "../../src/management/request-response.js";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { AMQPAbortError, AMQPConnectionError, ClientTimeout } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { rejectionOf } from "../support/waits.js";
import { HUB, suiteResources } from "./support.js";

const read = (name: string): Message => new Message({ body: null, applicationProperties: { name } });

function asMap(v: unknown): Map<string, unknown> {
  assert.ok(v instanceof Map, `a map, got ${String(v)}`);
  return v as Map<string, unknown>;
}

describe("azure path: management requests", () => {
  const { broker, keep } = suiteResources();

  it("READ of an entity returns 200 and its map; the request carries operation, type, a ulong message-id and reply-to", async () => {
    const b = await broker({ cbs: {} });
    b.broker.createQueue("orders");
    const client = keep(new AMQPClient(b.url("orders")));
    const reply = await client.mgmtRequest(read("orders"), "READ", { timeout: 5000 });
    assert.equal(reply.statusCode, 200);
    const map = asMap(reply.message.value);
    assert.equal(map.get("name"), "orders");
    assert.equal(map.get("message_count"), 0);
    assert.equal(reply.description, "OK");

    const [request] = b.sentTo("$management");
    assert.ok(request);
    assert.equal(request.applicationProperties?.["operation"], "READ");
    assert.equal(request.applicationProperties["type"], "empty");
    assert.equal(request.applicationProperties["name"], "orders");
    assert.equal(typeof request.properties?.messageId, "bigint");
    assert.match(request.properties?.replyTo ?? "", /^\$management-reply-/);
    // The reply's correlation-id is the request's message-id.
    assert.equal(reply.message.properties?.correlationId, request.properties?.messageId);
  });

  it("Event Hubs READ with opType and the status-code / status-description fields: partition_ids in the reply", async () => {
    const b = await broker({ cbs: {} });
    const client = keep(new AMQPClient(b.url("myhub")));
    const reply = await client.mgmtRequest(read("myhub"), "READ", {
      opType: "com.microsoft:eventhub",
      statusCodeField: "status-code",
      descriptionFields: "status-description",
    });
    assert.equal(reply.statusCode, 200);
    // The broker's event hubs have two partitions unless declared otherwise.
    const ids = asMap(reply.message.value).get("partition_ids") as { value?: unknown } | unknown[];
    assert.deepEqual(Array.isArray(ids) ? ids : (ids as { value: unknown }).value, ["0", "1"]);
    assert.equal(b.sentTo("$management")[0]?.applicationProperties?.["type"], "com.microsoft:eventhub");
  });

  it("100 requests in flight at once on one link pair each get their own reply", async () => {
    const b = await broker({ cbs: {} });
    const names = Array.from({ length: 100 }, (_, i) => `q${i}`);
    for (const n of names) b.broker.createQueue(n);
    const client = keep(new AMQPClient(b.url("q0")));
    await client.open();
    const replies = await Promise.all(
      names.map((n) => client.mgmtRequest(read(n), "READ", { timeout: 10_000 })),
    );
    assert.deepEqual(
      replies.map((r) => asMap(r.message.value).get("name")),
      names,
    );
    // One sender and one receiver link to $management carried them all, each with its own message-id.
    assert.equal(b.attaches("$management", "sender"), 1);
    assert.equal(b.attaches("$management", "receiver"), 1);
    const ids = b.sentTo("$management").map((m) => m.properties?.messageId);
    assert.equal(new Set(ids.map(String)).size, 100);
  });

  it("no reply within timeout: ClientTimeout naming the timeout; an abort: AMQPAbortError; the link pair stays usable", async () => {
    const b = await broker({ cbs: {} });
    let silent = true;
    b.broker.setHooks("$management", { onRequest: () => (silent ? "ignore" : undefined) });
    b.broker.createQueue("orders");
    const client = keep(new AMQPClient(b.url("orders")));
    const t0 = Date.now();
    const e = await rejectionOf(client.mgmtRequest(read("orders"), "READ", { timeout: 100 }), "silent node");
    assert.ok(e instanceof ClientTimeout, String(e));
    assert.match(e.message, /100 ms/);
    assert.ok(Date.now() - t0 < 3000);

    const controller = new AbortController();
    const aborted = client.mgmtRequest(read("orders"), "READ", { signal: controller.signal });
    controller.abort();
    assert.ok((await rejectionOf(aborted, "aborted request")) instanceof AMQPAbortError);

    silent = false;
    const ok = await client.mgmtRequest(read("orders"), "READ", { timeout: 5000 });
    assert.equal(ok.statusCode, 200);
    assert.equal(b.attaches("$management", "sender"), 1);
  });

  it("a 404 reply rejects with ErrorResponse (code, description, reply); throwOnErrorStatus: false resolves with it", async () => {
    const b = await broker({ cbs: {} });
    const client = keep(new AMQPClient(b.url("orders")));
    const e = await rejectionOf(client.mgmtRequest(read("missing"), "READ"), "READ of a missing entity");
    assert.ok(e instanceof ErrorResponse, String(e));
    assert.equal(e.statusCode, 404);
    assert.equal(e.code, "AMQP_ERROR_RESPONSE");
    assert.equal(e.operation, "READ");
    assert.match(e.description ?? "", /could not be found/);
    assert.equal(e.retryable, false);
    assert.ok(e.response instanceof Message);

    const reply = await client.mgmtRequest(read("missing"), "READ", { throwOnErrorStatus: false });
    assert.equal(reply.statusCode, 404);
    assert.match(reply.description ?? "", /could not be found/);
  });

  it("Session.mgmtRequest keeps one link pair per node; MgmtOperation runs its own pair to its target", async () => {
    const b = await broker({ cbs: {} });
    b.broker.createQueue("orders");
    const conn = keep(
      new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port: b.broker.port! })),
    );
    await conn.open();
    const session = conn.createSession();
    const a = await session.mgmtRequest(read("orders"), "READ");
    const c = await session.mgmtRequest(read("orders"), "READ", { statusCodeField: ["status-code"] });
    assert.equal(a.statusCode, 200);
    assert.equal(c.statusCode, 200);
    assert.equal(b.attaches("$management", "sender"), 1);

    const mgmt = keep(
      new MgmtOperation(session, { statusCodeField: "status-code", descriptionFields: "status-description" }),
    );
    const r = await mgmt.execute("READ", "com.microsoft:servicebus", read("orders"), { timeout: 5000 });
    assert.equal(r.statusCode, 200);
    assert.equal(asMap(r.message.value).get("name"), "orders");
    assert.equal(b.attaches("$management", "sender"), 2);
    await assert.rejects(mgmt.execute("", undefined, read("orders")), TypeError);
    assert.throws(() => new MgmtOperation(session, { targe: "$x" } as never), /did you mean "target"/);

    // A node that refuses the links: uamqp's "Failed to open mgmt link".
    b.broker.setHooks("$nowhere", { refuseAttach: { condition: "amqp:not-found" } });
    const e = await rejectionOf(
      session.mgmtRequest(read("orders"), "READ", { node: "$nowhere" }),
      "refused node",
    );
    assert.ok(e instanceof AMQPConnectionError);
    assert.match((e as Error).message, /Failed to open mgmt link to \$nowhere/);
  });

  it("over a token-authenticated connection: the request rides on the connection's token (a token-only client reaches only its entity)", async () => {
    // Users next to CBS keys: an MSSBCBS client is confined to what its token grants.
    const b = await broker({ sasl: { users: { admin: "secret" } } });
    b.broker.createQueue(HUB);
    b.broker.createQueue("other");
    const client = keep(new AMQPClient(b.url(HUB), { auth: b.sasAuth() }));
    const ok = await client.mgmtRequest(read(HUB), "READ");
    assert.equal(ok.statusCode, 200);
    const e = await rejectionOf(
      client.mgmtRequest(read("other"), "READ"),
      "READ of an entity the token does not cover",
    );
    assert.ok(e instanceof ErrorResponse);
    assert.equal(e.statusCode, 401);

    // Low-level: a MgmtOperation made before the connection opened attaches after the put-token.
    const auth = b.sasAuth();
    const conn = keep(new Connection(auth.hostname, auth));
    const mgmt = keep(new MgmtOperation(conn.createSession(), { statusCodeField: "status-code" }));
    const r = await mgmt.execute("READ", undefined, read(HUB), { timeout: 5000 });
    assert.equal(r.statusCode, 200);
    const second = b.opens().at(-1)!.connectionId;
    const put = b.requests("$cbs", second)[0];
    const attach = b.events.find(
      (ev) => ev.type === "attach" && ev.connectionId === second && ev.address === "$management",
    );
    assert.ok(put && attach && put.at <= attach.at, "put-token before the $management attach");
  });

  it("reads the status from either spelling; a reply without one has an undefined code", () => {
    const m = (app: Record<string, unknown>): Message =>
      new Message({ applicationProperties: app as Record<string, never> });
    const fields = [
      ["statusCode", "status-code"],
      ["statusDescription", "status-description"],
    ] as const;
    assert.deepEqual(responseStatus(m({ statusCode: 200, statusDescription: "OK" }), ...fields), {
      statusCode: 200,
      description: "OK",
    });
    assert.deepEqual(responseStatus(m({ "status-code": 401n, "status-description": "no" }), ...fields), {
      statusCode: 401,
      description: "no",
    });
    assert.deepEqual(responseStatus(m({}), ...fields), { statusCode: undefined, description: undefined });
  });
});
