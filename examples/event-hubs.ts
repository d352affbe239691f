/**
 * The embedded broker as a local Azure Event Hubs, used through Microsoft's `@azure/event-hubs`:
 * a hub with two partitions, events sent by partition id and by partition key, read back from the
 * earliest event, and the partitions' properties (docs/azure-emulator.md).
 *
 *   npx tsx examples/event-hubs.ts
 *
 * `@azure/event-hubs` is not a dependency of this library: install it next to it
 * (`npm install @azure/event-hubs`).
 */
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from "@azure/event-hubs";
import { Broker } from "uamqp/broker";

await using broker = await Broker.start({ eventHubs: { hubs: { telemetry: { partitionCount: 2 } } } });
const connectionString =
  `Endpoint=sb://127.0.0.1:${broker.port};SharedAccessKeyName=RootManageSharedAccessKey;` +
  `SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true`;

const producer = new EventHubProducerClient(connectionString, "telemetry");
await producer.sendBatch([{ body: "boot" }, { body: "ready" }], { partitionId: "0" });
await producer.sendBatch([{ body: { celsius: 21.5 } }, { body: { celsius: 21.7 } }], {
  partitionKey: "kitchen",
});

const consumer = new EventHubConsumerClient("$Default", connectionString, "telemetry", {
  loadBalancingOptions: { strategy: "greedy", updateIntervalInMs: 100 },
});
let received = 0;
const subscription = consumer.subscribe(
  {
    processEvents: (events, context) => {
      for (const e of events) {
        received++;
        console.log(
          `partition ${context.partitionId}  #${e.sequenceNumber}  offset ${e.offset}  ` +
            `${e.enqueuedTimeUtc.toISOString()}  ${JSON.stringify(e.body)}` +
            (e.partitionKey ? `  key ${e.partitionKey}` : ""),
        );
      }
      return Promise.resolve();
    },
    processError: (err) => {
      console.error(`error: ${err.message}`);
      return Promise.resolve();
    },
  },
  { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
);
const deadline = Date.now() + 15_000;
while (received < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
await subscription.close();

for (const id of await producer.getPartitionIds()) {
  const p = await producer.getPartitionProperties(id);
  console.log(
    `partition ${id}: sequence numbers ${p.beginningSequenceNumber}..${p.lastEnqueuedSequenceNumber}, ` +
      `last offset ${p.lastEnqueuedOffset}, empty: ${p.isEmpty}`,
  );
}
await consumer.close();
await producer.close();
if (received < 4) process.exitCode = 1;
