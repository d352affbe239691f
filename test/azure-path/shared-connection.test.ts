/**
 * Clients sharing one token-authenticated `Connection`: one socket, one `$cbs` link pair, one
 * put-token per refresh for all of them, each client's own link; closing one leaves the other
 * working; `redirect()` is refused on a shared connection.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Connection } from "../../src/client/connection.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { AMQPConnectionError, LinkRedirect } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { HUB, recordStatus, suiteResources, until } from "./support.js";

describe("azure path: clients on one token-authenticated connection", () => {
  const { broker, keep } = suiteResources();

  it("two ReceiveClients: one socket, one $cbs link pair and put-token, two receiver links; closing one leaves the other; redirect() throws", async () => {
    const b = await broker();
    const auth = b.sasAuth(HUB, { expiry: 3000 });
    const conn = keep(new Connection(auth.hostname, auth));
    const r1 = keep(new ReceiveClient(b.url(`${HUB}/a`)));
    const r2 = keep(new ReceiveClient(b.url(`${HUB}/b`)));
    const s1 = recordStatus(r1);
    const s2 = recordStatus(r2);
    await Promise.all([r1.open({ connection: conn }), r2.open({ connection: conn })]);
    assert.equal(r1.auth, auth);
    assert.equal(b.opens().length, 1);
    assert.equal(b.attaches("$cbs", "sender"), 1);
    assert.equal(b.attaches("$cbs", "receiver"), 1);
    assert.equal(b.requests("$cbs").length, 1);
    assert.equal(b.attaches(`${HUB}/a`, "receiver"), 1);
    assert.equal(b.attaches(`${HUB}/b`, "receiver"), 1);

    // One put-token per refresh for the connection; both clients report it.
    await until(
      () => s1.some((s) => s.type === "tokenRefreshed") && s2.some((s) => s.type === "tokenRefreshed"),
      "both clients heard the refresh",
      5000,
    );
    assert.equal(b.requests("$cbs").length, 2);
    assert.equal(b.attaches("$cbs", "sender"), 1);

    const sender = keep(new SendClient(b.url(`${HUB}/a`), { auth: b.sasAuth() }));
    await sender.sendMessage(new Message({ body: "to a" }));
    const [m] = await r1.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
    assert.equal(m?.toString(), "to a");

    await assert.rejects(r2.redirect(new LinkRedirect("moved", { info: { hostname: "elsewhere" } })), (e) => {
      assert.ok(e instanceof AMQPConnectionError);
      assert.equal(e.condition, "amqp:not-allowed");
      return true;
    });

    await r1.close();
    assert.equal(conn.state, "open");
    const other = keep(new SendClient(b.url(`${HUB}/b`), { auth: b.sasAuth() }));
    await other.sendMessage(new Message({ body: "to b" }));
    const [n] = await r2.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
    assert.equal(n?.toString(), "to b");
  });

  it("a plain AMQPClient and a SendClient on one connection: one $cbs link pair; both work", async () => {
    const b = await broker();
    b.broker.createQueue(HUB);
    const auth = b.sasAuth();
    const conn = keep(new Connection(auth.hostname, auth));
    const mgmt = keep(new AMQPClient(b.url(HUB)));
    const sender = keep(new SendClient(b.url(HUB)));
    await mgmt.open({ connection: conn });
    await sender.open({ connection: conn });
    await sender.sendMessage(new Message({ body: "x" }));
    const reply = await mgmt.mgmtRequest(
      new Message({ body: null, applicationProperties: { name: HUB } }),
      "READ",
    );
    assert.equal(reply.statusCode, 200);
    assert.equal(b.attaches("$cbs", "sender"), 1);
    assert.equal(b.requests("$cbs").length, 1);
  });
});
