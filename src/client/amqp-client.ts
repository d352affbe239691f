/**
 * uamqp's `AMQPClient`: owns (or shares) a connection and a session, opens them, closes them, and
 * — beyond uamqp — recovers from dropped connections and detached links (see `recovery.ts`),
 * reporting each step through `status()`. `SendClient` and `ReceiveClient` add their link.
 *
 * Its parts: `connection-lifecycle.ts` (connection, session, address and auth),
 * `recovery-controller.ts` (failures, recovery runs, the redirects of an open and of `redirect()`),
 * `status-reporter.ts` (`status()`,
 * `closed()`, the sticky error). This file holds the open/close state machine and the hooks of the
 * link clients.
 */
import { randomUUID } from "node:crypto";
import { Address } from "../address/index.js";
import type { AMQPAuth } from "../auth/amqp-auth.js";
import type { AMQPError } from "../errors/amqp-error.js";
import {
  AMQPClientShutdown,
  AMQPConnectionError,
  LinkDetach,
  type ConnectionRedirect,
  type LinkRedirect,
} from "../errors/exceptions.js";
import type { Link } from "../engine/link.js";
import { ErrorPolicy } from "../policy/error-policy.js";
import { resolveReconnect, type AMQPClientOptions, type OpenOptions } from "./client-options.js";
import type { ClientState, ClientStatus } from "./client-status.js";
import type { Connection } from "./connection.js";
import { ConnectionLifecycle } from "./connection-lifecycle.js";
import { reportAttach } from "./on-attach.js";
import { RecoveryController } from "./recovery-controller.js";
import type { Session } from "./session.js";
import { SharedOpen } from "./shared-open.js";
import { StatusReporter } from "./status-reporter.js";
import { abortError, bounded, nextTurn } from "./waits.js";
import { aliased, withClientAliases } from "./option-aliases.js";

export type { OpenOptions } from "./client-options.js";
export type { ClientState } from "./client-status.js";

/**
 * A client on one AMQP connection (uamqp's `AMQPClient`). Usually used through {@link SendClient}
 * or {@link ReceiveClient}; on its own it opens a connection and a session.
 *
 * @example
 * ```ts
 * await using client = new AMQPClient("amqps://user:pass@broker.example/queue");
 * void (async () => {
 *   for await (const s of client.status()) console.log(s.type); // disconnected, reconnecting, …
 * })();
 * await client.open();
 * ```
 */
export class AMQPClient implements AsyncDisposable {
  /** The options given to the constructor. */
  readonly options: Readonly<AMQPClientOptions>;
  /** Container id of the connection (uamqp's `client_name`). */
  readonly clientName: string;
  /** Decides message retries and link/connection recovery. */
  readonly errorPolicy: ErrorPolicy;
  readonly #lifecycle: ConnectionLifecycle;
  readonly #recovery: RecoveryController;
  readonly #reporter = new StatusReporter(() => `${this.clientName} ${this.remoteAddress.toString()}`);
  #state: ClientState = "idle";
  #opening: SharedOpen | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Creates the client; nothing is connected before {@link AMQPClient.open} (or a send/receive call).
   * @param remoteAddress - an `amqp://`, `amqps://`, `ws://` or `wss://` URL, or an {@link Address}
   * @throws {InvalidAddressError} for an unusable URL; {@link RangeError} for an invalid
   *   `reconnect.maxAttempts`.
   */
  constructor(remoteAddress: string | Address, options: AMQPClientOptions = {}) {
    options = withClientAliases(options);
    this.options = options;
    const address = typeof remoteAddress === "string" ? Address.parse(remoteAddress) : remoteAddress;
    this.clientName = options.clientName ?? randomUUID();
    this.errorPolicy = options.errorPolicy ?? new ErrorPolicy();
    const reconnect = resolveReconnect(options.reconnect);
    this.#lifecycle = new ConnectionLifecycle(address, this.clientName, options, {
      attachLink: (session, signal) => this.attachLink(session, signal),
      closeLink: () => this.closeLink(),
      connectionLost: (error) => {
        this.#recovery.onFailure(error);
      },
      redirectAddress: (a) => {
        this.applyRedirectAddress(a);
      },
    });
    this.#recovery = new RecoveryController({
      reconnect,
      errorPolicy: this.errorPolicy,
      lifecycle: this.#lifecycle,
      reporter: this.#reporter,
      state: () => this.#state,
      setState: (state) => {
        this.#state = state;
      },
      closedError: () => this.closedError(),
      linkLost: (error) => {
        this.onLinkLost(error);
      },
      relinked: () => this.onRecovered(),
      fatal: (error) => {
        this.onFatal(error);
      },
    });
  }

  // ---- state -------------------------------------------------------------------------------------

  /** The address the client was created for (or redirected to). */
  get remoteAddress(): Address {
    return this.#lifecycle.address;
  }

  /** The auth of the connection (uamqp replaces it with the shared connection's). */
  get auth(): AMQPAuth | undefined {
    return this.#lifecycle.auth;
  }

  /** The connection, once opened. */
  get connection(): Connection | undefined {
    return this.#lifecycle.connection;
  }

  /** The session, once opened. */
  get session(): Session | undefined {
    return this.#lifecycle.session;
  }

  /** Where the client is in its lifecycle (see {@link ClientState}). */
  get state(): ClientState {
    return this.#state;
  }

  /** Open (or recovering: calls keep waiting while the client reconnects). */
  get isOpen(): boolean {
    return this.#state === "open" || this.#state === "recovering";
  }

  /** Connection, session and link are up now. */
  get isReady(): boolean {
    return this.#state === "open";
  }

  /** The error that stopped the client, if any (sticky). */
  get error(): AMQPError | undefined {
    return this.#reporter.error;
  }

  /** Runs on a connection passed to `open()` (shared with other clients). */
  get isSharedConnection(): boolean {
    return this.#lifecycle.external;
  }

  /**
   * Lifecycle events from now on: `disconnected`, `linkDetached`, `reconnecting`, `redirected`,
   * `reconnected`, `closed`. The iteration ends after `closed`.
   */
  status(): AsyncIterableIterator<ClientStatus> {
    return this.#reporter.subscribe();
  }

  /** Resolves when the client closed or failed for good: undefined, or the error. Never rejects. */
  closed(): Promise<AMQPError | undefined> {
    return this.#reporter.closed;
  }

  // ---- open / close ------------------------------------------------------------------------------

  /**
   * Connects (or joins `connection`), begins the session and attaches the client's link. Resolves
   * when all of it is up. No-op when open. A failed open leaves the client idle (it can be opened
   * again); a redirect refusal is followed when recovery is enabled. Calls made while it opens share
   * the open: a call's `signal` ends that call; the open stops when every waiting call aborted.
   *
   * @throws the typed error of the failure (`AuthenticationException`, `LinkDetach`, `ConnectFailedError`,
   *   `ClientTimeout`…); {@link AMQPClientShutdown} on a closed client; {@link AMQPAbortError}.
   */
  open(options: OpenOptions = {}): Promise<void> {
    const signal = options.signal;
    switch (this.#state) {
      case "failed":
      case "closing":
      case "closed":
        return Promise.reject(this.closedError());
      case "open":
      case "recovering":
        return signal?.aborted === true ? Promise.reject(abortError(signal)) : Promise.resolve();
      case "opening":
        break;
      case "idle": {
        if (signal?.aborted === true) return Promise.reject(abortError(signal));
        const opening = new SharedOpen((s) => this.#open({ ...options, signal: s }));
        this.#opening = opening;
        const done = (): void => {
          if (this.#opening === opening) this.#opening = undefined;
        };
        opening.promise.then(done, done);
        break;
      }
    }
    return this.#opening?.join(signal) ?? Promise.resolve();
  }

  async #open(options: OpenOptions): Promise<void> {
    this.#state = "opening";
    this.#recovery.clearFailure();
    if (options.connection) this.#lifecycle.join(options.connection);
    const timeoutMs = aliased(options, "timeout", "timeoutMs") ?? this.options.openTimeout ?? 30_000;
    await this.#recovery.establishForOpen(timeoutMs, options.signal, options.connection !== undefined);
    this.#state = "open";
    const failure = this.#recovery.takeFailure();
    if (failure) {
      this.#recovery.onFailure(failure);
      return;
    }
    this.onOpened();
  }

  /**
   * uamqp's `auth_complete()`: resolves true once the connection is open (SASL done), false when the
   * client was not opened. @throws the connection's error.
   */
  async authComplete(): Promise<boolean> {
    if (this.#state === "closed" || this.#state === "closing") throw this.closedError();
    if (this.#state === "failed") throw this.closedError();
    const conn = this.#lifecycle.connection;
    if (!conn) return false;
    await conn.open();
    return true;
  }

  /**
   * uamqp's `client_ready()`: resolves true once connection, session and link are up (waiting for an
   * open or a recovery in progress), false when the client was not opened. @throws the failure.
   */
  async clientReady(): Promise<boolean> {
    for (;;) {
      switch (this.#state) {
        case "idle":
          return false;
        case "open":
          return true;
        case "failed":
          throw this.closedError();
        case "closing":
        case "closed":
          throw this.closedError();
        case "opening":
          await this.#opening?.promise;
          break;
        case "recovering":
          await Promise.race([this.#reporter.next(), this.#reporter.closed]);
          break;
      }
    }
  }

  /**
   * The spec's `waitUntilReady()`: opens the client if it is not open yet and resolves once
   * connection, session and link are up (waiting out a recovery in progress), within `timeoutMs`.
   * @throws {ClientTimeout} after `timeoutMs`; {@link AMQPAbortError}; the client's failure.
   */
  async waitUntilReady(
    options: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<void> {
    const { timeoutMs, signal } = options;
    const deadline = timeoutMs ? Date.now() + timeoutMs : undefined;
    if (this.#state === "idle" || this.#state === "opening") await this.open({ signal, timeout: timeoutMs });
    const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    await bounded(this.clientReady(), { timeoutMs: left, signal, what: "waitUntilReady()" });
  }

  /**
   * Closes the link, the session and (unless shared) the connection. Pending calls end (see each
   * client). Idempotent; never rejects; the client cannot be reopened.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = "closing";
    this.#recovery.abort();
    this.onClosing();
    await nextTurn(); // let dispositions queued by the application reach the wire first
    await this.#lifecycle.teardown();
    this.#state = "closed";
    this.#reporter.end(undefined);
    this.#reporter.settle(this.#reporter.error);
  }

  /** `await using` support: {@link AMQPClient.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal The error of calls on a closed client. */
  protected closedError(): AMQPError {
    return this.#reporter.error ?? new AMQPClientShutdown("The client is closed.", { retryable: false });
  }

  // ---- redirect ----------------------------------------------------------------------------------

  /**
   * Follows a redirect (uamqp's `redirect(redirect, auth)`): drops the link and connection, switches
   * to the redirect's host (with `auth`, or the current credentials) and address, reconnects and
   * re-attaches; unsent messages are sent to the new place. Also revives a client that failed with
   * the redirect error.
   *
   * @throws {AMQPConnectionError} (`amqp:not-allowed`) on a shared connection; the open's error.
   */
  async redirect(error: LinkRedirect | ConnectionRedirect, auth?: AMQPAuth): Promise<void> {
    if (this.#lifecycle.external) {
      throw new AMQPConnectionError("redirect() is not possible on a shared connection", {
        condition: "amqp:not-allowed",
        retryable: false,
      });
    }
    if (this.#state === "closing" || this.#state === "closed") throw this.closedError();
    if (this.#state === "opening") await this.#opening?.promise.catch(() => undefined);
    await this.#recovery.redirect(error, auth, this.options.openTimeout ?? 30_000);
  }

  // ---- hooks for the link clients ----------------------------------------------------------------

  /** @internal Creates the client's link on `session` and resolves when it is attached. */
  protected attachLink(_session: Session, _signal: AbortSignal): Promise<void> {
    return Promise.resolve();
  }

  /** @internal Detaches the client's link (bounded by the caller). */
  protected closeLink(): Promise<void> {
    return Promise.resolve();
  }

  /** @internal The first `open()` completed. */
  protected onOpened(): void {
    // nothing to start without a link
  }

  /** @internal The link or connection was lost; recovery starts. */
  protected onLinkLost(_error: AMQPError): void {
    // nothing to do without a link
  }

  /** @internal The link is back; returns how many messages were sent again. */
  protected onRecovered(): number {
    return 0;
  }

  /** @internal The client failed for good: fail every pending call with `error`. */
  protected onFatal(_error: AMQPError): void {
    // nothing pending without a link
  }

  /** @internal `close()` was called: end every pending call. */
  protected onClosing(): void {
    // nothing pending without a link
  }

  /** @internal A redirect names a new node address for the link. */
  protected applyRedirectAddress(_address: string): void {
    // the base client has no link
  }

  /** @internal The client's link failed (the peer detached it, or its session/connection died). */
  protected linkFailed(error: AMQPError | undefined): void {
    const e =
      error ??
      new LinkDetach("amqp:unknown-error: The peer detached the link without an error.", {
        condition: "amqp:unknown-error",
        description: "The peer detached the link without an error.",
      });
    // Wait for the end of the synchronous teardown, so the connection's state is known.
    queueMicrotask(() => {
      this.#recovery.onFailure(e);
    });
  }

  /** @internal The link made progress: the reconnect attempt budget starts over. */
  protected markProgress(): void {
    this.#recovery.markProgress();
  }

  /** @internal Reports the peer's ATTACH of `link` to `onAttach` (with an error for a missing terminus). */
  protected reportAttach(link: Link): void {
    reportAttach(this.options.onAttach, link);
  }
}
