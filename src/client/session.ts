/**
 * uamqp's `Session`: a session on a {@link Connection}, carrying senders and receivers.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import type { AmqpSession } from "../engine/session.js";
import type { Connection } from "./connection.js";

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** Transfer frames accepted before the window is reopened. @defaultValue 65536 */
  incomingWindow?: number;
  /** @defaultValue 65536 */
  outgoingWindow?: number;
  /** @defaultValue 4294967295 */
  handleMax?: number;
}

/**
 * @example
 * ```ts
 * const session = new Session(connection, { incomingWindow: 10000 });
 * ```
 */
export class Session implements AsyncDisposable {
  readonly connection: Connection;
  readonly incomingWindow: number;
  readonly outgoingWindow: number;
  readonly handleMax: number;
  readonly #engine: AmqpSession;

  constructor(connection: Connection, options: SessionOptions = {}) {
    this.connection = connection;
    this.#engine = connection.engine.createSession(options);
    this.incomingWindow = this.#engine.incomingWindowSize;
    this.outgoingWindow = this.#engine.outgoingWindowSize;
    this.handleMax = this.#engine.handleMax;
  }

  /** @internal */
  get engine(): AmqpSession {
    return this.#engine;
  }

  /** The error that ended the session, if any. */
  get error(): AMQPError | undefined {
    return this.#engine.error;
  }

  /** Resolves when the peer answered BEGIN. */
  async begun(): Promise<void> {
    await this.#engine.begun();
  }

  /** Ends the session. Never rejects. */
  async close(): Promise<void> {
    await this.#engine.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
