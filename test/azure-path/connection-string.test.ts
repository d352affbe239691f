/**
 * Clients from connection strings: `SendClient` / `ReceiveClient.fromConnectionString` with the
 * development emulator's string reach the embedded broker over plain TCP with SAS tokens made from
 * the string's key; `AMQPClient.fromConnectionString` without an entity works on `$management`
 * with a namespace-wide token; option checks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SASTokenAuth } from "../../src/auth/cbs-auth.js";
import { ConnectionStringError } from "../../src/auth/connection-string.js";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { Message } from "../../src/message/message.js";
import { HUB, KEY, KEY_NAME, suiteResources, type CbsBroker } from "./support.js";

describe("azure path: clients from connection strings", () => {
  const { broker, keep } = suiteResources();
  const setup = async (): Promise<{ b: CbsBroker; cs: string }> => {
    const b = await broker();
    const cs = `Endpoint=sb://127.0.0.1:${b.broker.port};SharedAccessKeyName=${KEY_NAME};SharedAccessKey=${KEY};UseDevelopmentEmulator=true`;
    return { b, cs };
  };

  it("UseDevelopmentEmulator=true: SendClient and ReceiveClient reach the guarded entity over plain TCP", async () => {
    const { b, cs } = await setup();
    const sender = keep(SendClient.fromConnectionString(cs, { entityPath: HUB, msgTimeout: 10_000 }));
    assert.ok(sender instanceof SendClient);
    assert.equal(sender.msgTimeout, 10_000);
    assert.equal(sender.auth?.tls, false);
    assert.equal(sender.auth.port, b.broker.port);
    await sender.sendMessage(new Message({ body: "from a connection string" }));

    const receiver = keep(ReceiveClient.fromConnectionString(`${cs};EntityPath=${HUB}`, { prefetch: 10 }));
    assert.ok(receiver instanceof ReceiveClient);
    const [m] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
    assert.equal(m?.toString(), "from a connection string");

    const puts = b.requests("$cbs");
    assert.equal(puts.length, 2);
    assert.ok(
      puts.every((p) => p.request.name === `sb://127.0.0.1/${HUB}` && p.response?.statusCode === 200),
    );
    // A key with + / = was used exactly as written.
    assert.equal(b.opens().length, 2);
  });

  it("tokenAuth settings and the transport option reach the SAS auth", async () => {
    const { cs } = await setup();
    const t0 = Date.now();
    const sender = keep(
      SendClient.fromConnectionString(cs, {
        entityPath: HUB,
        tokenAuth: { expiry: 5000, refreshWindow: 1000, retryPolicy: { retries: 1 } },
        transport: { connectTimeoutMs: 1234 },
      }),
    );
    const auth = sender.auth;
    assert.ok(auth instanceof SASTokenAuth);
    const lifetime = (auth.expiresAtMs ?? 0) - t0;
    assert.ok(lifetime > 3000 && lifetime <= 5000, `${lifetime} ms`);
    assert.equal(auth.refreshWindow, 1000);
    assert.equal(auth.retryPolicy.retries, 1);
    assert.equal(auth.transport.connectTimeoutMs, 1234);
    await sender.sendMessage(new Message({ body: "ok" }));
  });

  it("AMQPClient.fromConnectionString without an entity: $management with a namespace-wide token", async () => {
    const { b, cs } = await setup();
    b.broker.createQueue(HUB);
    const client = keep(AMQPClient.fromConnectionString(cs));
    assert.match(client.remoteAddress.toString(), /\/\$management$/);
    const reply = await client.mgmtRequest(
      new Message({ body: null, applicationProperties: { name: HUB } }),
      "READ",
    );
    assert.equal(reply.statusCode, 200);
    assert.equal(b.requests("$cbs")[0]?.request.name, "sb://127.0.0.1/");
  });

  it("bad input: no entity for a link client, unknown options, auth given, a malformed string", async () => {
    const { cs } = await setup();
    assert.throws(() => SendClient.fromConnectionString(cs), /name the entity/);
    assert.throws(
      () => ReceiveClient.fromConnectionString(cs, { entitypath: HUB } as never),
      /unknown option "entitypath" of ReceiveClient.fromConnectionString\(\); did you mean "entityPath"\?/,
    );
    assert.throws(
      () => SendClient.fromConnectionString(cs, { entityPath: HUB, auth: undefined } as never),
      /unknown option "auth"/,
    );
    assert.throws(
      () => SendClient.fromConnectionString(cs, { entityPath: HUB, tokenAuth: { expires: 1 } as never }),
      /unknown option "expires" of the tokenAuth option .*did you mean "expiry"/,
    );
    assert.throws(
      () => SendClient.fromConnectionString(`${cs};EntityPath=a`, { entityPath: "b" }),
      (e) => e instanceof ConnectionStringError && e.reason === "entity-path-mismatch",
    );
    assert.throws(
      () => SendClient.fromConnectionString("Endpoint=sb://x;SharedAccessKeyName=k", { entityPath: HUB }),
      ConnectionStringError,
    );
  });
});
