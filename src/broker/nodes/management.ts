/**
 * The built-in `$management` node: READ, CREATE and DELETE of queues (any entity type; the READs of
 * event hubs and partitions are answered before, by src/broker/eventhubs/management.ts). Unknown
 * operations answer 501.
 */
import type { AMQPValue } from "../../codec/values.js";
import type { BrokerErrorFields, NodeRequest, NodeResponse, QueueStats } from "../options.js";

/** The queues the management node acts on. */
export interface ManagedQueues {
  /** The queue name of an entity name (addresses normalized). */
  resolve(name: string): string;
  stats(name: string): QueueStats | undefined;
  /** Creates a queue; or says it exists, or why it cannot be created (`limits.maxQueues`). */
  create(name: string): "created" | "exists" | BrokerErrorFields;
  /** Deletes a queue; false if it does not exist. */
  delete(name: string): boolean;
  /** Whether queues are created on demand (`queues.autoCreate`); if not, CREATE is refused. */
  readonly autoCreate: boolean;
}

function statsBody(name: string, s: QueueStats): Map<string, AMQPValue> {
  return new Map<string, AMQPValue>([
    ["name", name],
    ["message_count", s.messageCount],
    ["consumer_count", s.consumerCount],
    ["producer_count", s.producerCount],
    ["locked_count", s.lockedCount],
    ["dead_letter_count", s.deadLetterCount],
  ]);
}

/** Answers one management request. */
export function handleManagement(req: NodeRequest, queues: ManagedQueues): NodeResponse {
  const op = req.operation?.toUpperCase();
  if (op === undefined) return { statusCode: 400, statusDescription: "the request has no 'operation'" };
  if (op !== "READ" && op !== "CREATE" && op !== "DELETE") {
    return {
      statusCode: 501,
      statusDescription: `operation '${req.operation ?? ""}' is not implemented by this broker`,
    };
  }
  if (req.name === undefined || req.name === "") {
    return { statusCode: 400, statusDescription: "the request has no entity 'name'" };
  }
  const name = queues.resolve(req.name);
  switch (op) {
    case "READ": {
      const s = queues.stats(name);
      if (!s) return { statusCode: 404, statusDescription: `the entity '${name}' could not be found` };
      return { statusCode: 200, body: statsBody(name, s) };
    }
    case "CREATE":
      // Queues exist only as configured when auto-creation is off: management does not add any either.
      if (!queues.autoCreate) {
        return {
          statusCode: 403,
          statusDescription: `the entity '${name}' cannot be created: this broker does not create queues on demand (queues.autoCreate is false)`,
          errorCondition: "amqp:not-allowed",
        };
      }
      return createdResponse(name, queues.create(name));
    case "DELETE":
      return queues.delete(name)
        ? { statusCode: 200, statusDescription: `deleted '${name}'` }
        : { statusCode: 404, statusDescription: `the entity '${name}' could not be found` };
  }
}

function createdResponse(name: string, created: "created" | "exists" | BrokerErrorFields): NodeResponse {
  if (created === "created") return { statusCode: 201, statusDescription: `created '${name}'` };
  if (created === "exists")
    return { statusCode: 409, statusDescription: `the entity '${name}' already exists` };
  // Too many queues: the broker cannot take more now (not a denial, so not 403).
  return {
    statusCode: 503,
    statusDescription: created.description ?? created.condition,
    errorCondition: created.condition,
  };
}
