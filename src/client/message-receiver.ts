/**
 * uamqp's `MessageReceiver`: a receiving link that decodes each delivery into a `Message` and hands
 * it to `onMessageReceived`. In PeekLock mode the message carries a settler (`accept()`,
 * `reject()`, `release()`, `modify()`); in ReceiveAndDelete mode it arrives settled. With
 * `settleMode: "confirm"` settlements wait for the peer (see `settle-confirm.ts`).
 */
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import type { IncomingDelivery } from "../engine/delivery.js";
import type { ReceiverLink } from "../engine/receiver-link.js";
import { Message } from "../message/message.js";
import { ReceiverSettleMode as LinkReceiverSettleMode } from "../engine/link.js";
import { MessageReceiverState, ReceiverSettleMode, SenderSettleMode } from "./link-states.js";
import { openLink } from "./link-open.js";
import { deliverySettler, resolveSettleMode, SettleMode } from "./settle-confirm.js";
import type { Session } from "./session.js";
import { toSource, toTarget, type SourceLike, type TargetLike } from "./termini.js";

/** Options of a {@link MessageReceiver}. */
export interface MessageReceiverOptions {
  /** Called for each received message, in order. A throw settles it modified(failed, undeliverable). */
  onMessageReceived?: (message: Message) => void;
  /** Link name. @defaultValue a random name */
  name?: string;
  /** PeekLock (settle each message) or ReceiveAndDelete (pre-settled). @defaultValue ReceiverSettleMode.PeekLock */
  receiveSettleMode?: ReceiverSettleMode;
  /** Largest message accepted (bytes); bigger ones detach the link. @defaultValue 1048576 */
  maxMessageSize?: number;
  /**
   * Credit kept outstanding automatically (uamqp `prefetch`); 0 = manual credit
   * (`resetLinkCredit()` / `addCredit()`). @defaultValue 300
   */
  prefetch?: number;
  /**
   * The spec's switch for the same thing: `"manual"` is `prefetch: 0` (credit only through
   * `resetLinkCredit()` / `addCredit()`), `"auto"` keeps `prefetch`. @defaultValue "auto"
   */
  creditMode?: "auto" | "manual";
  /** ATTACH properties of the link. @defaultValue none */
  properties?: Record<string, AMQPValue>;
  /** Desired capabilities of the link (symbols). @defaultValue none */
  desiredCapabilities?: string[];
  /**
   * How settling a received message completes (beyond uamqp). `"local"`: `accept()` & co. resolve
   * `true` once the settled disposition is queued (uamqp: the peer's answer is never seen).
   * `"confirm"`: the link asks for receiver-settle-mode `second`; they resolve `true` when the peer
   * settles the delivery with that outcome, and reject with `MessageSettleFailed` (another outcome,
   * e.g. `com.microsoft:message-lock-lost`) or the link's error (link or connection lost first).
   * A peer answering the ATTACH with mode `first` gets settled dispositions, and settlements resolve
   * on send as in `"local"`. PeekLock only: a RangeError with ReceiveAndDelete.
   *
   * @example
   * ```ts
   * const receiver = new MessageReceiver(session, "queue-a", "me", {
   *   settleMode: "confirm",
   *   onMessageReceived: (m) => {
   *     m.accept().then(
   *       () => console.log("the broker removed it"),
   *       (e: unknown) => console.log("not completed", e),
   *     );
   *   },
   * });
   * ```
   * @defaultValue "local"
   */
  settleMode?: SettleMode;
}

/**
 * A receiving link on a {@link Session} (uamqp's `MessageReceiver`): each delivery is decoded into a
 * {@link Message} and passed to `onMessageReceived`. Credit is kept at `prefetch` automatically
 * unless set by hand. An undecodable delivery is rejected (`amqp:decode-error`).
 *
 * @example
 * ```ts
 * const receiver = new MessageReceiver(session, "queue-a", "my-client", {
 *   onMessageReceived: (m) => { console.log(m.value); void m.accept(); },
 * });
 * await receiver.open();
 * ```
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
  #state: MessageReceiverState = MessageReceiverState.Idle;

  /**
   * Attaches a receiver link (the ATTACH is sent now; {@link MessageReceiver.open} waits for the answer).
   * @param source - the node to receive from: an address string or a `Source`
   * @param target - our terminus: an address string or a `Target`
   * @throws {RangeError} `settleMode: "confirm"` with ReceiveAndDelete, or an unknown `settleMode`.
   */
  constructor(
    session: Session,
    source: SourceLike,
    target: TargetLike,
    options: MessageReceiverOptions = {},
  ) {
    this.session = session;
    this.receiveSettleMode = options.receiveSettleMode ?? ReceiverSettleMode.PeekLock;
    this.settleMode = resolveSettleMode(options.settleMode, this.receiveSettleMode);
    this.onMessageReceived = options.onMessageReceived;
    const src = toSource(source);
    const tgt = toTarget(target);
    const peekLock = this.receiveSettleMode === ReceiverSettleMode.PeekLock;
    this.#link = session.engine.attachReceiver({
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(src ? { source: src } : {}),
      ...(tgt ? { target: tgt } : {}),
      sndSettleMode: peekLock ? SenderSettleMode.Unsettled : SenderSettleMode.Settled,
      rcvSettleMode:
        this.settleMode === SettleMode.Confirm ? LinkReceiverSettleMode.Second : LinkReceiverSettleMode.First,
      maxMessageSize: options.maxMessageSize ?? 1048576,
      ...(options.properties ? { properties: options.properties } : {}),
      ...(options.desiredCapabilities ? { desiredCapabilities: options.desiredCapabilities } : {}),
      autoCredit: options.creditMode === "manual" ? 0 : (options.prefetch ?? 300),
    });
    this.name = this.#link.name;
    this.#state = MessageReceiverState.Opening;
    this.#link.onDelivery = (d) => {
      this.#deliver(d);
    };
    this.#link.onDetach = (error) => {
      this.#state = MessageReceiverState.Error;
      this.onDetached?.(error);
    };
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
    return this.#link.error;
  }

  /** Current link credit. */
  get credit(): number {
    return this.#link.linkCredit;
  }

  #deliver(d: IncomingDelivery): void {
    const link = this.#link;
    const settler = d.settled ? undefined : deliverySettler(link, d, this.settleMode);
    let message: Message;
    try {
      message = Message.decode(d.payload, {
        settler,
        deliveryNo: d.deliveryId,
        deliveryTag: d.tag,
        messageFormat: d.messageFormat,
      });
    } catch (e) {
      // An undecodable message is rejected so it is not redelivered forever.
      if (!d.settled) {
        link.settle(d, {
          type: "rejected",
          error: { condition: "amqp:decode-error", description: (e as Error).message },
        });
      }
      return;
    }
    try {
      this.onMessageReceived?.(message);
    } catch {
      if (!d.settled) link.settle(d, { type: "modified", deliveryFailed: true, undeliverableHere: true });
    }
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
      this.#state = MessageReceiverState.Open;
    } catch (e) {
      this.#state = MessageReceiverState.Error;
      throw e;
    }
  }

  /** Sets the link credit now (uamqp `reset_link_credit`), optionally draining. Switches to manual credit. */
  resetLinkCredit(credit: number, options: { drain?: boolean } = {}): void {
    this.#link.autoCredit = 0;
    this.#link.flow(credit, options);
  }

  /** Adds credit (manual credit mode). */
  addCredit(n: number): void {
    this.#link.autoCredit = 0;
    this.#link.addCredit(n);
  }

  /**
   * Asks the sender to send what it has for the outstanding credit, then resolves (credit is 0).
   * @throws the link's error if it is detached before the drain completes.
   */
  drain(): Promise<void> {
    return this.#link.drain();
  }

  /** Detaches (closes) the link. Never rejects. */
  async close(): Promise<void> {
    if (this.#state === MessageReceiverState.Idle) return;
    this.#state = MessageReceiverState.Closing;
    await this.#link.detach();
    this.#state = MessageReceiverState.Idle;
  }

  /** `await using` support: {@link MessageReceiver.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
