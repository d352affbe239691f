/**
 * The sending end of a link. A delivery waits for link credit and session window instead of
 * buffering without bound. `transfer()` reports how each delivery ended to a
 * {@link DeliveryReceipt} (no promise or closure per delivery); `send()` is the same with a
 * promise, for callers that want one: it resolves with the peer's outcome when the delivery is
 * settled (at once for pre-settled deliveries), and the promise is the back-pressure.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPAbortError, LinkDetach } from "../errors/exceptions.js";
import type { AttachFields, FlowFields } from "../frames/performatives.js";
import { Fifo } from "../util/fifo.js";
import { serialAdd, serialDiff } from "../util/serial.js";
import type {
  DeliveryReceipt,
  DeliveryState,
  EncodablePayload,
  OutgoingDelivery,
  OutgoingDeliveryLink,
} from "./delivery.js";
import { Link, SenderSettleMode, type LinkSession } from "./link.js";

/** Options of one send. */
export interface SendOptions {
  /** Send pre-settled (only with sender settle mode Mixed; Settled mode always pre-settles). */
  settled?: boolean;
  /** @defaultValue 0 */
  messageFormat?: number;
  /** Delivery tag. @defaultValue the 4 bytes of the delivery-id */
  tag?: Uint8Array;
  /**
   * Gives up waiting for credit or an outcome when it aborts (`AMQPAbortError`). A deadline is
   * the caller's: a signal that aborts when it passes.
   */
  signal?: AbortSignal;
}

/** What a sender calls on its session, beyond {@link LinkSession} (`AmqpSession` implements it). */
export interface SenderLinkSession extends LinkSession {
  /** @internal Writes what the link's credit, the peer's window and back-pressure allow. */
  transmit(link: SenderLink): void;
  /** @internal Takes the link's deliveries that are out and unsettled (they failed with the link). */
  takeUnsettled(link: SenderLink): OutgoingDelivery[];
}

/** The resolve and reject of one `send()` promise. */
interface Resolvers {
  resolve(state: DeliveryState | undefined): void;
  reject(error: unknown): void;
}

/** The receipt of `send()`: its context is the promise's {@link Resolvers}. */
const PROMISE_RECEIPT: DeliveryReceipt = {
  settled: (context, state) => {
    (context as Resolvers).resolve(state);
  },
  failed: (context, error) => {
    (context as Resolvers).reject(error);
  },
};

export class SenderLink extends Link<SenderLinkSession> implements OutgoingDeliveryLink {
  readonly role = "sender";
  /**
   * At most this many unsettled deliveries in flight; further sends wait (queued, not written).
   * @defaultValue Infinity (bounded by credit)
   */
  readonly maxInFlight: number;
  /** At most this many bytes of unsettled deliveries in flight. @defaultValue Infinity */
  readonly maxInFlightBytes: number;
  #deliveryCount = 0;
  #linkCredit = 0;
  #available = 0;
  /** Deliveries waiting for credit or window, oldest first. */
  readonly #queue = new Fifo<OutgoingDelivery>();
  #unsettled = 0;
  #unsettledBytes = 0;
  #drain = false;
  #inFlow = false;
  /**
   * How deliveries ended, not yet told to their receipts: (receipt, context, state or error,
   * failed) per delivery in the first `#reported` slots. Told in a microtask, in order, so that a
   * receipt may send again. The array keeps its length (its slots are reused, not regrown).
   */
  readonly #reports: unknown[] = [];
  #reported = 0;
  readonly #tellReports = (): void => {
    this.#report();
  };
  /** Called whenever credit arrives (the client uses it for readiness). */
  onCredit: (() => void) | undefined;
  /**
   * Receiver settle mode second: the receiver sent an outcome for an unsettled delivery without
   * settling it. Returns the state we settle the delivery with (and resolve its `send()` with);
   * undefined, or no handler, settles with the receiver's state. Called synchronously from the
   * frame handler, before our settling DISPOSITION is queued.
   */
  onReceiverOutcome:
    ((delivery: OutgoingDelivery, state: DeliveryState) => DeliveryState | undefined) | undefined;

  /** Made by its session, with the in-flight limits of its `LinkOptions`. */
  constructor(
    session: SenderLinkSession,
    local: AttachFields,
    limits: { readonly maxInFlight?: number; readonly maxInFlightBytes?: number },
  ) {
    super(session, local);
    this.maxInFlight = limits.maxInFlight ?? Infinity;
    this.maxInFlightBytes = limits.maxInFlightBytes ?? Infinity;
  }

  get deliveryCount(): number {
    return this.#deliveryCount;
  }

  /** Credit the peer has given and we have not used. */
  get linkCredit(): number {
    return this.#linkCredit;
  }

  /** Messages the peer says it has available (flow `available`). */
  get available(): number {
    return this.#available;
  }

  /** Unsettled deliveries of this link. */
  get unsettled(): number {
    return this.#unsettled;
  }

  /** Bytes of the unsettled deliveries. */
  get unsettledBytes(): number {
    return this.#unsettledBytes;
  }

  /** Deliveries waiting to be transmitted. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Sends one message payload. Resolves with the peer's outcome when settled (undefined for a
   * pre-settled delivery, once written). Rejects with a typed error if the link fails first, or
   * with `AMQPAbortError` when `options.signal` aborts.
   */
  send(payload: Uint8Array, options?: SendOptions): Promise<DeliveryState | undefined> {
    return new Promise<DeliveryState | undefined>((resolve, reject) => {
      this.transfer(payload, payload.length, PROMISE_RECEIPT, { resolve, reject }, options);
    });
  }

  /**
   * Sends one message payload without a promise: `receipt` is told how the delivery ended, with
   * `context` (the peer's outcome, undefined once a pre-settled delivery is written; or the
   * failure: the link's error, `AMQPAbortError` when `options.signal` aborts, or the error of a
   * payload that could not be encoded). `size` is the payload's size in bytes (for an encodable
   * payload, the sender's measure; the session counts what it wrote).
   */
  transfer(
    payload: Uint8Array | EncodablePayload,
    size: number,
    receipt: DeliveryReceipt,
    context: unknown,
    options?: SendOptions,
  ): void {
    if (this.state === "detached" || this.state === "detaching") {
      const error =
        this.error ??
        new LinkDetach(`link ${this.name} is detached`, {
          condition: "amqp:illegal-state",
          retryable: true,
        });
      this.#tell(receipt, context, error, true);
      return;
    }
    const mode = this.local.sndSettleMode ?? SenderSettleMode.Mixed;
    const settled =
      mode === SenderSettleMode.Settled || (mode === SenderSettleMode.Mixed && options?.settled === true);
    const d: OutgoingDelivery = {
      link: this,
      payload,
      size: payload instanceof Uint8Array ? payload.length : size,
      messageFormat: options?.messageFormat ?? 0,
      settled,
      tag: options?.tag,
      deliveryId: -1,
      offset: 0,
      base: 0,
      done: false,
      receipt,
      context,
      cleanup: undefined,
    };
    if (options?.signal) this.#armAbort(d, options.signal);
    this.#queue.push(d);
    this.session.transmit(this);
  }

  #armAbort(d: OutgoingDelivery, signal: AbortSignal): void {
    const onAbort = (): void => {
      this.#giveUp(d, new AMQPAbortError("send aborted", { cause: signal.reason }));
    };
    if (signal.aborted) {
      queueMicrotask(onAbort);
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    d.cleanup = () => {
      signal.removeEventListener("abort", onAbort);
    };
  }

  /** Stops waiting for a delivery. Not yet sent: it is removed. Sent: its outcome is ignored. */
  #giveUp(d: OutgoingDelivery, error: AMQPError): void {
    if (d.done) return;
    if (d.deliveryId < 0) {
      const i = this.#queue.indexOf(d);
      if (i >= 0 && d.offset === 0) this.#queue.removeAt(i);
    }
    this.#fail(d, error);
  }

  /** Ends `d` with `error` (unless it ended already). */
  #fail(d: OutgoingDelivery, error: unknown): void {
    if (d.done) return;
    this.#finish(d);
    this.#tell(d.receipt, d.context, error, true);
  }

  #finish(d: OutgoingDelivery): void {
    d.done = true;
    d.cleanup?.();
    d.cleanup = undefined;
  }

  /** Queues a report for `receipt`; the first one of a tick schedules the telling. */
  #tell(receipt: DeliveryReceipt, context: unknown, value: unknown, failed: boolean): void {
    const reports = this.#reports;
    const at = this.#reported;
    if (at === 0) queueMicrotask(this.#tellReports);
    reports[at] = receipt;
    reports[at + 1] = context;
    reports[at + 2] = value;
    reports[at + 3] = failed;
    this.#reported = at + 4;
  }

  /**
   * Tells the receipts, in order; reports added meanwhile (a receipt that sends again) are told in
   * the same pass. A receipt that throws does not stop the others: its error is thrown afterwards.
   */
  #report(): void {
    const reports = this.#reports;
    let thrown: { error: unknown } | undefined;
    for (let i = 0; i < this.#reported; i += 4) {
      const receipt = reports[i] as DeliveryReceipt;
      const context = reports[i + 1];
      const value = reports[i + 2];
      const failed = reports[i + 3] === true;
      // Let go of what the slot held (it stays in the array for the next reports).
      reports[i + 1] = reports[i + 2] = undefined;
      try {
        if (failed) receipt.failed(context, value);
        else receipt.settled(context, value as DeliveryState | undefined);
      } catch (e) {
        thrown ??= { error: e };
      }
    }
    this.#reported = 0;
    if (thrown) throw thrown.error;
  }

  /** @internal Next delivery to transmit if credit allows (the session checks its window). */
  peek(): OutgoingDelivery | undefined {
    const queue = this.#queue;
    for (let d = queue.at(0); d !== undefined; d = queue.at(0)) {
      if (!d.done || d.offset > 0) {
        if (d.offset === 0) {
          if (this.#linkCredit <= 0) return undefined;
          if (!d.settled && this.#unsettled > 0) {
            if (this.#unsettled >= this.maxInFlight) return undefined;
            if (this.#unsettledBytes + d.size > this.maxInFlightBytes) return undefined;
          }
        }
        return d;
      }
      queue.shift();
    }
    return undefined;
  }

  /** @internal The head delivery was completely written. */
  transmitted(d: OutgoingDelivery): void {
    this.#queue.shift();
    this.#deliveryCount = serialAdd(this.#deliveryCount, 1);
    this.#linkCredit--;
    if (d.settled) {
      if (!d.done) {
        this.#finish(d);
        this.#tell(d.receipt, d.context, undefined, false);
      }
    } else {
      this.#unsettled++;
      this.#unsettledBytes += d.size;
    }
    if (this.#drain && !this.#inFlow && (this.queued === 0 || this.#linkCredit <= 0)) this.#completeDrain();
  }

  /** @internal The head delivery `d` could not be encoded: it is dropped, and fails with `error`. */
  unsendable(d: OutgoingDelivery, error: unknown): void {
    this.#queue.shift();
    this.#fail(d, error);
  }

  /** @internal The peer settled an unsettled delivery of this link. */
  settledByPeer(d: OutgoingDelivery, state: DeliveryState | undefined): void {
    this.#unsettled--;
    this.#unsettledBytes -= d.size;
    if (this.queued > 0 && (this.maxInFlight !== Infinity || this.maxInFlightBytes !== Infinity)) {
      this.session.transmit(this);
    }
    if (d.done) return;
    this.#finish(d);
    this.#tell(d.receipt, d.context, state, false);
  }

  protected onRemoteAttach(_attach: AttachFields): void {
    // The receiver may have chosen settle modes; the sender keeps what it asked for (AMQP 1.0 §2.7.3).
  }

  handleFlow(flow: FlowFields): void {
    if (flow.linkCredit !== undefined) {
      // link-credit is a uint, not a serial number: only the delivery-counts compare with wrap-around
      // (credit 2^32 - 1 means "unbounded" to some receivers).
      const remoteCount = flow.deliveryCount ?? this.#deliveryCount;
      this.#linkCredit = serialDiff(this.#deliveryCount, remoteCount) + flow.linkCredit;
    }
    if (flow.available !== undefined) this.#available = flow.available;
    this.#drain = flow.drain === true;
    // Deliveries the application sends from onCredit go out before a drain is answered.
    this.#inFlow = true;
    try {
      if (this.#linkCredit > 0) this.onCredit?.();
      this.session.transmit(this);
    } finally {
      this.#inFlow = false;
    }
    if (!this.#completeDrain() && flow.echo === true) this.session.writeFlow(this);
  }

  /**
   * Drain: once nothing is queued, the remaining credit is used up by advancing the delivery-count
   * and reported with a FLOW (drain=true). Returns true if it answered.
   */
  #completeDrain(): boolean {
    if (!this.#drain || (this.queued > 0 && this.#linkCredit > 0)) return false;
    this.#drain = false;
    if (this.#linkCredit > 0) this.#deliveryCount = serialAdd(this.#deliveryCount, this.#linkCredit);
    this.#linkCredit = 0;
    this.session.writeFlow(this, true);
    return true;
  }

  /** Fails every queued and unsettled delivery. */
  protected failPending(error: AMQPError): void {
    for (let d = this.#queue.shift(); d !== undefined; d = this.#queue.shift()) this.#fail(d, error);
    for (const d of this.session.takeUnsettled(this)) this.#fail(d, error);
    this.#unsettled = 0;
    this.#unsettledBytes = 0;
  }
}
