/**
 * uamqp's `MessageReceiver`. It owns the link's credit on the client side (docs/architecture.md,
 * "One path per concern"; docs/clients.md, "Credit"); the engine's automatic credit is not used.
 */
import { inspect, type InspectOptionsStylized } from "node:util";
import { AMQPError } from "../errors/amqp-error.js";
import type { IncomingDelivery } from "../engine/delivery.js";
import { toSource, toTarget, type SourceLike, type TargetLike } from "../address/termini.js";
import { RcvSettleMode, type LinkOptions } from "../engine/link.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import { Message, type MessageDecodeOptions } from "../message/message.js";
import { WAIT_OPTIONS, type WaitOptions } from "../policy/wait.js";
import { inspectEnum, inspectFields } from "../util/enum-names.js";
import { compact } from "../util/options.js";
import {
  DEFAULTS,
  MESSAGE_RECEIVER_OPTIONS,
  RESET_CREDIT_OPTIONS,
  checkOptions,
  type MessageReceiverOptions,
  type ResetCreditOptions,
} from "./client-options.js";
import { logLinkEvent } from "./lifecycle-log.js";
import { MessageReceiverState, ReceiverSettleMode, SenderSettleMode } from "./link-states.js";
import { DeliverySettler, LinkSettlement, resolveSettleMode, SettleMode } from "./settle-confirm.js";
import type { Session } from "./session.js";
import { clientError, inClientTerms } from "./shutdown.js";

/**
 * @internal The owner of a receiver's messages once delivered (a `ReceiveClient`): what it still
 * holds counts against the receiver's prefetch. An object rather than a callback: the receiver reads
 * it per message, and a getter of one class is the same call for every receiver (a closure per
 * client is a new call target for V8's optimized code each time).
 */
export interface MessageHolder {
  readonly bufferedCount: number;
}

/**
 * A receiving link on a {@link Session} (uamqp's `MessageReceiver`): each delivery is decoded into a
 * {@link Message} and passed to `onMessageReceived`. Credit is kept at `prefetch` automatically
 * unless set by hand. An undecodable delivery is rejected (`amqp:decode-error`). Example:
 * docs/clients.md, "Low-level API".
 */
export class MessageReceiver implements AsyncDisposable {
  /** The session the link belongs to. */
  readonly session: Session;
  /** The link name. */
  readonly name: string;
  /** PeekLock (settle each message) or ReceiveAndDelete (messages arrive settled). */
  readonly receiveSettleMode: ReceiverSettleMode;
  /** How settlements complete: see {@link MessageReceiverOptions.settleMode}. */
  readonly settleMode: SettleMode;
  /** Called for each received message, in order (settable after construction). */
  onMessageReceived: ((message: Message) => void) | undefined;
  /** Called when the peer detaches the link. */
  onDetached: ((error: AMQPError | undefined) => void) | undefined;
  readonly #link: ReceiverLink;
  /** How its deliveries settle (shared by their settlers). */
  readonly #settlement: LinkSettlement;
  #state: MessageReceiverState = MessageReceiverState.Idle;
  /** Credit kept outstanding automatically; 0 = manual credit. */
  #prefetch: number;
  /** The owner whose held messages count against `prefetch` (see followConsumption). */
  #holder: MessageHolder | undefined;
  /** A drain is in progress: no credit is added until it completes. */
  #draining = false;
  readonly #decodeOptions: MessageDecodeOptions = {
    settler: undefined,
    deliveryNo: undefined,
    deliveryTagOf: undefined,
    messageFormat: undefined,
  };

  /**
   * Attaches a receiver link (the ATTACH is sent now; {@link MessageReceiver.open} waits for the answer).
   * @param source - the node to receive from: an address string or a `Source`
   * @param target - our terminus: an address string or a `Target`
   * @throws {RangeError} `settleMode: "confirm"` with ReceiveAndDelete, or an unknown `settleMode`;
   *   {@link TypeError} for an unknown option.
   */
  constructor(
    session: Session,
    source: SourceLike,
    target: TargetLike,
    options: MessageReceiverOptions = {},
  ) {
    checkOptions(options, MESSAGE_RECEIVER_OPTIONS, "MessageReceiver");
    this.session = session;
    this.receiveSettleMode = options.receiveSettleMode ?? ReceiverSettleMode.PeekLock;
    this.settleMode = resolveSettleMode(options.settleMode, this.receiveSettleMode);
    this.onMessageReceived = options.onMessageReceived;
    this.#prefetch = options.creditMode === "manual" ? 0 : (options.prefetch ?? DEFAULTS.prefetch);
    const peekLock = this.receiveSettleMode === ReceiverSettleMode.PeekLock;
    this.#link = session.engine.attachReceiver(
      compact<LinkOptions>({
        name: options.name,
        source: toSource(source),
        target: toTarget(target),
        sndSettleMode: peekLock ? SenderSettleMode.Unsettled : SenderSettleMode.Settled,
        rcvSettleMode: this.settleMode === SettleMode.Confirm ? RcvSettleMode.Second : RcvSettleMode.First,
        maxMessageSize: options.maxMessageSize ?? DEFAULTS.maxMessageSize,
        properties: options.properties,
        desiredCapabilities: options.desiredCapabilities,
      }),
    );
    this.name = this.#link.name;
    this.#settlement = new LinkSettlement(this.#link, this.settleMode);
    this.#state = MessageReceiverState.Opening;
    this.#link.onDelivery = (d) => {
      this.#deliver(d);
    };
    this.#link.onDetach = (error) => {
      const event = this.#state === MessageReceiverState.Opening ? "not attached" : "detached";
      this.#state = MessageReceiverState.Error;
      logLinkEvent(session.connection.logId, this.#link, event, error);
      this.onDetached?.(clientError(error));
    };
    // Credit used up or given back without deliveries (a drain answer).
    this.#link.onSenderFlow = () => {
      this.#topUp();
    };
    // First credit once the peer attached (its initial delivery-count is known then).
    this.#link.attached().then(
      () => {
        this.#topUp();
      },
      () => undefined,
    );
  }

  /** @internal */
  get link(): ReceiverLink {
    return this.#link;
  }

  /** Where the link is in its lifecycle. */
  get state(): MessageReceiverState {
    return this.#state;
  }

  /** The error that detached the link, if any (sticky). */
  get error(): AMQPError | undefined {
    return clientError(this.#link.error);
  }

  /** Current link credit. */
  get credit(): number {
    return this.#link.linkCredit;
  }

  #deliver(d: IncomingDelivery): void {
    const link = this.#link;
    // Rewritten for each delivery: decode keeps none of it.
    const o = this.#decodeOptions;
    o.settler = d.settled ? undefined : new DeliverySettler(this.#settlement, d);
    o.deliveryNo = d.deliveryId;
    o.deliveryTagOf = d;
    o.messageFormat = d.messageFormat;
    let message: Message | undefined;
    try {
      message = Message.decodeRange(d.bytes, d.payloadStart, d.payloadEnd, o);
    } catch (e) {
      // An undecodable message is rejected so it is not redelivered forever.
      const error = { condition: "amqp:decode-error", description: (e as Error).message };
      if (!d.settled) link.settle(d, { type: "rejected", error });
    }
    try {
      if (message) this.onMessageReceived?.(message);
    } catch {
      if (!d.settled) link.settle(d, { type: "modified", deliveryFailed: true, undeliverableHere: true });
    }
    this.#topUp();
  }

  /**
   * Automatic credit: once credit plus the messages the owner holds fell to half of `prefetch`,
   * tops the credit up so that they make `prefetch` again.
   */
  #topUp(): void {
    const prefetch = this.#prefetch;
    if (prefetch === 0 || this.#draining || !this.#link.isAttached) return;
    const outstanding = this.#link.linkCredit + (this.#holder?.bufferedCount ?? 0);
    if (outstanding * 2 > prefetch) return;
    this.#link.addCredit(prefetch - outstanding);
  }

  /**
   * @internal Credit follows consumption: the messages the owner still holds (its `bufferedCount`)
   * count against `prefetch`; it calls {@link MessageReceiver.consumed} when it let go of some.
   */
  followConsumption(holder: MessageHolder): void {
    this.#holder = holder;
  }

  /** @internal The owner let go of messages it held (see {@link MessageReceiver.followConsumption}). */
  consumed(): void {
    this.#topUp();
  }

  /**
   * Resolves when the peer attached the link, opening the connection if needed; `timeout` in ms.
   * @throws the link's refusal (`LinkDetach`…); the connection's open errors; `ClientTimeout`;
   *   `AMQPAbortError` (then `close()` the link); `TypeError` for an unknown option.
   */
  async open(options: WaitOptions = {}): Promise<void> {
    checkOptions(options, WAIT_OPTIONS, "MessageReceiver.open()");
    try {
      await this.session.linkAttached(this.#link, options);
      this.#state = MessageReceiverState.Open;
      logLinkEvent(this.session.connection.logId, this.#link, "attached");
    } catch (e) {
      // A detach (the peer's refusal, the connection's loss) was logged when it happened.
      if (this.#state !== MessageReceiverState.Error && e instanceof AMQPError)
        logLinkEvent(this.session.connection.logId, this.#link, "not attached", e);
      this.#state = MessageReceiverState.Error;
      throw e;
    }
  }

  /**
   * Sets the link credit now (uamqp `reset_link_credit`), optionally draining. Switches to manual
   * credit (except on a `ReceiveClient`'s receiver, whose credit follows consumption).
   * @throws {TypeError} for an unknown option.
   */
  resetLinkCredit(credit: number, options: ResetCreditOptions = {}): void {
    checkOptions(options, RESET_CREDIT_OPTIONS, "MessageReceiver.resetLinkCredit()");
    if (!this.#holder) this.#prefetch = 0;
    this.#link.flow(credit, options.drain === true ? { drain: true } : {});
  }

  /** Adds credit; switches to manual credit as {@link MessageReceiver.resetLinkCredit} does. */
  addCredit(n: number): void {
    if (!this.#holder) this.#prefetch = 0;
    this.#link.addCredit(n);
  }

  /**
   * Asks the sender to send what it has for the outstanding credit, then resolves (credit is 0).
   * @throws the link's error if it is detached before the drain completes.
   */
  async drain(): Promise<void> {
    this.#draining = true;
    try {
      await inClientTerms(this.#link.drain());
    } finally {
      this.#draining = false;
    }
  }

  /** Detaches (closes) the link. Never rejects. */
  async close(): Promise<void> {
    if (this.#state === MessageReceiverState.Idle) return;
    this.#state = MessageReceiverState.Closing;
    await this.#link.detach();
    this.#state = MessageReceiverState.Idle;
    logLinkEvent(this.session.connection.logId, this.#link, "closed");
  }

  /** `util.inspect` shows the link's name, address, state and settle mode, the enums by name. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    const fields = {
      name: this.name,
      state: inspectEnum("MessageReceiverState", MessageReceiverState, this.#state),
      receiveSettleMode: inspectEnum("ReceiverSettleMode", ReceiverSettleMode, this.receiveSettleMode),
      credit: this.credit,
      error: this.error,
    };
    return inspectFields("MessageReceiver", fields, depth, options, show);
  }

  /** `await using` support: {@link MessageReceiver.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
