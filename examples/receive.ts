/**
 * Receives messages from a queue with a ReceiveClient, until nothing arrives for 2 seconds.
 *
 *   npx uamqp broker                  # or any AMQP 1.0 broker on localhost:5672
 *   npx tsx examples/send.ts          # put some messages there
 *   npx tsx examples/receive.ts [url]
 *
 * The link address is the URL's path (docs/addresses.md): `amqp://localhost:5672/examples` reads
 * `examples`; for RabbitMQ use `amqp://guest:guest@localhost:5672/queue/examples`.
 */
import { ReceiveClient } from "../src/index.js";

const url = process.argv[2] ?? "amqp://localhost:5672/examples";

// timeout: inactivity timeout (ms); the client closes itself when it is reached.
await using client = new ReceiveClient(url, { timeout: 2000, prefetch: 100 });
let n = 0;
for await (const message of client) {
  // Accepted when the loop moves on (autoComplete); settle it yourself with autoComplete: false.
  console.log(message.properties?.messageId, message.toString());
  n++;
}
console.log(`received ${n} messages from ${url}`);
