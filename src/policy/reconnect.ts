/**
 * The reconnect policy of a client (beyond uamqp): how many attempts, how far apart, how long each
 * may take, and when a healthy connection starts a new count. The client (`AMQPClient`) runs the
 * recovery; this says what it may do.
 */
import { checkFinite, checkInteger, optionsError, type OptionNames } from "../util/options.js";
import type { BackoffOptions } from "./backoff.js";

/**
 * Automatic recovery (beyond uamqp): after a dropped connection or a link detached with a retryable
 * condition, the client reconnects and re-attaches with exponential backoff and jitter, then resends
 * every message whose outcome it had not received (at-least-once).
 */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * Attempts before the client gives up and fails every pending call with the last error. The count
   * starts over once the recovered link makes progress (an outcome or a message arrives), or when
   * the client had been healthy for `healthyMs` before the failure.
   * @defaultValue 8
   */
  readonly maxAttempts?: number | undefined;
  /**
   * How long (ms) the client must have been healthy (connection open, link attached, no failure)
   * for a failure to start a new attempt count: an idle link that recovers and stays up this long
   * survives any number of outages. @defaultValue 1000
   */
  readonly healthyMs?: number | undefined;
  /** Bound on each attempt (connect, SASL, OPEN, BEGIN, ATTACH), in milliseconds. @defaultValue 30000 */
  readonly attemptTimeout?: number | undefined;
}
export const RECONNECT_OPTIONS: OptionNames<ReconnectOptions> = {
  maxAttempts: true,
  healthyMs: true,
  attemptTimeout: true,
  initialMs: true,
  maxMs: true,
  multiplier: true,
  jitter: true,
  random: true,
};

/** The defaults of {@link ReconnectOptions} (`initialMs`/`maxMs` differ from the policy module's). */
export const DEFAULT_RECONNECT = {
  maxAttempts: 8,
  healthyMs: 1000,
  attemptTimeout: 30_000,
  initialMs: 200,
  maxMs: 15_000,
} as const;

/** Where a reconnect option resolves to. @internal */
export interface ResolvedReconnect {
  readonly enabled: boolean;
  readonly maxAttempts: number;
  readonly healthyMs: number;
  readonly attemptTimeout: number;
  readonly backoff: BackoffOptions;
}

/**
 * Fills in the defaults of the `reconnect` option.
 * @throws {TypeError} for an unknown option; {@link RangeError} for an invalid `maxAttempts`.
 * @internal
 */
export function resolveReconnect(option: boolean | ReconnectOptions | undefined): ResolvedReconnect {
  const o = typeof option === "object" ? option : {};
  const unknown = optionsError(o, RECONNECT_OPTIONS, "the reconnect option");
  if (unknown) throw unknown;
  const maxAttempts = checkInteger(
    "reconnect.maxAttempts",
    o.maxAttempts ?? DEFAULT_RECONNECT.maxAttempts,
    0,
    true,
  );
  const healthyMs = checkFinite("reconnect.healthyMs", o.healthyMs ?? DEFAULT_RECONNECT.healthyMs, 0);
  return {
    enabled: option !== false,
    maxAttempts,
    healthyMs,
    attemptTimeout: o.attemptTimeout ?? DEFAULT_RECONNECT.attemptTimeout,
    backoff: {
      initialMs: o.initialMs ?? DEFAULT_RECONNECT.initialMs,
      maxMs: o.maxMs ?? DEFAULT_RECONNECT.maxMs,
      ...(o.multiplier !== undefined ? { multiplier: o.multiplier } : {}),
      ...(o.jitter !== undefined ? { jitter: o.jitter } : {}),
      ...(o.random !== undefined ? { random: o.random } : {}),
    },
  };
}
