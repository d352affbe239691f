/**
 * One open shared by the calls that wait for it (`AMQPClient.open()`, and the sends and receives
 * that open the client): the `AbortSignal` of a call ends that call's wait only; the open itself is
 * aborted when every call waiting for it has given up.
 * @internal
 */
import { abortError, asAMQPError } from "./waits.js";

/** An open in progress and the calls waiting for it. */
export class SharedOpen {
  /** The open: settles with its outcome. Never reported as unhandled (callers get it via `join`). */
  readonly promise: Promise<void>;
  readonly #controller = new AbortController();
  /** Calls waiting that may still abort; Infinity once a call that cannot abort is waiting. */
  #waiters = 0;

  /** Starts `run`, giving it the signal that aborts the open. */
  constructor(run: (signal: AbortSignal) => Promise<void>) {
    this.promise = run(this.#controller.signal);
    this.promise.catch(() => undefined);
  }

  /**
   * Waits for the open. When `signal` aborts, the call rejects with an `AMQPAbortError`; if it was
   * the last call waiting, the open is aborted and the call rejects once the open has ended.
   */
  join(signal: AbortSignal | undefined): Promise<void> {
    if (!signal) {
      this.#waiters = Infinity;
      return this.promise;
    }
    if (signal.aborted) return Promise.reject(abortError(signal));
    this.#waiters++;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (--this.#waiters <= 0) {
          // The last call gave up: the open stops, and its AMQPAbortError reaches this call.
          this.#controller.abort(signal.reason);
          return;
        }
        reject(abortError(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.promise.then(
        () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(asAMQPError(e));
        },
      );
    });
  }
}
