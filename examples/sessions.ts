/**
 * Connections and sessions (uamqp's `Connection`, `Session`): two clients sharing one connection,
 * and one session carrying two links. Closing a client that shares a connection ends only its own
 * link and session.
 *
 *   npx tsx examples/sessions.ts
 */
import { Connection, Message, ReceiveClient, SASLAnonymous, SendClient, Session } from "uamqp";
import { Broker } from "uamqp/broker";

await using broker = await Broker.start({ port: 0 });
const host = "127.0.0.1";
const auth = new SASLAnonymous(host, { tls: false, port: broker.port! });

// 1. One connection, shared by a sender and a receiver (uamqp: client.open(connection=conn)).
await using connection = new Connection(host, auth, { containerId: "shared-example", idleTimeout: 60_000 });
await using sender = new SendClient(`${broker.url}/orders`);
await using receiver = new ReceiveClient(`${broker.url}/orders`, { timeout: 2000 });
await sender.open({ connection });
await receiver.open({ connection });
console.log(`connections on the broker: ${broker.connectionCount}; shared: ${sender.isSharedConnection}`);

await sender.sendMessage(new Message({ body: "over a shared connection" }));
const [m] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
console.log(`received: ${m?.toString() ?? "(nothing)"}`);

await sender.close(); // ends the sender's link and session; the connection stays up
await sender.close(); // idempotent
console.log(`connection after one client closed: ${connection.state}`);

// 2. One session, two links (the low-level API; examples/low-level-links.ts has more).
const session = new Session(connection, { incomingWindow: 1000, outgoingWindow: 1000 });
const a = await session.createSender("audit");
const b = await session.createSender("billing");
await Promise.all([a.send(new Message({ body: "to audit" })), b.send(new Message({ body: "to billing" }))]);
console.log(`audit: ${broker.stats("audit").messageCount}, billing: ${broker.stats("billing").messageCount}`);
await session.close();
console.log(`connections on the broker: ${broker.connectionCount}`);
