/**
 * Options of the Service Bus emulation (the `serviceBus` option of `Broker.start`). Plain JSON data,
 * so that `uamqp broker --config file.json` can carry them; times in milliseconds.
 */

/** Settings of a Service Bus queue or topic subscription. */
export interface ServiceBusEntityOptions {
  /**
   * How long a Service Bus receiver holds the lock on a message (ms) before it is delivered again;
   * also the session lock duration.
   * @defaultValue `serviceBus.lockDuration`
   */
  readonly lockDuration?: number;
  /**
   * Deliveries of a message before it is dead-lettered (`MaxDeliveryCountExceeded`).
   * @defaultValue `queues.maxDeliveryCount` (10)
   */
  readonly maxDeliveryCount?: number;
  /** Time to live given to messages that carry none (ms; 0 = none). @defaultValue 0 */
  readonly defaultMessageTimeToLive?: number;
  /**
   * Only session receivers (with a `com.microsoft:session-filter`) may receive; other receivers are
   * refused with `amqp:not-allowed`.
   * @defaultValue false
   */
  readonly requiresSession?: boolean;
}

/** Settings of a Service Bus topic. */
export interface ServiceBusTopicOptions {
  /** Time to live given to messages that carry none (ms; 0 = none), before a subscription's own. */
  readonly defaultMessageTimeToLive?: number;
  /** The subscriptions by name (`<topic>/Subscriptions/<name>`), each with its own settings. */
  readonly subscriptions?: Readonly<Record<string, ServiceBusEntityOptions>>;
}

/**
 * The Service Bus emulation. Entities declared here behave as Service Bus entities for every
 * receiver (see docs/azure-emulator.md); other queues do so for receivers that identify as Service
 * Bus clients. Topics are declared here, or created when one of their subscriptions is first used.
 *
 * @example
 * ```ts
 * serviceBus: {
 *   queues: { orders: { lockDuration: 30000, maxDeliveryCount: 5 }, "per-customer": { requiresSession: true } },
 *   topics: { events: { subscriptions: { audit: {}, billing: { lockDuration: 5000 } } } },
 * }
 * ```
 */
export interface ServiceBusOptions {
  /** Queues by name. */
  readonly queues?: Readonly<Record<string, ServiceBusEntityOptions>>;
  /** Topics by name. */
  readonly topics?: Readonly<Record<string, ServiceBusTopicOptions>>;
  /**
   * Lock duration (ms) of entities that set none.
   * @defaultValue `queues.lockDuration` when set, else 60000 (Service Bus's default)
   */
  readonly lockDuration?: number;
}
