/**
 * A consumer of a queue, as the queue and its message locks know it: a leaf, so that the lock
 * module (message-lock.ts) and the queue (queue.ts) both use it without importing each other.
 */
import type { SenderLink } from "../engine/sender-link.js";

/** A consumer: a sending link of the broker bound to a queue. */
export interface QueueConsumer {
  readonly link: SenderLink;
  readonly connectionId: number;
}
