/**
 * What a received message needs to settle itself: the outcome shapes (members of the codec's
 * `DeliveryState` union) and the settler interface that the receiving layer implements.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { AMQPValue } from "../codec/values.js";
import type { AnnotationsMap } from "./annotations.js";

/** An outcome a receiver can settle with: accepted, rejected, released or modified. */
export type SettlementState = Extract<
  DeliveryState,
  { type: "accepted" | "rejected" | "released" | "modified" }
>;

/**
 * Settles one received delivery. Implemented by the receiving link layer and handed to the message
 * when it is decoded (`Message.decode(bytes, { settler })`).
 */
export interface MessageSettler {
  /**
   * Sends the disposition. Resolves `true` when it was sent, `false` when the delivery could not be
   * settled any more (e.g. the link is gone and the peer already settled it).
   */
  settle(state: SettlementState): Promise<boolean>;
}

/** Options of `reject()`: the AMQP error to attach to the `rejected` outcome. */
export interface RejectOptions {
  /** The error condition symbol; default `amqp:internal-error`. */
  readonly condition?: string | undefined;
  /** A description of the error. */
  readonly description?: string | undefined;
  /** Supplementary information (an AMQP `fields` map). */
  readonly info?: Record<string, AMQPValue> | undefined;
}

/**
 * Options of `modify()`. Both flags are explicit (uamqp's `modify(failed, deliverable)` sent its
 * `deliverable` argument as `undeliverable-here`, the opposite of its name).
 */
export interface ModifyOptions {
  /** Count this delivery as a failed attempt (the peer increments the delivery count). */
  readonly deliveryFailed: boolean;
  /** Do not redeliver the message to this link. */
  readonly undeliverableHere: boolean;
  /** Annotations the peer merges into the message's message annotations. */
  readonly messageAnnotations?: AnnotationsMap | undefined;
}
