/**
 * uamqp's `SendClient` (docs/clients.md, "SendClient"): the sender link (a `ClientLink` of
 * `AMQPClient`) and the pipeline; the per-message bookkeeping is `pending-messages.ts`.
 */
import { randomUUID } from "node:crypto";
import { Target } from "../address/index.js";
import { clientSetup, connectionStringNames } from "../auth/connection-string.js";
import type { AMQPError } from "../errors/amqp-error.js";
import {
  AMQPAbortError,
  AMQPClientShutdown,
  ClientMessageError,
  ClientTimeout,
  MessageSendFailed,
} from "../errors/exceptions.js";
import type { BatchMessage } from "../message/batch.js";
import { dropMeasure, type Message } from "../message/message.js";
import { MessageState } from "../message/message-state.js";
import { MessageSendResult } from "../message/send-result.js";
import { decide } from "../policy/error-policy.js";
import { SIGNAL_OPTIONS, abortError, bounded, deadline, type SignalOptions } from "../policy/wait.js";
import { checkFinite, checkInteger, compact } from "../util/options.js";
import { tickNow } from "../util/tick-clock.js";
import { AMQPClient } from "./amqp-client.js";
import type { ClientLinkEvent, ClientLinkHost } from "./client-link.js";
import {
  DEFAULTS,
  SEND_CALL_OPTIONS,
  SEND_CLIENT_OPTIONS,
  WAIT_FOR_ROOM_OPTIONS,
  checkOptions,
  type MessageSenderOptions,
  type SendCallOptions,
  type SendClientOptions,
  type SendClientConnectionStringOptions,
  type WaitForRoomOptions,
} from "./client-options.js";
import { MessageSenderState, SenderSettleMode } from "./link-states.js";
import { MessageSender, type SendOutcome } from "./message-sender.js";
import { PendingMessages, type PendingMessage } from "./pending-messages.js";
import type { Session } from "./session.js";

const SEND_CLIENT_CONNECTION_STRING_OPTIONS = connectionStringNames(SEND_CLIENT_OPTIONS);

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
  /** Per-message deadline in ms from queueing (0 = none). @defaultValue 60000 */
  readonly msgTimeout: number;
  /** The link's sender settle mode (`Settled`: messages are sent pre-settled, at most once). */
  readonly sendSettleMode: SenderSettleMode;
  /** Messages in flight (transferred, outcome pending) at most: the send side's one in-flight limit. */
  readonly maxInFlight: number;
  /** Most messages pending at once (`Infinity`: no bound). @defaultValue 100000 */
  readonly maxPendingMessages: number;
  /** Most encoded bytes pending at once (`Infinity`: no bound). @defaultValue 67108864 (64 MiB) */
  readonly maxPendingBytes: number;
  #target: Target;
  /** The sender link: the outcomes and events of an older one are stale. */
  #sender: MessageSender | undefined;
  readonly #pending: PendingMessages;
  readonly #host: ClientLinkHost;

  /**
   * Creates the client; it connects on the first send (or {@link AMQPClient.open}).
   * @param target - the node to send to: a URL, or a {@link Target}
   * @throws {InvalidAddressError} for an unusable URL; {@link TypeError} for an unknown option;
   *   {@link RangeError} for a negative or non-finite `msgTimeout`, or a `maxPendingMessages` /
   *   `maxPendingBytes` that is neither an integer >= 1 nor `Infinity`.
   */
  constructor(target: string | Target, options: SendClientOptions = {}) {
    checkOptions(options, SEND_CLIENT_OPTIONS, "SendClient");
    const t = typeof target === "string" ? Target.parse(target) : target;
    super(t, options);
    this.#target = t;
    this.msgTimeout = checkFinite("msgTimeout", options.msgTimeout ?? DEFAULTS.msgTimeout, 0);
    this.sendSettleMode = options.sendSettleMode ?? SenderSettleMode.Unsettled;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULTS.maxInFlight);
    const { maxPendingMessages = DEFAULTS.maxPendingMessages, maxPendingBytes = DEFAULTS.maxPendingBytes } =
      options;
    this.maxPendingMessages = checkInteger("maxPendingMessages", maxPendingMessages, 1, true);
    this.maxPendingBytes = checkInteger("maxPendingBytes", maxPendingBytes, 1, true);
    this.#pending = new PendingMessages(
      this,
      () => {
        this.#pump();
      },
      () => (this.#host.stopped() ? this.#host.closedError() : undefined),
    );
    this.#host = this.plugLink({
      attach: (session, signal) => this.#attach(session, signal),
      detach: () => this.#detach(),
      on: (event) => this.#on(event),
    });
  }

  /**
   * A client for an Azure connection string, with a `SASTokenAuth` from its key (docs/clients.md,
   * "Azure: token auth over CBS, connection strings").
   * @param options - the client's options (no `auth`), `entityPath`, `tokenAuth`
   * @throws {ConnectionStringError} for a malformed string; {@link TypeError} for an unknown option
   *   or no entity.
   */
  static override fromConnectionString(
    connectionString: string,
    options: SendClientConnectionStringOptions = {},
  ): SendClient {
    const setup = clientSetup<SendClientOptions>(
      connectionString,
      options,
      SEND_CLIENT_CONNECTION_STRING_OPTIONS,
      "SendClient",
    );
    return new SendClient(setup.address, setup.options);
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

  /** The encoded bytes of the pending messages, as measured when each was queued. */
  get pendingBytes(): number {
    return this.#pending.bytes;
  }

  /**
   * Queues messages (a `BatchMessage` becomes its envelopes), sent at once on an open client, else
   * once it opens. A call beyond `maxPendingMessages` / `maxPendingBytes` queues none of them (see
   * {@link SendClient.waitForRoom}; docs/clients.md has the loop).
   * @throws {PendingLimitExceeded} when they do not fit now; {@link MessageAlreadySettled},
   *   {@link MessageContentTooLarge}, `EncodeError`, `TypeError`, {@link AMQPClientShutdown}: see
   *   docs/clients.md. Nothing of the call is queued when it throws.
   */
  queueMessage(...messages: (Message | BatchMessage)[]): void {
    try {
      this.#pending.add(this.#gather(messages));
      this.#pump();
    } finally {
      // A message queued alone was measured for a transfer at once (see `PendingMessages.add`).
      dropMeasure();
    }
  }

  /**
   * Resolves once `messages` messages of `bytes` encoded bytes fit under `maxPendingMessages` and
   * `maxPendingBytes`, calls served in order; opens the client if needed, so that pending messages
   * drain. Another producer may take the room first: then queueing throws again.
   * @param options - `messages` (1), `bytes` (0), `timeout` (ms, 0 or unset = none), `signal`
   * @throws {ClientTimeout}; {@link AMQPAbortError}; the client's failure error or
   *   {@link AMQPClientShutdown}; `RangeError` for counts that are not integers >= 0 or `messages`
   *   above `maxPendingMessages` (no room ever comes); `TypeError` for an unknown option.
   */
  async waitForRoom(options: WaitForRoomOptions = {}): Promise<void> {
    checkOptions(options, WAIT_FOR_ROOM_OPTIONS, "SendClient.waitForRoom()");
    const { messages = 1, bytes = 0 } = options;
    checkInteger("waitForRoom: messages", messages, 0);
    checkInteger("waitForRoom: bytes", bytes, 0);
    if (messages > this.maxPendingMessages) {
      throw new RangeError(
        `waitForRoom: room for ${messages} messages never comes, maxPendingMessages is ${this.maxPendingMessages}`,
      );
    }
    if (this.#host.stopped()) throw this.#host.closedError();
    if (options.signal?.aborted === true) throw abortError(options.signal);
    if (this.#pending.hasRoom(messages, bytes)) return;
    const limit = deadline({ timeout: options.timeout, signal: options.signal, what: "waitForRoom()" });
    // Ends the wait for room when the open below fails.
    const done = new AbortController();
    const signal = limit.signal ? AbortSignal.any([limit.signal, done.signal]) : done.signal;
    try {
      const room = this.#pending.waitForRoom(messages, bytes, signal);
      room.catch(() => undefined);
      await this.open({ signal: limit.signal });
      this.#pump();
      await room;
    } catch (e) {
      throw e instanceof AMQPAbortError && limit.expired ? limit.expired : e;
    } finally {
      done.abort();
      limit.clear();
    }
  }

  #gather(messages: (Message | BatchMessage)[]): Message[] {
    if (this.#host.stopped()) throw this.#host.closedError();
    return messages.length === 1 ? messages[0]!.gather() : messages.flatMap((m) => m.gather());
  }

  /**
   * Opens the client, sends every queued message and resolves with the final state of each
   * (`SendComplete` / `SendFailed`) once all are done. Individual failures do not reject.
   * @throws the connection or link error that stopped the client; {@link AMQPAbortError};
   *   {@link AMQPClientShutdown} when the client is closed meanwhile; `TypeError` for an unknown option.
   */
  async sendAllMessages(options: SendCallOptions = {}): Promise<MessageState[]> {
    checkOptions(options, SEND_CALL_OPTIONS, "SendClient.sendAllMessages()");
    const snapshot = this.#pending.list();
    const upTo = this.#pending.lastQueued;
    try {
      await this.open({ signal: options.signal });
      this.#pump();
      await this.#pending.waitForQueued(upTo, options.signal);
      return snapshot.map((m) => m.state);
    } finally {
      if (options.closeOnDone ?? true) await this.close();
    }
  }

  /**
   * Sends one message (or the envelopes of a batch) and resolves when it is accepted.
   * @throws {ClientMessageError} when it failed (`cause`: the last failure); the errors of
   *   `queueMessage` (nothing is queued then); the client's failure error; {@link AMQPAbortError}
   *   (unsent envelopes are cancelled); `TypeError` for an unknown option.
   */
  async sendMessage(message: Message | BatchMessage, options: SendCallOptions = {}): Promise<void> {
    checkOptions(options, SEND_CALL_OPTIONS, "SendClient.sendMessage()");
    const messages = this.#gather([message]);
    const signal = options.signal;
    try {
      this.#pending.add(messages);
      // Aborted already: the messages are cancelled below without being transferred.
      if (signal?.aborted !== true) this.#pump();
    } finally {
      dropMeasure();
    }
    try {
      if (signal?.aborted === true) throw abortError(signal);
      await this.open({ signal });
      this.#pump();
      await this.#pending.waitFor(messages, signal);
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
   * Opens the client if needed and waits until no message is pending (uamqp's `wait()`); resolves
   * whether the client is still running.
   * @throws as {@link SendClient.sendAllMessages} does.
   */
  async wait(options: SignalOptions = {}): Promise<boolean> {
    checkOptions(options, SIGNAL_OPTIONS, "SendClient.wait()");
    await this.open({ signal: options.signal });
    this.#pump();
    await this.#pending.waitFor(undefined, options.signal);
    return this.isOpen;
  }

  #pump(): void {
    const sender = this.#sender;
    if (!this.isReady || !sender || sender.state !== MessageSenderState.Open) return;
    const pending = this.#pending;
    // Only what the credit lets out: a message waiting for credit stays here, still cancellable.
    let now = 0;
    while (pending.inFlightCount < this.maxInFlight && sender.queued < sender.credit) {
      const p = pending.nextReady();
      if (!p) break;
      // The clock of the tick: a message expiring during it is the sweep's.
      if (now === 0) now = tickNow();
      if (this.msgTimeout > 0 && now - p.message.idleTime >= this.msgTimeout) {
        // Its onSendComplete is the application's code: a message measured to be written next is
        // encoded again.
        dropMeasure();
        pending.end(p, MessageSendResult.Timeout, new ClientTimeout("Message send timed out."));
        continue;
      }
      pending.markInFlight(p);
      // No signal per transfer (an abort listener each): the pending messages' sweep ends it.
      sender.transfer(p.message, p.size, p);
    }
  }

  #onOutcome(p: PendingMessage, outcome: SendOutcome, sender: MessageSender): void {
    if (this.#pending.landed(p)) {
      const result = outcome.result;
      if (result === MessageSendResult.Ok || outcome.state !== undefined) this.#host.progressed();
      if (result === MessageSendResult.Error) {
        // A message-level failure: retried per the error policy (timer backoff), or the end.
        const error = outcome.error ?? new MessageSendFailed("Message send failed.");
        const action = decide(this.errorPolicy, error);
        const retry = action.retry && p.message.retries < this.errorPolicy.maxRetries;
        if (retry) this.#pending.retry(p, action.incrementRetries, action.backoffMs);
        else this.#pending.end(p, result, error);
      } else if (result === MessageSendResult.Cancelled && !this.#host.stopped()) {
        // The link went away under it: sent again after the recovery (now, if the link is back).
        const ready = sender === this.#sender && this.isReady && sender.state === MessageSenderState.Open;
        this.#pending.markLost(p, ready);
      } else {
        this.#pending.end(p, result, outcome.error);
      }
    }
    this.#pump();
  }

  async #attach(session: Session, signal: AbortSignal): Promise<void> {
    const o = this.options;
    const options = compact<MessageSenderOptions>({
      name: `sender-link-${randomUUID()}`,
      sendSettleMode: this.sendSettleMode,
      maxMessageSize: o.maxMessageSize,
      properties: o.linkProperties,
      desiredCapabilities: o.desiredCapabilities,
    });
    const sender = new MessageSender(session, this.clientName, this.#target, options);
    this.#sender = sender;
    sender.onDetached = (error) => {
      if (sender === this.#sender) this.#host.failed(error);
    };
    sender.onCredit = () => {
      if (sender === this.#sender) this.#pump();
    };
    sender.onOutcome = (p, outcome) => {
      this.#onOutcome(p as PendingMessage, outcome, sender);
    };
    await bounded(sender.open(), { signal, what: "sender attach" });
  }

  async #detach(): Promise<void> {
    const sender = this.#sender;
    this.#sender = undefined;
    if (sender) await sender.close();
  }

  #on(event: ClientLinkEvent): number {
    switch (event.type) {
      case "opened":
        this.#pump();
        return 0;
      case "lost":
        // In-flight messages come back Cancelled and are sent again once the link is back.
        return 0;
      case "recovered": {
        const resent = this.#pending.relinked();
        this.#pump();
        return resent;
      }
      case "fatal":
        this.#pending.endAll(event.error, MessageSendResult.Error);
        return 0;
      case "closing":
        this.#pending.endAll(
          new AMQPClientShutdown("The client was closed before the message was sent.", { retryable: false }),
          MessageSendResult.Cancelled,
        );
        return 0;
      case "redirected":
        this.#target = Target.from(event.address);
        return 0;
    }
  }
}
