/**
 * High-level messaging (uamqp's `send_message`, `receive_message`, `receive_messages`): one call
 * each, which opens a client, does its work and closes it.
 *
 *   npx tsx examples/high-level-messaging.ts            # starts an embedded broker
 *   npx tsx examples/high-level-messaging.ts amqp://localhost:5672/examples
 */
import { Message, MessageState, receiveMessage, receiveMessages, sendMessage } from "uamqp";
import { Broker } from "uamqp/broker";

const broker = process.argv[2] === undefined ? await Broker.start({ port: 0 }) : undefined;
const url = process.argv[2] ?? `${broker!.url}/high-level`;

// sendMessage: data that is not a Message becomes `new Message({ body: data })`. It resolves with
// the states of what it sent and does not reject for a refused message (check for SendFailed).
const states = await sendMessage(url, "Hello world");
console.log(
  `sendMessage: ${states.map((s) => (s === MessageState.SendComplete ? "SendComplete" : s)).join()}`,
);
for (let i = 0; i < 3; i++) {
  await sendMessage(url, new Message({ body: `batch ${i}`, applicationProperties: { i } }));
}

// receiveMessage: the first message, already accepted, or undefined after `timeout` ms.
const first = await receiveMessage(url, { timeout: 5000 });
console.log(`receiveMessage: ${first?.toString() ?? "(nothing)"}`);

// receiveMessages: up to maxBatchSize messages (also the prefetch), whatever arrived by `timeout`.
const batch = await receiveMessages(url, { maxBatchSize: 10, timeout: 2000 });
console.log(`receiveMessages: ${batch.map((m) => m.toString()).join(", ")}`);

const none = await receiveMessage(url, { timeout: 500 });
console.log(`empty queue: ${none === undefined ? "undefined after 500 ms" : "a message?"}`);

await broker?.close();
