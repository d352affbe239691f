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
 * synchronously. `options` is read during the call only (the queue reuses one object).
 *
 * Today the engine's `SenderLink.send` returns a promise per delivery, so this attaches two closures
 * to it. Once the engine reports to a receipt object itself, this body becomes one call
 * (`link.transfer(payload, payload.length, receipt, context, options)`) and a delivery costs the
 * broker no promise and no closure.
 */
export function sendDelivery<T>(
  link: SenderLink,
  payload: Buffer,
  options: SendOptions,
  receipt: SentDeliveryReceipt<T>,
  context: T,
): void {
  link.send(payload, options).then(
    (state) => {
      receipt.settled(context, state);
    },
    (error: unknown) => {
      receipt.failed(context, error);
    },
  );
}
