/** uamqp's low-level `Connection`, thin over the engine's connection (docs/architecture.md, "The client"). */
import { AMQPError as AMQPErrorClass, type AMQPError } from "../errors/amqp-error.js";
import {
  AMQPClientShutdown,
  AMQPConnectionError,
  type LinkRedirect,
  type ConnectionRedirect,
} from "../errors/exceptions.js";
import { AmqpConnection } from "../engine/connection.js";
import type { ConnectionOptions as EngineConnectionOptions } from "../engine/options.js";
import type { ErrorFields } from "../engine/remote-errors.js";
import type { AMQPAuth } from "../auth/amqp-auth.js";
import { CBSAuth } from "../auth/cbs-auth.js";
import { redirectAuth } from "../auth/address-auth.js";
import { WAIT_OPTIONS, abortError, bounded, type WaitOptions } from "../policy/wait.js";
import { describeError, frameTrace, framesTraced, log, newConnectionLogId } from "../util/log.js";
import { compact } from "../util/options.js";
import { CBSAuthenticator } from "../management/cbs-authenticator.js";
import {
  CONNECTION_OPTIONS,
  DEFAULTS,
  checkOptions,
  optionsError,
  type ConnectionOptions,
  type SessionOptions,
} from "./client-options.js";
import { Session } from "./session.js";

/** The abort reason of an open's connect when `close()` ends the open. */
const CLOSED: unique symbol = Symbol("closed");

/** Lifecycle of a {@link Connection}. */
export type ConnectionState = "idle" | "opening" | "open" | "closing" | "closed" | "error";

/**
 * One AMQP connection (uamqp's `Connection`) with the transport and SASL mechanism of its
 * {@link AMQPAuth}, carrying {@link Session}s; sessions and links may be created before `open()`
 * resolves (their frames are pipelined). Once closed or failed it cannot be opened again (except by
 * {@link Connection.redirect}). A token auth authenticates over CBS (docs/auth.md). Example in
 * docs/clients.md, "Low-level API".
 */
export class Connection implements AsyncDisposable {
  /** The host sent in OPEN (replaced by {@link Connection.redirect}). */
  hostname: string;
  /** Transport and SASL settings (replaced by {@link Connection.redirect}). */
  auth: AMQPAuth;
  /** The options given to the constructor. */
  readonly options: Readonly<ConnectionOptions>;
  #engine: AmqpConnection;
  /** `conn-N` in log lines; a redirect's new engine gets a new one. */
  #logId = "";
  #state: ConnectionState = "idle";
  #opening: Promise<void> | undefined;
  /** Aborts the connect of the open in progress (on close()). */
  #connecting: AbortController | undefined;
  /** The connect, SASL and OPEN of the open in progress (or done). */
  #connected: Promise<void> | undefined;
  #cbs: CBSAuthenticator | undefined;

  /**
   * Creates the connection; nothing is sent before {@link Connection.open}.
   * @param hostname - the host name sent in OPEN (usually `auth.hostname`)
   * @param auth - where and how to connect
   */
  constructor(hostname: string, auth: AMQPAuth, options: ConnectionOptions = {}) {
    checkOptions(options, CONNECTION_OPTIONS, "Connection");
    this.hostname = hostname;
    this.auth = auth;
    this.options = options;
    this.#engine = this.#createEngine();
  }

  #createEngine(): AmqpConnection {
    const o = this.options;
    // A token auth lets the server choose: MSSBCBS where offered (Azure), else ANONYMOUS.
    const auth = this.auth;
    const mechanism = auth instanceof CBSAuth ? auth.saslMechanisms() : auth.mechanism();
    const logId = newConnectionLogId();
    this.#logId = logId;
    const engine = new AmqpConnection(
      compact<EngineConnectionOptions>({
        hostname: this.hostname,
        containerId: o.containerId,
        maxFrameSize: o.maxFrameSize ?? DEFAULTS.maxFrameSize,
        channelMax: o.channelMax,
        idleTimeoutMs: o.idleTimeout,
        properties: o.properties,
        remoteIdleTimeoutEmptyFrameSendRatio: o.remoteIdleTimeoutEmptyFrameSendRatio,
        offeredCapabilities: o.offeredCapabilities,
        desiredCapabilities: o.desiredCapabilities,
        closeTimeoutMs: o.closeTimeoutMs,
        sasl: mechanism,
        // The trace finds the logger when it writes a line: setLogger() applies to this connection too.
        trace:
          o.debug === true || framesTraced("uamqp:frames") ? frameTrace("uamqp:frames", logId) : undefined,
      }),
    );
    engine.onClose = (error) => {
      // No OPEN from the peer: the connection never was open.
      const what = engine.remote === undefined ? "failed to open" : "closed";
      this.#state = error ? "error" : "closed";
      // The token lives with the connection: no refresh without it.
      void this.#cbs?.close();
      const where = `${logId} ${this.auth.toString()}`;
      if (error) log("uamqp:connection", "warn", `${where} ${what}: ${describeError(error)}`);
      else log("uamqp:connection", "debug", `${where} closed`);
    };
    return engine;
  }

  /** @internal The connection's id in log lines and frame traces (`conn-N`). */
  get logId(): string {
    return this.#logId;
  }

  /** @internal The protocol engine. */
  get engine(): AmqpConnection {
    return this.#engine;
  }

  /** Whether the connection authenticates with a token over CBS (its auth is a `CBSAuth`). */
  get usesTokenAuth(): boolean {
    return this.auth instanceof CBSAuth;
  }

  /** @internal The CBS token authentication of the connection (token auths, once opened). */
  get cbs(): CBSAuthenticator | undefined {
    return this.#cbs;
  }

  /** Our container id (the `containerId` option, or the generated uuid). */
  get containerId(): string {
    return this.#engine.containerId;
  }

  /** Where the connection is in its lifecycle. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The error that ended the connection, if any (sticky, as in uamqp). */
  get error(): AMQPError | undefined {
    return this.#engine.error;
  }

  /** The peer's max-frame-size, once open. */
  get remoteMaxFrameSize(): number | undefined {
    return this.#engine.remote ? this.#engine.remoteMaxFrameSize : undefined;
  }

  /** The peer's idle-time-out in milliseconds, once open (undefined: none or not open). */
  get remoteIdleTimeoutMs(): number | undefined {
    return this.#engine.remote?.idleTimeOut;
  }

  /** Resolves when the connection is gone (undefined after a clean close). Never rejects. */
  closed(): Promise<AMQPError | undefined> {
    return this.#engine.closed();
  }

  /**
   * Connects and opens; resolves on the peer's OPEN and, with a token auth, once a token is in force
   * (again after it expired). `timeout` (ms) bounds the whole open; `signal` closes the connection.
   * @throws {AuthenticationException}; `TokenAuthFailure`, `TokenExpired`; `ClientTimeout`; transport
   *   errors; `ConnectionClose`; `AMQPAbortError`; {@link AMQPClientShutdown} on `close()`; `TypeError`.
   */
  open(options: WaitOptions = {}): Promise<void> {
    const unknown = optionsError(options, WAIT_OPTIONS, "Connection.open()");
    if (unknown) return Promise.reject(unknown);
    // Open: a token auth puts a token again if the one in force expired (or the last put failed).
    if (this.#state === "open") return this.#authenticate(options);
    if (this.#state === "closed" || this.#state === "error" || this.#state === "closing") {
      return Promise.reject(
        this.error ?? new AMQPClientShutdown("connection is closed", { retryable: false }),
      );
    }
    const signal = options.signal;
    if (!this.#opening && signal?.aborted === true) return Promise.reject(abortError(signal));
    this.#opening ??= this.#open(options);
    return this.#opening;
  }

  /**
   * @internal Resolves on the peer's OPEN, without waiting for a token auth's put-token (what links
   * wait for); starts the open when nobody did. @throws the errors of the open.
   */
  amqpOpened(): Promise<void> {
    if (this.#state === "open") return Promise.resolve();
    if (this.#state === "idle") void this.open().catch(() => undefined);
    return this.#connected ?? this.open();
  }

  async #open(options: WaitOptions): Promise<void> {
    const { timeout, signal } = options;
    const deadline = timeout !== undefined && timeout > 0 ? Date.now() + timeout : undefined;
    const connected = this.#connect(options);
    this.#connected = connected;
    await connected;
    if (!this.#is("open")) return;
    const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    await this.#authenticate({ timeout: left, signal });
  }

  /** With a token auth: resolves once a token is in force, within `timeout` and `signal`. */
  #authenticate({ timeout, signal }: WaitOptions): Promise<void> {
    const auth = this.auth;
    if (!(auth instanceof CBSAuth)) return Promise.resolve();
    this.#cbs ??= new CBSAuthenticator(this, auth);
    return bounded(this.#cbs.ensure(signal), { timeout, signal, what: "connection open (authorization)" });
  }

  /** Whether the state is `s` now (for checks after an await). */
  #is(s: ConnectionState): boolean {
    return this.#state === s;
  }

  /** Connects, runs SASL and exchanges OPEN. */
  async #connect(options: WaitOptions): Promise<void> {
    this.#state = "opening";
    const { timeout, signal } = options;
    const controller = new AbortController();
    this.#connecting = controller;
    const work = (async () => {
      const transport = await this.auth.connect(controller.signal);
      if (controller.signal.aborted) {
        // Given up (abort, timeout, close) while connecting: do not keep the socket.
        transport.destroy();
        throw abortError(controller.signal);
      }
      this.#engine.start(transport);
      await this.#engine.opened();
    })();
    try {
      // The abort and the timeout end every phase (connect, SASL, OPEN), not only the connect.
      await bounded(work, { timeout, signal, what: "connection open" });
    } catch (e) {
      const closing = controller.signal.aborted && controller.signal.reason === CLOSED;
      controller.abort(signal?.reason);
      if (closing) {
        // close() during the open ends it; close() also ends the engine and sets the state.
        throw new AMQPClientShutdown("connection was closed", { retryable: false });
      }
      if (signal?.aborted === true) {
        // Aborted by the caller: not a failure of the connection. It closes (with a CLOSE if our
        // OPEN went out, bounded by closeTimeoutMs) and cannot be opened again.
        this.#state = "closing";
        void this.#engine.close();
        throw abortError(signal);
      }
      this.#state = "error";
      const error =
        e instanceof AMQPErrorClass ? e : new AMQPConnectionError(String(e), { cause: e, retryable: true });
      this.#engine.abort(error);
      throw error;
    } finally {
      if (this.#connecting === controller) this.#connecting = undefined;
    }
    // close() may have been called since the peer's OPEN arrived: its state wins.
    if (!this.#is("opening")) return;
    this.#state = "open";
    const peer = JSON.stringify(this.#engine.remote?.containerId);
    const ids = `container-id ${JSON.stringify(this.containerId)}, peer ${peer}`;
    log("uamqp:connection", "info", `${this.#logId} ${this.auth.toString()} open (${ids})`);
  }

  /** Begins a session on this connection (pipelined: usable before `open()` resolves). */
  createSession(options: SessionOptions = {}): Session {
    return new Session(this, options);
  }

  /** Closes the connection (bounded wait for the peer's CLOSE). Never rejects. */
  async close(error?: ErrorFields): Promise<void> {
    if (this.#state === "closed" || this.#state === "error") return;
    this.#state = "closing";
    this.#connecting?.abort(CLOSED);
    await this.#engine.close(error);
    this.#state = this.#engine.error ? "error" : "closed";
  }

  /** `await using` support: {@link Connection.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Follows a redirect (uamqp `redirect`): closes this connection and connects where the error
   * points, with `auth` or the current auth; no-op if already there.
   * @throws the errors of {@link Connection.open} for the new host.
   */
  async redirect(error: LinkRedirect | ConnectionRedirect, auth?: AMQPAuth): Promise<void> {
    if (error.hostname === undefined && error.networkHost === undefined) return;
    const next = redirectAuth(this.auth, error, auth);
    const t = this.auth.transport;
    const same =
      next.hostname === this.hostname &&
      next.transport.port === t.port &&
      next.transport.customEndpointHostname === t.customEndpointHostname;
    if (auth === undefined && same) return;
    await this.close();
    this.#cbs = undefined;
    this.hostname = next.hostname;
    this.auth = next;
    this.#engine = this.#createEngine();
    this.#state = "idle";
    this.#opening = undefined;
    this.#connected = undefined;
    await this.open();
  }
}
