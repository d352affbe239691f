/**
 * The root of every error this library raises.
 *
 * Every subclass has a stable {@link AMQPError.code} (match on it, not on the message text),
 * and, where the peer sent one, the AMQP error `condition`, `description` and `info`.
 */

/** Fields of the AMQP `error` composite (spec §2.8.14), as received from or sent to a peer. */
export interface AMQPErrorFields {
  /** The error condition symbol, e.g. `amqp:not-found`. */
  readonly condition?: string | undefined;
  /** Human-readable description of the error. */
  readonly description?: string | undefined;
  /** Supplementary information (an AMQP `fields` map). */
  readonly info?: Readonly<Record<string, unknown>> | undefined;
}

/** Options shared by every error constructor. */
export interface AMQPErrorOptions extends AMQPErrorFields {
  /** The error that caused this one. */
  readonly cause?: unknown;
  /** Whether retrying the failed operation can succeed. */
  readonly retryable?: boolean | undefined;
}

const BRAND = Symbol.for("uamqp.error");

/**
 * Base class of all errors of this package (uamqp's `AMQPError`).
 *
 * @example
 * ```ts
 * try { await client.sendMessage(msg); }
 * catch (e) { if (e instanceof AMQPError && e.retryable) { ... } }
 * ```
 */
export class AMQPError extends Error {
  /** Stable machine-readable error code, e.g. `AMQP_DECODE`. */
  readonly code: string = "AMQP_ERROR";
  /** The AMQP error condition, when one applies. */
  readonly condition: string | undefined;
  /** The peer's (or our) description of the condition. */
  readonly description: string | undefined;
  /** The `info` map of the AMQP error. */
  readonly info: Readonly<Record<string, unknown>> | undefined;
  /** Whether the operation may succeed when retried. */
  readonly retryable: boolean;

  constructor(message: string, options: AMQPErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.condition = options.condition;
    this.description = options.description;
    this.info = options.info;
    this.retryable = options.retryable ?? false;
  }

  /** Keeps `instanceof` working across two copies of this package in one process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === AMQPError) {
      return typeof value === "object" && value !== null && BRAND in value;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** @internal */
  get [BRAND](): true {
    return true;
  }
}
