/**
 * The receive client (uamqp's `ReceiveClient`): a batch, then a `for await` loop that ends after
 * `timeout` ms without a message (the inactivity timeout).
 *
 *   npx tsx examples/receive.ts              # starts an embedded broker and fills a queue first
 *   npx tsx examples/receive.ts [url]        # reads what examples/send.ts put at that URL
 *
 * The link address is the URL's path (docs/addresses.md): `amqp://localhost:5672/examples` reads
 * `examples`; for RabbitMQ use `amqp://guest:guest@localhost:5672/queue/examples`.
 */
import { Message, ReceiveClient, SendClient } from "uamqp";
import { Broker } from "uamqp/broker";

const broker = process.argv[2] === undefined ? await Broker.start({ port: 0 }) : undefined;
const url = process.argv[2] ?? `${broker!.url}/examples`;
if (broker) {
  const sender = new SendClient(url);
  for (let i = 0; i < 10; i++)
    sender.queueMessage(new Message({ body: `hello ${i}`, properties: { messageId: i } }));
  await sender.sendAllMessages(); // closes the sender
}

// timeout: inactivity timeout (ms); with shutdownAfterTimeout (the default) the client then closes.
// prefetch: messages buffered ahead of the application (credit never exceeds it).
await using client = new ReceiveClient(url, { timeout: 2000, prefetch: 100 });

// A batch: resolves as soon as messages are there, up to maxBatchSize; [] after its own timeout.
const batch = await client.receiveMessageBatch({ maxBatchSize: 3, timeout: 5000 });
console.log(`batch of ${batch.length}: ${batch.map((m) => m.toString()).join(", ")}`);

// The rest, one by one. Each is accepted when the loop moves on (autoComplete); with
// `autoComplete: false` settle them yourself (examples/settlement.ts).
let n = batch.length;
for await (const message of client) {
  console.log(message.toString());
  n++;
}
console.log(`received ${n} messages from ${url}; client ${client.state}`);
await broker?.close();
