/**
 * PeekLock locks of one queue: each unsettled delivery holds a lock on its message, identified by
 * a lock token that is also the delivery tag (as Azure Service Bus does). A lock ends once: when
 * the consumer's outcome is applied, when the consumer's link goes, or when it expires
 * (`queues.lockDuration`), after which the consumer's outcome finds no lock: the lock is lost.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { QueueConsumer } from "./queue-consumer.js";
import type { StoredMessage } from "./stored-message.js";

/** The condition Azure Service Bus settles an outcome with when the message's lock is gone. */
export const MESSAGE_LOCK_LOST = "com.microsoft:message-lock-lost";

/** The lock of one delivered message. */
export interface MessageLock {
  /** The delivery tag of the delivery holding the lock (8 bytes). */
  readonly token: Buffer;
  readonly message: StoredMessage;
  readonly consumer: QueueConsumer;
}

interface LockEntry extends MessageLock {
  timer: NodeJS.Timeout | undefined;
}

/** The state an outcome for a lost lock is settled with (receiver-settle-mode second). */
export function lockLostState(): DeliveryState {
  return {
    type: "rejected",
    error: {
      condition: MESSAGE_LOCK_LOST,
      description: "the lock on the message was lost (it expired or the message was redelivered)",
    },
  };
}

export class MessageLocks {
  readonly #locks = new Map<string, LockEntry>();
  #next = 0n;

  /** Locks held. */
  get size(): number {
    return this.#locks.size;
  }

  /**
   * Takes a lock on `message` for `consumer`; after `durationMs` (0 = never) it is dropped and
   * `onExpired` runs.
   */
  take(
    message: StoredMessage,
    consumer: QueueConsumer,
    durationMs: number,
    onExpired: (lock: MessageLock) => void,
  ): MessageLock {
    const token = Buffer.alloc(8);
    token.writeBigUInt64BE(++this.#next);
    const entry: LockEntry = { token, message, consumer, timer: undefined };
    const key = token.toString("hex");
    this.#locks.set(key, entry);
    if (durationMs > 0) {
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (this.#locks.get(key) === entry) {
          this.#locks.delete(key);
          onExpired(entry);
        }
      }, durationMs);
      entry.timer.unref();
    }
    return entry;
  }

  /** The lock held under `token`, if it is still held. */
  find(token: Uint8Array | undefined): MessageLock | undefined {
    if (token?.length !== 8) return undefined;
    return this.#locks.get(Buffer.from(token.buffer, token.byteOffset, token.length).toString("hex"));
  }

  /** Ends a lock; false when it had already ended (expired, or released before). */
  release(lock: MessageLock): boolean {
    const key = lock.token.toString("hex");
    const entry = this.#locks.get(key);
    if (entry !== lock) return false;
    this.#locks.delete(key);
    if (entry.timer) clearTimeout(entry.timer);
    return true;
  }

  /** Ends every lock (the queue is deleted). */
  clear(): void {
    for (const e of this.#locks.values()) if (e.timer) clearTimeout(e.timer);
    this.#locks.clear();
  }
}
