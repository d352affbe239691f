/**
 * Bounded waits: the one place where the library races a promise (or a delay) against a timer and
 * an AbortSignal. Every wait ends: on its promise, on its timeout, or when its signal aborts.
 *
 * - {@link bounded}: a promise within a timeout (`ClientTimeout`) and a signal (`AMQPAbortError`);
 * - {@link deadline}: a signal that aborts at a timeout, for work that is itself cancelled by a
 *   signal (a queued delivery is taken back, not only given up on);
 * - {@link within}: a promise within a timeout that ends it quietly (undefined) and a signal;
 * - {@link sleep} / {@link delay}: a delay a signal can cut short;
 * - {@link settleWithin}: a grace period for a promise that must not hold up a close.
 */
import { AMQPAbortError, ClientTimeout } from "../errors/exceptions.js";
import type { OptionNames } from "../util/options.js";

/** Largest delay a Node timer supports (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** The abort error of `signal`: an {@link AMQPAbortError} whose `cause` is the signal's reason. */
export function abortError(signal: AbortSignal): AMQPAbortError {
  return new AMQPAbortError("The operation was aborted.", { cause: signal.reason });
}

function noop(): void {
  // a settled promise whose outcome nobody reads any more
}

/** What the timer of a {@link race} does when it fires first. */
type OnTimer = { readonly resolve: true } | { readonly reject: () => Error };

/**
 * `work` (or nothing: a plain delay), ended early by the timer (`ms`; undefined = none) or by
 * `signal`. A promise left behind by an early end is marked handled. An unref'd timer lets the
 * process exit while the wait is pending.
 */
function race<T>(
  work: Promise<T> | undefined,
  ms: number | undefined,
  signal: AbortSignal | undefined,
  onTimer: OnTimer,
  keepAlive: boolean,
): Promise<T | undefined> {
  if (signal?.aborted === true) {
    work?.catch(noop);
    return Promise.reject(abortError(signal));
  }
  if (ms === undefined && signal === undefined) return work ?? new Promise<undefined>(noop);
  return new Promise<T | undefined>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      work?.catch(noop);
      reject(abortError(signal!));
    };
    if (ms !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        if ("resolve" in onTimer) {
          resolve(undefined);
          return;
        }
        work?.catch(noop);
        reject(onTimer.reject());
      }, ms);
      if (!keepAlive) timer.unref();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    work?.finally(cleanup).then(resolve, reject);
  });
}

/** A bound on one call: a timeout and an abort signal. */
export interface WaitOptions {
  /** Bound on the call (ms); 0 or unset = none. The call rejects with `ClientTimeout`. */
  readonly timeout?: number | undefined;
  /** Stops the call: it rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}
export const WAIT_OPTIONS: OptionNames<WaitOptions> = { timeout: true, signal: true };

/** A call that only an abort signal stops. */
export interface SignalOptions {
  /** Stops the call: it rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}
export const SIGNAL_OPTIONS: OptionNames<SignalOptions> = { signal: true };

/** Options of {@link bounded}: a timeout (0 or undefined = none) and a signal. */
export interface BoundOptions extends WaitOptions {
  /** Names the operation in the timeout's message. */
  readonly what: string;
}

/**
 * `promise`, or a rejection with {@link ClientTimeout} after `timeout` ms, or with
 * {@link AMQPAbortError} when `signal` aborts (at once when it already has). The timer is unref'd.
 */
export function bounded<T>(promise: Promise<T>, options: BoundOptions): Promise<T> {
  const { timeout, signal, what } = options;
  const ms = timeout !== undefined && timeout > 0 ? timeout : undefined;
  const onTimer: OnTimer = {
    reject: () => new ClientTimeout(`${what} timed out after ${timeout} ms`, { retryable: true }),
  };
  return race(promise, ms, signal, onTimer, false) as Promise<T>;
}

/** A signal that aborts at a deadline or with the caller's signal: see {@link deadline}. */
export interface Deadline {
  /** Aborts at the deadline (reason: the `ClientTimeout`) or with the caller's signal (its reason). */
  readonly signal: AbortSignal | undefined;
  /** The {@link ClientTimeout}, once the deadline passed first. */
  readonly expired: ClientTimeout | undefined;
  /** Stops the timer and lets go of the caller's signal: call it once the work ended. */
  clear(): void;
}

/**
 * A deadline for work that takes an AbortSignal: the returned signal aborts after `timeout` ms
 * (its reason, and `expired`, a {@link ClientTimeout} naming `what`) or when `signal` aborts (with
 * its reason). Without a timeout it is `signal` itself. The timer is unref'd.
 *
 * @example
 * ```ts
 * const d = deadline({ timeout: 5000, signal, what: "message send" });
 * try { await link.send(payload, { signal: d.signal }); }
 * catch (e) { throw d.expired ?? e; }
 * finally { d.clear(); }
 * ```
 */
export function deadline(options: BoundOptions): Deadline {
  const { timeout, signal, what } = options;
  if (timeout === undefined || timeout <= 0) return { signal, expired: undefined, clear: noop };
  const controller = new AbortController();
  let expired: ClientTimeout | undefined;
  const clear = (): void => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  const onAbort = (): void => {
    clear();
    controller.abort(signal?.reason);
  };
  const timer = setTimeout(() => {
    clear();
    expired = new ClientTimeout(`${what} timed out after ${timeout} ms`, { retryable: true });
    controller.abort(expired);
  }, timeout);
  timer.unref();
  if (signal?.aborted === true) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    clear,
  };
}

function checkDelay(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new RangeError(`sleep: ms must be in [0, ${MAX_TIMER_MS}], got ${ms}`);
  }
}

/**
 * Resolves after `ms` milliseconds, or rejects with an {@link AMQPAbortError} (name `"AbortError"`,
 * `cause` = the signal's reason) as soon as `signal` aborts — immediately when it already has.
 *
 * The timer is unref'd: a pending sleep does not keep the process alive (a reconnect backoff must not
 * prevent a clean exit). If nothing else keeps the event loop busy, the process may exit before the
 * promise settles.
 *
 * @throws {RangeError} (synchronously) for a negative, non-finite or too large `ms`.
 *
 * @example
 * ```ts
 * await sleep(computeBackoffMs(attempt), client.signal);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  checkDelay(ms);
  return race<undefined>(undefined, ms, signal, { resolve: true }, false);
}

/**
 * {@link sleep} whose timer keeps the process alive: for a client waiting out a reconnect backoff,
 * whose application still awaits the calls the recovery will complete.
 * @internal
 */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  checkDelay(ms);
  return race<undefined>(undefined, ms, signal, { resolve: true }, true);
}

/**
 * `promise`, or undefined once `ms` elapsed first (undefined: no limit), or a rejection with an
 * {@link AMQPAbortError} when `signal` aborts (at once when it already has). The timer keeps the
 * process alive: a receive call with a timeout resolves after it, whatever else runs.
 * @internal
 */
export function within<T>(
  promise: Promise<T>,
  ms: number | undefined,
  signal: AbortSignal | undefined,
): Promise<T | undefined> {
  return race(promise, ms, signal, { resolve: true }, true);
}

/** Resolves after `p` settles or `ms` elapse, whichever is first; never rejects. @internal */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  await race(p.then(noop, noop), ms, undefined, { resolve: true }, false);
}

/**
 * Resolves on the next turn of the event loop: after pending microtasks and the frames they
 * queued were written. @internal
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How a call waiting in a list (see {@link waitUntilSettled}) is ended. */
export interface Settle {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A waiting call: `enlist` records its `Settle` where it is found later, and returns how to take it
 * out again, which an abort of `signal` does before rejecting with an `AMQPAbortError`.
 */
export function waitUntilSettled(
  signal: AbortSignal | undefined,
  enlist: (settle: Settle) => () => void,
): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      delist();
      reject(abortError(signal!));
    };
    const delist = enlist({
      resolve: () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      reject: (e) => {
        signal?.removeEventListener("abort", onAbort);
        reject(e);
      },
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
