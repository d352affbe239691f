/**
 * Applies a caller's `timeoutMs` and `signal` to a connection attempt.
 */
import { AMQPAbortError } from "../errors/index.js";
import { ConnectTimeoutError } from "./errors.js";
import type { ConnectOptions } from "./transport.js";

/** @internal How an attempt reports its outcome; calls after the first settlement are ignored. */
export interface AttemptSettle<T> {
  /** Returns false when the attempt was already settled (timed out, aborted): dispose `value` then. */
  resolve(value: T): boolean;
  reject(error: Error): void;
}

/**
 * @internal Runs `start`, which begins the attempt and returns a function that cancels it (destroys
 * its sockets). The returned promise settles with the attempt, or rejects with
 * `ConnectTimeoutError` / `AMQPAbortError`, after which the attempt is cancelled.
 */
export function guardConnect<T>(
  options: ConnectOptions,
  description: string,
  start: (settle: AttemptSettle<T>) => (reason: Error) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal, timeoutMs } = options;
    if (signal?.aborted === true) {
      reject(abortError(description, signal));
      return;
    }
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let cancel: ((reason: Error) => void) | undefined;
    const finish = (): void => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      finish();
      cancel?.(error);
      reject(error);
    };
    const onAbort = (): void => {
      fail(abortError(description, signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        fail(
          new ConnectTimeoutError(`connecting to ${description} timed out after ${timeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
    }
    const settle: AttemptSettle<T> = {
      resolve(value) {
        if (settled) return false;
        finish();
        resolve(value);
        return true;
      },
      reject(error) {
        if (settled) return;
        finish();
        reject(error);
      },
    };
    try {
      cancel = start(settle);
    } catch (error) {
      settle.reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

function abortError(description: string, signal: AbortSignal): AMQPAbortError {
  return new AMQPAbortError(`connecting to ${description} was aborted`, {
    cause: signal.reason,
    retryable: false,
  });
}
