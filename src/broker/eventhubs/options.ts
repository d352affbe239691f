/**
 * Options of the broker's Event Hubs emulation (`BrokerOptions.eventHubs`) and what
 * `Broker.eventHubStats` reports. Plain JSON-able data, so that a configuration file can hold them.
 */

/** How long a partition keeps its events: every limit applies, the oldest events go first. */
export interface EventHubRetention {
  /** Events kept per partition. @defaultValue 100000 */
  readonly maxEvents?: number;
  /**
   * Bytes of events kept per partition (the stored size of each event). The newest event is kept
   * even when it alone is larger.
   * @defaultValue 67108864 (64 MiB)
   */
  readonly maxBytes?: number;
  /** How long an event is kept after it was enqueued (ms). @defaultValue 86400000 (one day) */
  readonly maxAgeMs?: number;
}

/** One event hub. */
export interface EventHubOptions {
  /** Its partitions, with ids `"0"` to `"<partitionCount - 1>"` (1 to 1024). @defaultValue `eventHubs.partitionCount` */
  readonly partitionCount?: number;
  /** Consumer groups besides `$Default` (which always exists). @defaultValue none */
  readonly consumerGroups?: readonly string[];
  /** Retention of its partitions. @defaultValue `eventHubs.retention` */
  readonly retention?: EventHubRetention;
}

/** The broker's Event Hubs emulation (see docs/azure-emulator.md). */
export interface EventHubsOptions {
  /** Hubs that exist from the start, by name. @defaultValue none */
  readonly hubs?: Readonly<Record<string, EventHubOptions>>;
  /**
   * Create hubs and consumer groups on first use: a link to `<hub>/Partitions/<id>` or
   * `<hub>/ConsumerGroups/<group>/Partitions/<id>`, a `$management` READ of the hub or one of its
   * partitions, or a sender to `<hub>` from an Event Hubs client (its connection's `user-agent` or
   * `product` property names an Event Hubs SDK, or its link desires the
   * `com.microsoft:georeplication` capability, as `@azure/event-hubs` does).
   * @defaultValue `queues.autoCreate` (true)
   */
  readonly autoCreate?: boolean;
  /** Partitions of a hub created on first use (or declared without a count). @defaultValue 2 */
  readonly partitionCount?: number;
  /** Retention of the hubs that do not set their own. @defaultValue see {@link EventHubRetention} */
  readonly retention?: EventHubRetention;
}

/** The state of one partition (`Broker.eventHubStats`). */
export interface PartitionStats {
  /** The partition id. */
  readonly id: string;
  /** Sequence number of the oldest event kept (the next one's when the partition is empty). */
  readonly beginSequenceNumber: number;
  /** Sequence number of the last event enqueued (-1 before the first). */
  readonly lastEnqueuedSequenceNumber: number;
  /** Offset of the last event enqueued (`"-1"` before the first). */
  readonly lastEnqueuedOffset: string;
  /** When the last event was enqueued (the epoch before the first). */
  readonly lastEnqueuedTimeUtc: Date;
  /** No event is kept (none was sent, or all have expired). */
  readonly isEmpty: boolean;
  /** Events kept. */
  readonly eventCount: number;
  /** Bytes of the events kept. */
  readonly bytes: number;
  /** Receivers attached to the partition, in all consumer groups. */
  readonly readerCount: number;
}

/** The state of one event hub (`Broker.eventHubStats`). */
export interface EventHubStats {
  /** The hub's name, as declared or first used. */
  readonly name: string;
  /** When the hub was created (declared: when the broker started). */
  readonly createdAt: Date;
  /** Its consumer groups, `$Default` first. */
  readonly consumerGroups: readonly string[];
  /** Its partitions, by id. */
  readonly partitions: readonly PartitionStats[];
}
