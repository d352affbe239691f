/**
 * Microsoft's `@azure/event-hubs` (6.x, a dev dependency) against the embedded broker, in this
 * process and as the `uamqp broker` command (a child process, its URL read from its banner), with
 * the emulator connection string: sends with and without a partition id or key, subscriptions from
 * every kind of position for one partition and for all, consumer groups, re-reading, epochs
 * (`ownerLevel`), partition properties and the runtime metric. Each case uses a hub of its own,
 * created on first use with the default two partitions.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  earliestEventPosition,
  EventHubConsumerClient,
  EventHubProducerClient,
  latestEventPosition,
  type EventPosition,
  type LastEnqueuedEventProperties,
  type PartitionContext,
  type ReceivedEventData,
  type SubscribeOptions,
} from "@azure/event-hubs";
import { mapPartitionKeyToId } from "../../node_modules/@azure/event-hubs/dist/esm/impl/partitionKeyToIdMapper.js";
import { Broker } from "../../src/broker/index.js";
import { until, within } from "../support/waits.js";

const CASE = { timeout: 60_000 };
/** Bound of one subscription's reading. */
const READ_MS = 15_000;
/** How long a subscription waits before it reports an empty batch: "nothing more for now". */
const QUIET_S = 0.3;

/** The connection string of the Event Hubs emulator, pointed at the broker. */
function connectionString(port: number): string {
  return `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true`;
}

let hubCounter = 0;
const newHub = (what: string): string => `${what}-${process.pid}-${++hubCounter}`;

/** What a test needs of a received event. */
interface Seen {
  readonly body: unknown;
  readonly partition: string;
  readonly sequenceNumber: number;
  readonly offset: string;
  readonly enqueuedTime: number;
  readonly partitionKey: string | null | undefined;
}

function seen(e: ReceivedEventData, partition: string): Seen {
  return {
    body: e.body,
    partition,
    sequenceNumber: e.sequenceNumber,
    offset: e.offset,
    enqueuedTime: e.enqueuedTimeUtc.getTime(),
    partitionKey: e.partitionKey,
  };
}

/** Checks that each partition's events come with increasing sequence numbers, offsets and times. */
function assertOrdered(events: readonly Seen[]): void {
  const byPartition = new Map<string, Seen[]>();
  for (const e of events) byPartition.set(e.partition, [...(byPartition.get(e.partition) ?? []), e]);
  for (const [p, list] of byPartition) {
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1]!, list[i]!];
      assert.equal(b.sequenceNumber, a.sequenceNumber + 1, `partition ${p}: sequence numbers`);
      assert.ok(BigInt(b.offset) > BigInt(a.offset), `partition ${p}: offsets ${a.offset} < ${b.offset}`);
      assert.ok(b.enqueuedTime >= a.enqueuedTime, `partition ${p}: enqueued times`);
    }
  }
}

interface ReadOptions extends SubscribeOptions {
  /** Stop once this many events arrived and every partition read reported nothing more. */
  readonly count: number;
  /** One partition (default: all, load-balanced). */
  readonly partitionId?: string;
}

/**
 * Subscribes, collects `count` events and then waits until each partition read has nothing more
 * (an empty batch): exactly what the subscription delivers, at most within `READ_MS`.
 */
async function read(consumer: EventHubConsumerClient, options: ReadOptions): Promise<Seen[]> {
  const { count, partitionId, ...subscribeOptions } = options;
  const got: Seen[] = [];
  const quietSince = new Set<string>();
  const errors: unknown[] = [];
  const handlers = {
    processEvents: (events: ReceivedEventData[], context: PartitionContext): Promise<void> => {
      if (events.length === 0) {
        if (got.length >= count) quietSince.add(context.partitionId);
      } else {
        quietSince.delete(context.partitionId);
        got.push(...events.map((e) => seen(e, context.partitionId)));
      }
      return Promise.resolve();
    },
    processError: (err: Error): Promise<void> => {
      errors.push(err);
      return Promise.resolve();
    },
  };
  const opts: SubscribeOptions = { maxWaitTimeInSeconds: QUIET_S, maxBatchSize: 100, ...subscribeOptions };
  const sub =
    partitionId === undefined
      ? consumer.subscribe(handlers, opts)
      : consumer.subscribe(partitionId, handlers, opts);
  try {
    const partitions = partitionId === undefined ? await consumer.getPartitionIds() : [partitionId];
    await until(
      () => got.length >= count && partitions.every((p) => quietSince.has(p)),
      `${count} events and then quiet`,
      READ_MS,
    ).catch((e: unknown) => {
      throw new Error(
        `${String(e)}: got ${got.length} (${JSON.stringify(bodies(got))}), errors: ${errors.map(String).join("; ")}`,
      );
    });
  } finally {
    await within(sub.close(), "closing the subscription");
  }
  assert.deepEqual(errors, []);
  return got;
}

/** Sends `bodies` to one partition (or by key, or round robin) as one batch. */
async function sendBatch(
  producer: EventHubProducerClient,
  bodies: readonly string[],
  options: { partitionId?: string; partitionKey?: string } = {},
): Promise<void> {
  const batch = await producer.createBatch(options);
  for (const body of bodies) assert.ok(batch.tryAdd({ body }), "the event fits in the batch");
  await producer.sendBatch(batch);
}

/** The bodies of events, in order. */
const bodies = (events: readonly Seen[]): unknown[] => events.map((e) => e.body);

/** A broker to test against: its port, and how to stop it. */
interface Target {
  readonly name: string;
  start(): Promise<{ port: number; stop: () => Promise<void> }>;
}

const inProcess: Target = {
  name: "the in-process broker",
  async start() {
    const broker = await Broker.start();
    return { port: broker.port!, stop: () => broker.close() };
  },
};

const cliProcess: Target = {
  name: "the `uamqp broker` command",
  async start() {
    const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", bin, "broker", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const port = await within(
      new Promise<number>((resolve, reject) => {
        let out = "";
        child.stdout?.setEncoding("utf8").on("data", (s: string) => {
          out += s;
          const m = /listening on amqp:\/\/[^\s:]+:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once("exit", (code) =>
          reject(new Error(`the broker command exited (${String(code)}): ${stderr}`)),
        );
      }),
      "the broker command's banner",
      30_000,
    );
    return {
      port,
      stop: () =>
        within(
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
          "the broker command to exit",
        ).catch(() => {
          child.kill("SIGKILL");
        }),
    };
  },
};

for (const target of [inProcess, cliProcess]) {
  describe(`@azure/event-hubs against ${target.name}`, () => {
    let port = 0;
    let stop: () => Promise<void> = () => Promise.resolve();
    const clients: { close(): Promise<void> }[] = [];
    const producer = (hub: string): EventHubProducerClient => {
      const p = new EventHubProducerClient(connectionString(port), hub);
      clients.push(p);
      return p;
    };
    const consumer = (hub: string, group = "$Default"): EventHubConsumerClient => {
      const c = new EventHubConsumerClient(group, connectionString(port), hub, {
        loadBalancingOptions: { strategy: "greedy", updateIntervalInMs: 100 },
      });
      clients.push(c);
      return c;
    };
    before(async () => {
      ({ port, stop } = await target.start());
    });
    after(async () => {
      for (const c of clients) await within(c.close(), "closing a client").catch(() => undefined);
      await stop();
    });

    it(
      "sends with and without a partition id or key; getPartitionProperties reports the true last event",
      CASE,
      async () => {
        const hub = newHub("send");
        const p = producer(hub);
        const props = await p.getEventHubProperties();
        assert.equal(props.name, hub);
        assert.deepEqual(props.partitionIds, ["0", "1"]);
        await sendBatch(p, ["to-1a", "to-1b"], { partitionId: "1" });
        await sendBatch(p, ["keyed-a", "keyed-b"], { partitionKey: "device-7" });
        await p.sendBatch([{ body: "array-keyed" }], { partitionKey: "device-7" });
        await sendBatch(p, ["rr-a"]);
        await sendBatch(p, ["rr-b"]);
        await p.sendBatch([{ body: "array-0" }], { partitionId: "0" });

        const all = await read(consumer(hub), { count: 8, startPosition: earliestEventPosition });
        assert.equal(all.length, 8);
        assertOrdered(all);
        const partitionOf = (body: string): string => all.find((e) => e.body === body)!.partition;
        assert.equal(partitionOf("to-1a"), "1");
        assert.equal(partitionOf("to-1b"), "1");
        assert.equal(partitionOf("array-0"), "0");
        const keyed = String(mapPartitionKeyToId("device-7", 2));
        for (const body of ["keyed-a", "keyed-b", "array-keyed"]) {
          assert.equal(partitionOf(body), keyed, `${body} goes where the key maps`);
          assert.equal(all.find((e) => e.body === body)!.partitionKey, "device-7");
        }
        assert.notEqual(partitionOf("rr-a"), partitionOf("rr-b"), "sends without a partition take turns");

        for (const id of ["0", "1"]) {
          const events = all.filter((e) => e.partition === id);
          const last = events.at(-1)!;
          const pp = await p.getPartitionProperties(id);
          assert.equal(pp.partitionId, id);
          assert.equal(pp.eventHubName, hub);
          assert.equal(pp.beginningSequenceNumber, 0);
          assert.equal(pp.lastEnqueuedSequenceNumber, last.sequenceNumber);
          assert.equal(pp.lastEnqueuedSequenceNumber, events.length - 1);
          assert.equal(pp.lastEnqueuedOffset, last.offset);
          assert.equal(pp.lastEnqueuedOnUtc.getTime(), last.enqueuedTime);
          assert.equal(pp.isEmpty, false);
        }
        await assert.rejects(p.getPartitionProperties("2"), (e: Error & { code?: string }) => {
          assert.match(e.message, /no partition '2'/);
          return true;
        });
      },
    );

    it(
      "subscribes to one partition from the earliest event, an offset, a sequence number and an enqueued time",
      CASE,
      async () => {
        const hub = newHub("positions");
        const p = producer(hub);
        const c = consumer(hub);
        await sendBatch(p, ["e0", "e1"], { partitionId: "0" });
        const first = await p.getPartitionProperties("0");
        await until(() => Date.now() > first.lastEnqueuedOnUtc.getTime(), "the clock to move on");
        await sendBatch(p, ["e2", "e3", "e4"], { partitionId: "0" });
        await sendBatch(p, ["other"], { partitionId: "1" });

        const all = await read(c, { count: 5, partitionId: "0", startPosition: earliestEventPosition });
        assert.deepEqual(bodies(all), ["e0", "e1", "e2", "e3", "e4"]);
        assert.deepEqual(
          all.map((e) => e.sequenceNumber),
          [0, 1, 2, 3, 4],
        );
        assertOrdered(all);
        const cases: [EventPosition, string[]][] = [
          [{ offset: all[2]!.offset }, ["e3", "e4"]],
          [{ offset: all[2]!.offset, isInclusive: true }, ["e2", "e3", "e4"]],
          [{ sequenceNumber: 1 }, ["e2", "e3", "e4"]],
          [{ sequenceNumber: 1, isInclusive: true }, ["e1", "e2", "e3", "e4"]],
          [{ enqueuedOn: new Date(all[1]!.enqueuedTime) }, ["e2", "e3", "e4"]],
          [{ enqueuedOn: all[1]!.enqueuedTime }, ["e2", "e3", "e4"]],
        ];
        for (const [startPosition, expected] of cases) {
          const got = await read(c, { count: expected.length, partitionId: "0", startPosition });
          assert.deepEqual(bodies(got), expected, JSON.stringify(startPosition));
          assert.deepEqual(got, all.slice(5 - expected.length), "the same events, with the same metadata");
        }
      },
    );

    for (const scope of ["partition 0", "every partition"] as const) {
      it(
        `subscribes to ${scope} from the latest event: only the events sent after it attached`,
        CASE,
        async () => {
          const hub = newHub("latest");
          const p = producer(hub);
          const c = consumer(hub);
          const ids = scope === "partition 0" ? ["0"] : ["0", "1"];
          for (const id of ids) await sendBatch(p, [`old-${id}`], { partitionId: id });
          const got: Seen[] = [];
          const handlers = {
            processEvents: (events: ReceivedEventData[], context: PartitionContext): Promise<void> => {
              got.push(...events.map((e) => seen(e, context.partitionId)));
              return Promise.resolve();
            },
            processError: (): Promise<void> => Promise.resolve(),
          };
          const options: SubscribeOptions = {
            startPosition: latestEventPosition,
            maxWaitTimeInSeconds: QUIET_S,
          };
          const sub =
            scope === "partition 0" ? c.subscribe("0", handlers, options) : c.subscribe(handlers, options);
          const from = (id: string): Seen[] => got.filter((e) => e.partition === id);
          try {
            // Receivers attach at some point after subscribe(): send until an event reaches each.
            let n = 0;
            const deadline = Date.now() + READ_MS;
            while (!ids.every((id) => from(id).length > 0)) {
              assert.ok(Date.now() < deadline, "no event sent after subscribing arrived");
              n++;
              for (const id of ids) await sendBatch(p, [`new-${id}-${n}`], { partitionId: id });
              await until(() => ids.every((id) => from(id).length > 0), "an event", 100).catch(
                () => undefined,
              );
            }
            for (const id of ids) await sendBatch(p, [`last-${id}`], { partitionId: id });
            await until(
              () => ids.every((id) => from(id).at(-1)?.body === `last-${id}`),
              "the last events",
              READ_MS,
            );
          } finally {
            await within(sub.close(), "closing the subscription");
          }
          assert.ok(!got.some((e) => String(e.body).startsWith("old")), "nothing from before");
          for (const id of ids) {
            // Some run of the events sent after subscribing, without a gap, then the last one.
            const list = bodies(from(id)) as string[];
            const first = Number(list[0]!.split("-")[2]);
            assert.deepEqual(list, [
              ...Array.from({ length: list.length - 1 }, (_, i) => `new-${id}-${first + i}`),
              `last-${id}`,
            ]);
          }
          assertOrdered(got);
        },
      );
    }

    it(
      "subscribes to every partition from the earliest event, per-partition sequence numbers and offsets, and an enqueued time",
      CASE,
      async () => {
        const hub = newHub("all");
        const p = producer(hub);
        await sendBatch(p, ["a0", "a1", "a2"], { partitionId: "0" });
        await sendBatch(p, ["b0", "b1"], { partitionId: "1" });
        const c = consumer(hub);
        const all = await read(c, { count: 5, startPosition: earliestEventPosition });
        assertOrdered(all);
        assert.deepEqual(bodies(all.filter((e) => e.partition === "0")), ["a0", "a1", "a2"]);
        assert.deepEqual(bodies(all.filter((e) => e.partition === "1")), ["b0", "b1"]);
        const fromSeq = await read(c, {
          count: 3,
          startPosition: { "0": { sequenceNumber: 1 }, "1": { sequenceNumber: 0, isInclusive: true } },
        });
        assert.deepEqual(bodies(fromSeq).sort(), ["a2", "b0", "b1"]);
        assertOrdered(fromSeq);
        const offsets = await read(c, {
          count: 2,
          startPosition: {
            "0": { offset: all.find((e) => e.body === "a1")!.offset },
            "1": { offset: all.find((e) => e.body === "b0")!.offset },
          },
        });
        assert.deepEqual(bodies(offsets).sort(), ["a2", "b1"]);
        // One enqueued time for every partition: the events stored after it.
        const t = Math.max(...all.map((e) => e.enqueuedTime));
        await until(() => Date.now() > t, "the clock to move on");
        await sendBatch(p, ["a3"], { partitionId: "0" });
        await sendBatch(p, ["b2"], { partitionId: "1" });
        const after = await read(c, { count: 2, startPosition: { enqueuedOn: t } });
        assert.deepEqual(bodies(after).sort(), ["a3", "b2"]);
      },
    );

    it(
      "two consumer groups each read every event, and reading again from the earliest returns the same events",
      CASE,
      async () => {
        const hub = newHub("groups");
        const p = producer(hub);
        await sendBatch(p, ["x0", "x1"], { partitionId: "0" });
        await sendBatch(p, ["y0", "y1", "y2"], { partitionId: "1" });
        const first = await read(consumer(hub), { count: 5, startPosition: earliestEventPosition });
        const second = await read(consumer(hub, "second"), {
          count: 5,
          startPosition: earliestEventPosition,
        });
        const again = await read(consumer(hub), { count: 5, startPosition: earliestEventPosition });
        const key = (e: Seen): string => `${e.partition}/${e.sequenceNumber}`;
        const sorted = (l: Seen[]): Seen[] => [...l].sort((a, b) => key(a).localeCompare(key(b)));
        assert.equal(first.length, 5);
        assert.deepEqual(sorted(second), sorted(first));
        assert.deepEqual(sorted(again), sorted(first));
        assert.deepEqual(bodies(sorted(first)), ["x0", "x1", "y0", "y1", "y2"]);
      },
    );

    it("an epoch receiver (ownerLevel) takes the partition over; a lower one is refused", CASE, async () => {
      const hub = newHub("epoch");
      const p = producer(hub);
      type Watch = { got: Seen[]; errors: (Error & { code?: string })[]; closed: string[] };
      // One client per subscription: a client subscribes to a partition once at a time.
      const watch = (ownerLevel: number): { w: Watch; close(): Promise<void> } => {
        const w: Watch = { got: [], errors: [], closed: [] };
        const sub = consumer(hub).subscribe(
          "0",
          {
            processEvents: (events, context) => {
              w.got.push(...events.map((e) => seen(e, context.partitionId)));
              return Promise.resolve();
            },
            processError: (err) => {
              w.errors.push(err);
              return Promise.resolve();
            },
            processClose: (reason) => {
              w.closed.push(reason);
              return Promise.resolve();
            },
          },
          { startPosition: earliestEventPosition, ownerLevel, maxWaitTimeInSeconds: QUIET_S },
        );
        return { w, close: () => within(sub.close(), "closing a subscription") };
      };
      await sendBatch(p, ["first"], { partitionId: "0" });
      const one = watch(1);
      await until(() => one.w.got.length === 1, "the first owner to read", READ_MS);
      const two = watch(2);
      await until(() => two.w.got.length === 1, "the second owner to read", READ_MS);
      await until(() => one.w.closed.length > 0, "the first owner to lose the partition", READ_MS);
      assert.equal(one.w.errors[0]?.code, "ReceiverDisconnectedError");
      assert.deepEqual(one.w.closed, ["OwnershipLost"]);
      const lower = watch(1);
      await until(() => lower.w.errors.length > 0, "the lower epoch to be refused", READ_MS);
      assert.equal(lower.w.errors[0]?.code, "ReceiverDisconnectedError");
      assert.deepEqual(lower.w.got, []);
      await sendBatch(p, ["second"], { partitionId: "0" });
      await until(() => two.w.got.length === 2, "the owner to read on", READ_MS);
      assert.equal(one.w.got.length, 1);
      assert.deepEqual(two.w.errors, []);
      await Promise.all([one.close(), two.close(), lower.close()]);
    });

    it(
      "reports the last enqueued event with every batch (trackLastEnqueuedEventProperties)",
      CASE,
      async () => {
        const hub = newHub("metric");
        const p = producer(hub);
        await sendBatch(p, ["m0", "m1", "m2"], { partitionId: "1" });
        const c = consumer(hub);
        const reported: { last?: LastEnqueuedEventProperties } = {};
        let count = 0;
        const sub = c.subscribe(
          "1",
          {
            processEvents: (events, context) => {
              count += events.length;
              if (events.length > 0) reported.last = { ...context.lastEnqueuedEventProperties };
              return Promise.resolve();
            },
            processError: () => Promise.resolve(),
          },
          {
            startPosition: earliestEventPosition,
            trackLastEnqueuedEventProperties: true,
            maxWaitTimeInSeconds: QUIET_S,
          },
        );
        try {
          await until(() => count === 3, "three events", READ_MS);
        } finally {
          await within(sub.close(), "closing the subscription");
        }
        const props = await p.getPartitionProperties("1");
        const last = reported.last;
        assert.ok(last);
        assert.equal(last.sequenceNumber, 2);
        assert.equal(last.offset, props.lastEnqueuedOffset);
        assert.equal(last.enqueuedOn?.getTime(), props.lastEnqueuedOnUtc.getTime());
        assert.ok(last.retrievedOn instanceof Date);
      },
    );
  });
}
