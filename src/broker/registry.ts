/**
 * The broker's queues by name: address resolution, creation on first use (or refusal, also beyond
 * `limits.maxQueues`), dead-letter sub-queues, temporary (dynamic) queues, deletion, and statistics.
 */
import { randomUUID } from "node:crypto";
import { deadLetterAddress, isDeadLetterAddress, normalizeAddress, scopeCovers } from "./address.js";
import type { BrokerEvents } from "./broker-events.js";
import type { ByteBudget } from "./byte-budget.js";
import type { ManagedQueues } from "./nodes/management.js";
import { BROKER_DEFAULTS, type BrokerErrorFields, type BrokerOptions, type QueueStats } from "./options.js";
import { Queue, type DeadLetterReason, type QueueHost, type QueueSettings } from "./queue.js";
import { isEntityManagementNode } from "./servicebus/management.js";
import type { StoredMessage } from "./stored-message.js";

/** Addresses that are request nodes, never queues. */
export const REQUEST_NODE_NAMES: ReadonlySet<string> = new Set(["$management", "$cbs"]);

/**
 * Whether a (resolved) address is a request node, never a queue: `$management`, `$cbs`, and the
 * per-entity management nodes `<entity>/$management` of the Service Bus emulation.
 */
export function isRequestNode(name: string): boolean {
  return REQUEST_NODE_NAMES.has(name) || isEntityManagementNode(name);
}

/**
 * Hook point of the Service Bus emulation (src/broker/servicebus/namespace.ts): address aliases,
 * per-queue settings, queue lifecycle, and what happens when a message is enqueued or dead-lettered.
 */
export interface RegistryExtension {
  /** Rewrites a normalized address (e.g. `<q>/$DeadLetterQueue` to `<q>/$deadletter`). */
  alias(name: string): string;
  queueSettings(name: string): QueueSettings;
  created(q: Queue): void;
  deleted(q: Queue): void;
  onEnqueue(queue: Queue, m: StoredMessage): boolean;
  onDeadLetter(queue: Queue, m: StoredMessage, reason: DeadLetterReason): void;
}

const DLQ_SUFFIX = "/$deadletter";

/** A queue a link or message may use, or why not. */
export type QueueLookup = Queue | { readonly error: BrokerErrorFields };

export class QueueRegistry implements ManagedQueues {
  readonly host: QueueHost;
  readonly autoCreate: boolean;
  readonly #queues = new Map<string, Queue>();
  readonly #maxQueues: number;
  /** Names of the queues counted against `maxQueues`: all but the dead-letter sub-queues of queues. */
  readonly #counted = new Set<string>();
  readonly #resolveOption: ((address: string) => string) | undefined;
  readonly #onDeleted: (name: string) => void;
  readonly #extension: RegistryExtension | undefined;

  /**
   * @param memory the broker's total of stored bytes, which every queue's bytes count in.
   * @param events receives the `outcome` events of consumers (built only while `observed`).
   * @param onDeleted called after a queue was deleted (the broker detaches its links).
   * @param extension the Service Bus emulation's hooks.
   */
  constructor(
    options: BrokerOptions,
    memory: ByteBudget,
    events: Pick<BrokerEvents, "observed" | "emit">,
    onDeleted: (name: string) => void,
    extension?: RegistryExtension,
  ) {
    const q = options.queues ?? {};
    this.autoCreate = q.autoCreate ?? BROKER_DEFAULTS.queues.autoCreate;
    this.#resolveOption = q.resolve;
    this.#onDeleted = onDeleted;
    this.#extension = extension;
    const limits = options.limits ?? {};
    this.#maxQueues = limits.maxQueues ?? BROKER_DEFAULTS.limits.maxQueues;
    this.host = {
      maxDeliveryCount: q.maxDeliveryCount ?? BROKER_DEFAULTS.queues.maxDeliveryCount,
      maxQueueDepth: limits.maxQueueDepth ?? BROKER_DEFAULTS.limits.maxQueueDepth,
      maxQueueBytes: limits.maxQueueBytes ?? BROKER_DEFAULTS.limits.maxQueueBytes,
      memory,
      deadLetterOnExpiry: q.deadLetterOnExpiry ?? BROKER_DEFAULTS.queues.deadLetterOnExpiry,
      lockDuration: lockDurationOf(q.lockDuration),
      maxLockedPerConsumer: maxLockedOf(q.maxLockedPerConsumer),
      deadLetterQueueOf: (queue) =>
        queue.temporary || isDeadLetterAddress(queue.name)
          ? undefined
          : this.ensure(deadLetterAddress(queue.name)),
      onOutcome: (queue, consumer, state) => {
        if (!events.observed) return;
        events.emit({ type: "outcome", connectionId: consumer.connectionId, address: queue.name, state });
      },
      ...(extension
        ? {
            onEnqueue: (queue: Queue, m: StoredMessage) => extension.onEnqueue(queue, m),
            onDeadLetter: (queue: Queue, m: StoredMessage, reason: DeadLetterReason) => {
              extension.onDeadLetter(queue, m, reason);
            },
          }
        : {}),
    };
    for (const name of q.names ?? []) this.ensure(this.resolve(name));
  }

  /** The queue name of an address: URL normalized, then the `queues.resolve` option. */
  resolve(address: string): string {
    const name = this.#extension
      ? this.#extension.alias(normalizeAddress(address))
      : normalizeAddress(address);
    return this.#resolveOption ? this.#resolveOption(name) : name;
  }

  get(name: string): Queue | undefined {
    return this.#queues.get(name);
  }

  names(): string[] {
    return [...this.#queues.keys()];
  }

  /** The queue, created if missing (whatever `maxQueues` says: the caller decided). */
  ensure(name: string, temporary = false): Queue {
    let q = this.#queues.get(name);
    if (!q) {
      q = new Queue(this.host, name, temporary, temporary ? {} : this.#extension?.queueSettings(name));
      this.#queues.set(name, q);
      if (this.#parentOf(name) === undefined) this.#counted.add(name);
      this.#extension?.created(q);
    }
    return q;
  }

  /** The refusal of a queue a client would create now: `maxQueues` reached; undefined when there is room. */
  #overLimit(): { readonly error: BrokerErrorFields } | undefined {
    if (this.#counted.size < this.#maxQueues) return undefined;
    return {
      error: {
        condition: "amqp:resource-limit-exceeded",
        description: `the broker holds its limit of ${this.#maxQueues} queues (limits.maxQueues)`,
      },
    };
  }

  /**
   * The queue a link or message may use: existing, or created when auto-creation is on and
   * `maxQueues` leaves room (a dead-letter sub-queue of an existing queue is always available).
   * The error says why not: `amqp:not-found`, or `amqp:resource-limit-exceeded`.
   */
  lookup(name: string): QueueLookup {
    const q = this.#queues.get(name);
    if (q) return q;
    if (this.#parentOf(name) !== undefined) return this.ensure(name);
    if (!this.autoCreate || isRequestNode(name)) {
      return { error: { condition: "amqp:not-found", description: `the queue '${name}' does not exist` } };
    }
    return this.#overLimit() ?? this.ensure(name);
  }

  /** The existing queue whose dead-letter sub-queue `name` is, if any. */
  #parentOf(name: string): Queue | undefined {
    return isDeadLetterAddress(name) ? this.#queues.get(name.slice(0, -DLQ_SUFFIX.length)) : undefined;
  }

  /** The queue a link or message may use (see {@link QueueRegistry.lookup}), or undefined. */
  forUse(name: string): Queue | undefined {
    const q = this.lookup(name);
    return q instanceof Queue ? q : undefined;
  }

  /** A temporary queue with a generated name (a dynamic node), unless `maxQueues` is reached. */
  temporary(): QueueLookup {
    return this.#overLimit() ?? this.ensure(`$dynamic/${randomUUID()}`, true);
  }

  /** Whether a queue exists under `scope` (always true while queues are auto-created). */
  exists(scope: string): boolean {
    if (this.autoCreate) return true;
    for (const n of this.#queues.keys()) if (scopeCovers(scope, n)) return true;
    return false;
  }

  create(name: string): "created" | "exists" | BrokerErrorFields {
    if (this.#queues.has(name)) return "exists";
    const refused = this.#overLimit();
    if (refused) return refused.error;
    this.ensure(name);
    return "created";
  }

  /** Deletes a queue and its messages (and its dead-letter queue). */
  delete(name: string): boolean {
    const q = this.#queues.get(name);
    if (!q) return false;
    this.#queues.delete(name);
    this.#counted.delete(name);
    q.delete();
    this.#extension?.deleted(q);
    this.#onDeleted(name);
    if (!q.temporary && !isDeadLetterAddress(name)) this.delete(deadLetterAddress(name));
    return true;
  }

  stats(name: string): QueueStats | undefined {
    const q = this.#queues.get(name);
    if (!q) return undefined;
    q.sweepExpired();
    const dlq = isDeadLetterAddress(name) ? undefined : this.#queues.get(deadLetterAddress(name));
    dlq?.sweepExpired();
    return {
      messageCount: q.depth,
      lockedCount: q.lockedCount,
      consumerCount: q.consumerCount,
      producerCount: q.producers.size,
      deadLetterCount: dlq?.depth ?? 0,
      byteCount: q.bytes.used,
    };
  }

  /** Drops every queue. */
  clear(): void {
    for (const q of this.#queues.values()) {
      q.delete();
      this.#extension?.deleted(q);
    }
    this.#queues.clear();
    this.#counted.clear();
  }
}

/** Checks the `queues.lockDuration` option (ms, 0 = locks never expire). */
function lockDurationOf(ms: number | undefined): number {
  const v = ms ?? BROKER_DEFAULTS.queues.lockDuration;
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`queues.lockDuration must be ms >= 0, got ${v}`);
  return v;
}

/** Checks the `queues.maxLockedPerConsumer` option (a whole number >= 1). */
function maxLockedOf(n: number | undefined): number {
  const v = n ?? BROKER_DEFAULTS.queues.maxLockedPerConsumer;
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`queues.maxLockedPerConsumer must be a whole number >= 1, got ${v}`);
  }
  return v;
}
