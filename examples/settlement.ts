/**
 * Message management: settling received messages yourself (`autoComplete: false`) with
 * `accept()`, `reject()`, `release()` and `modify()`, and what each does on the broker.
 *
 *   npx tsx examples/settlement.ts
 */
import { Message, ReceiveClient, ReceiverSettleMode, SendClient } from "uamqp";
import { Broker } from "uamqp/broker";

await using broker = await Broker.start({ port: 0 });
const url = `${broker.url}/orders`;

const sender = new SendClient(url);
for (const body of ["accept me", "reject me", "release me", "modify me"]) {
  sender.queueMessage(new Message({ body }));
}
await sender.sendAllMessages();

await using receiver = new ReceiveClient(url, { autoComplete: false, timeout: 2000 });
const messages = await receiver.receiveMessageBatch({ maxBatchSize: 4, timeout: 5000 });
console.log(`locked on the broker: ${broker.stats("orders").lockedCount}`);

for (const m of messages) {
  switch (m.toString()) {
    case "accept me": // done: the broker removes it
      console.log(`accept: ${await m.accept()}`);
      break;
    case "reject me": // cannot be processed: the broker dead-letters it
      console.log(`reject: ${await m.reject({ condition: "app:invalid-order", description: "no items" })}`);
      break;
    case "release me": // not processed: back to the queue, delivery count unchanged
      console.log(`release: ${await m.release()}`);
      break;
    case "modify me": // failed this time: back to the queue with the delivery count + 1
      console.log(`modify: ${await m.modify({ deliveryFailed: true, undeliverableHere: false })}`);
      break;
  }
}
// A second settlement is refused: the promise resolves false.
console.log(`accept again: ${await messages[0]!.accept()}`);

const redelivered = await receiver.receiveMessageBatch({ maxBatchSize: 2, timeout: 5000 });
for (const m of redelivered) {
  console.log(`redelivered: ${m.toString()} (delivery count ${m.header?.deliveryCount ?? 0})`);
  await m.accept();
}

// The rejected message is in the dead-letter queue, with the reason in its annotations.
await using deadLetters = new ReceiveClient(`${broker.url}/orders/$deadletter`, { timeout: 2000 });
const dead = await deadLetters.receiveMessageBatch({ timeout: 5000 });
console.log(`dead-lettered: ${dead.map((m) => m.toString()).join()}`);

await receiver.close(); // its link would compete for the next message

// ReceiveAndDelete: messages arrive settled (at most once); settling them resolves false.
const s = new SendClient(url);
s.queueMessage(new Message({ body: "pre-settled" }));
await s.sendAllMessages();
await using fast = new ReceiveClient(url, {
  receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete,
  timeout: 2000,
});
const [m] = await fast.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
console.log(`ReceiveAndDelete: ${m?.toString() ?? "?"}, accept() → ${String(await m?.accept())}`);
console.log(`left on the broker: ${broker.stats("orders").messageCount}`);
