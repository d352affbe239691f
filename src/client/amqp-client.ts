/**
 * uamqp's `AMQPClient`: owns (or shares) a connection and a session, opens them, closes them, and
 * — beyond uamqp — recovers from dropped connections and detached links (see `recovery.ts`),
 * reporting each step through `status()`. `SendClient` and `ReceiveClient` add their link.
 */
import { randomUUID } from "node:crypto";
import { Address } from "../address/index.js";
import type { AMQPAuth } from "../auth/amqp-auth.js";
import type { AMQPError } from "../errors/amqp-error.js";
import {
  AMQPClientShutdown,
  AMQPConnectionError,
  ConnectionClose,
  LinkDetach,
  type ConnectionRedirect,
  type LinkRedirect,
} from "../errors/exceptions.js";
import type { Link } from "../engine/link.js";
import type { ErrorAction } from "../policy/error-action.js";
import { ErrorPolicy } from "../policy/error-policy.js";
import { deferred } from "../util/deferred.js";
import { resolveAuth } from "./client-auth.js";
import {
  compact,
  resolveReconnect,
  type AMQPClientOptions,
  type ResolvedReconnect,
} from "./client-options.js";
import { StatusStream, type ClientStatus } from "./client-status.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { reportAttach } from "./on-attach.js";
import { isRedirect, recover, redirectAuth, type RecoveryHost } from "./recovery.js";
import type { Session, SessionOptions } from "./session.js";
import { asAMQPError, bounded, nextTurn, settleWithin } from "./waits.js";

/** Lifecycle of a client. */
export type ClientState = "idle" | "opening" | "open" | "recovering" | "failed" | "closing" | "closed";

/** Options of {@link AMQPClient.open}. */
export interface OpenOptions {
  /** Run on this connection (shared with other clients; closing the client leaves it open). */
  readonly connection?: Connection | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Bound on the open (ms). @defaultValue the client's `openTimeout` (30000) */
  readonly timeout?: number | undefined;
}

/** Redirects followed by one `open()` before giving up. */
const MAX_REDIRECTS = 5;
/** Bound on closing a connection or session. */
const CLOSE_GRACE_MS = 5000;
/** After this long without a failure the reconnect attempt budget starts over. */
const STABLE_MS = 30_000;

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** @internal Whether `text` is a URL (`scheme://…`) rather than a node name. */
export function isUrlLike(text: string): boolean {
  return URL_LIKE.test(text);
}

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
  #address: Address;
  #auth: AMQPAuth | undefined;
  #connection: Connection | undefined;
  #session: Session | undefined;
  #external = false;
  #state: ClientState = "idle";
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #error: AMQPError | undefined;
  #pendingFailure: AMQPError | undefined;
  /** Aborted on close; replaced on each recovery/redirect so a superseded loop stops. */
  #epoch = new AbortController();
  #status = new StatusStream<ClientStatus>();
  readonly #closed = deferred<AMQPError | undefined>();
  readonly #reconnect: ResolvedReconnect;
  #attempts = 0;
  #lastFailureAt = 0;

  constructor(remoteAddress: string | Address, options: AMQPClientOptions = {}) {
    this.options = options;
    this.#address = typeof remoteAddress === "string" ? Address.parse(remoteAddress) : remoteAddress;
    this.clientName = options.clientName ?? randomUUID();
    this.errorPolicy = options.errorPolicy ?? new ErrorPolicy();
    this.#reconnect = resolveReconnect(options.reconnect);
    // A node-name address has no host: the auth comes from a given auth or a shared connection.
    if (options.auth || !this.#address.isNode) {
      this.#auth = resolveAuth(this.#address, options.auth, options.transport);
    }
  }

  // ---- state -------------------------------------------------------------------------------------

  /** The address the client was created for (or redirected to). */
  get remoteAddress(): Address {
    return this.#address;
  }

  /** The auth of the connection (uamqp replaces it with the shared connection's). */
  get auth(): AMQPAuth | undefined {
    return this.#auth;
  }

  /** The connection, once opened. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** The session, once opened. */
  get session(): Session | undefined {
    return this.#session;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The state, read through a call so that TypeScript does not narrow it across awaits. */
  #current(): ClientState {
    return this.#state;
  }

  #takePendingFailure(): AMQPError | undefined {
    const f = this.#pendingFailure;
    this.#pendingFailure = undefined;
    return f;
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
    return this.#error;
  }

  /** Runs on a connection passed to `open()` (shared with other clients). */
  get isSharedConnection(): boolean {
    return this.#external;
  }

  /**
   * Lifecycle events from now on: `disconnected`, `linkDetached`, `reconnecting`, `redirected`,
   * `reconnected`, `closed`. The iteration ends after `closed`.
   */
  status(): AsyncIterableIterator<ClientStatus> {
    return this.#status.subscribe();
  }

  /** Resolves when the client closed or failed for good: undefined, or the error. Never rejects. */
  closed(): Promise<AMQPError | undefined> {
    return this.#closed.promise;
  }

  // ---- open / close ------------------------------------------------------------------------------

  /**
   * Connects (or joins `connection`), begins the session and attaches the client's link. Resolves
   * when all of it is up. No-op when open. A failed open leaves the client idle (it can be opened
   * again); a redirect refusal is followed when recovery is enabled.
   *
   * @throws the typed error of the failure (`AuthenticationException`, `LinkDetach`, `ConnectFailedError`,
   *   `ClientTimeout`…); {@link AMQPClientShutdown} on a closed client.
   */
  open(options: OpenOptions = {}): Promise<void> {
    switch (this.#state) {
      case "open":
      case "recovering":
        return Promise.resolve();
      case "opening":
        return this.#opening ?? Promise.resolve();
      case "failed":
      case "closing":
      case "closed":
        return Promise.reject(this.closedError());
      case "idle":
        break;
    }
    const opening = this.#open(options).finally(() => {
      this.#opening = undefined;
    });
    this.#opening = opening;
    return opening;
  }

  async #open(options: OpenOptions): Promise<void> {
    this.#state = "opening";
    this.#pendingFailure = undefined;
    if (options.connection) {
      this.#external = true;
      this.#connection = options.connection;
      this.#auth = options.connection.auth;
      this.#watch(options.connection);
    }
    const timeoutMs = options.timeout ?? this.options.openTimeout ?? 30_000;
    for (let hops = 0; ; hops++) {
      try {
        await this.#establish(timeoutMs, options.signal);
        break;
      } catch (e) {
        const error = asAMQPError(e);
        if (this.#current() !== "opening") throw this.closedError();
        await this.#teardown();
        if (isRedirect(error) && this.#reconnect.enabled && !this.#external && hops < MAX_REDIRECTS) {
          this.#applyRedirect(error);
          continue;
        }
        this.#state = "idle";
        this.#pendingFailure = undefined;
        if (options.connection) {
          this.#external = false;
          this.#connection = undefined;
        }
        throw error;
      }
    }
    this.#state = "open";
    const failure = this.#takePendingFailure();
    if (failure) {
      this.#onFailure(failure);
      return;
    }
    this.onOpened();
  }

  /** Connects what is down (connection, session) and attaches the link, bounded. */
  async #establish(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let conn = this.#connection;
    if (!conn || conn.state === "closed" || conn.state === "error" || conn.state === "closing") {
      if (this.#external) {
        throw conn?.error ?? new AMQPConnectionError("the shared connection is closed", { retryable: false });
      }
      const auth = this.#auth;
      if (!auth) {
        throw new AMQPConnectionError(
          `the address "${this.#address.toString()}" has no host: give an auth or a connection`,
          { retryable: false },
        );
      }
      conn = new Connection(auth.hostname, auth, this.#connectionOptions());
      this.#connection = conn;
      this.#session = undefined;
      this.#watch(conn);
    }
    let session = this.#session;
    if (!session || session.engine.state === "ending" || session.engine.state === "ended") {
      session = conn.createSession(this.#sessionOptions());
      this.#session = session;
    }
    const ac = new AbortController();
    const outer = signal ? AbortSignal.any([this.#epoch.signal, signal]) : this.#epoch.signal;
    const inner = AbortSignal.any([outer, ac.signal]);
    const work = Promise.all([
      conn.open({ signal: inner }),
      session.begun(),
      this.attachLink(session, inner),
    ]);
    try {
      await bounded(work, { timeoutMs, signal: outer, what: "open" });
    } catch (e) {
      ac.abort();
      throw e;
    }
  }

  #watch(conn: Connection): void {
    void conn.closed().then((err) => {
      if (conn !== this.#connection) return;
      this.#onFailure(
        err ??
          new ConnectionClose("The peer closed the connection.", {
            condition: "amqp:connection:forced",
            description: "The peer closed the connection.",
          }),
      );
    });
  }

  #connectionOptions(): ConnectionOptions {
    const o = this.options;
    return compact<ConnectionOptions>({
      containerId: this.clientName,
      maxFrameSize: o.maxFrameSize,
      channelMax: o.channelMax,
      idleTimeoutMs: o.idleTimeout,
      properties: o.properties,
      remoteIdleTimeoutEmptyFrameSendRatio: o.remoteIdleTimeoutEmptyFrameSendRatio,
      debug: o.debug,
    });
  }

  #sessionOptions(): SessionOptions {
    const o = this.options;
    return compact<SessionOptions>({
      incomingWindow: o.incomingWindow,
      outgoingWindow: o.outgoingWindow,
      handleMax: o.handleMax,
    });
  }

  /**
   * uamqp's `auth_complete()`: resolves true once the connection is open (SASL done), false when the
   * client was not opened. @throws the connection's error.
   */
  async authComplete(): Promise<boolean> {
    if (this.#state === "closed" || this.#state === "closing") throw this.closedError();
    if (this.#state === "failed") throw this.closedError();
    const conn = this.#connection;
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
          await this.#opening;
          break;
        case "recovering":
          await Promise.race([this.#nextStatus(), this.#closed.promise]);
          break;
      }
    }
  }

  async #nextStatus(): Promise<void> {
    const it = this.#status.subscribe();
    try {
      await it.next();
    } finally {
      await it.return?.();
    }
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
    this.#epoch.abort();
    this.onClosing();
    await nextTurn(); // let dispositions queued by the application reach the wire first
    await this.#teardown();
    this.#state = "closed";
    this.#status.push({ type: "closed", error: undefined });
    this.#status.end();
    this.#closed.resolve(this.#error);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #teardown(): Promise<void> {
    const conn = this.#connection;
    const session = this.#session;
    this.#session = undefined;
    // DETACH goes out now; on an owned connection the CLOSE ends everything without waiting for
    // the peer's DETACH, on a shared one the link and the session are ended one by one.
    const linkClosed = this.closeLink();
    if (!this.#external) {
      this.#connection = undefined;
      if (conn) await settleWithin(conn.close(), CLOSE_GRACE_MS);
      await settleWithin(linkClosed, CLOSE_GRACE_MS);
    } else {
      await settleWithin(linkClosed, CLOSE_GRACE_MS);
      if (session) await settleWithin(session.close(), CLOSE_GRACE_MS);
    }
  }

  /** @internal The error of calls on a closed client. */
  protected closedError(): AMQPError {
    return this.#error ?? new AMQPClientShutdown("The client is closed.", { retryable: false });
  }

  // ---- failures and recovery ---------------------------------------------------------------------

  /**
   * Follows a redirect (uamqp's `redirect(redirect, auth)`): drops the link and connection, switches
   * to the redirect's host (with `auth`, or the current credentials) and address, reconnects and
   * re-attaches; unsent messages are sent to the new place. Also revives a client that failed with
   * the redirect error.
   *
   * @throws {AMQPConnectionError} (`amqp:not-allowed`) on a shared connection; the open's error.
   */
  async redirect(error: LinkRedirect | ConnectionRedirect, auth?: AMQPAuth): Promise<void> {
    if (this.#external) {
      throw new AMQPConnectionError("redirect() is not possible on a shared connection", {
        condition: "amqp:not-allowed",
        retryable: false,
      });
    }
    if (this.#state === "closing" || this.#state === "closed") throw this.closedError();
    if (this.#state === "opening") await this.#opening?.catch(() => undefined);
    this.#newEpoch();
    this.#state = "recovering";
    await this.#teardown();
    this.#auth = redirectAuth(this.#requireAuth(), error, auth);
    this.#applyAddress(error);
    if (this.#status.ended) this.#status = new StatusStream<ClientStatus>();
    this.#error = undefined;
    this.#emitRedirected(error);
    this.#pendingFailure = undefined;
    try {
      await this.#establish(this.options.openTimeout ?? 30_000);
    } catch (e) {
      await this.#teardown();
      if (this.#current() === "recovering") this.#state = "idle";
      throw asAMQPError(e);
    }
    this.#recovered(0);
  }

  #requireAuth(): AMQPAuth {
    const auth = this.#auth;
    if (!auth) throw new AMQPConnectionError("the client has no auth", { retryable: false });
    return auth;
  }

  #applyRedirect(error: LinkRedirect | ConnectionRedirect): void {
    this.#auth = redirectAuth(this.#requireAuth(), error);
    this.#applyAddress(error);
    this.#emitRedirected(error);
  }

  #applyAddress(error: LinkRedirect | ConnectionRedirect): void {
    if (error.address === undefined) return;
    this.#address = isUrlLike(error.address) ? Address.parse(error.address) : Address.node(error.address);
    this.applyRedirectAddress(error.address);
  }

  #emitRedirected(error: LinkRedirect | ConnectionRedirect): void {
    const auth = this.#requireAuth();
    this.#status.push({
      type: "redirected",
      hostname: auth.hostname,
      port: auth.port,
      address: error.address,
      error,
    });
  }

  #newEpoch(): AbortSignal {
    this.#epoch.abort();
    this.#epoch = new AbortController();
    return this.#epoch.signal;
  }

  #connectionAlive(): boolean {
    const c = this.#connection;
    return c !== undefined && c.state === "open" && c.error === undefined && c.engine.isOpen;
  }

  #onFailure(error: AMQPError): void {
    if (this.#state === "opening" || this.#state === "recovering") {
      // The link or connection being established failed: handled once it is up (or the attempt fails).
      this.#pendingFailure ??= error;
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "recovering";
    const now = Date.now();
    if (now - this.#lastFailureAt > STABLE_MS) this.#attempts = 0;
    this.#lastFailureAt = now;
    const signal = this.#newEpoch();
    this.onLinkLost(error);
    void recover(this.#recoveryHost(signal), error);
  }

  #recoveryHost(signal: AbortSignal): RecoveryHost {
    return {
      reconnect: this.#reconnect,
      external: this.#external,
      signal,
      nextAttempt: () => (this.#attempts < this.#reconnect.maxAttempts ? ++this.#attempts : undefined),
      actionFor: (e) => this.#actionFor(e),
      connectionAlive: () => this.#connectionAlive(),
      emit: (s) => {
        this.#status.push(s);
      },
      applyRedirect: async (e) => {
        const before = this.#requireAuth();
        this.#applyRedirect(e);
        const after = this.#requireAuth();
        const moved =
          before.hostname !== after.hostname ||
          before.port !== after.port ||
          before.transport.customEndpointHostname !== after.transport.customEndpointHostname;
        if (moved) await this.#dropConnection();
      },
      establish: async (timeoutMs) => {
        if (!this.#connectionAlive() && !this.#external) await this.#dropConnection();
        this.#pendingFailure = undefined;
        await this.#establish(timeoutMs);
      },
      dropConnection: () => this.#dropConnection(),
      recovered: (attempt) => {
        this.#recovered(attempt);
      },
      fail: (e) => this.#fail(e),
    };
  }

  #actionFor(error: AMQPError): ErrorAction {
    const action = this.errorPolicy.actionFor(error);
    error.action ??= action;
    return action;
  }

  async #dropConnection(): Promise<void> {
    const conn = this.#connection;
    this.#connection = undefined;
    this.#session = undefined;
    if (conn) await settleWithin(conn.close(), CLOSE_GRACE_MS);
  }

  #recovered(attempt: number): void {
    if (this.#state !== "recovering") return;
    this.#state = "open";
    const failure = this.#takePendingFailure();
    const resent = failure ? 0 : this.onRecovered();
    this.#status.push({ type: "reconnected", attempt, resent });
    // Lost again while it was being re-established: recover again (the attempt budget goes on).
    if (failure) this.#onFailure(failure);
  }

  async #fail(error: AMQPError): Promise<void> {
    if (this.#state === "closing" || this.#state === "closed" || this.#state === "failed") return;
    this.#state = "failed";
    this.#error = error;
    this.#epoch.abort();
    this.#status.push({ type: "closed", error });
    this.#status.end();
    this.onFatal(error);
    this.#closed.resolve(error);
    await this.#teardown();
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
      this.#onFailure(e);
    });
  }

  /** @internal The link made progress: the reconnect attempt budget starts over. */
  protected markProgress(): void {
    this.#attempts = 0;
  }

  /** @internal Reports the peer's ATTACH of `link` to `onAttach` (with an error for a missing terminus). */
  protected reportAttach(link: Link): void {
    reportAttach(this.options.onAttach, link);
  }
}
