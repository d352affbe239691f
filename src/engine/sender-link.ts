/**
 * The sending end of a link. `send()` resolves with the peer's outcome when the delivery is
 * settled (at once for pre-settled deliveries) and *waits* for link credit and session window
 * instead of buffering without bound: the promise is the back-pressure.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPAbortError, LinkDetach } from "../errors/exceptions.js";
import type { AttachFields, FlowFields } from "../frames/performatives.js";
import { serialAdd, serialDiff } from "../util/serial.js";
import type { DeliveryState, OutgoingDelivery, OutgoingDeliveryLink } from "./delivery.js";
import { Link, SenderSettleMode, type LinkSession } from "./link.js";

/** Options of one send. */
export interface SendOptions {
  /** Send pre-settled (only with sender settle mode Mixed; Settled mode always pre-settles). */
  settled?: boolean;
  /** @defaultValue 0 */
  messageFormat?: number;
  /** Delivery tag. @defaultValue generated from the delivery id */
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
  /** @internal Fails the link's deliveries that are out and unsettled. */
  failUnsettled(link: SenderLink, error: AMQPError): void;
}

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
  readonly #queue: OutgoingDelivery[] = [];
  #queueHead = 0;
  #unsettled = 0;
  #unsettledBytes = 0;
  #drain = false;
  #inFlow = false;
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
    return this.#queue.length - this.#queueHead;
  }

  /**
   * Sends one message payload. Resolves with the peer's outcome when settled (undefined for a
   * pre-settled delivery, once written). Rejects with a typed error if the link fails first, or
   * with `AMQPAbortError` when `options.signal` aborts.
   */
  send(payload: Uint8Array, options?: SendOptions): Promise<DeliveryState | undefined> {
    if (this.state === "detached" || this.state === "detaching") {
      return Promise.reject(
        this.error ??
          new LinkDetach(`link ${this.name} is detached`, {
            condition: "amqp:illegal-state",
            retryable: true,
          }),
      );
    }
    const mode = this.local.sndSettleMode ?? SenderSettleMode.Mixed;
    const settled =
      mode === SenderSettleMode.Settled || (mode === SenderSettleMode.Mixed && options?.settled === true);
    return new Promise<DeliveryState | undefined>((resolve, reject) => {
      const d: OutgoingDelivery = {
        link: this,
        payload,
        messageFormat: options?.messageFormat ?? 0,
        settled,
        tag: options?.tag,
        deliveryId: -1,
        offset: 0,
        done: false,
        resolve,
        reject,
        cleanup: undefined,
      };
      if (options?.signal) this.#armAbort(d, options.signal);
      this.#queue.push(d);
      this.session.transmit(this);
    });
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
      const i = this.#queue.indexOf(d, this.#queueHead);
      if (i >= 0 && d.offset === 0) this.#queue.splice(i, 1);
    }
    this.#finish(d);
    d.reject(error);
  }

  #finish(d: OutgoingDelivery): void {
    d.done = true;
    d.cleanup?.();
    d.cleanup = undefined;
  }

  /** @internal Next delivery to transmit if credit allows (the session checks its window). */
  peek(): OutgoingDelivery | undefined {
    while (this.#queueHead < this.#queue.length) {
      const d = this.#queue[this.#queueHead]!;
      if (!d.done || d.offset > 0) {
        if (d.offset === 0) {
          if (this.#linkCredit <= 0) return undefined;
          if (!d.settled && this.#unsettled > 0) {
            if (this.#unsettled >= this.maxInFlight) return undefined;
            if (this.#unsettledBytes + d.payload.length > this.maxInFlightBytes) return undefined;
          }
        }
        return d;
      }
      this.#shift();
    }
    return undefined;
  }

  /** @internal The head delivery was completely written. */
  transmitted(d: OutgoingDelivery): void {
    this.#shift();
    this.#deliveryCount = serialAdd(this.#deliveryCount, 1);
    this.#linkCredit--;
    if (d.settled) {
      if (!d.done) {
        this.#finish(d);
        d.resolve(undefined);
      }
    } else {
      this.#unsettled++;
      this.#unsettledBytes += d.payload.length;
    }
    if (this.#drain && !this.#inFlow && (this.queued === 0 || this.#linkCredit <= 0)) this.#completeDrain();
  }

  #shift(): void {
    this.#queue[this.#queueHead++] = undefined as unknown as OutgoingDelivery;
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** @internal The peer settled an unsettled delivery of this link. */
  settledByPeer(d: OutgoingDelivery, state: DeliveryState | undefined): void {
    this.#unsettled--;
    this.#unsettledBytes -= d.payload.length;
    if (this.queued > 0 && (this.maxInFlight !== Infinity || this.maxInFlightBytes !== Infinity)) {
      this.session.transmit(this);
    }
    if (d.done) return;
    this.#finish(d);
    d.resolve(state);
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
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const d = this.#queue[i]!;
      if (!d.done) {
        this.#finish(d);
        d.reject(error);
      }
    }
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.session.failUnsettled(this, error);
    this.#unsettled = 0;
    this.#unsettledBytes = 0;
  }
}
