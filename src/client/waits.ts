/**
 * Bounded waits for the clients: every wait ends on its promise, a timeout or an AbortSignal.
 * @internal
 */
import { AMQPError } from "../errors/amqp-error.js";
import { AMQPAbortError, ClientTimeout } from "../errors/exceptions.js";

/** Options of {@link bounded}. */
export interface BoundOptions {
  /** Reject with {@link ClientTimeout} after this many ms (0 or undefined = no timeout). */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Names the operation in the timeout message. */
  readonly what: string;
}

/** The abort error of `signal` (an {@link AMQPAbortError} whose `cause` is the signal's reason). */
export function abortError(signal: AbortSignal): AMQPAbortError {
  return new AMQPAbortError("The operation was aborted.", { cause: signal.reason });
}

/**
 * `promise`, or a rejection with {@link ClientTimeout} after `timeoutMs`, or with
 * {@link AMQPAbortError} when `signal` aborts. The timer is unref'd.
 */
export function bounded<T>(promise: Promise<T>, options: BoundOptions): Promise<T> {
  const { timeoutMs, signal } = options;
  const timed = timeoutMs !== undefined && timeoutMs > 0;
  if (!timed && !signal) return promise;
  if (signal?.aborted === true) {
    promise.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      promise.catch(() => undefined);
      reject(abortError(signal!));
    };
    if (timed) {
      timer = setTimeout(() => {
        cleanup();
        promise.catch(() => undefined);
        reject(new ClientTimeout(`${options.what} timed out after ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      timer.unref();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.finally(cleanup).then(resolve, reject);
  });
}

/** Resolves on the next turn of the event loop (after pending microtasks and the frame flush). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves after `p` settles or `ms` elapse, whichever is first; never rejects. */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([p.then(noop, noop), grace]);
  } finally {
    clearTimeout(timer);
  }
}

function noop(): void {
  // nothing
}

/** `e` as an {@link AMQPError} (a foreign error is wrapped, keeping it as the `cause`). */
export function asAMQPError(e: unknown): AMQPError {
  if (e instanceof AMQPError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new AMQPError(text, { cause: e });
}
