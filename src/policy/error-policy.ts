/**
 * uamqp's `ErrorPolicy(max_retries=3, on_error=None)`, in camelCase with milliseconds.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { ErrorCondition, NO_RETRY_CONDITIONS, isKnownCondition } from "../errors/conditions.js";
import { AMQPConnectionError, LinkDetach, MessageHandlerError } from "../errors/connection-errors.js";
import { MessageResponse } from "../errors/message-errors.js";
import { checkInteger } from "../util/options.js";
import { ErrorAction, type ErrorActionInit } from "./error-action.js";

/** Options of {@link ErrorPolicy}. */
export interface ErrorPolicyOptions {
  /** How many times a message is re-sent after a retryable failure. @defaultValue 3 */
  readonly maxRetries?: number | undefined;
  /**
   * Decides on errors with an unrecognized (vendor) condition, e.g. `com.microsoft:server-busy`
   * (uamqp's `on_error`). May return an {@link ErrorAction} or its plain fields.
   * Without it such errors are retried.
   */
  readonly onError?: ((error: AMQPError) => ErrorAction | ErrorActionInit) | undefined;
}

const RETRY = new ErrorAction({ retry: true });

/**
 * Conditions in {@link NO_RETRY_CONDITIONS} that are retried when the peer closes the connection
 * with them: brokers close with `amqp:resource-limit-exceeded` when a client missed its heartbeats
 * (an idle time-out, AMQP 1.0 §2.4.5) or when they are briefly out of a resource; a new connection
 * is the remedy. On a link or a message the condition still fails.
 */
const CONNECTION_RETRY_CONDITIONS: ReadonlySet<string> = new Set<string>([
  ErrorCondition.ResourceLimitExceeded,
]);
const FAIL = new ErrorAction({ retry: false });

/**
 * Decides whether (and when) to retry after an error (uamqp's `ErrorPolicy`).
 *
 * Conditions in {@link ErrorPolicy.NO_RETRY} fail; every other known condition is retried; vendor
 * conditions go to `onError`. uamqp itself only executes message re-sends (bounded by
 * `maxRetries`); for link and connection errors the action is advice to the caller.
 *
 * @example
 * ```ts
 * const policy = new ErrorPolicy({
 *   maxRetries: 5,
 *   onError: (e) => ({ retry: e.condition === "com.microsoft:server-busy", backoffMs: 2000 }),
 * });
 * policy.actionFor(err); // routes to onLinkError / onConnectionError / onMessageError / onUnrecognizedError
 * ```
 */
export class ErrorPolicy {
  /** uamqp's `ErrorPolicy.no_retry`: the 20 conditions that are never retried. */
  static readonly NO_RETRY: ReadonlySet<string> = NO_RETRY_CONDITIONS;
  /** Conditions retried on a connection close although they are in {@link ErrorPolicy.NO_RETRY}. */
  static readonly CONNECTION_RETRY: ReadonlySet<string> = CONNECTION_RETRY_CONDITIONS;

  /** The conditions this policy never retries (uamqp's `no_retry`). */
  readonly noRetry: ReadonlySet<string> = ErrorPolicy.NO_RETRY;
  /** How many times a message is re-sent after a retryable failure. */
  readonly maxRetries: number;
  readonly #onError: ((error: AMQPError) => ErrorAction | ErrorActionInit) | undefined;

  /** @throws {RangeError} when `maxRetries` is not a non-negative integer (or `Infinity`). */
  constructor(options: ErrorPolicyOptions = {}) {
    this.maxRetries = checkInteger("ErrorPolicy: maxRetries", options.maxRetries ?? 3, 0, true);
    this.#onError = options.onError;
  }

  /**
   * An error with an unrecognized (vendor) condition: the result of `onError` when given,
   * else retry (uamqp's `on_unrecognized_error`).
   */
  onUnrecognizedError(error: AMQPError): ErrorAction {
    return this.#onError === undefined ? RETRY : ErrorAction.from(this.#onError(error));
  }

  /**
   * A message failed to send: fail on a no-retry condition, else retry counting against
   * `maxRetries` (uamqp's `on_message_error`). An error without a condition (released, modified,
   * local) is retried when its `retryable` is true.
   */
  onMessageError(error: AMQPError): ErrorAction {
    return this.#byCondition(error);
  }

  /** A link was detached with an error: fail on a no-retry condition, else retry (uamqp's `on_link_error`). */
  onLinkError(error: AMQPError): ErrorAction {
    return this.#byCondition(error);
  }

  /**
   * The connection was closed with an error: retry `amqp:connection:forced` and the conditions in
   * {@link ErrorPolicy.CONNECTION_RETRY} (`amqp:resource-limit-exceeded`, an idle time-out); else fail
   * on a no-retry condition and retry the rest (uamqp's `on_connection_error`, which fails on
   * resource-limit-exceeded).
   */
  onConnectionError(error: AMQPError): ErrorAction {
    if (error.condition !== undefined && CONNECTION_RETRY_CONDITIONS.has(error.condition)) return RETRY;
    return this.#byCondition(error);
  }

  /**
   * Picks the method uamqp would use for `error`: `onUnrecognizedError` for a condition outside
   * `ErrorCondition`, `onLinkError` for `LinkDetach` and `MessageHandlerError`, `onConnectionError`
   * for other `AMQPConnectionError`s, `onMessageError` for `MessageResponse`s; any other error is
   * retried when it is `retryable`.
   */
  actionFor(error: AMQPError): ErrorAction {
    if (error.condition !== undefined && !isKnownCondition(error.condition)) {
      return this.onUnrecognizedError(error);
    }
    if (error instanceof LinkDetach || error instanceof MessageHandlerError) return this.onLinkError(error);
    if (error instanceof AMQPConnectionError) return this.onConnectionError(error);
    if (error instanceof MessageResponse) return this.onMessageError(error);
    return error.retryable ? RETRY : FAIL;
  }

  #byCondition(error: AMQPError): ErrorAction {
    if (error.condition === undefined) return error.retryable ? RETRY : FAIL;
    return this.noRetry.has(error.condition) ? FAIL : RETRY;
  }
}

/**
 * The decision of `policy` for `error`, also recorded on it (uamqp's `error.action`): for the
 * recoveries of a client and the message retries of `SendClient`. @internal
 */
export function decide(policy: ErrorPolicy, error: AMQPError): ErrorAction {
  const action = policy.actionFor(error);
  error.recordAction(action);
  return action;
}
