/**
 * uamqp's `SendClient`: queue messages, send them pipelined over one sender link, track each
 * message's `state`, `retries` and `onSendComplete` (spec §3.2.1), retry message-level failures per
 * the `ErrorPolicy` with timer backoff, and — beyond uamqp — resend what was in flight when the
 * link or connection was lost (at-least-once). The per-message bookkeeping (queue, in flight,
 * backoff timers, `msgTimeout` sweep, waiting calls) is in `pending-messages.ts`.
 */
import { randomUUID } from "node:crypto";
import { Target } from "../address/index.js";
import type { AMQPError } from "../errors/amqp-error.js";
import {
  AMQPAbortError,
  AMQPClientShutdown,
  ClientMessageError,
  ClientTimeout,
  MessageSendFailed,
} from "../errors/exceptions.js";
import type { BatchMessage } from "../message/batch.js";
import type { Message } from "../message/message.js";
import { MessageState } from "../message/message-state.js";
import { MessageSendResult } from "../message/send-result.js";
import { AMQPClient } from "./amqp-client.js";
import { compact, type SendClientOptions } from "./client-options.js";
import { MessageSenderState, SenderSettleMode } from "./link-states.js";
import { MessageSender, type MessageSenderOptions, type SendOutcome } from "./message-sender.js";
import { PendingMessages } from "./pending-messages.js";
import type { Session } from "./session.js";
import { abortError, asAMQPError, bounded } from "./waits.js";
import { aliased } from "./option-aliases.js";

/** Options of {@link SendClient.sendAllMessages} and {@link SendClient.sendMessage}. */
export interface SendCallOptions {
  /** Close the client when the call is done. @defaultValue true for `sendAllMessages`, false for `sendMessage` */
  readonly closeOnDone?: boolean | undefined;
  /** Stops waiting; messages of the call not transferred yet are cancelled (`sendMessage`). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Sends messages to one target (uamqp's `SendClient`).
 *
 * @example
 * ```ts
 * const client = new SendClient("amqp://localhost:5672/orders", { msgTimeout: 10_000 });
 * client.queueMessage(new Message({ body: "a" }), new Message({ body: "b" }));
 * const states = await client.sendAllMessages(); // [MessageState.SendComplete, MessageState.SendComplete]
 *
 * await using one = new SendClient("amqp://localhost:5672/orders");
 * await one.sendMessage(new Message({ body: "c" })); // throws ClientMessageError on failure
 * ```
 */
export class SendClient extends AMQPClient {
  /** Per-message deadline in ms from queueing (0 = none). */
  readonly msgTimeout: number;
  /** The link's sender settle mode (`Settled`: messages are sent pre-settled, at most once). */
  readonly sendSettleMode: SenderSettleMode;
  /** Messages in flight (transferred, outcome pending) at most. */
  readonly maxInFlight: number;
  #target: Target;
  #sender: MessageSender | undefined;
  #linkGen = 0;
  readonly #pending: PendingMessages;

  /**
   * Creates the client; it connects on the first send (or {@link AMQPClient.open}).
   * @param target - the node to send to: a URL, or a {@link Target}
   * @throws {InvalidAddressError} for an unusable URL; {@link RangeError} for a negative or
   *   non-finite `msgTimeout`.
   */
  constructor(target: string | Target, options: SendClientOptions = {}) {
    const t = typeof target === "string" ? Target.parse(target) : target;
    super(t, options);
    this.#target = t;
    this.msgTimeout = aliased(options, "msgTimeout", "msgTimeoutMs") ?? 0;
    this.sendSettleMode = options.sendSettleMode ?? SenderSettleMode.Unsettled;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1000);
    if (!Number.isFinite(this.msgTimeout) || this.msgTimeout < 0) {
      throw new RangeError(`msgTimeout must be a number of ms >= 0, got ${this.msgTimeout}`);
    }
    this.#pending = new PendingMessages(this.msgTimeout, () => {
      this.#pump();
    });
  }

  /** The target the client sends to. */
  get target(): Target {
    return this.#target;
  }

  /** The sender link (uamqp's `message_handler`), once open. */
  get messageHandler(): MessageSender | undefined {
    return this.#sender;
  }

  /** Messages queued or waiting for their outcome, in queue order (uamqp's `pending_messages`). */
  get pendingMessages(): Message[] {
    return this.#pending.list();
  }

  /** True while messages are pending (uamqp's `messages_pending()`). */
  get hasPendingMessages(): boolean {
    return this.#pending.size > 0;
  }

  // ---- queueing and sending ----------------------------------------------------------------------

  /**
   * Queues messages (a `BatchMessage` becomes its envelopes). Sent when the client is open: at once
   * if it is, else by `sendAllMessages()`, `sendMessage()`, `wait()` or `open()`.
   *
   * @throws {MessageAlreadySettled} for a message that was already sent; the recorded error of a
   *   failed one; {@link MessageContentTooLarge} for a batch that does not fit; `TypeError` for a
   *   received message; {@link AMQPClientShutdown} on a closed client.
   */
  queueMessage(...messages: (Message | BatchMessage)[]): void {
    this.#enqueue(this.#gather(messages));
  }

  #gather(messages: (Message | BatchMessage)[]): Message[] {
    if (this.state === "closing" || this.state === "closed" || this.state === "failed") {
      throw this.closedError();
    }
    const out: Message[] = [];
    for (const m of messages) out.push(...m.gather());
    return out;
  }

  #enqueue(messages: Message[], pump = true): void {
    this.#pending.add(messages);
    if (pump) this.#pump();
  }

  /**
   * Opens the client, sends every queued message and resolves with the final state of each
   * (`SendComplete` / `SendFailed`) once all are done. Individual failures do not reject.
   *
   * @throws the connection or link error that stopped the client; {@link AMQPAbortError};
   *   {@link AMQPClientShutdown} when the client is closed meanwhile.
   */
  async sendAllMessages(options: SendCallOptions = {}): Promise<MessageState[]> {
    const snapshot = this.#pending.list();
    try {
      await this.open({ signal: options.signal });
      this.#pump();
      await this.#waitFor(snapshot, options.signal);
      return snapshot.map((m) => m.state);
    } finally {
      if (options.closeOnDone ?? true) await this.close();
    }
  }

  /**
   * Sends one message (or the envelopes of a batch) and resolves when it is accepted.
   *
   * @throws {ClientMessageError} when it failed: `numberFailed`, `totalMessages`, `failedMessages`,
   *   `cause` = the last failure (a `MessageSendFailed`, a timeout…); the client's failure error;
   *   {@link AMQPAbortError} (unsent envelopes are cancelled).
   */
  async sendMessage(message: Message | BatchMessage, options: SendCallOptions = {}): Promise<void> {
    const messages = this.#gather([message]);
    const signal = options.signal;
    // Aborted already: the messages are cancelled below without being transferred.
    this.#enqueue(messages, signal?.aborted !== true);
    try {
      if (signal?.aborted === true) throw abortError(signal);
      await this.open({ signal });
      this.#pump();
      await this.#waitFor(messages, options.signal);
    } catch (e) {
      if (e instanceof AMQPAbortError) {
        for (const m of messages) {
          if (m.state === MessageState.WaitingToBeSent)
            this.#pending.complete(m, MessageSendResult.Cancelled, e);
        }
      }
      throw e;
    } finally {
      if (options.closeOnDone === true) await this.close();
    }
    const failed = messages.filter((m) => m.state === MessageState.SendFailed);
    if (failed.length === 0) return;
    const failedMessages = new Map<Message, AMQPError>();
    for (const m of failed) failedMessages.set(m, m.sendError ?? new MessageSendFailed("send failed"));
    throw ClientMessageError.wrap<Message>(failed[failed.length - 1]!.sendError, {
      failedMessages,
      totalMessages: messages.length,
      numberFailed: failed.length,
    });
  }

  /**
   * Opens the client if needed and waits until no message is pending (uamqp's `wait()`).
   * Resolves whether the client is still running.
   * @throws the client's failure error; {@link AMQPAbortError}; {@link AMQPClientShutdown} on a closed client.
   */
  async wait(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    await this.open({ signal: options.signal });
    this.#pump();
    await this.#waitFor(undefined, options.signal);
    return this.isOpen;
  }

  #waitFor(messages: Message[] | undefined, signal: AbortSignal | undefined): Promise<void> {
    return this.#pending.waitFor(messages, signal, () => {
      const state = this.state;
      const stopped = state === "failed" || state === "closed" || state === "closing";
      return stopped ? this.closedError() : undefined;
    });
  }

  // ---- the pipeline ------------------------------------------------------------------------------

  #pump(): void {
    const sender = this.#sender;
    if (!this.isReady || !sender || sender.state !== MessageSenderState.Open) return;
    const pending = this.#pending;
    // Only what the link's credit lets out now: a message waiting for credit stays queued here,
    // where an abort or its deadline still cancels it before it is transferred.
    while (pending.inFlightCount < this.maxInFlight && sender.queued < sender.credit) {
      const m = pending.nextReady();
      if (!m) break;
      this.#dispatch(m, sender);
    }
  }

  #dispatch(m: Message, sender: MessageSender): void {
    let timeoutMs: number | undefined;
    if (this.msgTimeout > 0) {
      timeoutMs = this.msgTimeout - (Date.now() - m.idleTime);
      if (timeoutMs <= 0) {
        this.#pending.complete(m, MessageSendResult.Timeout, new ClientTimeout("Message send timed out."));
        return;
      }
    }
    this.#pending.markInFlight(m);
    const gen = this.#linkGen;
    sender.send(m, timeoutMs !== undefined ? { timeoutMs } : {}).then(
      (outcome) => {
        this.#onOutcome(m, outcome, gen);
      },
      (e: unknown) => {
        this.#onOutcome(m, { result: MessageSendResult.Error, error: asAMQPError(e) }, gen);
      },
    );
  }

  #onOutcome(m: Message, outcome: SendOutcome, gen: number): void {
    this.#pending.landed(m);
    if (!this.#pending.has(m) || m.state !== MessageState.WaitingForSendAck) {
      this.#pump();
      return;
    }
    switch (outcome.result) {
      case MessageSendResult.Ok:
        this.markProgress();
        this.#pending.complete(m, MessageSendResult.Ok, undefined);
        break;
      case MessageSendResult.Timeout:
        this.#pending.complete(m, MessageSendResult.Timeout, outcome.error);
        break;
      case MessageSendResult.Cancelled:
        this.#cancelled(m, outcome.error, gen);
        break;
      case MessageSendResult.Error:
        if (outcome.state !== undefined) this.markProgress();
        this.#failedAttempt(m, outcome.error ?? new MessageSendFailed("Message send failed."));
        break;
    }
    this.#pump();
  }

  /** The link went away under an in-flight message: send it again after recovery. */
  #cancelled(m: Message, error: AMQPError | undefined, gen: number): void {
    if (this.state === "closing" || this.state === "closed" || this.state === "failed") {
      this.#pending.complete(m, MessageSendResult.Cancelled, error);
      return;
    }
    const sender = this.#sender;
    this.#pending.markLost(
      m,
      gen === this.#linkGen && this.isReady && sender?.state === MessageSenderState.Open,
    );
  }

  /** A message-level failure: retry per the error policy (with timer backoff), or fail it. */
  #failedAttempt(m: Message, error: AMQPError): void {
    const policy = this.errorPolicy;
    const action = policy.actionFor(error);
    error.action ??= action;
    if (!action.retry || m.retries >= policy.maxRetries) {
      this.#pending.complete(m, MessageSendResult.Error, error);
      return;
    }
    if (action.incrementRetries) m.retries++;
    if (action.backoffMs <= 0) this.#pending.requeue(m);
    else this.#pending.requeueAfter(m, action.backoffMs);
  }

  // ---- link lifecycle (hooks of AMQPClient) ------------------------------------------------------

  /** @internal */
  protected override async attachLink(session: Session, signal: AbortSignal): Promise<void> {
    const o = this.options;
    const options = compact<MessageSenderOptions>({
      name: `sender-link-${randomUUID()}`,
      sendSettleMode: this.sendSettleMode,
      maxMessageSize: o.maxMessageSize,
      properties: o.linkProperties,
      desiredCapabilities: o.desiredCapabilities,
    });
    const sender = new MessageSender(session, this.clientName, this.#target, options);
    const gen = ++this.#linkGen;
    this.#sender = sender;
    sender.onDetached = (error) => {
      if (gen === this.#linkGen) this.linkFailed(error);
    };
    sender.onCredit = () => {
      if (gen === this.#linkGen) this.#pump();
    };
    try {
      await bounded(sender.open(), { signal, what: "sender attach" });
    } finally {
      this.reportAttach(sender.link);
    }
  }

  /** @internal */
  protected override async closeLink(): Promise<void> {
    const sender = this.#sender;
    this.#sender = undefined;
    this.#linkGen++;
    if (sender) await sender.close();
  }

  /** @internal */
  protected override onOpened(): void {
    this.#pump();
  }

  /** @internal */
  protected override onRecovered(): number {
    const resent = this.#pending.relinked();
    this.#pump();
    return resent;
  }

  /** @internal */
  protected override onFatal(error: AMQPError): void {
    this.#pending.endAll(error, MessageSendResult.Error);
  }

  /** @internal */
  protected override onClosing(): void {
    this.#pending.endAll(
      new AMQPClientShutdown("The client was closed before the message was sent.", { retryable: false }),
      MessageSendResult.Cancelled,
    );
  }

  /** @internal */
  protected override applyRedirectAddress(address: string): void {
    this.#target = Target.from(address);
  }
}
