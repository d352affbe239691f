/**
 * uamqp's low-level `Connection`: one AMQP connection over the transport an {@link AMQPAuth}
 * describes. Event-driven (no pumping); `open()` resolves on the peer's OPEN. Sessions and links
 * may be created before `open()` resolves: their frames are pipelined behind the handshake.
 */
import type { AMQPValue } from "../codec/values.js";
import { AMQPError as AMQPErrorClass, type AMQPError } from "../errors/amqp-error.js";
import {
  AMQPClientShutdown,
  AMQPConnectionError,
  ClientTimeout,
  type LinkRedirect,
  type ConnectionRedirect,
} from "../errors/exceptions.js";
import { AmqpConnection } from "../engine/connection.js";
import type { ErrorFields } from "../engine/remote-errors.js";
import type { AMQPAuth } from "../auth/amqp-auth.js";
import { getLogger } from "../util/log.js";
import { Session, type SessionOptions } from "./session.js";
import { abortError } from "./waits.js";
import { aliased } from "./option-aliases.js";

/** Options of a {@link Connection} (uamqp's Connection kwargs, camelCase, milliseconds). */
export interface ConnectionOptions {
  /** Container id sent in OPEN. @defaultValue a random uuid */
  containerId?: string;
  /** Largest frame we accept. @defaultValue 65536 */
  maxFrameSize?: number;
  /** Highest channel (session) number. @defaultValue 65535 */
  channelMax?: number;
  /**
   * Our idle time-out in milliseconds (the peer must send something this often); 0 = none.
   * @defaultValue 0
   */
  idleTimeoutMs?: number;
  /** OPEN properties. */
  properties?: Record<string, AMQPValue>;
  /** Heartbeats at the peer's idle-time-out × ratio. @defaultValue 0.5 */
  remoteIdleTimeoutEmptyFrameSendRatio?: number;
  /** Capabilities offered in OPEN (symbols). @defaultValue none */
  offeredCapabilities?: string[];
  /** Capabilities desired in OPEN (symbols). @defaultValue none */
  desiredCapabilities?: string[];
  /** Network trace: every frame in and out, logged at info level (secrets redacted). */
  debug?: boolean;
  /** The spec's name of `debug`. */
  networkTrace?: boolean;
  /** Bounded wait for the peer's CLOSE in `close()`, in milliseconds. @defaultValue 5000 */
  closeTimeoutMs?: number;
}

/** The abort reason of an open's connect when `close()` ends the open. */
const CLOSED: unique symbol = Symbol("closed");

/** Lifecycle of a {@link Connection}. */
export type ConnectionState = "idle" | "opening" | "open" | "closing" | "closed" | "error";

/**
 * One AMQP connection (uamqp's `Connection`): connects with the transport and SASL mechanism of its
 * {@link AMQPAuth}, exchanges OPEN, sends heartbeats, and carries {@link Session}s. Once closed or
 * failed it cannot be opened again (except by {@link Connection.redirect}).
 *
 * @example
 * ```ts
 * const conn = new Connection("localhost", new SASLAnonymous("localhost", { tls: false }));
 * await conn.open();
 * const session = new Session(conn);
 * // … MessageSender / MessageReceiver on the session …
 * await conn.close();
 * ```
 */
export class Connection implements AsyncDisposable {
  /** The host sent in OPEN (replaced by {@link Connection.redirect}). */
  hostname: string;
  /** Transport and SASL settings (replaced by {@link Connection.redirect}). */
  auth: AMQPAuth;
  /** The options given to the constructor. */
  readonly options: Readonly<ConnectionOptions>;
  #engine: AmqpConnection;
  #state: ConnectionState = "idle";
  #opening: Promise<void> | undefined;
  /** Aborts the connect of the open in progress (on close()). */
  #connecting: AbortController | undefined;

  /**
   * Creates the connection; nothing is sent before {@link Connection.open}.
   * @param hostname - the host name sent in OPEN (usually `auth.hostname`)
   * @param auth - where and how to connect
   */
  constructor(hostname: string, auth: AMQPAuth, options: ConnectionOptions = {}) {
    this.hostname = hostname;
    this.auth = auth;
    this.options = options;
    this.#engine = this.#createEngine();
  }

  #createEngine(): AmqpConnection {
    const o = this.options;
    const logger = getLogger();
    const mechanism = this.auth.mechanism();
    const engine = new AmqpConnection({
      hostname: this.hostname,
      ...(o.containerId !== undefined ? { containerId: o.containerId } : {}),
      maxFrameSize: o.maxFrameSize ?? 65536,
      ...(o.channelMax !== undefined ? { channelMax: o.channelMax } : {}),
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      ...(o.properties !== undefined ? { properties: o.properties } : {}),
      ...(o.remoteIdleTimeoutEmptyFrameSendRatio !== undefined
        ? { remoteIdleTimeoutEmptyFrameSendRatio: o.remoteIdleTimeoutEmptyFrameSendRatio }
        : {}),
      ...(o.offeredCapabilities !== undefined ? { offeredCapabilities: o.offeredCapabilities } : {}),
      ...(o.desiredCapabilities !== undefined ? { desiredCapabilities: o.desiredCapabilities } : {}),
      ...(o.closeTimeoutMs !== undefined ? { closeTimeoutMs: o.closeTimeoutMs } : {}),
      ...(mechanism ? { sasl: mechanism } : {}),
      ...(aliased(o, "debug", "networkTrace") === true
        ? { trace: (line: string) => logger.info(`amqp:frames ${line}`) }
        : {}),
    });
    engine.onClose = (error) => {
      this.#state = error ? "error" : "closed";
    };
    return engine;
  }

  /** @internal The protocol engine. */
  get engine(): AmqpConnection {
    return this.#engine;
  }

  /** Our container id (the `containerId` option, or the generated uuid). */
  get containerId(): string {
    return this.#engine.containerId;
  }

  /** Where the connection is in its lifecycle. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The state, read through a call so that TypeScript does not narrow it across awaits. */
  #stateNow(): ConnectionState {
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
   * Connects and opens. Resolves when the peer's OPEN arrived. Idempotent while opening. `timeoutMs`
   * bounds the whole open (connect, SASL, OPEN), in milliseconds; none by default (the transport's
   * `connectTimeoutMs` still bounds the connect).
   * @throws {AuthenticationException} wrong credentials; {@link ClientTimeout} after `timeoutMs`;
   *   transport errors (`AMQP_CONNECT_FAILED`, `AMQP_TLS`…); a `ConnectionClose` if the peer refuses;
   *   `AMQPAbortError` when `signal` aborts, before (nothing is connected) or during the open (the
   *   connection is closed);
   *   {@link AMQPClientShutdown} when `close()` is called meanwhile.
   */
  open(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.#state === "open") return Promise.resolve();
    if (this.#state === "closed" || this.#state === "error" || this.#state === "closing") {
      return Promise.reject(
        this.error ?? new AMQPClientShutdown("connection is closed", { retryable: false }),
      );
    }
    if (!this.#opening && options.signal?.aborted === true) {
      return Promise.reject(abortError(options.signal));
    }
    this.#opening ??= this.#open(options);
    return this.#opening;
  }

  async #open(options: { signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
    this.#state = "opening";
    const { timeoutMs, signal } = options;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const controller = new AbortController();
    this.#connecting = controller;
    try {
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
      // The abort and the timeout end every phase (connect, SASL, OPEN), not only the connect.
      const guards: Promise<never>[] = [];
      if (timeoutMs !== undefined && timeoutMs > 0) {
        guards.push(
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              controller.abort();
              reject(
                new ClientTimeout(`connection open timed out after ${timeoutMs} ms`, { retryable: true }),
              );
            }, timeoutMs);
          }),
        );
      }
      if (signal) {
        guards.push(
          new Promise<never>((_, reject) => {
            onAbort = () => {
              controller.abort(signal.reason);
              reject(abortError(signal));
            };
            signal.addEventListener("abort", onAbort, { once: true });
          }),
        );
      }
      await (guards.length > 0 ? Promise.race([work, ...guards]) : work);
      // close() may have been called since the peer's OPEN arrived: its state wins.
      if (this.#stateNow() === "opening") this.#state = "open";
    } catch (e) {
      if (controller.signal.aborted && controller.signal.reason === CLOSED) {
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
      if (timer) clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      if (this.#connecting === controller) this.#connecting = undefined;
    }
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
   * Follows a redirect (uamqp `redirect`): closes this connection and connects to the host in the
   * redirect error (with `auth`, or the current auth with the new host). No-op if it is the same host.
   * @throws the errors of {@link Connection.open} for the new host.
   */
  async redirect(error: LinkRedirect | ConnectionRedirect, auth?: AMQPAuth): Promise<void> {
    const host = error.hostname ?? error.networkHost;
    if (host === undefined || (host === this.hostname && auth === undefined)) return;
    await this.close();
    this.hostname = host;
    if (auth) {
      this.auth = auth;
    } else {
      this.auth = this.auth.withHost(host, {
        ...this.auth.transport,
        ...(error.port !== undefined ? { port: error.port } : {}),
      });
    }
    this.#engine = this.#createEngine();
    this.#state = "idle";
    this.#opening = undefined;
    await this.open();
  }
}
