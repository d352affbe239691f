/**
 * What the per-connection code needs from the broker (implemented by `Broker`; an interface so
 * the modules do not import each other in a cycle).
 */
import type { BrokerAuthorization } from "./authorization.js";
import type { ByteBudget } from "./byte-budget.js";
import type { EventHubRegistry } from "./eventhubs/hub-registry.js";
import type { BrokerEvents } from "./broker-events.js";
import type { AddressHooks, BrokerCbsOptions, BrokerEvent, NodeRequest, NodeResponse } from "./options.js";
import type { Queue, QueueHost } from "./queue.js";
import type { QueueLookup } from "./registry.js";
import type { ServiceBusNamespace } from "./servicebus/namespace.js";

/** Resolved limits and queue settings (every default filled in). */
export interface BrokerSettings {
  readonly maxSessionsPerConnection: number;
  readonly maxLinksPerSession: number;
  readonly maxLinksPerConnection: number;
  readonly maxMessageSize: number;
  readonly producerCredit: number;
  /** A connection without a link for this long (ms) is closed; 0 = never. */
  readonly attachTimeoutMs: number;
  readonly autoCreate: boolean;
  readonly splitBatches: boolean;
  readonly cbs: BrokerCbsOptions | undefined;
}

export interface BrokerContext {
  readonly settings: BrokerSettings;
  readonly queueHost: QueueHost;
  /** The bytes of every stored message and retained event, against `limits.maxTotalBytes`. */
  readonly memory: ByteBudget;
  /** The queue name of a link or message address (URL normalized, then the `resolve` option). */
  resolveAddress(address: string): string;
  /**
   * The queue named `name`: existing, or created when auto-creation is on and `maxQueues` leaves
   * room; else the error refusing it.
   */
  queueFor(name: string): QueueLookup;
  /** The queue named `name` if it exists. */
  existingQueue(name: string): Queue | undefined;
  /** Creates a temporary queue with a generated name (dynamic nodes), unless `maxQueues` is reached. */
  createTemporaryQueue(): QueueLookup;
  /** Deletes a queue (and detaches its links with `amqp:resource-deleted`). */
  deleteQueue(name: string): boolean;
  /** The event hubs: asked before the queues whether an address is a hub's (src/broker/eventhubs/). */
  readonly eventHubs: EventHubRegistry;
  hooksFor(address: string): AddressHooks | undefined;
  /** Whether some queue or event hub exists under a token scope (always true while they are auto-created). */
  entityExists(scope: string): boolean;
  /** Whether links to `address` need a CBS token first. */
  isGuarded(address: string): boolean;
  /** The `authorization` rules (src/broker/authorization.ts). */
  readonly authorization: BrokerAuthorization;
  /**
   * Counts a request refused because the client may not make it (`Broker.deniedRequests`) and
   * reports (logs) it.
   */
  denied(event: Extract<BrokerEvent, { type: "denied" }>): void;
  /** Answers a `$management` request (built-in handler). */
  management(request: NodeRequest): NodeResponse;
  /** The Service Bus emulation (per-entity management nodes, Service Bus receivers). */
  readonly serviceBus: ServiceBusNamespace;
  /** The broker's events: per-message ones are built only while `observed`. */
  readonly events: Pick<BrokerEvents, "observed" | "emit">;
  /** Called when a connection is gone. */
  connectionClosed(id: number): void;
}
