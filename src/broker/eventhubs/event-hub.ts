/**
 * One event hub: its partitions, its consumer groups, where events sent to the hub itself go
 * (round robin, or the partition of their partition key), and the receivers of each partition and
 * consumer group, among which a receiver with a higher `com.microsoft:epoch` takes over.
 */
import type { ByteBudget } from "../byte-budget.js";
import type { BrokerErrorFields } from "../options.js";
import type { IncomingEvent } from "./event-format.js";
import type { PartitionStats } from "./options.js";
import { partitionIndexForKey } from "./partition-key.js";
import { PartitionLog, type Retention } from "./partition-log.js";
import type { PartitionReader } from "./partition-reader.js";

/** The consumer group every hub has. */
export const DEFAULT_CONSUMER_GROUP = "$Default";

const stolen = (description: string): BrokerErrorFields => ({ condition: "amqp:link:stolen", description });

export class EventHub {
  /** The name as declared or first used. */
  readonly name: string;
  readonly createdAt: Date;
  readonly partitions: readonly PartitionLog[];
  /** Consumer groups by lower-cased name (entity names are matched without regard to case). */
  readonly #groups = new Map<string, string>();
  /** Receivers by consumer group (lower case) and partition id. */
  readonly #readers = new Map<string, Set<PartitionReader>>();
  #nextPartition = 0;

  /** `memory`: the broker's total, where the partitions count the events they keep. */
  constructor(
    name: string,
    partitionCount: number,
    retention: Retention,
    consumerGroups: readonly string[],
    memory: ByteBudget,
  ) {
    this.name = name;
    this.createdAt = new Date();
    const partitions: PartitionLog[] = [];
    for (let i = 0; i < partitionCount; i++) partitions.push(new PartitionLog(String(i), retention, memory));
    this.partitions = partitions;
    this.addConsumerGroup(DEFAULT_CONSUMER_GROUP);
    for (const g of consumerGroups) this.addConsumerGroup(g);
  }

  /** The partition with id `id`, if the hub has it. */
  partition(id: string): PartitionLog | undefined {
    const i = /^\d+$/.test(id) ? Number(id) : -1;
    return this.partitions[i];
  }

  /** The partition ids, `"0"` to `"<count - 1>"`. */
  get partitionIds(): string[] {
    return this.partitions.map((p) => p.id);
  }

  /** The consumer group named `name` (any case), as it was created; undefined when there is none. */
  consumerGroup(name: string): string | undefined {
    return this.#groups.get(name.toLowerCase());
  }

  /** Creates a consumer group (no effect when it exists); returns its name as created. */
  addConsumerGroup(name: string): string {
    const key = name.toLowerCase();
    const existing = this.#groups.get(key);
    if (existing !== undefined) return existing;
    this.#groups.set(key, name);
    return name;
  }

  /** Every consumer group, `$Default` first. */
  get consumerGroups(): string[] {
    return [...this.#groups.values()];
  }

  /**
   * The partition an event sent to the hub goes to: the partition of its key, or the next one in
   * turn. A batch goes to one partition as a whole.
   */
  route(partitionKey: string | undefined): PartitionLog {
    const n = this.partitions.length;
    if (partitionKey !== undefined) return this.partitions[partitionIndexForKey(partitionKey, n)]!;
    const p = this.partitions[this.#nextPartition]!;
    this.#nextPartition = (this.#nextPartition + 1) % n;
    return p;
  }

  /** Appends `events` to the partition `target`, or to the one routing `partitionKey` picks. */
  append(
    events: readonly IncomingEvent[],
    partitionKey: string | undefined,
    target: PartitionLog | undefined,
    now: number,
  ): void {
    if (events.length === 0) return;
    (target ?? this.route(partitionKey)).append(events, now);
  }

  #readerSet(group: string, partition: string): Set<PartitionReader> {
    const k = `${group.toLowerCase()}/${partition}`;
    let set = this.#readers.get(k);
    if (!set) {
      set = new Set();
      this.#readers.set(k, set);
    }
    return set;
  }

  /**
   * Why a receiver with `epoch` may not attach to the partition in the group: a receiver with a
   * higher epoch is attached there, or (for a receiver without an epoch) one with any epoch.
   */
  refusal(group: string, partition: string, epoch: bigint | undefined): BrokerErrorFields | undefined {
    for (const r of this.#readerSet(group, partition)) {
      if (r.epoch === undefined) continue;
      const where = `partition ${partition} of '${this.name}' in consumer group '${group}'`;
      if (epoch === undefined) {
        return stolen(
          `a receiver with epoch ${r.epoch} reads ${where}; a receiver without an epoch cannot attach`,
        );
      }
      if (r.epoch > epoch) {
        return stolen(
          `a receiver with the higher epoch ${r.epoch} reads ${where}; epoch ${epoch} cannot attach`,
        );
      }
    }
    return undefined;
  }

  /**
   * Adds a receiver (already allowed by {@link refusal}); one with an epoch detaches every other
   * receiver of the partition in the group with `amqp:link:stolen`.
   */
  addReader(group: string, partition: string, reader: PartitionReader): void {
    const set = this.#readerSet(group, partition);
    if (reader.epoch !== undefined) {
      for (const r of [...set]) {
        r.record.close(
          stolen(
            `a receiver with epoch ${reader.epoch} took over partition ${partition} of '${this.name}' ` +
              `in consumer group '${group}'` +
              (r.epoch === undefined ? "" : ` from epoch ${r.epoch}`),
          ),
        );
      }
    }
    set.add(reader);
    reader.record.whenGone(() => set.delete(reader));
  }

  /** The state of a partition. */
  stats(p: PartitionLog, now: number): PartitionStats {
    p.expire(now);
    const last = p.lastEnqueued;
    return {
      id: p.id,
      beginSequenceNumber: p.beginSequenceNumber,
      lastEnqueuedSequenceNumber: last?.sequenceNumber ?? -1,
      lastEnqueuedOffset: last ? String(last.offset) : "-1",
      lastEnqueuedTimeUtc: new Date(last?.enqueuedTime ?? 0),
      isEmpty: p.eventCount === 0,
      eventCount: p.eventCount,
      bytes: p.bytes,
      readerCount: p.watcherCount,
    };
  }

  /** Drops every event and reader (the broker closed). */
  clear(): void {
    for (const p of this.partitions) p.clear();
    this.#readers.clear();
  }
}
