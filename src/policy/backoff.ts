/**
 * Exponential backoff with jitter, for retry and reconnect loops (the abortable `sleep` is in
 * `wait.ts`).
 */
import { checkFinite, checkInteger } from "../util/options.js";

/** Options of {@link computeBackoffMs} and {@link ExponentialBackoff}. */
export interface BackoffOptions {
  /** Upper bound of the first delay (attempt 0), in milliseconds. @defaultValue 1000 */
  readonly initialMs?: number | undefined;
  /** Upper bound of every delay, in milliseconds. @defaultValue 30000 */
  readonly maxMs?: number | undefined;
  /** Growth factor of the bound per attempt (≥ 1). @defaultValue 2 */
  readonly multiplier?: number | undefined;
  /**
   * Fraction of the bound that is randomised, from 0 (no jitter: the delay is the bound) to 1
   * ("full jitter": the delay is uniform in [0, bound]). @defaultValue 1
   */
  readonly jitter?: number | undefined;
  /** Source of randomness in [0, 1). @defaultValue Math.random */
  readonly random?: (() => number) | undefined;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF = {
  initialMs: 1000,
  maxMs: 30_000,
  multiplier: 2,
  jitter: 1,
} as const;

/**
 * The delay before retry number `attempt` (0 for the first retry), in whole milliseconds:
 * the bound `min(maxMs, initialMs × multiplier^attempt)`, of which the `jitter` fraction is
 * randomised. With the default full jitter the result is uniform in [0, bound].
 *
 * @throws {RangeError} for a negative or fractional `attempt`, or options out of range.
 *
 * @example
 * ```ts
 * computeBackoffMs(3, { initialMs: 100, maxMs: 10_000 }); // somewhere in [0, 800]
 * computeBackoffMs(3, { initialMs: 100, jitter: 0 }); // 800
 * ```
 */
export function computeBackoffMs(attempt: number, options: BackoffOptions = {}): number {
  checkInteger("backoff: attempt", attempt, 0);
  const initialMs = checkFinite("backoff: initialMs", options.initialMs ?? DEFAULT_BACKOFF.initialMs, 0);
  const maxMs = checkFinite("backoff: maxMs", options.maxMs ?? DEFAULT_BACKOFF.maxMs, 0);
  const multiplier = checkFinite("backoff: multiplier", options.multiplier ?? DEFAULT_BACKOFF.multiplier, 1);
  const jitter = checkFinite("backoff: jitter", options.jitter ?? DEFAULT_BACKOFF.jitter, 0, 1);
  const random = options.random ?? Math.random;

  const bound = initialMs === 0 ? 0 : Math.min(maxMs, initialMs * multiplier ** attempt);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(bound * (1 - jitter) + bound * jitter * r);
}

/**
 * A stateful backoff sequence: each {@link next} returns the delay of the next attempt.
 *
 * @example
 * ```ts
 * const backoff = new ExponentialBackoff({ initialMs: 500, maxMs: 60_000 });
 * for (;;) {
 *   try { await connect(); backoff.reset(); break; }
 *   catch { await sleep(backoff.next(), signal); }
 * }
 * ```
 */
export class ExponentialBackoff {
  readonly #options: BackoffOptions;
  #attempt = 0;

  /** @throws {RangeError} for options out of range (checked now, not at the first {@link next}). */
  constructor(options: BackoffOptions = {}) {
    computeBackoffMs(0, options); // validate the options now
    this.#options = { ...options };
  }

  /** How many delays {@link next} has returned since the last {@link reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in milliseconds. */
  next(): number {
    const delay = computeBackoffMs(this.#attempt, this.#options);
    this.#attempt++;
    return delay;
  }

  /** Starts the sequence over (after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
