/**
 * Locks come back (docs/broker.md, "Locks come back"): a PeekLock message its consumer has not
 * settled within the broker's lock duration is delivered again; a consumer that needs longer renews
 * the lock with a `com.microsoft:renew-lock` request to `<queue>/$management`, naming the message
 * by its delivery tag (its lock token).
 *
 *   npx tsx examples/lock-renewal.ts
 */
import { AMQPClient, Message, ReceiveClient, SendClient } from "uamqp";
import { Broker } from "uamqp/broker";

// Locks of 1 s here to keep the example short (the default is 60 s).
await using broker = await Broker.start({ queues: { lockDuration: 1000 } });
const url = `${broker.url}/jobs`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

await using sender = new SendClient(url);
await sender.sendMessage(new Message({ body: "slow job" }));
// settleMode "confirm": accept() resolves with whether the broker applied it (the lock was held).
await using receiver = new ReceiveClient(url, {
  autoComplete: false,
  prefetch: 1,
  timeout: 0,
  settleMode: "confirm",
});
const [job] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
if (job?.deliveryTag === undefined) throw new Error("no job received");

// 1. Working for 2.4 s on a 1 s lock: renew it every 600 ms.
await using management = new AMQPClient(url);
for (let i = 0; i < 4; i++) {
  await sleep(600);
  const reply = await management.mgmtRequest(
    new Message({ body: { "lock-tokens": [job.deliveryTag] } }),
    "com.microsoft:renew-lock",
    { node: "jobs/$management" },
  );
  console.log(`renew ${i + 1}: status ${reply.statusCode}`);
}
console.log(`accept after 2.4 s: ${await job.accept()}`);
console.log(`messages left: ${broker.stats("jobs").messageCount}`);

// 2. Not renewed: the lock expires and the message comes back, its delivery count one higher.
await sender.sendMessage(new Message({ body: "forgotten job" }));
const [forgotten] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
console.log(
  `received: ${forgotten?.toString() ?? "(nothing)"}, delivery count ${forgotten?.header?.deliveryCount ?? 0}`,
);
const [again] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
console.log(
  `after its lock expired: ${again?.toString() ?? "(nothing)"}, delivery count ${again?.header?.deliveryCount ?? 0}`,
);
console.log(
  `late accept of the first delivery: ${await forgotten?.accept().catch((e: unknown) => (e instanceof Error ? e.message : String(e)))}`,
);
console.log(`accept of the redelivery: ${await again?.accept()}`);
console.log(`messages left: ${broker.stats("jobs").messageCount}`);
