/**
 * Deliveries as the engine tracks them: records shared by a link and its session, each typed
 * against the small interface of its link that the session calls (not the link classes). The
 * engine moves payload bytes only; message encoding belongs to the layers above.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";

export type { DeliveryState };

/** The link of a delivery we send, as its session settles it (`SenderLink` implements it). */
export interface OutgoingDeliveryLink {
  /**
   * Receiver settle mode second: the receiver sent an outcome without settling; returns the state
   * we settle with (undefined: the receiver's).
   */
  readonly onReceiverOutcome:
    ((delivery: OutgoingDelivery, state: DeliveryState) => DeliveryState | undefined) | undefined;
  /**
   * @internal The peer settled the delivery (or we settled it after the receiver's outcome) with
   * `state`. Internal like its implementation, so that both leave the published types together.
   */
  settledByPeer(delivery: OutgoingDelivery, state: DeliveryState | undefined): void;
}

/** The link of a delivery we receive, as its session settles it (`ReceiverLink` implements it). */
export interface IncomingDeliveryLink {
  /**
   * @internal The sender settled the delivery (a DISPOSITION with `settled`), with `state` if it
   * sent one. Internal like its implementation.
   */
  settledBySender(delivery: IncomingDelivery, state: DeliveryState | undefined): void;
}

/** A delivery being sent. */
export interface OutgoingDelivery {
  readonly link: OutgoingDeliveryLink;
  readonly payload: Uint8Array;
  readonly messageFormat: number;
  readonly settled: boolean;
  /** Delivery tag: given by the sender, else set by the session from the delivery-id. */
  tag: Uint8Array | undefined;
  /** Assigned by the session when the first frame is written; -1 before. */
  deliveryId: number;
  /** Bytes of the payload already written (multi-frame deliveries paused by the session window). */
  offset: number;
  done: boolean;
  resolve: (state: DeliveryState | undefined) => void;
  reject: (error: unknown) => void;
  cleanup: (() => void) | undefined;
}

/** A delivery received on a receiver link. */
export interface IncomingDelivery {
  readonly link: IncomingDeliveryLink;
  readonly deliveryId: number;
  readonly tag: Uint8Array;
  readonly messageFormat: number;
  /**
   * The message bytes. A view into the received frame (never reused by the engine, so it may be
   * kept), or one buffer joining the frames of a multi-frame delivery.
   */
  readonly payload: Buffer;
  /** The sender settled it already (pre-settled, "at most once"). */
  readonly remoteSettled: boolean;
  /** Settled on our side (locally, or because the sender pre-settled or settled it). */
  settled: boolean;
  /** The state the sender reported (transfer `state`, or a later disposition). */
  remoteState: DeliveryState | undefined;
}
