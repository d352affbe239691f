/**
 * The Azure path (docs/auth.md, docs/clients.md): clients from a connection string authenticate
 * over CBS (a put-token on `$cbs` before their link attaches), refresh their token on a timer, and
 * send management requests to `$management`.
 *
 *   npx tsx examples/management.ts
 *       an embedded broker started here plays Azure (SAS keys, a guarded entity), tokens of 3 s
 *   npx tsx examples/management.ts "<Event Hubs connection string>" <event hub>
 *       against Event Hubs (or its emulator): the READ below is Event Hubs' hub information
 *
 * Nothing secret is printed: keys and tokens never appear in logs, errors or `console.log` output.
 */
import { Broker } from "uamqp/broker";
import { AMQPClient, ErrorResponse, Message, ReceiveClient, SendClient } from "uamqp";

const entity = process.argv[3] ?? "orders";
let connectionString = process.argv[2];
let broker: Broker | undefined;
if (connectionString === undefined) {
  const key = "example-key+/=";
  broker = await Broker.start({
    cbs: { keys: { RootManageSharedAccessKey: key }, guardedAddresses: [entity] },
    queues: { names: [entity] },
  });
  connectionString =
    `Endpoint=sb://127.0.0.1:${broker.port};SharedAccessKeyName=RootManageSharedAccessKey;` +
    `SharedAccessKey=${key};UseDevelopmentEmulator=true`;
}
// Short-lived tokens against the embedded broker, to show refreshes; Azure's default is one hour.
const tokenAuth = broker ? { expiry: 3000 } : {};

// 1. Send and receive through the guarded entity: each client puts its token first.
const sender = SendClient.fromConnectionString(connectionString, { entityPath: entity, tokenAuth });
const receiver = ReceiveClient.fromConnectionString(connectionString, { entityPath: entity, tokenAuth });
void (async () => {
  for await (const s of receiver.status()) {
    if (s.type === "tokenRefreshed")
      console.log(`token refreshed, expires ${new Date(s.expiresAt).toISOString()}`);
    if (s.type === "tokenRefreshFailed") console.log(`token refresh failed: ${s.error.message}`);
  }
})();
await receiver.open();
await sender.sendMessage(new Message({ body: "hello over CBS" }));
const [first] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 10_000 });
console.log(`received: ${first?.toString() ?? "(nothing)"}`);

// 2. Management requests: READ of the entity, many at once on one link pair.
const mgmt = AMQPClient.fromConnectionString(connectionString, { entityPath: entity, tokenAuth });
const read = (): Message => new Message({ body: null, applicationProperties: { name: entity } });
const options = broker ? { timeout: 10_000 } : { opType: "com.microsoft:eventhub", timeout: 10_000 }; // Event Hubs' hub information
const reply = await mgmt.mgmtRequest(read(), "READ", options);
console.log(`READ ${entity}: status ${reply.statusCode}`, reply.message.value);
const replies = await Promise.all(
  Array.from({ length: 20 }, () => mgmt.mgmtRequest(read(), "READ", options)),
);
console.log(`20 READs in flight at once: ${replies.filter((r) => r.statusCode === 200).length} answered 200`);

// 3. A status other than 2xx rejects with ErrorResponse (uamqp only logged it).
try {
  await mgmt.mgmtRequest(
    new Message({ body: null, applicationProperties: { name: "no-such-entity" } }),
    "READ",
    options,
  );
} catch (e) {
  if (!(e instanceof ErrorResponse)) throw e;
  console.log(`ErrorResponse: status ${e.statusCode} (${e.description ?? ""})`);
}

// 4. With 3-second tokens, keep going past a few expiries without calling the receiver.
if (broker) {
  await new Promise((resolve) => setTimeout(resolve, 7000));
  await sender.sendMessage(new Message({ body: "still authorized" }));
  const [later] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 10_000 });
  console.log(`received after 7 s: ${later?.toString() ?? "(nothing)"}`);
}

await Promise.all([sender.close(), receiver.close(), mgmt.close()]);
await broker?.close();
