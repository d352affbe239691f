/**
 * Deliveries as the engine tracks them. The engine moves payload bytes only; message encoding
 * belongs to the layers above.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { ReceiverLink } from "./receiver-link.js";
import type { SenderLink } from "./sender-link.js";

export type { DeliveryState };

/** A delivery being sent. */
export interface OutgoingDelivery {
  readonly link: SenderLink;
  readonly payload: Uint8Array;
  readonly messageFormat: number;
  readonly settled: boolean;
  tag: Uint8Array | undefined;
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
  readonly link: ReceiverLink;
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
  /** Settled on our side (locally, or because the sender pre-settled it). */
  settled: boolean;
  /** The state the sender reported (transfer `state`, or a later disposition). */
  remoteState: DeliveryState | undefined;
}
