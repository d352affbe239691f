/**
 * How a client reacts to failures (beyond uamqp): a failure while the client opens or recovers
 * waits for the end of that attempt; a failure of an open client starts one {@link recover} run
 * (a fresh epoch, the reconnect attempt budget, the error policy) whose outcome — reconnected, or
 * failed for good — the controller applies to the client. It also follows the redirects the
 * peer answers an open with, and those the application asks for. Used by `AMQPClient`.
 * @internal
 */
import type { AMQPAuth } from "../auth/amqp-auth.js";
import type { AMQPError } from "../errors/amqp-error.js";
import type { ErrorAction } from "../policy/error-action.js";
import type { ErrorPolicy } from "../policy/error-policy.js";
import type { ResolvedReconnect } from "./client-options.js";
import type { ClientState } from "./client-status.js";
import type { ConnectionLifecycle } from "./connection-lifecycle.js";
import { isRedirect, recover, type RecoveryHost, type RedirectError } from "./recovery.js";
import type { StatusReporter } from "./status-reporter.js";
import { asAMQPError } from "./waits.js";

/** After this long without a failure the reconnect attempt budget starts over. */
const STABLE_MS = 30_000;

/** Redirects followed by one `open()` before giving up. */
const MAX_REDIRECTS = 5;

/** What the recovery controller needs from its client. */
export interface RecoveryControllerHost {
  readonly reconnect: ResolvedReconnect;
  readonly errorPolicy: ErrorPolicy;
  readonly lifecycle: ConnectionLifecycle;
  readonly reporter: StatusReporter;
  /** The client's state, read through a call so that TypeScript does not narrow it across awaits. */
  state(): ClientState;
  setState(state: ClientState): void;
  /** The error of calls on a closed client. */
  closedError(): AMQPError;
  /** The link or connection was lost; recovery starts (the client's `onLinkLost`). */
  linkLost(error: AMQPError): void;
  /** The link is back; returns how many messages were sent again (the client's `onRecovered`). */
  relinked(): number;
  /** The client failed for good: fail every pending call with `error` (the client's `onFatal`). */
  fatal(error: AMQPError): void;
}

/** The failure handling, recovery runs and redirects of one client. */
export class RecoveryController {
  readonly #host: RecoveryControllerHost;
  /** Aborted on close; replaced on each recovery/redirect so a superseded loop stops. */
  #epoch = new AbortController();
  /** A failure during an open or a recovery attempt, handled once the attempt ends. */
  #pendingFailure: AMQPError | undefined;
  #attempts = 0;
  #lastFailureAt = 0;

  constructor(host: RecoveryControllerHost) {
    this.#host = host;
  }

  /** The signal of the current epoch. */
  get signal(): AbortSignal {
    return this.#epoch.signal;
  }

  /** Aborts the current epoch (stopping its recovery loop) and starts a new one. */
  newEpoch(): AbortSignal {
    this.#epoch.abort();
    this.#epoch = new AbortController();
    return this.#epoch.signal;
  }

  /** Aborts the current epoch for good (close, fatal failure). */
  abort(): void {
    this.#epoch.abort();
  }

  /** Forgets a failure recorded during an attempt. */
  clearFailure(): void {
    this.#pendingFailure = undefined;
  }

  /** The failure recorded during the attempt that just ended, if any (and forgets it). */
  takeFailure(): AMQPError | undefined {
    const f = this.#pendingFailure;
    this.#pendingFailure = undefined;
    return f;
  }

  /** The link made progress: the reconnect attempt budget starts over. */
  markProgress(): void {
    this.#attempts = 0;
  }

  /**
   * The link or connection failed with `error`: recorded while the client opens or recovers,
   * ignored unless the client is open, else a recovery starts.
   */
  onFailure(error: AMQPError): void {
    const host = this.#host;
    const state = host.state();
    if (state === "opening" || state === "recovering") {
      // The link or connection being established failed: handled once it is up (or the attempt fails).
      this.#pendingFailure ??= error;
      return;
    }
    if (state !== "open") return;
    host.setState("recovering");
    const now = Date.now();
    if (now - this.#lastFailureAt > STABLE_MS) this.#attempts = 0;
    this.#lastFailureAt = now;
    const signal = this.newEpoch();
    host.linkLost(error);
    void recover(this.#recoveryHost(signal), error);
  }

  /** A recovery (or a redirect) succeeded on `attempt`: the client is open again. */
  recovered(attempt: number): void {
    const host = this.#host;
    if (host.state() !== "recovering") return;
    host.setState("open");
    const failure = this.takeFailure();
    const resent = failure ? 0 : host.relinked();
    host.reporter.emit({ type: "reconnected", attempt, resent });
    // Lost again while it was being re-established: recover again (the attempt budget goes on).
    if (failure) this.onFailure(failure);
  }

  /** The client fails for good with `error` (no-op when closing, closed or failed). */
  async fail(error: AMQPError): Promise<void> {
    const host = this.#host;
    const state = host.state();
    if (state === "closing" || state === "closed" || state === "failed") return;
    host.setState("failed");
    host.reporter.setError(error);
    this.#epoch.abort();
    host.reporter.end(error);
    host.fatal(error);
    host.reporter.settle(error);
    await host.lifecycle.teardown();
  }

  /**
   * The connecting part of the client's `open()`: establishes connection, session and link within
   * `timeoutMs` (each try), following the peer's redirect refusals (up to {@link MAX_REDIRECTS}) when
   * recovery is enabled and the connection is the client's own. A failed try is torn down; when the
   * open gives up, the client is idle again and forgets the shared connection it `joined` for it.
   *
   * @throws the client's closed error when it was closed meanwhile; else the open's error.
   */
  async establishForOpen(timeoutMs: number, signal: AbortSignal | undefined, joined: boolean): Promise<void> {
    const host = this.#host;
    const { lifecycle, reporter, reconnect } = host;
    for (let hops = 0; ; hops++) {
      try {
        await lifecycle.establish(timeoutMs, this.#epoch.signal, signal);
        return;
      } catch (e) {
        const error = asAMQPError(e);
        if (host.state() !== "opening") throw host.closedError();
        await lifecycle.teardown();
        // close() may have been called while the failed try was torn down: it stays closed.
        if (host.state() !== "opening") throw host.closedError();
        if (isRedirect(error) && reconnect.enabled && !lifecycle.external && hops < MAX_REDIRECTS) {
          reporter.emit(lifecycle.redirect(error));
          continue;
        }
        host.setState("idle");
        this.#pendingFailure = undefined;
        if (joined) lifecycle.leave();
        throw error;
      }
    }
  }

  /**
   * Follows a redirect the application asks for (`AMQPClient.redirect`): a new epoch, the link and
   * connection dropped, the redirect's host (with `auth`, or the current credentials) and address,
   * then connection, session and link established again within `timeoutMs`. Also revives a failed
   * client.
   *
   * @throws the error of the new open (the client is then idle).
   */
  async redirect(error: RedirectError, auth: AMQPAuth | undefined, timeoutMs: number): Promise<void> {
    const { lifecycle, reporter } = this.#host;
    this.newEpoch();
    this.#host.setState("recovering");
    await lifecycle.teardown();
    const redirected = lifecycle.redirect(error, auth);
    reporter.revive();
    reporter.emit(redirected);
    this.#pendingFailure = undefined;
    try {
      await lifecycle.establish(timeoutMs, this.#epoch.signal);
    } catch (e) {
      await lifecycle.teardown();
      if (this.#host.state() === "recovering") this.#host.setState("idle");
      throw asAMQPError(e);
    }
    this.recovered(0);
  }

  #recoveryHost(signal: AbortSignal): RecoveryHost {
    const { reconnect, lifecycle, reporter } = this.#host;
    return {
      reconnect,
      external: lifecycle.external,
      signal,
      nextAttempt: () => (this.#attempts < reconnect.maxAttempts ? ++this.#attempts : undefined),
      actionFor: (e) => this.#actionFor(e),
      connectionAlive: () => lifecycle.isAlive(),
      emit: (s) => {
        reporter.emit(s);
      },
      applyRedirect: async (e) => {
        const before = lifecycle.requireAuth();
        reporter.emit(lifecycle.redirect(e));
        const after = lifecycle.requireAuth();
        const moved =
          before.hostname !== after.hostname ||
          before.port !== after.port ||
          before.transport.customEndpointHostname !== after.transport.customEndpointHostname;
        if (moved) await lifecycle.dropConnection();
      },
      establish: async (timeoutMs) => {
        if (!lifecycle.isAlive() && !lifecycle.external) await lifecycle.dropConnection();
        this.#pendingFailure = undefined;
        await lifecycle.establish(timeoutMs, this.#epoch.signal);
      },
      dropConnection: () => lifecycle.dropConnection(),
      recovered: (attempt) => {
        this.recovered(attempt);
      },
      fail: (e) => this.fail(e),
    };
  }

  #actionFor(error: AMQPError): ErrorAction {
    const action = this.#host.errorPolicy.actionFor(error);
    error.action ??= action;
    return action;
  }
}
