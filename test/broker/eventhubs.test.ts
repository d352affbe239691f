/**
 * The broker's event hubs through rhea (a peer nobody here wrote): partition logs and their
 * metadata, routing by partition key, batches, consumer groups and positions, epochs, the runtime
 * metric, retention, `$management` READs, addresses and options. `@azure/event-hubs` and Python's
 * `azure-eventhub` against the same code: test/interop/event-hubs-sdk.test.ts and
 * test/interop/azure-eventhub.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import rhea from "rhea";
import { mapPartitionKeyToId } from "../../node_modules/@azure/event-hubs/dist/esm/impl/partitionKeyToIdMapper.js";
import { Broker, BrokerError } from "../../src/broker/index.js";
import { EventHubFilters, Message, ReceiveClient, SendClient, Source } from "../../src/index.js";
import { gather } from "../support/waits.js";
import { parseHubAddress } from "../../src/broker/eventhubs/hub-address.js";
import { partitionIndexForKey } from "../../src/broker/eventhubs/partition-key.js";
import { parsePosition, PositionFilterError } from "../../src/broker/eventhubs/position-filter.js";
import { nodeRequest } from "./cbs-client.js";
import {
  attachError,
  brokerFixture,
  collect,
  connect,
  linkError,
  openReceiver,
  openSender,
  quiet,
  sendAll,
  until,
  waitEvent,
  type Link,
} from "./rhea-client.js";

type Ctx = rhea.EventContext;

const SELECTOR = "apache.org:selector-filter:string";
const RUNTIME_METRIC = "com.microsoft:enable-receiver-runtime-metric";

/** A receiver's source at `address` with a selector filter (as @azure/event-hubs builds it). */
function source(address: string, expression?: string, extra: Record<string, unknown> = {}): rhea.Source {
  const filter =
    expression === undefined
      ? undefined
      : { [SELECTOR]: rhea.types.wrap_described(expression, 0x468c00000004), ...extra };
  return { address, ...(filter ? { filter } : {}) };
}

/** A receiver's options for `address`, with a selector filter when given. */
function reader(
  address: string,
  expression?: string,
  extra: Record<string, unknown> = {},
): rhea.ReceiverOptions {
  return { source: source(address, expression, extra) };
}

function remote(l: Link): {
  source?: { filter?: Record<string, { value?: unknown; descriptor?: unknown }> };
  offered_capabilities?: unknown;
} {
  return (l as unknown as { remote: { attach: ReturnType<typeof remote> } }).remote.attach;
}

function annotations(m: Ctx): Record<string, unknown> {
  return m.message?.message_annotations ?? {};
}

const bodies = (got: Ctx[]): unknown[] => got.map((m) => m.message?.body);
const seqs = (got: Ctx[]): unknown[] => got.map((m) => annotations(m)["x-opt-sequence-number"]);

describe("broker: event hubs", () => {
  const { setup, keep } = brokerFixture();

  it("numbers each partition's events from 0, at the offset of the bytes before, with the time enqueued", async () => {
    const { b, c } = await setup();
    const before = Date.now();
    await sendAll(await openSender(c, "numbers/Partitions/1"), [
      { body: "a", message_annotations: { "x-custom": "kept", "x-opt-sequence-number": 99 } },
      { body: "bb", delivery_annotations: { "x-hop": "dropped" } },
      { body: "ccc" },
    ]);
    const r = await openReceiver(
      c,
      reader("numbers/ConsumerGroups/$Default/Partitions/1", "amqp.annotation.x-opt-offset > '-1'"),
    );
    const got = await collect(r, 3);
    assert.deepEqual(bodies(got), ["a", "bb", "ccc"]);
    assert.deepEqual(seqs(got), [0, 1, 2]);
    const offsets = got.map((m) => annotations(m)["x-opt-offset"]);
    const stats = b.eventHubStats("numbers")!;
    const p1 = stats.partitions[1]!;
    assert.equal(offsets[0], "0");
    assert.equal(typeof offsets[1], "string");
    // Offsets grow by the stored size of each event: the last one's plus its size is the total.
    assert.equal(p1.lastEnqueuedOffset, offsets[2]);
    assert.ok(Number(offsets[1]) > 0 && Number(offsets[2]) > Number(offsets[1]));
    for (const m of got) {
      const t = annotations(m)["x-opt-enqueued-time"];
      assert.ok(t instanceof Date && t.getTime() >= before && t.getTime() <= Date.now());
    }
    assert.equal(annotations(got[0]!)["x-custom"], "kept", "the producer's own annotations are kept");
    assert.equal(
      got[1]!.message?.delivery_annotations,
      undefined,
      "the producer's delivery annotations are dropped",
    );
    assert.equal(p1.eventCount, 3);
    assert.equal(p1.lastEnqueuedSequenceNumber, 2);
    assert.equal(b.eventHubStats("numbers")!.partitions[0]!.isEmpty, true);
    assert.deepEqual(b.eventHubNames(), ["numbers"]);
    assert.equal(b.queueNames().length, 0, "a hub address makes no queue");
  });

  it("reads without removing: each receiver, in any consumer group, gets every event; again from the start too", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "shared/Partitions/0"), [{ body: 1 }, { body: 2 }, { body: 3 }]);
    for (const group of ["$Default", "$Default", "audit", "AUDIT"]) {
      const r = await openReceiver(c, reader(`shared/ConsumerGroups/${group}/Partitions/0`));
      assert.deepEqual(bodies(await collect(r, 3)), [1, 2, 3]);
      r.close();
    }
    assert.deepEqual(b.eventHubStats("shared")!.consumerGroups, ["$Default", "audit"]);
    assert.equal(b.eventHubStats("shared")!.partitions[0]!.eventCount, 3);
    // A receiver of the partition address itself reads in $Default.
    const plain = await openReceiver(c, "shared/Partitions/0");
    assert.deepEqual(bodies(await collect(plain, 3)), [1, 2, 3]);
  });

  it("follows the log: a receiver gets the events sent after it attached, as they come", async () => {
    const { c } = await setup();
    const r = await openReceiver(
      c,
      reader("live/ConsumerGroups/$Default/Partitions/0", "amqp.annotation.x-opt-offset > '@latest'"),
    );
    const s = await openSender(c, "live/Partitions/0");
    const got = collect(r, 4);
    await sendAll(s, [{ body: "x" }, { body: "y" }]);
    await sendAll(s, [{ body: "z" }, { body: "w" }]);
    assert.deepEqual(bodies(await got), ["x", "y", "z", "w"]);
  });

  it("sends to the hub go round robin, or by partition key to the partition the service's hash picks", async () => {
    const { b, c } = await setup({ eventHubs: { hubs: { rr: { partitionCount: 4 } } } });
    const s = await openSender(c, "rr");
    await sendAll(
      s,
      Array.from({ length: 8 }, (_, i) => ({ body: i })),
    );
    assert.deepEqual(
      b.eventHubStats("rr")!.partitions.map((p) => p.eventCount),
      [2, 2, 2, 2],
    );
    const keys = Array.from({ length: 12 }, (_, i) => `device-${i}`);
    await sendAll(
      s,
      keys.map((k) => ({ body: k, message_annotations: { "x-opt-partition-key": k } })),
    );
    const expected = [2, 2, 2, 2];
    for (const k of keys) expected[mapPartitionKeyToId(k, 4)]!++;
    assert.deepEqual(
      b.eventHubStats("rr")!.partitions.map((p) => p.eventCount),
      expected,
    );
    const p = mapPartitionKeyToId("device-3", 4);
    const r = await openReceiver(
      c,
      reader(`rr/ConsumerGroups/$Default/Partitions/${p}`, "amqp.annotation.x-opt-sequence-number >= '2'"),
    );
    const got = await collect(r, expected[p]! - 2);
    assert.ok(
      got.some((m) => m.message?.body === "device-3" && annotations(m)["x-opt-partition-key"] === "device-3"),
    );
  });

  it("maps partition keys as @azure/event-hubs does (its own mapper as the oracle)", () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 3000; n++) {
      const len = n % 37;
      const wide = n % 3 === 0;
      let key = "";
      for (let i = 0; i < len; i++)
        key += String.fromCodePoint(32 + Math.floor(random() * (wide ? 3000 : 95)));
      for (const count of [1, 2, 3, 4, 5, 8, 32, 1024]) {
        assert.equal(
          partitionIndexForKey(key, count),
          mapPartitionKeyToId(key, count),
          `key ${JSON.stringify(key)} of ${count}`,
        );
      }
    }
  });

  it("splits a batch (format 0x80013700) into events in one partition, routed by the batch's partition key", async () => {
    const { b, c } = await setup({ eventHubs: { hubs: { batches: { partitionCount: 3 } } } });
    const s = await openSender(c, "batches");
    const key = "batch-key";
    const events = ["e1", "e2", "e3"].map((body) =>
      rhea.message.encode({ body, message_annotations: { "x-opt-partition-key": key } }),
    );
    const envelope = rhea.message.encode({
      message_annotations: { "x-opt-partition-key": key },
      body: rhea.message.data_sections(events),
    });
    const settled = waitEvent(s, "accepted", ["rejected", "released", "modified"]);
    s.send(envelope, undefined, 0x80013700);
    await settled;
    const p = mapPartitionKeyToId(key, 3);
    assert.deepEqual(
      b.eventHubStats("batches")!.partitions.map((x) => x.eventCount),
      [0, 1, 2].map((i) => (i === p ? 3 : 0)),
    );
    const r = await openReceiver(c, reader(`batches/ConsumerGroups/$Default/Partitions/${p}`));
    const got = await collect(r, 3);
    assert.deepEqual(bodies(got), ["e1", "e2", "e3"]);
    assert.deepEqual(seqs(got), [0, 1, 2]);
    assert.ok(got.every((m) => annotations(m)["x-opt-partition-key"] === key));

    // Another message format cannot be an event: rejected, nothing stored.
    const refused = waitEvent(s, "rejected", ["accepted"]);
    s.send(rhea.message.encode({ body: "opaque" }), undefined, 0x12345678);
    const ctx = await refused;
    assert.equal(
      (ctx.delivery?.remote_state as { error?: { condition?: string } }).error?.condition,
      "amqp:not-implemented",
    );
    assert.equal(b.eventHubStats("batches")!.partitions[p]!.eventCount, 3);
  });

  it("starts each receiver where its selector filter says, and echoes only that filter", async () => {
    const { b, c } = await setup();
    const s = await openSender(c, "pos/Partitions/0");
    await sendAll(s, [{ body: 0 }, { body: 1 }]);
    // A later millisecond for the second group of events (times are those of the broker's clock).
    const firstTime = b.eventHubStats("pos")!.partitions[0]!.lastEnqueuedTimeUtc.getTime();
    await until(() => Date.now() > firstTime, "the clock to move on");
    await sendAll(s, [{ body: 2 }, { body: 3 }, { body: 4 }]);
    const all = await collect(
      await openReceiver(
        c,
        reader("pos/ConsumerGroups/$Default/Partitions/0", "amqp.annotation.x-opt-offset > '-1'"),
      ),
      5,
    );
    const offset = (i: number): string => annotations(all[i]!)["x-opt-offset"] as string;
    const time = (i: number): number => (annotations(all[i]!)["x-opt-enqueued-time"] as Date).getTime();
    assert.equal(time(1), firstTime);
    // Events 0 and 1 may share their millisecond or not: the inclusive case takes whichever do.
    const atOrAfterFirst = [0, 1, 2, 3, 4].filter((i) => time(i) >= firstTime);
    const address = "pos/ConsumerGroups/$Default/Partitions/0";
    const cases: [string, number[]][] = [
      [`amqp.annotation.x-opt-offset > '${offset(2)}'`, [3, 4]],
      [`amqp.annotation.x-opt-offset >= '${offset(2)}'`, [2, 3, 4]],
      [`amqp.annotation.x-opt-sequence-number > '1'`, [2, 3, 4]],
      [`amqp.annotation.x-opt-sequence-number >= '1'`, [1, 2, 3, 4]],
      [`amqp.annotation.x-opt-enqueued-time > '${firstTime}'`, [2, 3, 4]],
      [`amqp.annotation.x-opt-enqueued-time >= '${firstTime}'`, atOrAfterFirst],
      [`amqp.annotation.x-opt-offset > '-1'`, [0, 1, 2, 3, 4]],
    ];
    for (const [expression, expected] of cases) {
      const r = await openReceiver(
        c,
        reader(address, expression, { "other-filter": rhea.types.wrap_described("x", 0x77) }),
      );
      assert.deepEqual(bodies(await collect(r, expected.length)), expected, expression);
      assert.deepEqual(await quiet(r, 30), [], `${expression}: nothing more`);
      const echoed = remote(r).source?.filter ?? {};
      assert.deepEqual(Object.keys(echoed), [SELECTOR], "only the selector filter is echoed");
      assert.equal(echoed[SELECTOR]?.value, expression);
      r.close();
    }
    // No filter: from the first event kept.
    assert.deepEqual(bodies(await collect(await openReceiver(c, address), 5)), [0, 1, 2, 3, 4]);
  });

  it("a position past the end of the log waits for the events beyond it", async () => {
    const { c } = await setup();
    const s = await openSender(c, "ahead/Partitions/0");
    await sendAll(s, [{ body: 0 }]);
    const r = await openReceiver(
      c,
      reader("ahead/ConsumerGroups/$Default/Partitions/0", "amqp.annotation.x-opt-sequence-number > '2'"),
    );
    const byOffset = await openReceiver(
      c,
      reader("ahead/ConsumerGroups/$Default/Partitions/0", "amqp.annotation.x-opt-offset > '100000'"),
    );
    const got = collect(r, 2);
    await sendAll(s, [{ body: 1 }, { body: 2 }, { body: 3 }, { body: 4 }]);
    assert.deepEqual(bodies(await got), [3, 4]);
    assert.deepEqual(await quiet(byOffset, 30), [], "no event has an offset beyond 100000 yet");
  });

  it("serves this library's own clients: SendClient to a partition, ReceiveClient with EventHubFilters", async () => {
    const { b } = await setup();
    await using sender = new SendClient(`${b.url}/own/Partitions/0`);
    for (let i = 0; i < 5; i++) sender.queueMessage(new Message({ body: `own ${i}` }));
    await sender.sendAllMessages();
    const read = async (expression: string, n: number): Promise<string[]> => {
      const source = Source.parse(`${b.url}/own/ConsumerGroups/$Default/Partitions/0`);
      source.setFilter(expression);
      await using receiver = new ReceiveClient(source, { prefetch: 10, timeout: 2000 });
      const got = await gather(n, () => receiver.receiveMessageBatch({ maxBatchSize: 10 }), expression);
      return got.map((m) => m.toString());
    };
    // Unquoted numbers, as EventHubFilters writes sequence numbers and times.
    assert.deepEqual(await read(EventHubFilters.sequenceNumberAfter(2), 2), ["own 3", "own 4"]);
    assert.deepEqual(await read(EventHubFilters.sequenceNumberAfter(2, { inclusive: true }), 3), [
      "own 2",
      "own 3",
      "own 4",
    ]);
    assert.deepEqual(
      await read(EventHubFilters.offsetAfter(EventHubFilters.START_OF_STREAM), 5),
      [0, 1, 2, 3, 4].map((i) => `own ${i}`),
    );
    const first = b.eventHubStats("own")!.partitions[0]!;
    assert.equal(first.eventCount, 5, "reading removed nothing");
    assert.deepEqual(
      await read(EventHubFilters.enqueuedTimeAfter(0, { legacyAnnotation: true }), 5),
      [0, 1, 2, 3, 4].map((i) => `own ${i}`),
    );
  });

  it("refuses a filter it cannot apply with amqp:invalid-field", async () => {
    const { c } = await setup();
    for (const expression of [
      "amqp.annotation.x-opt-offset < '5'",
      "amqp.annotation.x-opt-sequence-number > 'five'",
      "amqp.annotation.x-opt-offset > 'opaque-offset'",
      "color = 'red'",
    ]) {
      const err = await attachError(
        openReceiver(c, reader("bad/ConsumerGroups/$Default/Partitions/0", expression)),
      );
      assert.equal(err.condition, "amqp:invalid-field", expression);
      assert.match(err.description ?? "", /filter|offset|sequence/);
    }
  });

  it("parses positions as the SDKs write them", () => {
    assert.deepEqual(parsePosition("amqp.annotation.x-opt-offset > '-1'"), { kind: "earliest" });
    assert.deepEqual(parsePosition("amqp.annotation.x-opt-offset > '@latest'"), { kind: "latest" });
    assert.deepEqual(parsePosition("amqp.annotation.x-opt-offset >= '128'"), {
      kind: "offset",
      value: 128,
      inclusive: true,
    });
    assert.deepEqual(parsePosition("amqp.annotation.x-opt-sequence-number > '7'"), {
      kind: "sequence-number",
      value: 7,
      inclusive: false,
    });
    assert.deepEqual(parsePosition("AMQP.ANNOTATION.X-OPT-ENQUEUED-TIME > '1700000000000'"), {
      kind: "enqueued-time",
      value: 1700000000000,
      inclusive: false,
    });
    assert.deepEqual(parsePosition("amqp.annotation.x-opt-enqueued-time >= '2024-01-02T03:04:05Z'"), {
      kind: "enqueued-time",
      value: Date.UTC(2024, 0, 2, 3, 4, 5),
      inclusive: true,
    });
    assert.deepEqual(parsePosition("amqp.annotation.x-opt-enqueuedtimeutc > 1518731960545"), {
      kind: "enqueued-time",
      value: 1518731960545,
      inclusive: false,
    });
    assert.throws(() => parsePosition("amqp.annotation.x-opt-enqueued-time > 'soon'"), PositionFilterError);
  });

  it("epochs: a higher (or equal) epoch takes the partition over with amqp:link:stolen, a lower one and one without are refused", async () => {
    const { c } = await setup();
    const address = "owned/ConsumerGroups/$Default/Partitions/0";
    const withEpoch = (epoch: number): rhea.ReceiverOptions => ({
      source: source(address),
      properties: { "com.microsoft:epoch": rhea.types.wrap_long(epoch) },
    });
    const plain = await openReceiver(c, reader(address));
    const plainGone = waitEvent(plain, "receiver_close");
    const one = await openReceiver(c, withEpoch(1));
    assert.equal(
      linkError(await plainGone).condition,
      "amqp:link:stolen",
      "the epoch receiver takes over from one without",
    );
    const refusedPlain = await attachError(openReceiver(c, reader(address)));
    assert.equal(refusedPlain.condition, "amqp:link:stolen");
    const oneGone = waitEvent(one, "receiver_close");
    const two = await openReceiver(c, withEpoch(2));
    const stolen = linkError(await oneGone);
    assert.equal(stolen.condition, "amqp:link:stolen");
    assert.match(stolen.description ?? "", /epoch 2/);
    const refusedLower = await attachError(openReceiver(c, withEpoch(1)));
    assert.equal(refusedLower.condition, "amqp:link:stolen");
    assert.match(refusedLower.description ?? "", /higher epoch 2/);
    // Another consumer group, or another partition, is another owner.
    await openReceiver(c, {
      source: source("owned/ConsumerGroups/other/Partitions/0"),
      properties: { "com.microsoft:epoch": rhea.types.wrap_long(0) },
    });
    await openReceiver(c, { source: source("owned/ConsumerGroups/$Default/Partitions/1") });
    const twoGone = waitEvent(two, "receiver_close");
    const again = await openReceiver(c, withEpoch(2));
    assert.equal(linkError(await twoGone).condition, "amqp:link:stolen", "an equal epoch takes over too");
    const got = collect(again, 1);
    await sendAll(await openSender(c, "owned/Partitions/0"), [{ body: "to the owner" }]);
    assert.deepEqual(bodies(await got), ["to the owner"]);
  });

  it("answers the receiver runtime metric capability with the last event's properties on each delivery", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "metric/Partitions/0"), [{ body: 1 }, { body: 2 }]);
    const withMetric = await openReceiver(c, {
      source: source("metric/ConsumerGroups/$Default/Partitions/0"),
      desired_capabilities: RUNTIME_METRIC,
    });
    const offered = remote(withMetric).offered_capabilities;
    assert.deepEqual([offered].flat(), [RUNTIME_METRIC]);
    const got = await collect(withMetric, 2);
    const p = b.eventHubStats("metric")!.partitions[0]!;
    for (const m of got) {
      const da = m.message?.delivery_annotations as Record<string, unknown>;
      assert.equal(da["last_enqueued_sequence_number"], 1);
      assert.equal(da["last_enqueued_offset"], p.lastEnqueuedOffset);
      assert.deepEqual(da["last_enqueued_time_utc"], p.lastEnqueuedTimeUtc);
      assert.ok(da["runtime_info_retrieval_time_utc"] instanceof Date);
      assert.equal(annotations(m)["x-opt-sequence-number"], m.message?.body === 1 ? 0 : 1);
    }
    const without = await openReceiver(c, reader("metric/ConsumerGroups/$Default/Partitions/0"));
    assert.equal(remote(without).offered_capabilities ?? undefined, undefined);
    assert.equal((await collect(without, 1))[0]!.message?.delivery_annotations, undefined);
  });

  it("keeps events within the retention limits: count, bytes and age", async () => {
    const { b, c } = await setup({
      eventHubs: {
        hubs: {
          counted: { partitionCount: 1, retention: { maxEvents: 3 } },
          sized: { partitionCount: 1, retention: { maxBytes: 400 } },
          aged: { partitionCount: 1, retention: { maxAgeMs: 80 } },
        },
      },
    });
    await sendAll(
      await openSender(c, "counted"),
      [1, 2, 3, 4, 5].map((body) => ({ body })),
    );
    const counted = b.eventHubStats("counted")!.partitions[0]!;
    assert.equal(counted.beginSequenceNumber, 2);
    assert.equal(counted.lastEnqueuedSequenceNumber, 4);
    assert.deepEqual(
      bodies(
        await collect(
          await openReceiver(
            c,
            reader("counted/ConsumerGroups/$Default/Partitions/0", "amqp.annotation.x-opt-offset > '-1'"),
          ),
          3,
        ),
      ),
      [3, 4, 5],
    );

    await sendAll(
      await openSender(c, "sized"),
      Array.from({ length: 10 }, (_, i) => ({ body: "x".repeat(90) + String(i) })),
    );
    const sized = b.eventHubStats("sized")!.partitions[0]!;
    assert.ok(sized.bytes <= 400 && sized.eventCount >= 1 && sized.eventCount < 10, JSON.stringify(sized));
    assert.equal(sized.lastEnqueuedSequenceNumber, 9);
    assert.equal(sized.beginSequenceNumber, 10 - sized.eventCount);

    await sendAll(await openSender(c, "aged"), [{ body: "old" }]);
    const sequence = reader(
      "aged/ConsumerGroups/$Default/Partitions/0",
      "amqp.annotation.x-opt-sequence-number >= '0'",
    );
    await until(() => b.eventHubStats("aged")!.partitions[0]!.isEmpty, "the event to expire", 5000);
    const aged = b.eventHubStats("aged")!.partitions[0]!;
    assert.equal(aged.beginSequenceNumber, 1);
    assert.equal(aged.lastEnqueuedSequenceNumber, 0, "the last enqueued event is still reported");
    const r = await openReceiver(c, sequence);
    const got = collect(r, 1);
    await sendAll(await openSender(c, "aged"), [{ body: "new" }]);
    assert.deepEqual(bodies(await got), ["new"]);
  });

  it("$management READ: the hub's and a partition's properties, 404 for a hub or partition that does not exist", async () => {
    const { b, c } = await setup({
      eventHubs: { autoCreate: false, hubs: { props: { partitionCount: 3 } } },
    });
    const before = Date.now();
    await sendAll(await openSender(c, "props/Partitions/2"), [{ body: "a" }, { body: "b" }]);
    const hub = await nodeRequest(c, "$management", {
      operation: "READ",
      name: "props",
      type: "com.microsoft:eventhub",
    });
    assert.equal(hub.application_properties?.["status-code"], 200);
    const body = hub.body as Record<string, unknown>;
    assert.equal(body["name"], "props");
    assert.equal(body["partition_count"], 3);
    assert.deepEqual(body["partition_ids"], ["0", "1", "2"]);
    assert.deepEqual(body["created_at"], b.eventHubStats("props")!.createdAt);
    const part = await nodeRequest(c, "$management", {
      operation: "READ",
      name: "props",
      type: "com.microsoft:partition",
      partition: "2",
    });
    assert.equal(part.application_properties?.["status-code"], 200);
    const p = part.body as Record<string, unknown>;
    const stats = b.eventHubStats("props")!.partitions[2]!;
    assert.equal(p["partition"], "2");
    assert.equal(p["begin_sequence_number"], 0);
    assert.equal(p["last_enqueued_sequence_number"], 1);
    assert.equal(p["last_enqueued_offset"], stats.lastEnqueuedOffset);
    assert.ok((p["last_enqueued_time_utc"] as Date).getTime() >= before);
    assert.equal(p["is_partition_empty"], false);
    const empty = (
      await nodeRequest(c, "$management", {
        operation: "READ",
        name: "props",
        type: "com.microsoft:partition",
        partition: "0",
      })
    ).body as Record<string, unknown>;
    assert.deepEqual(
      [
        empty["begin_sequence_number"],
        empty["last_enqueued_sequence_number"],
        empty["last_enqueued_offset"],
        empty["is_partition_empty"],
      ],
      [0, -1, "-1", true],
    );
    const status = async (props: Record<string, string>): Promise<unknown> =>
      (await nodeRequest(c, "$management", props)).application_properties?.["status-code"];
    assert.equal(await status({ operation: "READ", name: "nohub", type: "com.microsoft:eventhub" }), 404);
    assert.equal(
      await status({ operation: "READ", name: "nohub", type: "com.microsoft:partition", partition: "0" }),
      404,
    );
    assert.equal(
      await status({ operation: "READ", name: "props", type: "com.microsoft:partition", partition: "3" }),
      404,
    );
    assert.equal(await status({ operation: "READ", name: "props", type: "com.microsoft:partition" }), 400);
    assert.equal(await status({ operation: "DELETE", name: "props", type: "com.microsoft:eventhub" }), 501);
    assert.deepEqual(b.eventHubNames(), ["props"], "nothing was created");
  });

  it("addresses: unknown partitions and consumer groups, wrong directions, bare names", async () => {
    const { b, c } = await setup({
      eventHubs: { autoCreate: false, hubs: { fixed: { partitionCount: 2, consumerGroups: ["reports"] } } },
    });
    const outOfRange = await attachError(openSender(c, "fixed/Partitions/2"));
    assert.equal(outOfRange.condition, "com.microsoft:argument-out-of-range");
    assert.match(outOfRange.description ?? "", /0, 1/);
    assert.equal(
      (await attachError(openReceiver(c, "fixed/ConsumerGroups/nobody/Partitions/0"))).condition,
      "amqp:not-found",
    );
    assert.equal(
      (await attachError(openReceiver(c, "other/ConsumerGroups/$Default/Partitions/0"))).condition,
      "amqp:not-found",
    );
    await openReceiver(c, "FIXED/consumergroups/REPORTS/partitions/1");
    assert.equal((await attachError(openReceiver(c, "fixed"))).condition, "amqp:not-allowed");
    assert.equal(
      (await attachError(openSender(c, "fixed/ConsumerGroups/$Default/Partitions/0"))).condition,
      "amqp:not-allowed",
    );

    // Without the declaration (and with queues created on first use), a bare name is a queue…
    const { b: b2, c: c2 } = await setup();
    await sendAll(await openSender(c2, "plain"), [{ body: 1 }]);
    assert.equal(b2.stats("plain").messageCount, 1);
    assert.deepEqual(b2.eventHubNames(), []);
    // …unless an Event Hubs client sends to it (the capability @azure/event-hubs desires on its links).
    await sendAll(
      await openSender(c2, {
        target: { address: "telemetry" },
        desired_capabilities: "com.microsoft:georeplication",
      }),
      [{ body: 1 }],
    );
    assert.deepEqual(b2.eventHubNames(), ["telemetry"]);
    // Once a hub exists, every sender to its name writes to it.
    await sendAll(await openSender(c2, "telemetry"), [{ body: 2 }]);
    assert.deepEqual(
      b2.eventHubStats("telemetry")!.partitions.map((p) => p.eventCount),
      [1, 1],
    );
    // A connection whose OPEN properties name an Event Hubs SDK (as Python's azure-eventhub does).
    const python = keep(
      await connect(b2.port!, {
        properties: { product: "azsdk-python-eventhub", "user-agent": "azsdk-python-eventhub/5.11.0" },
      }),
    );
    await sendAll(await openSender(python, "sensors"), [{ body: 1 }]);
    const other = keep(
      await connect(b2.port!, { properties: { "user-agent": "azsdk-python-servicebus/7.11.0" } }),
    );
    await sendAll(await openSender(other, "orders"), [{ body: 1 }]);
    assert.deepEqual(b2.eventHubNames().sort(), ["sensors", "telemetry"]);
    assert.equal(b2.stats("orders").messageCount, 1);
    assert.deepEqual(b.queueNames().concat(b2.queueNames()).sort(), ["orders", "plain"]);
  });

  it("relays a message addressed to a partition into it (anonymous relay)", async () => {
    const { b, c } = await setup();
    const s = await openSender(c, { target: {} });
    await sendAll(s, [
      { to: "relayed/Partitions/1", body: "via relay" },
      { to: "relayed", body: "to the hub" },
    ]);
    const p = b.eventHubStats("relayed")!.partitions;
    assert.equal(p[1]!.eventCount, 1);
    assert.equal(p[0]!.eventCount, 1, "the hub exists once named by a partition address");
    const outcomes = await sendAll(s, [{ to: "relayed/ConsumerGroups/$Default/Partitions/0", body: "no" }]);
    assert.deepEqual(outcomes, ["rejected"]);
  });

  it("keeps events over stop() and restart(), drops them at close()", async () => {
    const b = keep(await Broker.start({ eventHubs: { hubs: { kept: { partitionCount: 1 } } } }));
    const c = keep(await connect(b.port!));
    await sendAll(await openSender(c, "kept"), [{ body: "survives" }]);
    await b.stop();
    await b.restart();
    const c2 = keep(await connect(b.port!));
    assert.deepEqual(
      bodies(await collect(await openReceiver(c2, "kept/ConsumerGroups/$Default/Partitions/0"), 1)),
      ["survives"],
    );
    await b.close();
    assert.deepEqual(b.eventHubNames(), []);
  });

  it("checks its options", async () => {
    for (const eventHubs of [
      { partitionCount: 0 },
      { partitionCount: 1025 },
      { hubs: { h: { partitionCount: 1.5 } } },
      { retention: { maxEvents: 0 } },
      { hubs: { h: { retention: { maxAgeMs: -1 } } } },
      { hubs: { "a/b": {} } },
    ]) {
      await assert.rejects(Broker.start({ eventHubs }), BrokerError, JSON.stringify(eventHubs));
    }
  });

  it("parses hub addresses", () => {
    assert.deepEqual(parseHubAddress("hub"), { hub: "hub" });
    assert.deepEqual(parseHubAddress("hub/Partitions/3"), { hub: "hub", partition: "3" });
    assert.deepEqual(parseHubAddress("hub/consumergroups/$Default/PARTITIONS/0"), {
      hub: "hub",
      consumerGroup: "$Default",
      partition: "0",
    });
    assert.equal(parseHubAddress("queue/$deadletter"), undefined);
    assert.equal(parseHubAddress("topic/Subscriptions/s1"), undefined);
    assert.equal(parseHubAddress(""), undefined);
  });
});
