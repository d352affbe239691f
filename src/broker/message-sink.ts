/**
 * What a producer hands its messages to when the target is not a queue: a leaf, so that the nodes
 * that store messages their own way (src/broker/eventhubs/) and the producer need not import each
 * other.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";

/** Message format of Azure batched messages: each data section is one encoded message. */
export const BATCH_FORMAT = 0x80013700;

/**
 * A node that stores messages its own way instead of a queue (an event hub or one of its
 * partitions, see src/broker/eventhubs/): it takes every transfer, and its answer settles it.
 */
export interface MessageSink {
  /** Stores one transfer's message; returns the outcome to settle it with. */
  accept(payload: Buffer, messageFormat: number): DeliveryState;
}
