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
  /** @defaultValue SenderSettleMode.Unsettled */
  sendSettleMode?: SenderSettleMode;
  /** @defaultValue ReceiverSettleMode.PeekLock */
  receiveSettleMode?: ReceiverSettleMode;
  /** Largest message this link sends (bytes). @defaultValue 1048576 */
  maxMessageSize?: number;
  properties?: Record<string, AMQPValue>;
  desiredCapabilities?: string[];
}

/** The outcome of one send. */
export interface SendOutcome {
  readonly result: MessageSendResult;
  /** The peer's delivery state (undefined when pre-settled or not delivered). */
  readonly state?: DeliveryState | undefined;
  /** Why it failed (rejected/released/modified outcome, timeout, link failure). */
  readonly error?: AMQPError | undefined;
}

/**
 * @example
 * ```ts
 * const sender = new MessageSender(session, "my-client", "queue-a");
 * await sender.open();
 * const { result } = await sender.send(new Message("hello"));
 * ```
 */
export class MessageSender implements AsyncDisposable {
  readonly session: Session;
  readonly name: string;
  /** uamqp's receive settle mode of the link (PeekLock uses receiver-settle-mode first on the wire). */
  readonly receiveSettleMode: ReceiverSettleMode;
  readonly #link: SenderLink;
  #state: MessageSenderState = MessageSenderState.Idle;
  /** Called when the peer detaches the link (with its error, if any). */
  onDetached: ((error: AMQPError | undefined) => void) | undefined;
  /** Called when the peer grants credit (a FLOW leaves the link with credit). */
  onCredit: (() => void) | undefined;

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

  /** Resolves when the peer attached the link. @throws the link's error if it was refused. */
  async open(options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await openLink(this.session.connection, this.#link, options.timeoutMs);
      this.#state = MessageSenderState.Open;
    } catch (e) {
      this.#state = MessageSenderState.Error;
      throw e;
    }
  }

  /**
   * Sends a message and resolves with its outcome: `Ok` when accepted (or written, if pre-settled),
   * `Error` for rejected/released/modified (with the mapped error), `Timeout`, or `Cancelled` when
   * the link or connection failed first. Waits for credit.
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
