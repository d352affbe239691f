/**
 * uamqp's `AMQPClient`, the one owner of a client's lifecycle; `SendClient` and `ReceiveClient`
 * plug their link in through client-link.ts. The map is in docs/architecture.md, "The client".
 */
import { randomUUID } from "node:crypto";
import { Address } from "../address/index.js";
import { redirectAuth, resolveAuth } from "../auth/address-auth.js";
import type { AMQPAuth } from "../auth/amqp-auth.js";
import { clientSetup, connectionStringNames } from "../auth/connection-string.js";
import { asAMQPError, type AMQPError, type RecoveryFailure } from "../errors/amqp-error.js";
import {
  AMQPClientShutdown,
  AMQPConnectionError,
  ConnectionClose,
  ConnectionRedirect,
  LinkDetach,
  LinkRedirect,
} from "../errors/exceptions.js";
import type { CBSEvent } from "../management/cbs-authenticator.js";
import {
  MANAGEMENT_NODE,
  MGMT_REQUEST_OPTIONS,
  type MgmtRequestOptions,
  type MgmtResponse,
} from "../management/mgmt-operation.js";
import type { Message } from "../message/message.js";
import { computeBackoffMs } from "../policy/backoff.js";
import { ErrorPolicy, decide } from "../policy/error-policy.js";
import { resolveReconnect, type ResolvedReconnect } from "../policy/reconnect.js";
import {
  WAIT_OPTIONS,
  abortError,
  bounded,
  delay,
  nextTurn,
  settleWithin,
  type WaitOptions,
} from "../policy/wait.js";
import { deferred } from "../util/deferred.js";
import { EventStream } from "../util/event-stream.js";
import { compact, type OptionNames } from "../util/options.js";
import type { ClientLink, ClientLinkEvent, ClientLinkHost } from "./client-link.js";
import {
  AMQP_CLIENT_OPTIONS,
  DEFAULTS,
  checkOptions,
  optionsError,
  type AMQPClientConnectionStringOptions,
  type AMQPClientOptions,
  type ConnectionOptions,
  type SessionOptions,
} from "./client-options.js";
import { logStatus, type ClientState, type ClientStatus } from "./client-status.js";
import { Connection } from "./connection.js";
import type { Session } from "./session.js";

/** Options of {@link AMQPClient.open}. */
export interface OpenOptions {
  /** Run on this connection (shared with other clients; closing the client leaves it open). */
  readonly connection?: Connection | undefined;
  /** Stops this call's wait (rejects with an `AMQPAbortError`); the open stops when no call waits. */
  readonly signal?: AbortSignal | undefined;
  /** Bound on the open (ms). @defaultValue the client's `openTimeout` (30000) */
  readonly timeout?: number | undefined;
}
const OPEN_OPTIONS: OptionNames<OpenOptions> = { connection: true, signal: true, timeout: true };
const AMQP_CLIENT_CONNECTION_STRING_OPTIONS = connectionStringNames(AMQP_CLIENT_OPTIONS);

/** Redirects followed by one `open()` before giving up. */
const MAX_REDIRECTS = 5;

type RedirectError = LinkRedirect | ConnectionRedirect;

function isRedirect(e: unknown): e is RedirectError {
  return e instanceof LinkRedirect || e instanceof ConnectionRedirect;
}

/**
 * A client on one AMQP connection (uamqp's `AMQPClient`). Usually used through {@link SendClient}
 * or {@link ReceiveClient}; on its own it opens a connection and a session (docs/clients.md).
 */
export class AMQPClient implements AsyncDisposable {
  /** The options given to the constructor. */
  readonly options: Readonly<AMQPClientOptions>;
  /** Container id of the connection (uamqp's `client_name`). */
  readonly clientName: string;
  /** Decides message retries and link/connection recovery. */
  readonly errorPolicy: ErrorPolicy;
  readonly #reconnect: ResolvedReconnect;

  #address: Address;
  #auth: AMQPAuth | undefined;
  #connection: Connection | undefined;
  #session: Session | undefined;
  /** Runs on a connection passed to `open()`, which it does not own. */
  #external = false;
  /** The link of a SendClient or ReceiveClient (none for a plain AMQPClient). */
  #link: ClientLink | undefined;
  #token: { readonly connection: Connection; readonly stop: () => void } | undefined;

  #state: ClientState = "idle";
  #opening: SharedOpen | undefined;
  #closing: Promise<void> | undefined;
  /** The teardown of the last failed open, which outlives the open's rejection; close() awaits it. */
  #failedOpenTeardown: Promise<void> | undefined;

  /** Aborted on close; replaced on each recovery/redirect so that a superseded loop stops. */
  #epoch = new AbortController();
  /** A failure during an open or a recovery attempt, handled once the attempt ends. */
  #pendingFailure: AMQPError | undefined;
  #attempts = 0;
  /** When the client last became open (connection up, link attached); 0 while it is not open. */
  #openSince = 0;

  #status = new EventStream<ClientStatus>();
  readonly #closed = deferred<AMQPError | undefined>();
  #error: AMQPError | undefined;

  /**
   * Creates the client; nothing is connected before {@link AMQPClient.open} (or a send/receive call).
   * @param remoteAddress - an `amqp://`, `amqps://`, `ws://` or `wss://` URL, or an {@link Address}
   * @throws {InvalidAddressError} for an unusable URL; {@link TypeError} for an unknown option;
   *   {@link RangeError} for an invalid `reconnect.maxAttempts`.
   */
  constructor(remoteAddress: string | Address, options: AMQPClientOptions = {}) {
    // SendClient and ReceiveClient check their own options, which include these.
    if (new.target === AMQPClient) checkOptions(options, AMQP_CLIENT_OPTIONS, "AMQPClient");
    this.options = options;
    const address = typeof remoteAddress === "string" ? Address.parse(remoteAddress) : remoteAddress;
    this.#address = address;
    this.clientName = options.clientName ?? randomUUID();
    this.errorPolicy = options.errorPolicy ?? new ErrorPolicy();
    this.#reconnect = resolveReconnect(options.reconnect);
    // A node-name address has no host: the auth comes from a given auth or a shared connection.
    if (options.auth || !address.isNode) this.#auth = resolveAuth(address, options.auth, options.transport);
  }

  /**
   * A client for an Azure connection string (docs/auth.md, "Connection strings"). The node is the
   * string's `EntityPath` (or the `entityPath` option), else the namespace's `$management` node,
   * which suits {@link AMQPClient.mgmtRequest}.
   * @param options - the client's options (no `auth`), `entityPath`, and `tokenAuth`
   * @throws {ConnectionStringError} for a malformed string; {@link TypeError} for an unknown option.
   */
  static fromConnectionString(
    connectionString: string,
    options: AMQPClientConnectionStringOptions = {},
  ): AMQPClient {
    const setup = clientSetup<AMQPClientOptions>(
      connectionString,
      options,
      AMQP_CLIENT_CONNECTION_STRING_OPTIONS,
      "AMQPClient",
      MANAGEMENT_NODE,
    );
    return new AMQPClient(setup.address, setup.options);
  }

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
    return this.#error;
  }

  /** Runs on a connection passed to `open()` (shared with other clients). */
  get isSharedConnection(): boolean {
    return this.#external;
  }

  /** Lifecycle events from now on (see {@link ClientStatus}); the iteration ends after `closed`. */
  status(): AsyncIterableIterator<ClientStatus> {
    return this.#status.subscribe();
  }

  /** Resolves when the client closed or failed for good: undefined, or the error. Never rejects. */
  closed(): Promise<AMQPError | undefined> {
    return this.#closed.promise;
  }

  #stopped(): boolean {
    const s = this.#state;
    return s === "closing" || s === "closed" || s === "failed";
  }

  /** For checks after an await, where the compiler would still assume the state set before it. */
  #is(state: ClientState): boolean {
    return this.#state === state;
  }

  #closedError(): AMQPError {
    return this.#error ?? new AMQPClientShutdown("The client is closed.", { retryable: false });
  }

  /**
   * Connects (or joins `connection`), begins the session and attaches the link; resolves when all of
   * it is up. A failed open leaves the client idle. Concurrent calls share the open (docs/clients.md).
   * @throws the typed error of the failure (`AuthenticationException`, `LinkDetach`, `ClientTimeout`…);
   *   {@link AMQPClientShutdown}; {@link AMQPAbortError}; {@link TypeError} for an unknown option.
   */
  open(options: OpenOptions = {}): Promise<void> {
    const unknown = optionsError(options, OPEN_OPTIONS, "AMQPClient.open()");
    if (unknown) return Promise.reject(unknown);
    const signal = options.signal;
    if (this.#stopped()) return Promise.reject(this.#closedError());
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    if (this.isOpen) return Promise.resolve();
    if (this.#state === "idle") {
      const opening = new SharedOpen((s) => this.#open(options, s));
      this.#opening = opening;
      const done = (): void => {
        if (this.#opening === opening) this.#opening = undefined;
      };
      opening.promise.then(done, done);
    }
    return this.#opening?.join(signal) ?? Promise.resolve();
  }

  async #open(options: OpenOptions, signal: AbortSignal): Promise<void> {
    this.#state = "opening";
    this.#pendingFailure = undefined;
    // A shared connection's auth replaces the client's.
    const joined = options.connection;
    if (joined) {
      this.#external = true;
      this.#connection = joined;
      this.#auth = joined.auth;
      this.#watch(joined);
    }
    const timeout = options.timeout ?? this.options.openTimeout ?? DEFAULTS.openTimeout;
    for (let hops = 0; ; hops++) {
      try {
        await this.#establish(timeout, signal);
        break;
      } catch (e) {
        const error = asAMQPError(e);
        // Only close() moves an opening client elsewhere.
        if (this.#stopped()) throw this.#closedError();
        // Only a redirect waits for the teardown (the peer's CLOSE): a peer that never answered
        // our OPEN must not hold the rejection beyond the open's timeout. close() waits for it.
        const teardown = this.#teardown();
        this.#failedOpenTeardown = teardown;
        if (isRedirect(error) && this.#reconnect.enabled && !this.#external && hops < MAX_REDIRECTS) {
          await teardown;
          // close() may have been called while the failed try was torn down: it stays closed.
          if (this.#stopped()) throw this.#closedError();
          this.#emit(this.#redirectTo(error));
          continue;
        }
        // close() may have been called by the teardown's first steps: it stays closed.
        if (this.#stopped()) throw this.#closedError();
        this.#state = "idle";
        this.#pendingFailure = undefined;
        if (joined) {
          this.#external = false;
          this.#connection = undefined;
        }
        throw error;
      }
    }
    const failure = this.#nowOpen();
    if (failure) this.#onFailure(failure);
    else this.#tell({ type: "opened" });
  }

  /**
   * uamqp's `auth_complete()`: resolves true once the connection is open (with a token auth, the
   * token accepted), false when the client was not opened. @throws the connection's error.
   */
  async authComplete(): Promise<boolean> {
    if (this.#stopped()) throw this.#closedError();
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
      if (this.#stopped()) throw this.#closedError();
      if (this.#state === "idle") return false;
      if (this.#state === "open") return true;
      if (this.#state === "opening") await this.#opening?.promise;
      else await Promise.race([this.#nextStatus(), this.#closed.promise]);
    }
  }

  /**
   * Opens the client if needed and resolves once connection, session and link are up (waiting out
   * a recovery), within `timeout` ms.
   * @throws {ClientTimeout}; {@link AMQPAbortError}; the client's failure; {@link TypeError}.
   */
  async waitUntilReady(options: WaitOptions = {}): Promise<void> {
    checkOptions(options, WAIT_OPTIONS, "AMQPClient.waitUntilReady()");
    const { timeout, signal } = options;
    const deadline = timeout ? Date.now() + timeout : undefined;
    if (this.#state === "idle" || this.#state === "opening") await this.open({ signal, timeout });
    const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    await bounded(this.clientReady(), { timeout: left, signal, what: "waitUntilReady()" });
  }

  /** Closes link, session and (unless shared) connection; idempotent, never rejects, final. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = "closing";
    this.#epoch.abort();
    this.#tell({ type: "closing" });
    await nextTurn(); // dispositions queued by the application reach the wire first
    await this.#teardown();
    await this.#failedOpenTeardown;
    this.#state = "closed";
    this.#end(undefined);
    this.#closed.resolve(this.#error);
  }

  /** `await using` support: {@link AMQPClient.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Plugs the link of a `SendClient` / `ReceiveClient` in (once, from its constructor). */
  protected plugLink(link: ClientLink): ClientLinkHost {
    this.#link = link;
    return {
      failed: (error) => {
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
      },
      progressed: () => {
        this.#attempts = 0;
      },
      stopped: () => this.#stopped(),
      closedError: () => this.#closedError(),
    };
  }

  #tell(event: ClientLinkEvent): number {
    return this.#link?.on(event) ?? 0;
  }

  /** Connects what is down and attaches the link, within `timeout` ms, the epoch and `signal`. */
  async #establish(timeout: number, signal?: AbortSignal): Promise<void> {
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
    const epoch = this.#epoch.signal;
    const attempt = new AbortController();
    const outer = signal ? AbortSignal.any([epoch, signal]) : epoch;
    const inner = AbortSignal.any([outer, attempt.signal]);
    // A shared connection is not this client's to abort: only the client's wait ends.
    const opened = conn.open(this.#external ? {} : { signal: inner });
    const work: Promise<unknown> = conn.usesTokenAuth
      ? // Token auth: the link attaches once $cbs accepted the token (its ATTACH is refused before).
        (async () => {
          await Promise.all([opened, session.begun()]);
          this.#watchToken(conn);
          await this.#link?.attach(session, inner);
        })()
      : Promise.all([opened, session.begun(), this.#link?.attach(session, inner)]);
    try {
      await bounded(work, { timeout, signal: outer, what: "open" });
    } catch (e) {
      attempt.abort();
      throw e;
    }
  }

  #isAlive(): boolean {
    const c = this.#connection;
    return c !== undefined && c.state === "open" && c.error === undefined && c.engine.isOpen;
  }

  /** Closes the link, the session and (unless shared) the connection, each bounded. Never rejects. */
  async #teardown(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    this.#token?.stop();
    this.#token = undefined;
    // DETACH goes out now; on an owned connection the CLOSE ends everything without waiting for
    // the peer's DETACH, on a shared one the link and the session are ended one by one.
    const linkClosed = this.#link?.detach() ?? Promise.resolve();
    if (!this.#external) await this.#dropConnection();
    await settleWithin(linkClosed, DEFAULTS.closeGrace);
    if (this.#external && session) await settleWithin(session.close(), DEFAULTS.closeGrace);
  }

  /** Closes the owned connection (and forgets its session), bounded. */
  async #dropConnection(): Promise<void> {
    const conn = this.#connection;
    this.#connection = undefined;
    this.#session = undefined;
    if (conn) await settleWithin(conn.close(), DEFAULTS.closeGrace);
  }

  /** A failure of the current connection starts a recovery (or is recorded, see #onFailure). */
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
      idleTimeout: o.idleTimeout,
      properties: o.properties,
      remoteIdleTimeoutEmptyFrameSendRatio: o.remoteIdleTimeoutEmptyFrameSendRatio,
      debug: o.debug,
    });
  }

  #sessionOptions(): SessionOptions {
    const { incomingWindow, outgoingWindow, handleMax, onAttach } = this.options;
    return compact<SessionOptions>({
      incomingWindow,
      outgoingWindow,
      handleMax,
      // The client's link is the only link on the session.
      onAttach: onAttach && ((info) => onAttach(info.source, info.target, info.properties, info.error)),
    });
  }

  /** Listens to the CBS authentication of `conn` (token auths), reporting it in `status()`. */
  #watchToken(conn: Connection): void {
    if (this.#token?.connection === conn) return;
    this.#token?.stop();
    this.#token = undefined;
    const cbs = conn.cbs;
    if (!cbs) return;
    this.#token = {
      connection: conn,
      stop: cbs.subscribe((event) => {
        this.#onToken(conn, event);
      }),
    };
  }

  #onToken(conn: Connection, event: CBSEvent): void {
    if (conn !== this.#connection) return;
    switch (event.type) {
      case "authenticated":
        return;
      case "refreshed":
        this.#emit({ type: "tokenRefreshed", expiresAt: event.expiresAt });
        return;
      case "refreshFailed":
        this.#emit({
          type: "tokenRefreshFailed",
          error: event.error,
          expiresAt: event.expiresAt,
          retryAt: event.retryAt,
        });
        return;
      case "expired":
        // Every pending and later call of the client ends with TokenExpired.
        if (this.isOpen) void this.#fail(event.error);
        else if (this.#state === "opening") this.#pendingFailure ??= event.error;
        return;
    }
  }

  /**
   * A management request (uamqp's `mgmt_request`) on the client's session, opening the client
   * first if needed: as {@link Session.mgmtRequest} (docs/clients.md, "Management requests").
   * @throws as {@link Session.mgmtRequest}; the client's failure or the open's errors.
   */
  async mgmtRequest(
    message: Message,
    operation: string,
    options: MgmtRequestOptions = {},
  ): Promise<MgmtResponse> {
    checkOptions(options, MGMT_REQUEST_OPTIONS, "AMQPClient.mgmtRequest()");
    const signal = options.signal;
    await this.open({ signal });
    if (!this.isReady) await bounded(this.clientReady(), { signal, what: "mgmtRequest()" });
    const session = this.#session;
    if (!session) throw this.#closedError();
    return session.mgmtRequest(message, operation, options);
  }

  /**
   * Follows a redirect by hand (uamqp's `redirect(redirect, auth)`): reconnects to the redirect's
   * host (with `auth`, or the current credentials) and address (docs/clients.md).
   * @throws {AMQPConnectionError} on a shared connection; the open's error (the client is then idle).
   */
  async redirect(error: LinkRedirect | ConnectionRedirect, auth?: AMQPAuth): Promise<void> {
    if (this.#external) {
      throw new AMQPConnectionError("redirect() is not possible on a shared connection", {
        condition: "amqp:not-allowed",
        retryable: false,
      });
    }
    if (this.#state === "closing" || this.#state === "closed") throw this.#closedError();
    if (this.#state === "opening") await this.#opening?.promise.catch(() => undefined);
    this.#newEpoch();
    this.#state = "recovering";
    await this.#teardown();
    const redirected = this.#redirectTo(error, auth);
    // A failed client revived by a redirect: a new status stream, no error.
    if (this.#status.ended) this.#status = new EventStream<ClientStatus>();
    this.#error = undefined;
    this.#emit(redirected);
    this.#pendingFailure = undefined;
    try {
      await this.#establish(this.options.openTimeout ?? DEFAULTS.openTimeout);
    } catch (e) {
      await this.#teardown();
      if (this.#is("recovering")) this.#state = "idle";
      throw asAMQPError(e);
    }
    this.#recovered(0);
  }

  /** Switches to the redirect's host and address; returns the `redirected` status to report. */
  #redirectTo(error: RedirectError, auth?: AMQPAuth): ClientStatus {
    const current = redirectAuth(this.#requireAuth(), error, auth);
    this.#auth = current;
    if (error.address !== undefined) {
      this.#address = Address.from(error.address);
      this.#tell({ type: "redirected", address: error.address });
    }
    return {
      type: "redirected",
      hostname: current.hostname,
      port: current.port,
      address: error.address,
      error,
    };
  }

  #requireAuth(): AMQPAuth {
    const auth = this.#auth;
    if (!auth) throw new AMQPConnectionError("the client has no auth", { retryable: false });
    return auth;
  }

  /** Aborts the current epoch (stopping its recovery loop) and starts a new one. */
  #newEpoch(): AbortSignal {
    this.#epoch.abort();
    this.#epoch = new AbortController();
    return this.#epoch.signal;
  }

  /** An open or recovery attempt succeeded; returns the failure recorded meanwhile, if any. */
  #nowOpen(): AMQPError | undefined {
    this.#state = "open";
    this.#openSince = Date.now();
    const failure = this.#pendingFailure;
    this.#pendingFailure = undefined;
    return failure;
  }

  /** The link or connection failed: recorded during an attempt, else a recovery starts when open. */
  #onFailure(error: AMQPError): void {
    const state = this.#state;
    if (state === "opening" || state === "recovering") {
      this.#pendingFailure ??= error;
      return;
    }
    if (state !== "open") return;
    // A link refused or detached when the token lapsed fails with TokenExpired, not a recovery.
    const expired = this.#connection?.cbs?.checkExpiry();
    if (expired) {
      void this.#fail(expired);
      return;
    }
    this.#state = "recovering";
    // An idle link survives any number of short outages that are far enough apart.
    if (Date.now() - this.#openSince >= this.#reconnect.healthyMs) this.#attempts = 0;
    this.#openSince = 0;
    const signal = this.#newEpoch();
    this.#tell({ type: "lost", error });
    void this.#recover(error, signal);
  }

  /**
   * One recovery run (docs/architecture.md, "Recovery"). Resolves when the client is back, failed,
   * or when `signal` (its epoch) aborted: closed, or superseded by another recovery or a redirect.
   */
  async #recover(error: AMQPError, signal: AbortSignal): Promise<void> {
    this.#emit(this.#isAlive() ? { type: "linkDetached", error } : { type: "disconnected", error });
    let redirect = isRedirect(error) ? error : undefined;
    let action = redirect ? undefined : decide(this.errorPolicy, error);
    if (!this.#reconnect.enabled) return this.#giveUp(error, "reconnectDisabled");
    if (action !== undefined && !action.retry) return this.#giveUp(error, "notRetryable");
    // A shared connection is not the client's to reconnect or to move.
    const shared = this.#external && (redirect !== undefined || !this.#isAlive());
    if (shared) return this.#giveUp(error, "sharedConnection");
    let last = error;
    for (let attempt = this.#nextAttempt(); attempt !== undefined; attempt = this.#nextAttempt()) {
      const delayMs = redirect
        ? 0
        : Math.max(action?.backoffMs ?? 0, computeBackoffMs(attempt - 1, this.#reconnect.backoff));
      this.#emit({ type: "reconnecting", attempt, delayMs, error: last });
      try {
        await delay(delayMs, signal);
      } catch {
        return; // closed or superseded
      }
      try {
        if (redirect) {
          await this.#followRedirect(redirect);
          redirect = undefined;
        }
        if (!this.#isAlive() && !this.#external) await this.#dropConnection();
        this.#pendingFailure = undefined;
        await this.#establish(this.#reconnect.attemptTimeout);
        if (signal.aborted) return;
        this.#recovered(attempt);
        return;
      } catch (e) {
        if (signal.aborted) return;
        last = asAMQPError(e);
        if (isRedirect(last) && !this.#external) {
          redirect = last;
          continue;
        }
        const a = decide(this.errorPolicy, last);
        if (!a.retry) return this.#giveUp(last, "notRetryable");
        action = a;
        if (!this.#isAlive()) await this.#dropConnection();
      }
    }
    return this.#giveUp(last, "attemptsExhausted");
  }

  #giveUp(error: AMQPError, reason: RecoveryFailure["reason"]): Promise<void> {
    return this.#fail(error, { reason, attempts: this.#attempts });
  }

  /** The next attempt's number, or undefined when the budget (across recoveries) is spent. */
  #nextAttempt(): number | undefined {
    return this.#attempts < this.#reconnect.maxAttempts ? ++this.#attempts : undefined;
  }

  /** A redirect met during a recovery: switch host and address, dropping a connection to another host. */
  async #followRedirect(error: RedirectError): Promise<void> {
    const before = this.#requireAuth();
    this.#emit(this.#redirectTo(error));
    const after = this.#requireAuth();
    const moved =
      before.hostname !== after.hostname ||
      before.port !== after.port ||
      before.transport.customEndpointHostname !== after.transport.customEndpointHostname;
    if (moved) await this.#dropConnection();
  }

  #recovered(attempt: number): void {
    if (this.#state !== "recovering") return;
    const failure = this.#nowOpen();
    const resent = failure ? 0 : this.#tell({ type: "recovered" });
    this.#emit({ type: "reconnected", attempt, resent });
    // Lost again while it was being re-established: recover again (the attempt budget goes on).
    if (failure) this.#onFailure(failure);
  }

  /** The client fails for good with `error`; `recovery` says why a recovery gave up. */
  async #fail(error: AMQPError, recovery?: RecoveryFailure): Promise<void> {
    if (this.#stopped()) return;
    if (recovery) error.recordRecoveryFailure(recovery);
    this.#state = "failed";
    this.#error = error;
    this.#epoch.abort();
    this.#end(error, recovery);
    this.#tell({ type: "fatal", error });
    this.#closed.resolve(error);
    await this.#teardown();
  }

  #emit(status: ClientStatus): void {
    logStatus(this.#label(), status);
    this.#status.push(status);
  }

  /** Emits `closed` (with `error` when a failure ended the client) and ends the stream. */
  #end(error: AMQPError | undefined, recoveryFailure?: RecoveryFailure): void {
    const closed: ClientStatus = { type: "closed", error, ...(recoveryFailure && { recoveryFailure }) };
    if (!this.#status.ended) logStatus(this.#label(), closed);
    this.#status.push(closed);
    this.#status.end();
  }

  /** The client's name and address (password masked) in log lines. */
  #label(): string {
    return `${this.clientName} ${this.#address.toString()}`;
  }

  async #nextStatus(): Promise<void> {
    const it = this.#status.subscribe();
    try {
      await it.next();
    } finally {
      await it.return?.();
    }
  }
}

/**
 * One open shared by the calls that wait for it: a call's `AbortSignal` ends that call's wait only;
 * the open is aborted when every waiting call has given up.
 */
class SharedOpen {
  /** Never reported as unhandled (callers get it via `join`). */
  readonly promise: Promise<void>;
  readonly #controller = new AbortController();
  /** Calls waiting that may still abort; Infinity once a call that cannot abort is waiting. */
  #waiters = 0;

  constructor(run: (signal: AbortSignal) => Promise<void>) {
    this.promise = run(this.#controller.signal);
    this.promise.catch(() => undefined);
  }

  /** Waits for the open (`signal` not aborted yet); when the last waiting call aborts, so does the open. */
  join(signal: AbortSignal | undefined): Promise<void> {
    if (!signal) {
      this.#waiters = Infinity;
      return this.promise;
    }
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
