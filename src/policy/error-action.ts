/**
 * uamqp's `ErrorAction`: what to do after an error. Durations in milliseconds.
 */
import type { ErrorActionLike } from "../errors/amqp-error.js";

/** The fields of an {@link ErrorAction}; what an `onError` callback may return. */
export interface ErrorActionInit {
  /** Whether the failed operation should be retried. */
  readonly retry: boolean;
  /** Delay before the retry, in milliseconds (uamqp: `backoff`, in seconds). @defaultValue 0 */
  readonly backoffMs?: number | undefined;
  /** Whether the retry counts against `ErrorPolicy.maxRetries`. @defaultValue true */
  readonly incrementRetries?: boolean | undefined;
}

/**
 * A retry decision (uamqp's `ErrorAction(retry, backoff=0, increment_retries=True)`).
 * As in uamqp, the static `ErrorAction.retry` and `ErrorAction.fail` are the booleans `true` and
 * `false`.
 *
 * @example
 * ```ts
 * new ErrorAction({ retry: ErrorAction.retry, backoffMs: 2000 });
 * new ErrorAction({ retry: ErrorAction.fail });
 * ```
 */
export class ErrorAction implements ErrorActionLike {
  /** uamqp's `ErrorAction.retry` constant. */
  static readonly retry = true;
  /** uamqp's `ErrorAction.fail` constant. */
  static readonly fail = false;

  /** Whether the failed operation should be retried. */
  readonly retry: boolean;
  /** Delay before the retry, in milliseconds. */
  readonly backoffMs: number;
  /** Whether the retry counts against `maxRetries`. */
  readonly incrementRetries: boolean;

  /** @throws {TypeError} when `retry` is not a boolean. @throws {RangeError} for a negative or non-finite `backoffMs`. */
  constructor(init: ErrorActionInit) {
    if (typeof init.retry !== "boolean") throw new TypeError("ErrorAction: retry must be a boolean");
    const backoffMs = init.backoffMs ?? 0;
    if (!Number.isFinite(backoffMs) || backoffMs < 0) {
      throw new RangeError(`ErrorAction: backoffMs must be a finite number >= 0, got ${backoffMs}`);
    }
    this.retry = init.retry;
    this.backoffMs = backoffMs;
    this.incrementRetries = init.incrementRetries ?? true;
  }

  /** `init` itself when it already is an `ErrorAction`, else a new one built from it. */
  static from(init: ErrorAction | ErrorActionInit): ErrorAction {
    return init instanceof ErrorAction ? init : new ErrorAction(init);
  }
}
