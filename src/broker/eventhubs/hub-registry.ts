/**
 * The broker's event hubs by name: declared in the options or created on first use, and what a
 * link, a relayed message or a `$management` request addressed to one of them binds to. The
 * broker asks here before its queues: an address this registry does not claim is a queue's.
 *
 * Which addresses are hubs' (docs/azure-emulator.md):
 * - `<hub>/Partitions/<id>` and `<hub>/ConsumerGroups/<group>/Partitions/<id>` always (the hub is
 *   created on first use while `autoCreate` is on, with the default partition count);
 * - a bare `<hub>` when that hub exists, or (while `autoCreate` is on) for a sender from an Event
 *   Hubs client: one whose connection's OPEN properties name an Event Hubs SDK (`user-agent` or
 *   `product` containing "eventhub", as the Azure SDKs send), or whose link desires the
 *   `com.microsoft:georeplication` capability (as every link of `@azure/event-hubs` does). Python's
 *   `azure-eventhub` attaches its sender before it reads the hub's properties, so the first of its
 *   links cannot wait for the hub to exist.
 */
import type { SourceFields } from "../../codec/definitions/messaging.js";
import type { AMQPValue } from "../../codec/values.js";
import type { DeliveryState } from "../../engine/delivery.js";
import type { SenderLink } from "../../engine/sender-link.js";
import type { AttachFields } from "../../frames/performatives.js";
import { scopeCovers } from "../address.js";
import { BrokerError } from "../errors.js";
import { LinkRecord } from "../link-record.js";
import {
  BROKER_DEFAULTS,
  type BrokerErrorFields,
  type BrokerOptions,
  type NodeRequest,
  type NodeResponse,
} from "../options.js";
import type { ByteBudget } from "../byte-budget.js";
import type { MessageSink } from "../message-sink.js";
import { DEFAULT_CONSUMER_GROUP, EventHub } from "./event-hub.js";
import { EventSink } from "./event-sink.js";
import { parseHubAddress } from "./hub-address.js";
import { handleEventHubRequest } from "./management.js";
import type { EventHubRetention, EventHubStats } from "./options.js";
import type { PartitionLog, Retention } from "./partition-log.js";
import { PartitionReader } from "./partition-reader.js";
import {
  findSelectorFilter,
  PositionFilterError,
  positionOf,
  type EventPosition,
} from "./position-filter.js";

/** The link property naming a receiver's epoch (its owner level). */
export const EPOCH = "com.microsoft:epoch";
/** The capability asking for the last enqueued event's properties with every delivery. */
export const RUNTIME_METRIC = "com.microsoft:enable-receiver-runtime-metric";
/** The capability every link of `@azure/event-hubs` desires: the mark of an Event Hubs client. */
export const GEO_REPLICATION = "com.microsoft:georeplication";

const DEFAULT_PARTITION_COUNT = 2;
const MAX_PARTITION_COUNT = 1024;
const DEFAULT_RETENTION: Retention = { maxEvents: 100_000, maxBytes: 64 * 1024 * 1024, maxAgeMs: 86_400_000 };

/** A receiver's link, ready to be accepted: its answer's source and capabilities, then its start. */
export interface ReaderPlan {
  /** The source to answer with: the receiver's own, its selector filter the only filter kept. */
  readonly source: SourceFields;
  /** The capabilities to offer (the runtime metric, when desired). */
  readonly offeredCapabilities: string[] | undefined;
  /** Starts reading once the link is accepted; returns its record for the connection to track. */
  start(link: SenderLink, address: string): LinkRecord;
}

/** What a link to a hub address binds to, or why it is refused. */
export type HubLink =
  { readonly sink: MessageSink } | { readonly reader: ReaderPlan } | { readonly error: BrokerErrorFields };

const notFound = (description: string): BrokerErrorFields => ({ condition: "amqp:not-found", description });
const notAllowed = (description: string): BrokerErrorFields => ({
  condition: "amqp:not-allowed",
  description,
});

/** A sink refusing every message (a relayed message to a consumer group's address). */
function refusingSink(condition: string, description: string): MessageSink {
  const state: DeliveryState = { type: "rejected", error: { condition, description } };
  return { accept: () => state };
}

function count(what: string, v: number | undefined, fallback: number, min: number, max = Infinity): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new BrokerError(
      `${what} must be an integer from ${min}${max === Infinity ? "" : ` to ${max}`}, got ${n}`,
    );
  }
  return n;
}

function retentionOf(where: string, r: EventHubRetention | undefined, base: Retention): Retention {
  return {
    maxEvents: count(`${where}.maxEvents`, r?.maxEvents, base.maxEvents, 1),
    maxBytes: count(`${where}.maxBytes`, r?.maxBytes, base.maxBytes, 1),
    maxAgeMs: count(`${where}.maxAgeMs`, r?.maxAgeMs, base.maxAgeMs, 1),
  };
}

/** Whether a sender is an Event Hubs client's (see the module comment). */
function isEventHubsClient(
  attach: AttachFields,
  peer: Readonly<Record<string, AMQPValue>> | undefined,
): boolean {
  if (attach.desiredCapabilities?.includes(GEO_REPLICATION) === true) return true;
  for (const key of ["user-agent", "product"]) {
    const v = peer?.[key];
    if (typeof v === "string" && v.toLowerCase().includes("eventhub")) return true;
  }
  return false;
}

/** A receiver's epoch from its link properties (a long; any integer is taken). */
function epochOf(properties: Readonly<Record<string, AMQPValue>> | undefined): bigint | undefined | Error {
  const v = properties?.[EPOCH];
  if (v === undefined || v === null) return undefined;
  const raw = typeof v === "object" && "value" in v ? v.value : v;
  if (typeof raw === "bigint") return raw;
  if (typeof raw === "number" && Number.isSafeInteger(raw)) return BigInt(raw);
  return new Error(`the link property ${EPOCH} must be a long`);
}

export class EventHubRegistry {
  readonly #hubs = new Map<string, EventHub>();
  readonly #autoCreate: boolean;
  readonly #partitionCount: number;
  readonly #retention: Retention;
  readonly #resolve: (name: string) => string;
  readonly #memory: ByteBudget;

  /**
   * @param memory the broker's total of stored bytes, where the partitions count their events.
   * @param resolve the broker's address resolution (URL normalization and `queues.resolve`).
   * @throws {BrokerError} for options out of range.
   */
  constructor(options: BrokerOptions, memory: ByteBudget, resolve: (name: string) => string) {
    const o = options.eventHubs ?? {};
    this.#resolve = resolve;
    this.#memory = memory;
    this.#autoCreate = o.autoCreate ?? options.queues?.autoCreate ?? BROKER_DEFAULTS.queues.autoCreate;
    this.#partitionCount = count(
      "eventHubs.partitionCount",
      o.partitionCount,
      DEFAULT_PARTITION_COUNT,
      1,
      MAX_PARTITION_COUNT,
    );
    this.#retention = retentionOf("eventHubs.retention", o.retention, DEFAULT_RETENTION);
    for (const [name, h] of Object.entries(o.hubs ?? {})) {
      if (name === "" || name.includes("/")) throw new BrokerError(`'${name}' cannot name an event hub`);
      const where = `eventHubs.hubs["${name}"]`;
      const partitions = count(
        `${where}.partitionCount`,
        h.partitionCount,
        this.#partitionCount,
        1,
        MAX_PARTITION_COUNT,
      );
      const hub = new EventHub(
        name,
        partitions,
        retentionOf(`${where}.retention`, h.retention, this.#retention),
        h.consumerGroups ?? [],
        memory,
      );
      this.#hubs.set(name.toLowerCase(), hub);
    }
  }

  #existing(name: string): EventHub | undefined {
    return this.#hubs.get(name.toLowerCase());
  }

  /** The hub named `name`, created when missing and auto-creation is on. */
  #hub(name: string): EventHub | undefined {
    const existing = this.#existing(name);
    if (existing || !this.#autoCreate) return existing;
    const hub = new EventHub(name, this.#partitionCount, this.#retention, [], this.#memory);
    this.#hubs.set(name.toLowerCase(), hub);
    return hub;
  }

  /** The hub named by a `$management` request's entity name. */
  hubFor(name: string): EventHub | undefined {
    const parsed = parseHubAddress(this.#resolve(name));
    return parsed ? this.#hub(parsed.hub) : undefined;
  }

  /**
   * What a link to `address` (already resolved) binds to; undefined when the address is not a
   * hub's (a queue's, then). `peer` holds the properties of the connection's OPEN.
   */
  bind(
    address: string,
    attach: AttachFields,
    peer: Readonly<Record<string, AMQPValue>> | undefined,
  ): HubLink | undefined {
    const parsed = parseHubAddress(address);
    if (!parsed) return undefined;
    const peerIsSender = !attach.role;
    if (parsed.partition === undefined) {
      const hub =
        this.#existing(parsed.hub) ??
        (peerIsSender && isEventHubsClient(attach, peer) ? this.#hub(parsed.hub) : undefined);
      if (!hub) return undefined;
      if (!peerIsSender) {
        return {
          error: notAllowed(
            `an event hub is read per partition and consumer group: receive from '${hub.name}/ConsumerGroups/<group>/Partitions/<id>'`,
          ),
        };
      }
      return { sink: new EventSink(hub, undefined) };
    }
    const hub = this.#hub(parsed.hub);
    if (!hub) return { error: notFound(`the event hub '${parsed.hub}' does not exist`) };
    const partition = hub.partition(parsed.partition);
    if (!partition) {
      return {
        error: {
          condition: "com.microsoft:argument-out-of-range",
          description: `the event hub '${hub.name}' has no partition '${parsed.partition}' (its partitions are ${hub.partitionIds.join(", ")})`,
        },
      };
    }
    if (parsed.consumerGroup === undefined) {
      if (peerIsSender) return { sink: new EventSink(hub, partition) };
      // A receiver of the partition itself reads in the default consumer group.
      return this.#reader(hub, DEFAULT_CONSUMER_GROUP, partition, attach);
    }
    if (peerIsSender) {
      return {
        error: notAllowed(
          `a consumer group is read, not written: send to '${hub.name}' or '${hub.name}/Partitions/<id>'`,
        ),
      };
    }
    const group =
      hub.consumerGroup(parsed.consumerGroup) ??
      (this.#autoCreate ? hub.addConsumerGroup(parsed.consumerGroup) : undefined);
    if (group === undefined) {
      return {
        error: notFound(`the event hub '${hub.name}' has no consumer group '${parsed.consumerGroup}'`),
      };
    }
    return this.#reader(hub, group, partition, attach);
  }

  #reader(hub: EventHub, group: string, partition: PartitionLog, attach: AttachFields): HubLink {
    const source: SourceFields = attach.source ?? {};
    let position: EventPosition;
    try {
      position = positionOf(source.filter);
    } catch (e) {
      if (e instanceof PositionFilterError)
        return { error: { condition: "amqp:invalid-field", description: e.message } };
      throw e;
    }
    const epoch = epochOf(attach.properties);
    if (epoch instanceof Error)
      return { error: { condition: "amqp:invalid-field", description: epoch.message } };
    const refusal = hub.refusal(group, partition.id, epoch);
    if (refusal) return { error: refusal };
    const runtimeMetric = attach.desiredCapabilities?.includes(RUNTIME_METRIC) === true;
    const selector = findSelectorFilter(source.filter);
    const { filter: _filter, ...rest } = source;
    return {
      reader: {
        source: selector ? { ...rest, filter: { [selector.key]: selector.value } } : rest,
        offeredCapabilities: runtimeMetric ? [RUNTIME_METRIC] : undefined,
        start: (link, address) => {
          const record = new LinkRecord(link, address);
          const reader = new PartitionReader(partition, link, record, partition.seek(position, Date.now()), {
            epoch,
            runtimeMetric,
          });
          hub.addReader(group, partition.id, reader);
          reader.start();
          return record;
        },
      },
    };
  }

  /** Where a relayed message addressed to `address` goes, when the address is a hub's. */
  sinkFor(address: string): MessageSink | undefined {
    const parsed = parseHubAddress(address);
    if (!parsed) return undefined;
    if (parsed.partition === undefined) {
      const hub = this.#existing(parsed.hub);
      return hub ? new EventSink(hub, undefined) : undefined;
    }
    const hub = this.#hub(parsed.hub);
    if (!hub) return refusingSink("amqp:not-found", `the event hub '${parsed.hub}' does not exist`);
    if (parsed.consumerGroup !== undefined) {
      return refusingSink("amqp:not-allowed", `a consumer group is read, not written: send to '${hub.name}'`);
    }
    const partition = hub.partition(parsed.partition);
    if (!partition) {
      return refusingSink(
        "com.microsoft:argument-out-of-range",
        `the event hub '${hub.name}' has no partition '${parsed.partition}'`,
      );
    }
    return new EventSink(hub, partition);
  }

  /** Answers a `$management` READ of a hub or partition; undefined for other requests. */
  management(req: NodeRequest): NodeResponse | undefined {
    return handleEventHubRequest(req, this);
  }

  /** Whether a token scope names or covers a hub (always true while hubs are created on first use). */
  exists(scope: string): boolean {
    if (this.#autoCreate) return true;
    for (const h of this.#hubs.values())
      if (scopeCovers(scope, h.name) || scopeCovers(h.name, scope)) return true;
    return false;
  }

  /** The state of the hub named `name` (undefined when there is none; never creates one). */
  stats(name: string): EventHubStats | undefined {
    const parsed = parseHubAddress(this.#resolve(name));
    const hub = parsed ? this.#existing(parsed.hub) : undefined;
    if (!hub) return undefined;
    const now = Date.now();
    return {
      name: hub.name,
      createdAt: hub.createdAt,
      consumerGroups: hub.consumerGroups,
      partitions: hub.partitions.map((p) => hub.stats(p, now)),
    };
  }

  /** Names of every hub. */
  names(): string[] {
    return [...this.#hubs.values()].map((h) => h.name);
  }

  /** Drops every hub (the broker closed). */
  clear(): void {
    for (const h of this.#hubs.values()) h.clear();
    this.#hubs.clear();
  }
}
