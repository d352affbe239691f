/**
 * Sends messages to a queue with a SendClient.
 *
 *   npx uamqp broker                        # or any AMQP 1.0 broker on localhost:5672
 *   npx tsx examples/send.ts [url] [count]
 *
 * The link address is the URL's path (docs/addresses.md): `amqp://localhost:5672/examples` sends to
 * `examples`; for RabbitMQ use `amqp://guest:guest@localhost:5672/queue/examples`.
 */
import { Message, MessageState, SendClient } from "../src/index.js";

const url = process.argv[2] ?? "amqp://localhost:5672/examples";
const count = Number(process.argv[3] ?? 10);

const client = new SendClient(url, { msgTimeout: 10_000 });

// Recovery steps (disconnected, reconnecting, reconnected…) if the connection drops meanwhile.
void (async () => {
  for await (const status of client.status()) console.log(`status: ${status.type}`);
})();

for (let i = 0; i < count; i++) {
  client.queueMessage(
    new Message({
      body: `hello ${i}`,
      properties: { messageId: `example-${i}`, subject: "greeting" },
      applicationProperties: { index: i },
    }),
  );
}
const states = await client.sendAllMessages(); // closes the client when done
const sent = states.filter((s) => s === MessageState.SendComplete).length;
console.log(`sent ${sent} of ${count} messages to ${url}`);
process.exitCode = sent === count ? 0 : 1;
