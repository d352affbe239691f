/**
 * uamqp's `MessageSender`, and {@link sendOutcome}: the one translation of how a transfer ended
 * into the send vocabulary (docs/architecture.md, "One path per concern").
 */
import { inspect, type InspectOptionsStylized } from "node:util";
import { AMQPError } from "../errors/amqp-error.js";
import { EncodeError } from "../errors/decode-error.js";
import { AMQPAbortError, ClientTimeout, MessageResponse, MessageSendFailed } from "../errors/exceptions.js";
import { sendErrorFromOutcome } from "../errors/mapping.js";
import type { DeliveryReceipt, DeliveryState } from "../engine/delivery.js";
import { toSource, toTarget, type SourceLike, type TargetLike } from "../address/termini.js";
import { RcvSettleMode, type LinkOptions } from "../engine/link.js";
import type { SenderLink, SendOptions as TransferOptions } from "../engine/sender-link.js";
import { dropMeasure, type Message } from "../message/message.js";
import { MessageSendResult } from "../message/send-result.js";
import { WAIT_OPTIONS, deadline, type Deadline, type WaitOptions } from "../policy/wait.js";
import { inspectEnum, inspectFields } from "../util/enum-names.js";
import { compact } from "../util/options.js";
import {
  DEFAULTS,
  MESSAGE_SENDER_OPTIONS,
  SEND_OPTIONS,
  checkOptions,
  type MessageSenderOptions,
  type SendOptions,
} from "./client-options.js";
import { logLinkEvent } from "./lifecycle-log.js";
import { MessageSenderState, SenderSettleMode, ReceiverSettleMode } from "./link-states.js";
import type { Session } from "./session.js";
import { clientError } from "./shutdown.js";

/** The outcome of one send. */
export interface SendOutcome {
  /** `Ok`, `Error` (see `error`), `Timeout` or `Cancelled` (the link or connection failed first, or aborted). */
  readonly result: MessageSendResult;
  /** The peer's delivery state (undefined when pre-settled or not delivered). */
  readonly state?: DeliveryState | undefined;
  /** Why it failed (rejected/released/modified outcome, timeout, link failure). */
  readonly error?: AMQPError | undefined;
}

/** A {@link SendOutcome} that `util.inspect` shows with its result by name (`MessageSendResult.Ok`). */
class Outcome implements SendOutcome {
  readonly result: MessageSendResult;
  readonly state: DeliveryState | undefined;
  readonly error: AMQPError | undefined;

  constructor(result: MessageSendResult, state: DeliveryState | undefined, error: AMQPError | undefined) {
    this.result = result;
    this.state = state;
    this.error = error;
  }

  [inspect.custom](depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    const fields = {
      result: inspectEnum("MessageSendResult", MessageSendResult, this.result),
      ...(this.state !== undefined ? { state: this.state } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
    return inspectFields("SendOutcome", fields, depth, options, show);
  }
}

/**
 * How a transfer ended, as the send vocabulary says it: `accepted` or pre-settled → `Ok`; another
 * outcome, a message-level failure (`MessageResponse`, `EncodeError`, not an `AMQPError`) →
 * `Error`; `ClientTimeout` → `Timeout`; any other failure (link, session or connection gone,
 * aborted, closed) → `Cancelled`.
 * @internal
 */
export function sendOutcome(
  end: { readonly state: DeliveryState | undefined } | { readonly failure: unknown },
): SendOutcome {
  if ("state" in end) {
    const state = end.state;
    if (state === undefined || state.type === "accepted")
      return new Outcome(MessageSendResult.Ok, state, undefined);
    const error = sendErrorFromOutcome(state) ?? new MessageSendFailed(`unexpected outcome ${state.type}`);
    return new Outcome(MessageSendResult.Error, state, error);
  }
  const f = clientError(end.failure);
  if (f instanceof ClientTimeout) return new Outcome(MessageSendResult.Timeout, undefined, f);
  if (!(f instanceof AMQPError)) {
    const text = f instanceof Error ? f.message : String(f);
    return new Outcome(MessageSendResult.Error, undefined, new MessageSendFailed(text, { cause: f }));
  }
  if (f instanceof MessageResponse || f instanceof EncodeError)
    return new Outcome(MessageSendResult.Error, undefined, f);
  return new Outcome(MessageSendResult.Cancelled, undefined, f);
}

/** One `send()` waiting for its outcome, and its deadline, if it has one. */
interface WaitingSend {
  readonly resolve: (outcome: SendOutcome) => void;
  readonly limit: Deadline | undefined;
}

/** The receipt of `send()`: the context of each delivery is its {@link WaitingSend}. */
const SEND_RECEIPT: DeliveryReceipt = {
  settled: (context, state) => {
    const c = context as WaitingSend;
    c.limit?.clear();
    c.resolve(sendOutcome({ state }));
  },
  failed: (context, error) => {
    const c = context as WaitingSend;
    // The deadline takes the delivery back while it waits for credit (the engine's abort).
    const expired = error instanceof AMQPAbortError ? c.limit?.expired : undefined;
    c.limit?.clear();
    c.resolve(sendOutcome({ failure: expired ?? error }));
  },
};

/** The outcome of a pre-settled transfer, once written (shared, as `MessageSender.#okOutcome`). */
const PRESETTLED_OK: SendOutcome = Object.freeze(new Outcome(MessageSendResult.Ok, undefined, undefined));

const NO_OPTIONS: SendOptions = Object.freeze({});

/**
 * A sending link on a {@link Session} (uamqp's `MessageSender`). ATTACH is sent at construction;
 * `send()` resolves with each message's outcome. Example: docs/clients.md, "Low-level API".
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
  /** @internal Told the outcome of each {@link MessageSender.transfer}, with its context. */
  onOutcome: ((context: unknown, outcome: SendOutcome) => void) | undefined;
  /**
   * The `Ok` outcome of {@link MessageSender.transfer}s settled with `#okState`: one DISPOSITION
   * settles a range with one state, and these outcomes stay in `SendClient`, so they are shared.
   */
  #okState: DeliveryState | undefined;
  #okOutcome: SendOutcome = PRESETTLED_OK;
  readonly #transferReceipt: DeliveryReceipt = {
    settled: (context, state) => {
      let outcome: SendOutcome;
      if (state === undefined) outcome = PRESETTLED_OK;
      else if (state === this.#okState) outcome = this.#okOutcome;
      else {
        outcome = sendOutcome({ state });
        if (outcome.result === MessageSendResult.Ok) {
          this.#okState = state;
          this.#okOutcome = outcome;
        }
      }
      this.onOutcome?.(context, outcome);
    },
    failed: (context, error) => {
      this.onOutcome?.(context, sendOutcome({ failure: error }));
    },
  };

  /**
   * Attaches a sender link (the ATTACH is sent now; {@link MessageSender.open} waits for the answer).
   * @param source - our terminus: an address string or a `Source`
   * @param target - the node to send to: an address string or a `Target`
   */
  constructor(session: Session, source: SourceLike, target: TargetLike, options: MessageSenderOptions = {}) {
    checkOptions(options, MESSAGE_SENDER_OPTIONS, "MessageSender");
    this.session = session;
    this.#link = session.engine.attachSender(
      compact<LinkOptions>({
        name: options.name,
        source: toSource(source),
        target: toTarget(target),
        sndSettleMode: options.sendSettleMode ?? SenderSettleMode.Unsettled,
        rcvSettleMode: RcvSettleMode.First,
        maxMessageSize: options.maxMessageSize ?? DEFAULTS.maxMessageSize,
        properties: options.properties,
        desiredCapabilities: options.desiredCapabilities,
      }),
    );
    this.receiveSettleMode = options.receiveSettleMode ?? ReceiverSettleMode.PeekLock;
    this.name = this.#link.name;
    this.#state = MessageSenderState.Opening;
    this.#link.onDetach = (error) => {
      const event = this.#state === MessageSenderState.Opening ? "not attached" : "detached";
      this.#state = MessageSenderState.Error;
      logLinkEvent(session.connection.logId, this.#link, event, error);
      this.onDetached?.(clientError(error));
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
    return clientError(this.#link.error);
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
   * Resolves when the peer attached the link, opening the connection if needed; `timeout` in ms.
   * @throws the link's refusal (`LinkDetach`…); the connection's open errors; `ClientTimeout`;
   *   `AMQPAbortError` (then `close()` the link); `TypeError` for an unknown option.
   */
  async open(options: WaitOptions = {}): Promise<void> {
    checkOptions(options, WAIT_OPTIONS, "MessageSender.open()");
    try {
      await this.session.linkAttached(this.#link, options);
      this.#state = MessageSenderState.Open;
      logLinkEvent(this.session.connection.logId, this.#link, "attached");
    } catch (e) {
      // A detach (the peer's refusal, the connection's loss) was logged when it happened.
      if (this.#state !== MessageSenderState.Error && e instanceof AMQPError)
        logLinkEvent(this.session.connection.logId, this.#link, "not attached", e);
      this.#state = MessageSenderState.Error;
      throw e;
    }
  }

  /**
   * Sends a message, waiting for credit, and resolves with its outcome (see {@link SendOutcome}).
   * `timeout` (ms) bounds the wait for credit and outcome; `settled` sends it pre-settled.
   * @throws {EncodeError} when the message cannot be encoded (delivery failures never reject);
   *   `TypeError` for an unknown option.
   */
  send(message: Message, options: SendOptions = NO_OPTIONS): Promise<SendOutcome> {
    let size: number;
    try {
      if (options !== NO_OPTIONS) checkOptions(options, SEND_OPTIONS, "MessageSender.send()");
      // Measured for the transfer below, which (with credit) writes it at once from what this encoded.
      size = message.measureToWrite(); // an EncodeError rejects here
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new TypeError(String(e)));
    }
    try {
      const refused = this.#tooLarge(size);
      if (refused) return Promise.resolve(refused);
      const limit =
        options.timeout || options.signal
          ? deadline({ timeout: options.timeout, signal: options.signal, what: "message send" })
          : undefined;
      const transferOptions = this.#transferOptions(message, options.settled, limit?.signal);
      return new Promise<SendOutcome>((resolve) => {
        const waiting: WaitingSend = { resolve, limit };
        this.#link.transfer(message, size, SEND_RECEIPT, waiting, transferOptions);
      });
    } finally {
      // Written or queued: a message written later (waiting for credit) is encoded then.
      dropMeasure();
    }
  }

  /**
   * @internal Transfers `message` (of encoded size `size`) without a promise: its outcome goes to
   * {@link MessageSender.onOutcome} with `context`, after this call returns.
   */
  transfer(message: Message, size: number, context: unknown): void {
    const refused = this.#tooLarge(size);
    if (refused) queueMicrotask(() => this.onOutcome?.(context, refused));
    else this.#link.transfer(message, size, this.#transferReceipt, context, this.#transferOptions(message));
  }

  /** The peer's max-message-size as a number (0: none), read from the ATTACH `#maxSizeOf` once. */
  #maxSize = 0;
  #maxSizeOf: object | undefined;

  /** The outcome of a message of `size` bytes that the peer's max-message-size refuses, if it does. */
  #tooLarge(size: number): SendOutcome | undefined {
    const remote = this.#link.remote;
    if (remote !== this.#maxSizeOf) {
      this.#maxSizeOf = remote;
      const m = remote?.maxMessageSize;
      this.#maxSize = m === undefined || m <= 0n ? 0 : Number(m);
    }
    const max = this.#maxSize;
    if (max === 0 || size <= max) return undefined;
    const text = `message of ${size} bytes exceeds the peer's max-message-size ${max}`;
    const error = new MessageSendFailed(text, {
      condition: "amqp:link:message-size-exceeded",
      retryable: false,
    });
    return sendOutcome({ failure: error });
  }

  /** The engine's options of one transfer; undefined for the common case (none). */
  #transferOptions(message: Message, settled?: boolean, signal?: AbortSignal): TransferOptions | undefined {
    const messageFormat = message.messageFormat;
    if (messageFormat === 0 && settled === undefined && signal === undefined) return undefined;
    const o: TransferOptions = { messageFormat };
    if (settled !== undefined) o.settled = settled;
    if (signal !== undefined) o.signal = signal;
    return o;
  }

  /** Detaches (closes) the link. Never rejects. */
  async close(): Promise<void> {
    if (this.#state === MessageSenderState.Idle) return;
    this.#state = MessageSenderState.Closing;
    await this.#link.detach();
    this.#state = MessageSenderState.Idle;
    logLinkEvent(this.session.connection.logId, this.#link, "closed");
  }

  /** `util.inspect` shows the link's name, address, state and settle mode, the enums by name. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    const fields = {
      name: this.name,
      state: inspectEnum("MessageSenderState", MessageSenderState, this.#state),
      receiveSettleMode: inspectEnum("ReceiverSettleMode", ReceiverSettleMode, this.receiveSettleMode),
      credit: this.credit,
      error: this.error,
    };
    return inspectFields("MessageSender", fields, depth, options, show);
  }

  /** `await using` support: {@link MessageSender.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
