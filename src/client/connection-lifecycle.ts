/**
 * The connection and session under a client's link: where the client connects (its address and
 * auth, switched by redirects), creating the connection or joining a shared one, beginning the
 * session, watching the connection, and tearing them down. Used by `AMQPClient`.
 * @internal
 */
import { Address } from "../address/index.js";
import type { AMQPAuth } from "../auth/amqp-auth.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPConnectionError, ConnectionClose } from "../errors/exceptions.js";
import { resolveAuth } from "./client-auth.js";
import { compact, type AMQPClientOptions } from "./client-options.js";
import type { ClientStatus } from "./client-status.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { redirectAuth, type RedirectError } from "./recovery.js";
import type { Session, SessionOptions } from "./session.js";
import { bounded, settleWithin } from "./waits.js";

/** Bound on closing a connection or session. */
const CLOSE_GRACE_MS = 5000;

/** What the connection lifecycle needs from its client (the link is the client's). */
export interface ConnectionLifecycleHooks {
  /** Creates the client's link on `session` and resolves when it is attached. */
  attachLink(session: Session, signal: AbortSignal): Promise<void>;
  /** Detaches the client's link (bounded by the caller). */
  closeLink(): Promise<void>;
  /** The current connection closed (`error`: why). */
  connectionLost(error: AMQPError): void;
  /** A redirect names a new node address for the link. */
  redirectAddress(address: string): void;
}

/** The connection and session of one client, and where they go. */
export class ConnectionLifecycle {
  readonly #containerId: string;
  readonly #options: AMQPClientOptions;
  readonly #hooks: ConnectionLifecycleHooks;
  #address: Address;
  #auth: AMQPAuth | undefined;
  #connection: Connection | undefined;
  #session: Session | undefined;
  #external = false;

  constructor(
    address: Address,
    containerId: string,
    options: AMQPClientOptions,
    hooks: ConnectionLifecycleHooks,
  ) {
    this.#address = address;
    this.#containerId = containerId;
    this.#options = options;
    this.#hooks = hooks;
    // A node-name address has no host: the auth comes from a given auth or a shared connection.
    if (options.auth || !address.isNode) {
      this.#auth = resolveAuth(address, options.auth, options.transport);
    }
  }

  /** The address the client was created for (or redirected to). */
  get address(): Address {
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

  /** Runs on a connection it does not own (shared with other clients). */
  get external(): boolean {
    return this.#external;
  }

  /** Runs on `connection` (shared with other clients; its auth replaces the client's). */
  join(connection: Connection): void {
    this.#external = true;
    this.#connection = connection;
    this.#auth = connection.auth;
    this.#watch(connection);
  }

  /** Forgets the shared connection given to an open that failed. */
  leave(): void {
    this.#external = false;
    this.#connection = undefined;
  }

  /**
   * Connects what is down (connection, session) and attaches the link, bounded by `timeoutMs`,
   * `epoch` (the client's current epoch) and `signal`.
   */
  async establish(timeoutMs: number, epoch: AbortSignal, signal?: AbortSignal): Promise<void> {
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
    const outer = signal ? AbortSignal.any([epoch, signal]) : epoch;
    const inner = AbortSignal.any([outer, ac.signal]);
    const work = Promise.all([
      // A shared connection is not this client's to abort: only the client's wait ends.
      conn.open(this.#external ? {} : { signal: inner }),
      session.begun(),
      this.#hooks.attachLink(session, inner),
    ]);
    try {
      await bounded(work, { timeoutMs, signal: outer, what: "open" });
    } catch (e) {
      ac.abort();
      throw e;
    }
  }

  /** The connection is open and healthy. */
  isAlive(): boolean {
    const c = this.#connection;
    return c !== undefined && c.state === "open" && c.error === undefined && c.engine.isOpen;
  }

  /**
   * Closes the link, the session and (unless shared) the connection, each bounded. Never rejects.
   */
  async teardown(): Promise<void> {
    const conn = this.#connection;
    const session = this.#session;
    this.#session = undefined;
    // DETACH goes out now; on an owned connection the CLOSE ends everything without waiting for
    // the peer's DETACH, on a shared one the link and the session are ended one by one.
    const linkClosed = this.#hooks.closeLink();
    if (!this.#external) {
      this.#connection = undefined;
      if (conn) await settleWithin(conn.close(), CLOSE_GRACE_MS);
      await settleWithin(linkClosed, CLOSE_GRACE_MS);
    } else {
      await settleWithin(linkClosed, CLOSE_GRACE_MS);
      if (session) await settleWithin(session.close(), CLOSE_GRACE_MS);
    }
  }

  /** Closes a half-dead connection (and forgets its session) before the next attempt. */
  async dropConnection(): Promise<void> {
    const conn = this.#connection;
    this.#connection = undefined;
    this.#session = undefined;
    if (conn) await settleWithin(conn.close(), CLOSE_GRACE_MS);
  }

  /** The auth. @throws {AMQPConnectionError} when the client has none. */
  requireAuth(): AMQPAuth {
    const auth = this.#auth;
    if (!auth) throw new AMQPConnectionError("the client has no auth", { retryable: false });
    return auth;
  }

  /**
   * Switches to the redirect's host (with `auth`, or the current credentials) and address, telling
   * the link of a new address. Returns the `redirected` status to report.
   */
  redirect(error: RedirectError, auth?: AMQPAuth): ClientStatus {
    this.#auth = redirectAuth(this.requireAuth(), error, auth);
    if (error.address !== undefined) {
      this.#address = Address.from(error.address);
      this.#hooks.redirectAddress(error.address);
    }
    const current = this.requireAuth();
    return {
      type: "redirected",
      hostname: current.hostname,
      port: current.port,
      address: error.address,
      error,
    };
  }

  #watch(conn: Connection): void {
    void conn.closed().then((err) => {
      if (conn !== this.#connection) return;
      this.#hooks.connectionLost(
        err ??
          new ConnectionClose("The peer closed the connection.", {
            condition: "amqp:connection:forced",
            description: "The peer closed the connection.",
          }),
      );
    });
  }

  #connectionOptions(): ConnectionOptions {
    const o = this.#options;
    return compact<ConnectionOptions>({
      containerId: this.#containerId,
      maxFrameSize: o.maxFrameSize,
      channelMax: o.channelMax,
      idleTimeoutMs: o.idleTimeout,
      properties: o.properties,
      remoteIdleTimeoutEmptyFrameSendRatio: o.remoteIdleTimeoutEmptyFrameSendRatio,
      debug: o.debug,
    });
  }

  #sessionOptions(): SessionOptions {
    const o = this.#options;
    return compact<SessionOptions>({
      incomingWindow: o.incomingWindow,
      outgoingWindow: o.outgoingWindow,
      handleMax: o.handleMax,
    });
  }
}
