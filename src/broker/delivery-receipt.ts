/**
 * The one place where the broker hands a delivery to a consumer's link, and how it hears how the
 * delivery ended: a long-lived receipt object per kind of delivery (not closures per delivery),
 * told with the `context` the delivery was sent with (its lock, or its message).
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { SendOptions, SenderLink } from "../engine/sender-link.js";

/** Hears how deliveries ended, each with the context it was sent with. */
export interface SentDeliveryReceipt<T> {
  /** The consumer settled the delivery with `state`; undefined: it was written pre-settled. */
  settled(context: T, state: DeliveryState | undefined): void;
  /** The delivery failed: its link, session or connection went away before it was settled. */
  failed(context: T, error: unknown): void;
}

/**
 * Sends `payload` on `link`; `receipt` is told how the delivery ended, with `context`, never
 * synchronously (the engine batches its reports in a microtask). `options` is read during the call
 * only (the queue reuses one object). A delivery costs the broker no promise and no closure.
 */
export function sendDelivery<T>(
  link: SenderLink,
  payload: Buffer,
  options: SendOptions,
  receipt: SentDeliveryReceipt<T>,
  context: T,
): void {
  link.transfer(payload, payload.length, receipt, context, options);
}
