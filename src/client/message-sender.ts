/**
 * uamqp's `MessageSender`: a sending link that sends `Message`s and reports each outcome.
 * `send()` waits for credit (never buffers without bound) and resolves with the outcome:
 * it does not reject for a delivery failure — the outcome says what happened.
 */
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { ClientTimeout, MessageSendFailed } from "../errors/exceptions.js";
import { sendErrorFromOutcome } from "../errors/mapping.js";
import type { DeliveryState } from "../engine/delivery.js";
import type { SenderLink } from "../engine/sender-link.js";
import type { Message } from "../message/message.js";
import { MessageSendResult } from "../message/send-result.js";
import { MessageSenderState, SenderSettleMode, ReceiverSettleMode } from "./link-states.js";
import { openLink } from "./link-open.js";
import type { Session } from "./session.js";
import { toSource, toTarget, type SourceLike, type TargetLike } from "./termini.js";

/** Options of a {@link MessageSender} (uamqp kwargs, camelCase). */
export interface MessageSenderOptions {
  /** Link name. @defaultValue a random name */
  name?: string;
  /** `Settled` sends pre-settled (no outcome). @defaultValue SenderSettleMode.Unsettled */
  sendSettleMode?: SenderSettleMode;
  /**
   * Kept for uamqp parity (exposed as {@link MessageSender.receiveSettleMode}); the ATTACH always asks
   * for receiver-settle-mode `first`. @defaultValue ReceiverSettleMode.PeekLock
   */
  receiveSettleMode?: ReceiverSettleMode;
  /** Largest message this link sends (bytes). @defaultValue 1048576 */
  maxMessageSize?: number;
  /** ATTACH properties of the link. @defaultValue none */
  properties?: Record<string, AMQPValue>;
  /** Desired capabilities of the link (symbols). @defaultValue none */
  desiredCapabilities?: string[];
}

/** The outcome of one send. */
export interface SendOutcome {
  /** `Ok`, `Error` (see `error`), `Timeout` or `Cancelled` (the link or connection failed first, or aborted). */
  readonly result: MessageSendResult;
  /** The peer's delivery state (undefined when pre-settled or not delivered). */
  readonly state?: DeliveryState | undefined;
  /** Why it failed (rejected/released/modified outcome, timeout, link failure). */
  readonly error?: AMQPError | undefined;
}

/**
 * A sending link on a {@link Session} (uamqp's `MessageSender`). ATTACH is sent at construction;
 * `send()` resolves with each message's outcome.
 *
 * @example
 * ```ts
 * const sender = new MessageSender(session, "my-client", "queue-a");
 * await sender.open();
 * const { result, error } = await sender.send(new Message({ body: "hello" }), { timeoutMs: 5000 });
 * if (result !== MessageSendResult.Ok) console.log(error?.code);
 * ```
 */
export class MessageSender implements AsyncDisposable {
  /** The session the link belongs to. */
  readonly session: Session;
  /** The link name. */
  readonly name: string;
  /** uamqp's receive settle mode of the link (PeekLock uses receiver-settle-mode first on the wire). */
  readonly receiveSettleMode: ReceiverSettleMode;
  readonly #link: SenderLink;
  #state: MessageSenderState = MessageSenderState.Idle;
  /** Called when the peer detaches the link (with its error, if any). */
  onDetached: ((error: AMQPError | undefined) => void) | undefined;
  /** Called when the peer grants credit (a FLOW leaves the link with credit). */
  onCredit: (() => void) | undefined;

  /**
   * Attaches a sender link (the ATTACH is sent now; {@link MessageSender.open} waits for the answer).
   * @param source - our terminus: an address string or a `Source`
   * @param target - the node to send to: an address string or a `Target`
   */
  constructor(session: Session, source: SourceLike, target: TargetLike, options: MessageSenderOptions = {}) {
    this.session = session;
    const src = toSource(source);
    const tgt = toTarget(target);
    this.#link = session.engine.attachSender({
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(src ? { source: src } : {}),
      ...(tgt ? { target: tgt } : {}),
      sndSettleMode: options.sendSettleMode ?? SenderSettleMode.Unsettled,
      rcvSettleMode: 0,
      maxMessageSize: options.maxMessageSize ?? 1048576,
      ...(options.properties ? { properties: options.properties } : {}),
      ...(options.desiredCapabilities ? { desiredCapabilities: options.desiredCapabilities } : {}),
    });
    this.receiveSettleMode = options.receiveSettleMode ?? ReceiverSettleMode.PeekLock;
    this.name = this.#link.name;
    this.#state = MessageSenderState.Opening;
    this.#link.onDetach = (error) => {
      this.#state = MessageSenderState.Error;
      this.onDetached?.(error);
    };
    this.#link.onCredit = () => {
      this.onCredit?.();
    };
  }

  /** @internal */
  get link(): SenderLink {
    return this.#link;
  }

  /** Where the link is in its lifecycle. */
  get state(): MessageSenderState {
    return this.#state;
  }

  /** The error that detached the link, if any (sticky). */
  get error(): AMQPError | undefined {
    return this.#link.error;
  }

  /** The peer's max-message-size, once attached. */
  get peerMaxMessageSize(): bigint | undefined {
    return this.#link.remote?.maxMessageSize;
  }

  /** Credit the peer has given. */
  get credit(): number {
    return this.#link.linkCredit;
  }

  /** Sends waiting for credit (or session window) before they can be transferred. */
  get queued(): number {
    return this.#link.queued;
  }

  /**
   * Resolves when the peer attached the link (and the connection is open; opening the link opens
   * the connection). `timeoutMs` bounds the wait, in milliseconds; none by default.
   * @throws the link's error if it was refused (`LinkDetach`…); the connection's open errors;
   *   {@link ClientTimeout} after `timeoutMs`; {@link AMQPAbortError} when `signal` aborts (then
   *   `close()` the link).
   */
  async open(
    options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    try {
      await openLink(this.session.connection, this.#link, options.timeoutMs, options.signal);
      this.#state = MessageSenderState.Open;
    } catch (e) {
      this.#state = MessageSenderState.Error;
      throw e;
    }
  }

  /**
   * Sends a message and resolves with its outcome: `Ok` when accepted (or written, if pre-settled),
   * `Error` for rejected/released/modified (with the mapped error), `Timeout`, or `Cancelled` when
   * the link or connection failed first (or `signal` aborted). Waits for credit. `timeoutMs` bounds
   * the wait for credit and outcome, in milliseconds (none by default); `settled` sends it pre-settled.
   * @throws {EncodeError} when the message cannot be encoded (delivery failures never reject).
   */
  async send(
    message: Message,
    options: { timeoutMs?: number; signal?: AbortSignal; settled?: boolean } = {},
  ): Promise<SendOutcome> {
    const payload = message.encode();
    const max = this.peerMaxMessageSize;
    if (max !== undefined && max > 0n && BigInt(payload.length) > max) {
      return {
        result: MessageSendResult.Error,
        error: new MessageSendFailed(
          `message of ${payload.length} bytes exceeds the peer's max-message-size ${max}`,
          {
            condition: "amqp:link:message-size-exceeded",
            retryable: false,
          },
        ),
      };
    }
    try {
      const state = await this.#link.send(payload, {
        messageFormat: message.messageFormat,
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.settled !== undefined ? { settled: options.settled } : {}),
      });
      if (state === undefined || state.type === "accepted") return { result: MessageSendResult.Ok, state };
      const error = sendErrorFromOutcome(state) ?? new MessageSendFailed(`unexpected outcome ${state.type}`);
      return { result: MessageSendResult.Error, state, error };
    } catch (e) {
      const error = e as AMQPError;
      if (error instanceof ClientTimeout) return { result: MessageSendResult.Timeout, error };
      return { result: MessageSendResult.Cancelled, error };
    }
  }

  /** Detaches (closes) the link. Never rejects. */
  async close(): Promise<void> {
    if (this.#state === MessageSenderState.Idle) return;
    this.#state = MessageSenderState.Closing;
    await this.#link.detach();
    this.#state = MessageSenderState.Idle;
  }

  /** `await using` support: {@link MessageSender.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
