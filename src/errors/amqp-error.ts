/**
 * The root of every error this library raises.
 *
 * Every subclass has a stable {@link AMQPError.code} (match on it, not on the message text),
 * and, where the peer sent one, the AMQP error `condition`, `description` and `info`.
 */
import { isRetryableCondition } from "./conditions.js";
import type { ErrorCompositeFields } from "./error-fields.js";

/**
 * The AMQP `error` composite's fields as an error carries them (AMQP 1.0 §2.8.14): every one
 * optional, since an error raised locally may have no condition.
 */
export type AMQPErrorFields = {
  readonly [K in keyof ErrorCompositeFields]?: ErrorCompositeFields[K] | undefined;
};

/** Options shared by every error constructor. */
export interface AMQPErrorOptions extends AMQPErrorFields {
  /** The error that caused this one. */
  readonly cause?: unknown;
  /**
   * Whether retrying the failed operation can succeed. Defaults to the condition's retryability
   * (see `isRetryableCondition`), or to the class default when there is no condition.
   */
  readonly retryable?: boolean | undefined;
}

/**
 * The shape of a retry decision attached to an error (uamqp's `error.action`).
 * `ErrorAction` from the policy module implements it.
 */
export interface ErrorActionLike {
  /** Whether the failed operation should be retried. */
  readonly retry: boolean;
  /** Delay before the retry, in milliseconds. */
  readonly backoffMs: number;
  /** Whether the retry counts against `maxRetries`. */
  readonly incrementRetries: boolean;
}

/**
 * Why a client's recovery gave up (beyond uamqp), recorded on the error that failed the client and
 * carried by its `closed` status: `attemptsExhausted` (the reconnect budget was spent),
 * `notRetryable` (the error policy refused to retry `error`), `reconnectDisabled` (`reconnect: false`)
 * or `sharedConnection` (the client runs on a connection it does not own and cannot reconnect).
 */
export interface RecoveryFailure {
  readonly reason: "attemptsExhausted" | "notRetryable" | "reconnectDisabled" | "sharedConnection";
  /** Reconnect attempts made since the attempt count last started over. */
  readonly attempts: number;
}

const BRAND = Symbol.for("uamqp.error");

/**
 * Builds uamqp's message text for a condition-bearing error: `"<condition>: <description>"`,
 * or just the condition when there is no description.
 *
 * @example
 * ```ts
 * formatConditionMessage("amqp:not-found", "no queue q"); // "amqp:not-found: no queue q"
 * ```
 */
export function formatConditionMessage(condition: string, description?: string): string {
  return description === undefined || description === "" ? condition : `${condition}: ${description}`;
}

/**
 * Returns `options` with `retryable` filled in: the explicit value if given, else the condition's
 * default retryability, else `fallback`.
 * @internal
 */
export function withRetryable(options: AMQPErrorOptions, fallback: boolean): AMQPErrorOptions {
  if (options.retryable !== undefined) return options;
  const retryable = options.condition === undefined ? fallback : isRetryableCondition(options.condition);
  return { ...options, retryable };
}

/**
 * Base class of all errors of this package (uamqp's `AMQPError`).
 *
 * `instanceof` works across two copies of this package loaded in one process (each error carries a
 * `Symbol.for("uamqp.error")` brand), but the reliable way to tell errors apart is {@link code}.
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
  /**
   * The retry decision of the error policy, when the library consulted one (uamqp's `.action`).
   * Advisory: set by the client that raised the error.
   */
  action: ErrorActionLike | undefined;
  /** Why the client's recovery gave up, when this error failed a client after (or instead of) a recovery. */
  recoveryFailure: RecoveryFailure | undefined;

  /**
   * @param message - the error message
   * @param options - condition, description, info, cause; `retryable` defaults to the condition's retryability, or false without a condition.
   */
  constructor(message: string, options: AMQPErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.condition = options.condition;
    this.description = options.description;
    this.info = options.info;
    this.retryable = withRetryable(options, false).retryable ?? false;
    this.action = undefined;
    this.recoveryFailure = undefined;
  }

  /**
   * @internal Records the error policy's decision on the error (uamqp's `.action`); the first
   * decision recorded stands.
   */
  recordAction(action: ErrorActionLike): void {
    this.action ??= action;
  }

  /** @internal Records why a client's recovery gave up with this error; the first record stands. */
  recordRecoveryFailure(failure: RecoveryFailure): void {
    this.recoveryFailure ??= failure;
  }

  /**
   * Keeps `instanceof` working across two copies of this package in one process: a branded error
   * is an instance of a class when that class, or a class of the same name, is on its prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== "object" || value === null || !(BRAND in value)) return false;
    if (this === AMQPError) return true;
    for (let p: unknown = Object.getPrototypeOf(value); p !== null; p = Object.getPrototypeOf(p)) {
      const ctor: unknown = (p as { constructor?: unknown }).constructor;
      if (typeof ctor === "function" && ctor.name === this.name) return true;
    }
    return false;
  }

  /** @internal */
  get [BRAND](): true {
    return true;
  }
}

/** `e` as an {@link AMQPError} (a foreign error is wrapped, keeping it as the `cause`). @internal */
export function asAMQPError(e: unknown): AMQPError {
  if (e instanceof AMQPError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new AMQPError(text, { cause: e });
}
