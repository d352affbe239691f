/**
 * Event Hubs throughput of the embedded broker: events per second into one partition and out of it,
 * through Microsoft's `@azure/event-hubs` and through this library's own clients.
 *
 *   node --import tsx bench/eventhubs.bench.ts [--events N] [--size BYTES] [--rounds R]
 *
 * The broker runs in this process (it shares the one JS thread with the clients). Each round uses a
 * hub of its own (one partition written, `<hub>/Partitions/0`; read from the earliest event in
 * `$Default`, `<hub>/ConsumerGroups/$Default/Partitions/0`), with `--events` events (default 20,000)
 * of `--size` bytes (default 100):
 *
 * - `@azure/event-hubs`: in, `EventHubProducerClient.sendBatch` of batches of 100 events, one after
 *   the other; out, `EventHubConsumerClient.subscribe` (one partition, `maxBatchSize` 100, its
 *   default prefetch of 3 batches).
 * - ours, messages: in, `SendClient.queueMessage` of every event, then `sendAllMessages()` (one
 *   transfer per event, pipelined, each accepted by the broker); out, `ReceiveClient`
 *   (ReceiveAndDelete, so the broker pre-settles, prefetch 1,000) `receiveMessageBatch` until all
 *   arrived.
 * - ours, batches: in, `BatchMessage`s of 100 events (one transfer of format 0x80013700 each, as the
 *   SDKs send); out as above.
 *
 * The clients are connected before the clock starts: "in" runs from the first send to the last
 * outcome, "out" from the first event received to the last (the link's attach is not counted). A
 * warm-up round of a tenth of the events goes first; the best of `--rounds` (default 2) is kept.
 */
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from "@azure/event-hubs";
import { Broker } from "../src/broker/index.js";
import { BatchMessage, Message, ReceiveClient, ReceiverSettleMode, SendClient } from "../src/index.js";
import { printTable } from "./harness.js";

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}
const EVENTS = option("--events", 20_000);
const SIZE = option("--size", 100);
const ROUNDS = option("--rounds", 2);
const BATCH = 100;
/** No phase may take longer than this: a stuck broker fails the bench instead of hanging it. */
const PHASE_TIMEOUT_MS = 120_000;

interface Rates {
  readonly inPerSec: number;
  readonly outPerSec: number;
}

interface Contender {
  readonly name: string;
  run(broker: Broker, hub: string, events: number): Promise<Rates>;
}

const body = (i: number): string => String(i).padEnd(SIZE, "x");
const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: not done within ${PHASE_TIMEOUT_MS} ms`)),
        PHASE_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

function connectionString(port: number): string {
  return `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true`;
}

const sdk: Contender = {
  name: "@azure/event-hubs 6",
  async run(broker, hub, events) {
    const cs = connectionString(broker.port!);
    const producer = new EventHubProducerClient(cs, hub);
    const consumer = new EventHubConsumerClient("$Default", cs, hub);
    try {
      await producer.sendBatch([{ body: "connect" }], { partitionId: "1" });
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < events; i += BATCH) {
        const batch = await producer.createBatch({ partitionId: "0" });
        for (let j = i; j < Math.min(events, i + BATCH); j++) {
          if (!batch.tryAdd({ body: body(j) })) throw new Error("an event did not fit in the batch");
        }
        await bounded(producer.sendBatch(batch), "sendBatch");
      }
      const inPerSec = events / seconds(t0);
      let received = 0;
      let t1 = 0n;
      let failure: Error | undefined;
      let done: () => void = () => undefined;
      const all = new Promise<void>((resolve) => (done = resolve));
      const subscription = consumer.subscribe(
        "0",
        {
          processEvents: (batch) => {
            if (received === 0 && batch.length > 0) t1 = process.hrtime.bigint();
            received += batch.length;
            if (received >= events) done();
            return Promise.resolve();
          },
          processError: (err) => {
            failure = err;
            done();
            return Promise.resolve();
          },
        },
        { startPosition: earliestEventPosition, maxBatchSize: BATCH, maxWaitTimeInSeconds: 5 },
      );
      await bounded(all, "subscribe");
      if (failure) throw failure;
      const outPerSec = (events - 1) / seconds(t1);
      await subscription.close();
      return { inPerSec, outPerSec };
    } finally {
      await consumer.close();
      await producer.close();
    }
  },
};

async function readOurs(broker: Broker, hub: string, events: number): Promise<number> {
  await using receiver = new ReceiveClient(`${broker.url}/${hub}/ConsumerGroups/$Default/Partitions/0`, {
    prefetch: 1000,
    receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete,
  });
  let received = 0;
  let t1 = 0n;
  await bounded(
    (async () => {
      while (received < events) {
        const got = await receiver.receiveMessageBatch({ maxBatchSize: 1000, timeout: 5000 });
        if (got.length === 0) throw new Error(`no event within 5 s after ${received}`);
        if (received === 0) t1 = process.hrtime.bigint();
        received += got.length;
      }
    })(),
    "receive",
  );
  return (events - 1) / seconds(t1);
}

function ours(batched: boolean): Contender {
  return {
    name: batched ? `ours, batches of ${BATCH}` : "ours, one transfer per event",
    async run(broker, hub, events) {
      await using sender = new SendClient(`${broker.url}/${hub}/Partitions/0`);
      await sender.open();
      const t0 = process.hrtime.bigint();
      if (batched) {
        for (let i = 0; i < events; i += BATCH) {
          const items = Array.from({ length: Math.min(BATCH, events - i) }, (_, j) => body(i + j));
          sender.queueMessage(new BatchMessage(items));
        }
      } else {
        for (let i = 0; i < events; i++) sender.queueMessage(new Message({ body: body(i) }));
      }
      await bounded(sender.sendAllMessages(), "sendAllMessages");
      const inPerSec = events / seconds(t0);
      const stored = broker.eventHubStats(hub)?.partitions[0]?.eventCount;
      if (stored !== events) throw new Error(`${String(stored)} events stored, ${events} sent`);
      return { inPerSec, outPerSec: await readOurs(broker, hub, events) };
    },
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

const broker = await Broker.start({
  eventHubs: { retention: { maxEvents: EVENTS + 1000, maxBytes: 1024 * 1024 * 1024 } },
});
let hubs = 0;
const rows: string[][] = [];
try {
  for (const c of [sdk, ours(false), ours(true)]) {
    await c.run(broker, `warm-${++hubs}`, Math.max(BATCH, Math.floor(EVENTS / 10)));
    let best: Rates = { inPerSec: 0, outPerSec: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const rates = await c.run(broker, `bench-${++hubs}`, EVENTS);
      best = {
        inPerSec: Math.max(best.inPerSec, rates.inPerSec),
        outPerSec: Math.max(best.outPerSec, rates.outPerSec),
      };
    }
    rows.push([c.name, String(EVENTS), `${SIZE} B`, fmt(best.inPerSec), fmt(best.outPerSec)]);
  }
} finally {
  await broker.close();
}
printTable(["client", "events", "body", "in (events/s)", "out (events/s)"], rows);
