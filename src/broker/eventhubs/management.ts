/**
 * The Event Hubs requests of the `$management` node: READ of `com.microsoft:eventhub` (the hub's
 * name, creation time and partition ids) and of `com.microsoft:partition` (the partition named by
 * the `partition` application property: its first and last sequence numbers, last offset and time,
 * and whether it is empty), with the keys and AMQP types the service answers with.
 */
import { AMQPArray, type AMQPValue } from "../../codec/values.js";
import type { NodeRequest, NodeResponse } from "../options.js";
import type { EventHub } from "./event-hub.js";
import type { PartitionStats } from "./options.js";

export const EVENTHUB_TYPE = "com.microsoft:eventhub";
export const PARTITION_TYPE = "com.microsoft:partition";

/** What answering needs: the hub a request names (created on first use when allowed). */
export interface ManagedHubs {
  hubFor(name: string): EventHub | undefined;
}

function text(v: AMQPValue | undefined): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v !== null && typeof v === "object" && "value" in v && typeof v.value === "string") return v.value;
  return undefined;
}

function eventHubBody(hub: EventHub): Map<string, AMQPValue> {
  return new Map<string, AMQPValue>([
    ["name", hub.name],
    ["type", EVENTHUB_TYPE],
    ["created_at", hub.createdAt],
    ["partition_count", hub.partitions.length],
    ["partition_ids", new AMQPArray("string", hub.partitionIds)],
  ]);
}

function partitionBody(hub: EventHub, s: PartitionStats): Map<string, AMQPValue> {
  return new Map<string, AMQPValue>([
    ["name", hub.name],
    ["type", PARTITION_TYPE],
    ["partition", s.id],
    ["begin_sequence_number", BigInt(s.beginSequenceNumber)],
    ["last_enqueued_sequence_number", BigInt(s.lastEnqueuedSequenceNumber)],
    ["last_enqueued_offset", s.lastEnqueuedOffset],
    ["last_enqueued_time_utc", s.lastEnqueuedTimeUtc],
    ["is_partition_empty", s.isEmpty],
  ]);
}

/** Answers a request about an event hub or partition; undefined for any other request. */
export function handleEventHubRequest(req: NodeRequest, hubs: ManagedHubs): NodeResponse | undefined {
  if (req.type !== EVENTHUB_TYPE && req.type !== PARTITION_TYPE) return undefined;
  if (req.operation?.toUpperCase() !== "READ") {
    return {
      statusCode: 501,
      statusDescription: `operation '${req.operation ?? ""}' on ${req.type} is not implemented by this broker (only READ)`,
    };
  }
  if (req.name === undefined || req.name === "") {
    return { statusCode: 400, statusDescription: "the request has no entity 'name'" };
  }
  const hub = hubs.hubFor(req.name);
  if (!hub) return { statusCode: 404, statusDescription: `the event hub '${req.name}' could not be found` };
  if (req.type === EVENTHUB_TYPE) return { statusCode: 200, body: eventHubBody(hub) };
  const id = text(req.applicationProperties.get("partition"));
  if (id === undefined) return { statusCode: 400, statusDescription: "the request has no 'partition'" };
  const p = hub.partition(id);
  if (!p) {
    return {
      statusCode: 404,
      statusDescription: `the event hub '${hub.name}' has no partition '${id}' (its partitions are ${hub.partitionIds.join(", ")})`,
    };
  }
  return { statusCode: 200, body: partitionBody(hub, hub.stats(p, Date.now())) };
}
