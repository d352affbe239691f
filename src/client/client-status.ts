/**
 * The lifecycle of a client: its state, and its events (`client.status()`), a typed stream of what
 * recovery does, and how each event is logged. `AMQPClient` owns the state and the stream.
 */
import type { AMQPError, RecoveryFailure } from "../errors/amqp-error.js";
import { describeError, log, type LogLevel } from "../util/log.js";

/** Lifecycle of a client. */
export type ClientState = "idle" | "opening" | "open" | "recovering" | "failed" | "closing" | "closed";

/** One lifecycle event of a client, discriminated by `type`. */
export type ClientStatus =
  /** The connection dropped (or was closed by the peer) while the client was open. */
  | { readonly type: "disconnected"; readonly error: AMQPError }
  /** The client's link was detached by the peer while its connection stayed up. */
  | { readonly type: "linkDetached"; readonly error: AMQPError }
  /** A recovery attempt starts after `delayMs` (attempt counts from 1). */
  | {
      readonly type: "reconnecting";
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: AMQPError;
    }
  /** The client follows an `amqp:link:redirect` / `amqp:connection:redirect`. */
  | {
      readonly type: "redirected";
      readonly hostname: string;
      readonly port: number;
      readonly address: string | undefined;
      readonly error: AMQPError;
    }
  /** Connection and link are back; `resent` messages were sent again (at-least-once). */
  | { readonly type: "reconnected"; readonly attempt: number; readonly resent: number }
  /**
   * A new CBS token was put on the connection before the old one expired (token auths; the
   * refresh runs on a timer, whatever the application does). `expiresAt`: ms since the epoch.
   */
  | { readonly type: "tokenRefreshed"; readonly expiresAt: number }
  /**
   * A token refresh failed; the next attempt is at `retryAt`. When no refresh succeeds before
   * `expiresAt` the client fails with `TokenExpired` (see `closed`).
   */
  | {
      readonly type: "tokenRefreshFailed";
      readonly error: AMQPError;
      readonly expiresAt: number;
      readonly retryAt: number;
    }
  /**
   * The client closed (`error` set when a failure ended it). `recoveryFailure` says why a recovery
   * gave up (reason and attempts made; `error` is the last error). The stream ends after this event.
   */
  | {
      readonly type: "closed";
      readonly error: AMQPError | undefined;
      readonly recoveryFailure?: RecoveryFailure | undefined;
    };

/**
 * Logs a lifecycle event in the `uamqp:client` namespace, after `label` (the client's name and
 * address, password masked): `warn` for losses and recovery attempts, `info` for recoveries and
 * redirects, `error` when a failure ends the client, `debug` for a plain close.
 * @internal
 */
export function logStatus(label: string, status: ClientStatus): void {
  const line = (level: LogLevel, text: string): void => {
    log("uamqp:client", level, `${label} ${text}`);
  };
  switch (status.type) {
    case "disconnected":
      line("warn", `connection lost: ${describeError(status.error)}`);
      return;
    case "linkDetached":
      line("warn", `link detached: ${describeError(status.error)}`);
      return;
    case "reconnecting":
      line("warn", `reconnecting (attempt ${status.attempt}) in ${status.delayMs} ms`);
      return;
    case "redirected":
      line("info", `redirected to ${status.hostname}:${status.port} ${status.address ?? ""}`.trimEnd());
      return;
    case "reconnected":
      line("info", `recovered (attempt ${status.attempt}, ${status.resent} messages sent again)`);
      return;
    case "tokenRefreshed":
      line("debug", `token refreshed (expires ${new Date(status.expiresAt).toISOString()})`);
      return;
    case "tokenRefreshFailed":
      line(
        "warn",
        `token refresh failed: ${describeError(status.error)}; next attempt ${new Date(status.retryAt).toISOString()}`,
      );
      return;
    case "closed":
      if (status.error) {
        const why = status.recoveryFailure;
        const gaveUp = why ? ` (recovery gave up: ${why.reason} after ${why.attempts} attempts)` : "";
        line("error", `failed: ${describeError(status.error)}${gaveUp}`);
      } else line("debug", "closed");
      return;
  }
}

/** Events kept for a subscriber that does not read; older ones are dropped beyond this. */
const MAX_QUEUED = 1000;

interface Subscriber<T> {
  queue: T[];
  wake: ((r: IteratorResult<T>) => void) | undefined;
  done: boolean;
}

/**
 * A multi-subscriber event stream: each subscriber gets the events pushed after it subscribed,
 * in order; every subscription ends when the stream ends.
 * @internal
 */
export class StatusStream<T> {
  readonly #subs = new Set<Subscriber<T>>();
  #ended = false;

  get ended(): boolean {
    return this.#ended;
  }

  push(event: T): void {
    if (this.#ended) return;
    for (const s of this.#subs) {
      if (s.wake) {
        const w = s.wake;
        s.wake = undefined;
        w({ value: event, done: false });
      } else {
        s.queue.push(event);
        if (s.queue.length > MAX_QUEUED) s.queue.shift();
      }
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const s of this.#subs) {
      s.done = true;
      if (s.wake) {
        const w = s.wake;
        s.wake = undefined;
        w({ value: undefined, done: true });
      }
    }
  }

  subscribe(): AsyncIterableIterator<T> {
    const sub: Subscriber<T> = { queue: [], wake: undefined, done: this.#ended };
    if (!this.#ended) this.#subs.add(sub);
    const finish = (): IteratorResult<T> => {
      sub.done = true;
      sub.queue = [];
      this.#subs.delete(sub);
      if (sub.wake) {
        const w = sub.wake;
        sub.wake = undefined;
        w({ value: undefined, done: true });
      }
      return { value: undefined, done: true };
    };
    const it: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        const head = sub.queue.shift();
        if (head !== undefined) return Promise.resolve({ value: head, done: false });
        if (sub.done) return Promise.resolve(finish());
        return new Promise((resolve) => {
          sub.wake = resolve;
        });
      },
      return: (): Promise<IteratorResult<T>> => Promise.resolve(finish()),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
}
