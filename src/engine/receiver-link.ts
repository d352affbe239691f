/**
 * The receiving end of a link: issues credit (automatically, keeping `autoCredit` outstanding
 * within what an optional allowance permits, or manually), reassembles multi-frame deliveries (each
 * frame copied into one buffer as it arrives, see `delivery-bytes.ts`), discards
 * aborted ones, enforces the max message size, and settles deliveries.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import type { AttachFields, FlowFields } from "../frames/performatives.js";
import { hasTransferTag, transferTag, type InboundTransfer } from "../frames/transfer-decoder.js";
import { deferred, type Deferred } from "../util/deferred.js";
import { serialAdd, serialDiff } from "../util/serial.js";
import { DeliveryBytes } from "./delivery-bytes.js";
import {
  ReceivedDelivery,
  type DeliveryState,
  type IncomingDelivery,
  type IncomingDeliveryLink,
} from "./delivery.js";
import { Link, RcvSettleMode, type LinkSession } from "./link.js";

/** What a receiver calls on its session, beyond {@link LinkSession} (`AmqpSession` implements it). */
export interface ReceiverLinkSession extends LinkSession {
  /** @internal Closes the connection: the peer broke a rule of the protocol. */
  violation(condition: string, description: string): void;
  /**
   * @internal The sender started a delivery with `deliveryId` (its first transfer arrived); false
   * when the id is out of the session's sequence (the session is then ending, the transfer dropped).
   */
  deliveryStarted(deliveryId: number): boolean;
  /** @internal The sender aborted the delivery `deliveryId`. */
  deliveryAborted(deliveryId: number): void;
  /** @internal Files an unsettled delivery (the sender's DISPOSITIONs find it by delivery-id). */
  trackIncoming(delivery: IncomingDelivery): void;
  /** @internal Queues our DISPOSITION of `delivery`. */
  settleIncoming(delivery: IncomingDelivery, state: DeliveryState | undefined, settled: boolean): void;
}

/** How a settlement ended (see {@link ReceiverLink.settleAndConfirm}). */
export interface SettleConfirmation {
  /** True when the sender settled the delivery after our outcome (receiver-settle-mode second). */
  readonly confirmed: boolean;
  /** The state the sender settled with (undefined: settled locally, or the sender sent none). */
  readonly state: DeliveryState | undefined;
}

/** The default outcome of a settlement, shared (nothing changes it). */
const ACCEPTED: DeliveryState = Object.freeze({ type: "accepted" });

interface Assembly {
  deliveryId: number;
  tag: Uint8Array;
  messageFormat: number;
  settled: boolean;
  state: DeliveryState | undefined;
  bytes: DeliveryBytes;
}

export class ReceiverLink extends Link<ReceiverLinkSession> implements IncomingDeliveryLink {
  readonly role = "receiver";
  /** Called for each complete delivery, synchronously from the frame handler. */
  onDelivery: ((delivery: IncomingDelivery) => void) | undefined;
  /** Called when a FLOW from the sender moved the delivery-count (credit was used up or given back). */
  onSenderFlow: (() => void) | undefined;
  #deliveryCount = 0;
  #linkCredit = 0;
  #autoCredit: number;
  #allowance: (() => number) | undefined;
  #strictCredit = false;
  #unsettled = 0;
  /** The max-message-size of our ATTACH in bytes (Infinity: none), as a number. */
  readonly #maxMessageSize: number;
  #assembly: Assembly | undefined;
  /**
   * The delivery-id of the delivery whose first transfer said `more` and whose last has not come
   * yet: the next transfer continues it. Kept while the link detaches (then nothing is assembled),
   * so that the session's delivery-id sequence stays right.
   */
  #continuing: number | undefined;
  /** Deliveries settled in mode second by `settleAndConfirm`, waiting for the sender to settle. */
  readonly #confirming = new Map<IncomingDelivery, Deferred<SettleConfirmation>>();
  #drain: Deferred<void> | undefined;
  #drainMode = false;

  /** Made by its session, with its automatic credit (0 = manual). */
  constructor(session: ReceiverLinkSession, local: AttachFields, autoCredit: number) {
    super(session, local);
    this.#autoCredit = autoCredit;
    const max = local.maxMessageSize;
    this.#maxMessageSize = max === undefined || max <= 0 ? Infinity : Number(max);
  }

  get deliveryCount(): number {
    return this.#deliveryCount;
  }

  /** Credit we granted and the sender has not used. */
  get linkCredit(): number {
    return this.#linkCredit;
  }

  /**
   * Credit kept outstanding automatically: when less than half remains, it is topped up to this
   * value. 0 = manual credit (`flow()` / `addCredit()`). Set at attach, or by {@link ReceiverLink.setAutoCredit}.
   */
  get autoCredit(): number {
    return this.#autoCredit;
  }

  /** Deliveries received and not yet settled locally. */
  get unsettled(): number {
    return this.#unsettled;
  }

  /** Whether a delivery without credit detaches the link (see {@link ReceiverLink.enforceCredit}). */
  get strictCredit(): boolean {
    return this.#strictCredit;
  }

  /**
   * Keeps `credit` outstanding automatically from now on (0 = manual credit); the top-up starts
   * with the next delivery or FLOW, so grant the first credit with {@link ReceiverLink.flow}.
   */
  setAutoCredit(credit: number): void {
    this.#autoCredit = Math.max(0, credit);
  }

  /**
   * Caps the automatic credit: before each top-up the link asks `allowance()` how much credit may be
   * outstanding now (at most `autoCredit`; 0 withholds credit), e.g. the broker's memory limits.
   * Credit already granted is never taken back. Call {@link ReceiverLink.topUpCredit} when the
   * allowance may have grown. `undefined` removes the cap.
   */
  setCreditAllowance(allowance: (() => number) | undefined): void {
    this.#allowance = allowance;
  }

  /**
   * Tops the automatic credit up now, as after a delivery: when less than half of `autoCredit` is
   * outstanding, to `autoCredit` or what the allowance permits (a FLOW only when that is at least
   * half a window, or no credit is left).
   */
  topUpCredit(): void {
    this.#topUp();
  }

  /**
   * From now on a delivery that arrives without credit detaches the link with
   * `amqp:link:transfer-limit-exceeded`. Only for receivers that never reduce the credit they
   * granted (transfers in flight may legitimately exceed a reduced credit, AMQP 1.0 section
   * 2.6.7), such as the broker's producers.
   */
  enforceCredit(): void {
    this.#strictCredit = true;
  }

  /**
   * True when settlement needs the sender's confirmation (receiver settle mode second): we asked
   * for it and the sender's ATTACH did not answer `first`. The receiver's own ATTACH sets the mode
   * (AMQP 1.0 §2.7.3), but a sender answering `first` announces it will not settle after our outcome:
   * our dispositions then go settled, so no delivery is left unsettled on both sides.
   */
  get settlesSecond(): boolean {
    if (this.local.rcvSettleMode !== RcvSettleMode.Second) return false;
    return this.remote === undefined || this.remote.rcvSettleMode === RcvSettleMode.Second;
  }

  /** Sets the link credit to `credit` (absolute) and tells the peer. */
  flow(credit: number, options: { drain?: boolean } = {}): void {
    this.#linkCredit = Math.max(0, credit);
    this.#drainMode = options.drain === true;
    if (this.state === "detached" || this.state === "detaching") return;
    this.session.writeFlow(this, this.#drainMode);
  }

  /** Adds `n` to the link credit. */
  addCredit(n: number): void {
    if (n <= 0) return;
    this.flow(this.#linkCredit + n);
  }

  /**
   * Asks the sender to use up or give back the credit (drain). Resolves when the sender reports
   * credit 0 (every available message was sent).
   */
  drain(): Promise<void> {
    if (!this.#drain) {
      this.#drain = deferred();
      this.flow(this.#linkCredit, { drain: true });
    }
    return this.#drain.promise;
  }

  protected onRemoteAttach(attach: AttachFields): void {
    if (attach.initialDeliveryCount !== undefined) this.#deliveryCount = attach.initialDeliveryCount;
    if (this.#linkCredit === 0) this.#topUp();
  }

  handleFlow(flow: FlowFields): void {
    // Only the sender moves delivery-count on its own (AMQP 1.0 §2.6.7): it advances it when it answers a
    // drain or gives credit back. The delivery-limit we granted stays, so the credit left shrinks.
    let advanced = 0;
    if (flow.deliveryCount !== undefined) {
      advanced = serialDiff(this.#deliveryCount, flow.deliveryCount);
      if (advanced > 0) {
        this.#deliveryCount = flow.deliveryCount;
        this.#linkCredit = Math.max(0, this.#linkCredit - advanced);
      }
    }
    let drained = false;
    if (
      this.#drainMode &&
      flow.deliveryCount !== undefined &&
      flow.linkCredit !== undefined &&
      (flow.linkCredit === 0 || this.#linkCredit === 0)
    ) {
      // The sender consumed our credit: the drain is complete.
      this.#linkCredit = 0;
      this.#drainMode = false;
      drained = true;
      const d = this.#drain;
      this.#drain = undefined;
      d?.resolve();
    }
    if (advanced > 0 && !drained) {
      this.#topUp();
      this.onSenderFlow?.();
    }
    if (flow.echo === true) this.session.writeFlow(this, this.#drainMode);
  }

  /**
   * @internal A transfer frame for this link; its payload is `frame[start, end)`. Returns true when
   * a view of `frame` was kept (a delivery in one frame, or a first frame's state); the payload of a
   * delivery in several frames is copied, and so is its tag.
   */
  handleTransfer(t: InboundTransfer, frame: Buffer, start: number, end: number): boolean {
    const continuing = this.#continuing;
    if (continuing === undefined) {
      if (t.deliveryId === undefined || !hasTransferTag(t)) {
        this.session.violation(
          "amqp:invalid-field",
          "first transfer of a delivery lacks delivery-id or delivery-tag",
        );
        return false;
      }
      if (!this.session.deliveryStarted(t.deliveryId)) return false;
    } else if (t.deliveryId !== undefined && t.deliveryId !== continuing) {
      this.#assembly = undefined;
      this.session.violation(
        "amqp:invalid-field",
        `continuation transfer of delivery ${continuing} carries delivery-id ${t.deliveryId}`,
      );
      return false;
    }
    this.#continuing = t.more === true && t.aborted !== true ? (continuing ?? t.deliveryId) : undefined;
    // Transfers the peer sent before it saw our DETACH are dropped: neither delivered nor settled.
    if (this.state === "detaching" || this.state === "detached") return false;
    const a = this.#assembly;
    if (a === undefined) {
      // (Unreachable for a continuation: an attached link keeps its assembly until the last frame.)
      if (t.deliveryId === undefined || !hasTransferTag(t)) return false;
      if (this.#strictCredit && this.#linkCredit <= 0) {
        this.detachWithError({
          condition: "amqp:link:transfer-limit-exceeded",
          description: `delivery ${t.deliveryId} was sent without link credit`,
        });
        return false;
      }
      if (t.more !== true && t.aborted !== true) {
        // A delivery in one frame (the common case): delivered without an assembly.
        this.#deliveryCount = serialAdd(this.#deliveryCount, 1);
        this.#linkCredit--;
        if (!this.#fitsMaxMessageSize(end - start)) return false;
        this.#delivered(
          new ReceivedDelivery(
            this,
            t.deliveryId,
            t.deliveryTag,
            t.tagStart,
            t.tagEnd,
            t.messageFormat ?? 0,
            frame,
            start,
            end,
            t.settled === true,
            t.state,
          ),
        );
        return true;
      }
      this.#deliveryCount = serialAdd(this.#deliveryCount, 1);
      this.#linkCredit--;
      if (t.aborted === true) {
        this.session.deliveryAborted(t.deliveryId);
        this.#topUp();
        return false;
      }
      // The first frame of several.
      const payload = frame.subarray(start, end);
      if (!this.#fitsMaxMessageSize(payload.length)) return false;
      this.#assembly = {
        deliveryId: t.deliveryId,
        // A copy: the frame is let go of (the tag is not a view of it).
        tag: Uint8Array.prototype.slice.call(transferTag(t, frame)!),
        messageFormat: t.messageFormat ?? 0,
        settled: t.settled === true,
        state: t.state,
        bytes: new DeliveryBytes(payload, this.#maxMessageSize),
      };
      // A state may hold views of the frame (values decoded in place).
      return t.state !== undefined;
    }
    if (t.settled === true) a.settled = true;
    const payload = frame.subarray(start, end);
    if (t.aborted === true) {
      this.#assembly = undefined;
      this.session.deliveryAborted(a.deliveryId);
      this.#topUp();
      return false;
    }
    // Checked before the copy: a frame that takes the message past the limit is not gathered.
    if (!this.#fitsMaxMessageSize(a.bytes.size + payload.length)) {
      this.#assembly = undefined;
      return false;
    }
    a.bytes.append(payload);
    if (t.more === true) return false;
    this.#assembly = undefined;
    const body = a.bytes.bytes();
    this.#delivered(
      new ReceivedDelivery(
        this,
        a.deliveryId,
        a.tag,
        -1,
        -1,
        a.messageFormat,
        body,
        0,
        body.length,
        a.settled,
        a.state,
      ),
    );
    return false;
  }

  /**
   * Whether a message of `size` bytes (so far) is within the link's max-message-size; when it is
   * not, the link is detached with `amqp:link:message-size-exceeded`.
   */
  #fitsMaxMessageSize(size: number): boolean {
    const max = this.#maxMessageSize;
    if (size <= max) return true;
    this.detachWithError({
      condition: "amqp:link:message-size-exceeded",
      description: `message of more than ${size} bytes exceeds the link's max-message-size ${max}`,
    });
    return false;
  }

  /** A complete delivery: filed while unsettled, credit topped up, handed to `onDelivery`. */
  #delivered(delivery: IncomingDelivery): void {
    if (!delivery.settled) {
      this.#unsettled++;
      this.session.trackIncoming(delivery);
    }
    // The application sees the delivery first, so that an allowance counts what it stored.
    this.onDelivery?.(delivery);
    this.#topUp();
  }

  #topUp(): void {
    const window = this.#autoCredit;
    if (window <= 0 || this.#drainMode || this.#linkCredit * 2 >= window) return;
    if (this.state === "detached" || this.state === "detaching") return;
    const allowed = this.#allowance ? Math.min(window, Math.max(0, Math.floor(this.#allowance()))) : window;
    // A FLOW per freed message is not worth it: wait until half a window is allowed, unless none is left.
    if (allowed > this.#linkCredit && (allowed * 2 >= window || this.#linkCredit === 0)) this.flow(allowed);
  }

  /**
   * Settles a delivery with a state (default: accepted). Returns false if it was already settled.
   * In receiver-settle-mode second the state is sent unsettled and the delivery settles when the
   * sender confirms.
   */
  settle(delivery: IncomingDelivery, state: DeliveryState | undefined = ACCEPTED): boolean {
    if (delivery.settled || this.state === "detached") return false;
    delivery.settled = true;
    this.#unsettled--;
    this.session.settleIncoming(delivery, state, !this.settlesSecond);
    return true;
  }

  /**
   * Settles like {@link ReceiverLink.settle} and resolves when the settlement is final: when the
   * sender settles the delivery (mode second; `confirmed`, with the sender's state), or at once
   * when we settle alone (mode first, or a sender that answered `first`). Rejects with the link's
   * error if the link fails first. Undefined when the delivery was already settled.
   */
  settleAndConfirm(
    delivery: IncomingDelivery,
    state: DeliveryState = ACCEPTED,
  ): Promise<SettleConfirmation> | undefined {
    const second = this.settlesSecond;
    if (!this.settle(delivery, state)) return undefined;
    if (!second) return Promise.resolve({ confirmed: false, state: undefined });
    const d = deferred<SettleConfirmation>();
    this.#confirming.set(delivery, d);
    return d.promise;
  }

  /** @internal The sender settled a delivery of this link (a DISPOSITION with `settled`). */
  settledBySender(delivery: IncomingDelivery, state: DeliveryState | undefined): void {
    if (!delivery.settled) {
      delivery.settled = true;
      this.#unsettled--;
    }
    const d = this.#confirming.get(delivery);
    if (!d) return;
    this.#confirming.delete(delivery);
    d.resolve({ confirmed: true, state });
  }

  protected failPending(error: AMQPError): void {
    this.#assembly = undefined;
    if (this.#confirming.size > 0) {
      const waiting = [...this.#confirming.values()];
      this.#confirming.clear();
      for (const d of waiting) d.reject(error);
    }
    const d = this.#drain;
    this.#drain = undefined;
    d?.reject(error);
  }
}
