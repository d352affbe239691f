/**
 * What a client reports about its lifecycle: the `status()` events, the sticky error that stopped
 * it, and the `closed()` promise. Used by `AMQPClient` and its recovery.
 * @internal
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { deferred } from "../util/deferred.js";
import { StatusStream, type ClientStatus } from "./client-status.js";

/** The status events, error and `closed()` promise of one client. */
export class StatusReporter {
  #stream = new StatusStream<ClientStatus>();
  readonly #closed = deferred<AMQPError | undefined>();
  #error: AMQPError | undefined;

  /** The error that stopped the client, if any (sticky). */
  get error(): AMQPError | undefined {
    return this.#error;
  }

  /** Resolves when the client closed or failed for good: undefined, or the error. Never rejects. */
  get closed(): Promise<AMQPError | undefined> {
    return this.#closed.promise;
  }

  /** The events from now on; the iteration ends after `closed`. */
  subscribe(): AsyncIterableIterator<ClientStatus> {
    return this.#stream.subscribe();
  }

  /** Resolves on the next event (or the end of the stream). */
  async next(): Promise<void> {
    const it = this.#stream.subscribe();
    try {
      await it.next();
    } finally {
      await it.return?.();
    }
  }

  /** Reports `status` to the current subscribers. */
  emit(status: ClientStatus): void {
    this.#stream.push(status);
  }

  /** Sets the sticky error. */
  setError(error: AMQPError): void {
    this.#error = error;
  }

  /** Emits `closed` (with `error` when a failure ended the client) and ends the stream. */
  end(error: AMQPError | undefined): void {
    this.#stream.push({ type: "closed", error });
    this.#stream.end();
  }

  /** Resolves `closed()` with `result` (the first call wins). */
  settle(result: AMQPError | undefined): void {
    this.#closed.resolve(result);
  }

  /** A failed client revived by a redirect: a new stream when the old one ended, no error. */
  revive(): void {
    if (this.#stream.ended) this.#stream = new StatusStream<ClientStatus>();
    this.#error = undefined;
  }
}
