/**
 * uamqp's `Session`: a session on a {@link Connection}, carrying senders and receivers.
 */
import { Source, Target } from "../address/index.js";
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPConnectionError } from "../errors/exceptions.js";
import type { AmqpSession } from "../engine/session.js";
import type { Connection } from "./connection.js";
import { MessageReceiver, type MessageReceiverOptions } from "./message-receiver.js";
import { MessageSender, type MessageSenderOptions } from "./message-sender.js";
import type { SourceLike, TargetLike } from "./termini.js";

/** How long and whether to wait in {@link Session.createSender} / {@link Session.createReceiver}. */
export interface CreateLinkOptions {
  /** Bound on the attach (ms). @defaultValue none */
  readonly timeoutMs?: number | undefined;
  /** Stops the wait with an `AMQPAbortError` (the link is then closed). */
  readonly signal?: AbortSignal | undefined;
}

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** Transfer frames accepted before the window is reopened. @defaultValue 65536 */
  incomingWindow?: number;
  /** Outgoing window announced in BEGIN (transfer frames). @defaultValue 65536 */
  outgoingWindow?: number;
  /** Highest link handle of the session. @defaultValue 4294967295 */
  handleMax?: number;
  /**
   * Called when the peer answers the ATTACH of a link of this session (uamqp `on_attach`). When
   * the peer's ATTACH lacks the source (receivers) or target (senders), `error` is an
   * `AMQPConnectionError`; the link's `open()` then rejects once the peer's DETACH arrives.
   */
  onAttach?: (info: AttachInfo) => void;
}

/** What the peer attached (uamqp's `on_attach` arguments). */
export interface AttachInfo {
  /** Name of the link. */
  readonly linkName: string;
  /** Our role on the link (`sender` for a {@link MessageSender}). */
  readonly role: "sender" | "receiver";
  /** The source in the peer's ATTACH. */
  readonly source: Source | undefined;
  /** The target in the peer's ATTACH (undefined also for a coordinator target). */
  readonly target: Target | undefined;
  /** The peer's ATTACH properties. */
  readonly properties: Record<string, AMQPValue> | undefined;
  /** Set (`AMQPConnectionError`, `amqp:not-found`) when the peer's ATTACH lacks the terminus it must carry. */
  readonly error: AMQPError | undefined;
}

/**
 * A session on a {@link Connection} (uamqp's `Session`), carrying {@link MessageSender}s and
 * {@link MessageReceiver}s. BEGIN is sent at once (pipelined behind the connection's OPEN).
 *
 * @example
 * ```ts
 * const session = new Session(connection, { incomingWindow: 10000 });
 * await session.begun();
 * ```
 */
export class Session implements AsyncDisposable {
  /** The connection the session runs on. */
  readonly connection: Connection;
  /** Our incoming window (transfer frames). */
  readonly incomingWindow: number;
  /** Our outgoing window (transfer frames). */
  readonly outgoingWindow: number;
  /** Our highest link handle. */
  readonly handleMax: number;
  readonly #engine: AmqpSession;

  /** Begins a session on `connection` (same as {@link Connection.createSession}). */
  constructor(connection: Connection, options: SessionOptions = {}) {
    this.connection = connection;
    this.#engine = connection.engine.createSession(options);
    const onAttach = options.onAttach;
    if (onAttach) {
      this.#engine.onLinkAttached = (link, attach) => {
        const missing = link.role === "sender" ? attach.target === undefined : attach.source === undefined;
        const target = attach.target?.type === "target" ? attach.target : undefined;
        onAttach({
          linkName: link.name,
          role: link.role,
          source: attach.source ? Source.fromTerminus(attach.source) : undefined,
          target: target ? Target.fromTerminus(target) : undefined,
          properties: attach.properties,
          error: missing
            ? new AMQPConnectionError(
                `the peer attached link ${link.name} without a ${link.role === "sender" ? "target" : "source"}`,
                { condition: "amqp:not-found", retryable: false },
              )
            : undefined,
        });
      };
    }
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

  /** Resolves when the peer answered BEGIN. @throws the session's or connection's error if it ended first. */
  async begun(): Promise<void> {
    await this.#engine.begun();
  }

  /**
   * The spec's `createSender()`: a {@link MessageSender} to `target`, attached. Our end of the link is
   * `options.source`, else the connection's container id.
   * @throws the attach failure (`LinkDetach`…), {@link ClientTimeout}, `AMQPAbortError`; the link is
   *   closed then.
   * @example
   * ```ts
   * const sender = await session.createSender("orders", { timeoutMs: 10_000 });
   * ```
   */
  async createSender(
    target: TargetLike,
    options: MessageSenderOptions & CreateLinkOptions & { readonly source?: SourceLike } = {},
  ): Promise<MessageSender> {
    const sender = new MessageSender(this, options.source ?? this.connection.containerId, target, options);
    await opened(sender, options);
    return sender;
  }

  /**
   * The spec's `createReceiver()`: a {@link MessageReceiver} from `source`, attached (credit per
   * `prefetch` / `creditMode`). Our end of the link is `options.target`, else the container id.
   * @throws as {@link Session.createSender}.
   */
  async createReceiver(
    source: SourceLike,
    options: MessageReceiverOptions & CreateLinkOptions & { readonly target?: TargetLike } = {},
  ): Promise<MessageReceiver> {
    const receiver = new MessageReceiver(
      this,
      source,
      options.target ?? this.connection.containerId,
      options,
    );
    await opened(receiver, options);
    return receiver;
  }

  /** Ends the session. Never rejects. */
  async close(): Promise<void> {
    await this.#engine.end();
  }

  /** `await using` support: {@link Session.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Opens `link` within `options`; starts closing it when the open fails. */
async function opened(link: MessageSender | MessageReceiver, options: CreateLinkOptions): Promise<void> {
  try {
    await link.open(options);
  } catch (e) {
    // Closed without waiting: a peer that never answered the ATTACH may not answer the DETACH
    // either (the engine gives up on it after its own bound), and the caller wants the error now.
    void link.close();
    throw e;
  }
}
