/**
 * The send client (uamqp's `SendClient`): queue messages and send them all, or send one and await
 * its outcome; per-message callbacks; the client's status while it recovers.
 *
 *   npx tsx examples/send.ts                 # starts an embedded broker
 *   npx tsx examples/send.ts [url] [count]   # e.g. amqp://localhost:5672/examples 10
 *
 * The link address is the URL's path (docs/addresses.md): `amqp://localhost:5672/examples` sends to
 * `examples`; for RabbitMQ use `amqp://guest:guest@localhost:5672/queue/examples`.
 */
import { ClientMessageError, Message, MessageSendResult, MessageState, SendClient } from "uamqp";
import { Broker } from "uamqp/broker";

const broker = process.argv[2] === undefined ? await Broker.start({ port: 0 }) : undefined;
const url = process.argv[2] ?? `${broker!.url}/examples`;
const count = Number(process.argv[3] ?? 10);

// msgTimeout: each message's deadline from queueing, retries included (ms).
const client = new SendClient(url, { msgTimeout: 10_000 });

// Recovery steps (disconnected, reconnecting, reconnected…) if the connection drops meanwhile.
void (async () => {
  for await (const status of client.status()) console.log(`status: ${status.type}`);
})();

// 1. Queue, then send everything queued: resolves with each message's final state.
for (let i = 0; i < count; i++) {
  const message = new Message({
    body: `hello ${i}`,
    properties: { messageId: `example-${i}`, subject: "greeting" },
    applicationProperties: { index: i },
  });
  if (i === 0) {
    message.onSendComplete = (result) =>
      console.log(`first message: ${MessageSendResult.Ok === result ? "Ok" : result}`);
  }
  client.queueMessage(message);
}
console.log(`pending: ${client.pendingMessages.length}`);
const states = await client.sendAllMessages({ closeOnDone: false });
const sent = states.filter((s) => s === MessageState.SendComplete).length;
console.log(`sent ${sent} of ${count} messages to ${url}`);

// 2. One message at a time: resolves when accepted, rejects with ClientMessageError when not.
try {
  await client.sendMessage(new Message({ body: "one more", properties: { messageId: "example-last" } }));
  console.log("sendMessage: accepted");
} catch (e) {
  if (e instanceof ClientMessageError) console.log(`sendMessage failed: ${e.condition ?? ""} ${e.message}`);
  else throw e;
}

await client.close();
await broker?.close();
process.exitCode = sent === count ? 0 : 1;
