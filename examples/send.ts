/**
 * The send client (uamqp's `SendClient`): queue messages and send them all, or send one and await
 * its outcome; per-message callbacks; the client's status while it recovers; a producer loop held
 * back by the bound on pending messages (`PendingLimitExceeded`, `waitForRoom()`).
 *
 *   npx tsx examples/send.ts                 # starts an embedded broker
 *   npx tsx examples/send.ts [url] [count]   # e.g. amqp://localhost:5672/examples 10
 *
 * The link address is the URL's path (docs/addresses.md): `amqp://localhost:5672/examples` sends to
 * `examples`; for RabbitMQ use `amqp://guest:guest@localhost:5672/queue/examples`.
 */
import {
  ClientMessageError,
  Message,
  MessageSendResult,
  MessageState,
  PendingLimitExceeded,
  SendClient,
} from "uamqp";
import { Broker } from "uamqp/broker";

const broker = process.argv[2] === undefined ? await Broker.start({ port: 0 }) : undefined;
const url = process.argv[2] ?? `${broker!.url}/examples`;
const count = Number(process.argv[3] ?? 10);

// msgTimeout: each message's deadline from queueing, retries included (ms; 60000 by default).
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

// 3. Back-pressure: at most maxPendingMessages (here 5; 100,000 by default) and maxPendingBytes
// pending. Beyond, queueMessage throws PendingLimitExceeded and queues nothing; waitForRoom()
// resolves when the call fits. (To an address of its own, next to the one above.)
const bounded = new SendClient(`${url}-bounded`, { maxPendingMessages: 5 });
let accepted = 0;
let waits = 0;
let most = 0;
for (let i = 0; i < 20; i++) {
  const message = new Message({ body: `bounded ${i}` });
  message.onSendComplete = (result) => {
    if (result === MessageSendResult.Ok) accepted++;
  };
  try {
    bounded.queueMessage(message);
  } catch (e) {
    if (!(e instanceof PendingLimitExceeded)) throw e;
    waits++;
    await bounded.waitForRoom({ messages: e.messages, bytes: e.bytes, timeout: 10_000 });
    bounded.queueMessage(message);
  }
  most = Math.max(most, bounded.pendingMessages.length);
}
await bounded.wait();
await bounded.close();
console.log(`bounded: ${accepted} of 20 sent, at most ${most} pending (waited for room ${waits} times)`);

await broker?.close();
process.exitCode = sent === count && accepted === 20 ? 0 : 1;
