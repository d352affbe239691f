/**
 * What a client reports about its lifecycle: the `status()` events, the sticky error that stopped
 * it, and the `closed()` promise. Used by `AMQPClient` and its recovery.
 * @internal
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { deferred } from "../util/deferred.js";
import { getLogger } from "../util/log.js";
import { StatusStream, type ClientStatus } from "./client-status.js";

/**
 * Logs a lifecycle event through the library's logger (`setLogger`), prefixed `amqp:client` and
 * `label` (the client's name and address, password masked): `warn` for losses and recovery
 * attempts, `info` for recoveries and redirects, `error` when a failure ends the client, `debug`
 * for a plain close.
 */
function logStatus(label: string, status: ClientStatus): void {
  const log = getLogger();
  const prefix = `amqp:client ${label}`;
  switch (status.type) {
    case "disconnected":
      log.warn(`${prefix} connection lost: ${status.error.message}`);
      return;
    case "linkDetached":
      log.warn(`${prefix} link detached: ${status.error.message}`);
      return;
    case "reconnecting":
      log.warn(`${prefix} reconnecting (attempt ${status.attempt}) in ${status.delayMs} ms`);
      return;
    case "redirected":
      log.info(`${prefix} redirected to ${status.hostname}:${status.port} ${status.address ?? ""}`.trimEnd());
      return;
    case "reconnected":
      log.info(`${prefix} recovered (attempt ${status.attempt}, ${status.resent} messages sent again)`);
      return;
    case "closed":
      if (status.error) log.error(`${prefix} failed: ${status.error.message}`);
      else log.debug(`${prefix} closed`);
      return;
  }
}

/** The status events, error and `closed()` promise of one client. */
export class StatusReporter {
  /** How the log lines name the client (its name and address, password masked). */
  readonly #label: () => string;
  #stream = new StatusStream<ClientStatus>();
  readonly #closed = deferred<AMQPError | undefined>();
  #error: AMQPError | undefined;

  constructor(label: () => string = () => "") {
    this.#label = label;
  }

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
    logStatus(this.#label(), status);
    this.#stream.push(status);
  }

  /** Sets the sticky error. */
  setError(error: AMQPError): void {
    this.#error = error;
  }

  /** Emits `closed` (with `error` when a failure ended the client) and ends the stream. */
  end(error: AMQPError | undefined): void {
    const closed: ClientStatus = { type: "closed", error };
    if (!this.#stream.ended) logStatus(this.#label(), closed);
    this.#stream.push(closed);
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
