/**
 * Batches (uamqp's `BatchMessage`): many messages in one transfer, in the format Azure Event Hubs
 * and Service Bus use (message-format 0x80013700, one Data section per encoded message). The
 * embedded broker splits a batch into its messages, as the services do.
 *
 *   npx tsx examples/batch.ts
 */
import {
  BATCH_MESSAGE_FORMAT,
  BatchMessage,
  Message,
  MessageContentTooLarge,
  receiveMessages,
  SendClient,
} from "uamqp";
import { Broker } from "uamqp/broker";

await using broker = await Broker.start({ port: 0 });
const url = `${broker.url}/telemetry`;

// 50 items: strings become messages; application properties go to every inner message.
const items = Array.from({ length: 50 }, (_, i) => `reading ${i}`);
const batch = new BatchMessage(items, { applicationProperties: { device: "d1" } });
const envelopes = batch.gather();
console.log(
  `one envelope: ${envelopes.length}, format 0x${envelopes[0]!.messageFormat.toString(16)} ` +
    `(${envelopes[0]!.messageFormat === BATCH_MESSAGE_FORMAT}), ${envelopes[0]!.data?.length} sections`,
);

await using sender = new SendClient(url);
await sender.sendMessage(batch); // one transfer

const received = await receiveMessages(url, { maxBatchSize: 100, timeout: 2000 });
console.log(
  `received ${received.length} messages; first: ${received[0]?.toString()}`,
  received[0]?.applicationProperties,
);

// Too big for one message: MessageContentTooLarge, or several envelopes with multiMessages.
const big = Array.from(
  { length: 40 },
  (_, i) => new Message({ body: "x".repeat(1000), properties: { messageId: i } }),
);
try {
  new BatchMessage(big, { maxMessageLength: 16_384 }).gather();
} catch (e) {
  if (e instanceof MessageContentTooLarge) console.log(`too large: ${e.code}: ${e.message}`);
  else throw e;
}
const split = new BatchMessage(big, { maxMessageLength: 16_384, multiMessages: true }).gather();
console.log(
  `multiMessages: ${split.length} envelopes, each ≤ 16384 bytes: ${split.every((m) => m.encodedSize <= 16_384)}`,
);
await sender.sendMessage(new BatchMessage(big, { maxMessageLength: 16_384, multiMessages: true }));
console.log(`on the broker: ${broker.stats("telemetry").messageCount} messages`);
