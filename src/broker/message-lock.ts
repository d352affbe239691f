/**
 * PeekLock locks of one queue: each unsettled delivery holds a lock on its message, identified by
 * a lock token that is also the delivery tag (as Azure Service Bus does). A lock ends once: when
 * the consumer's outcome is applied, when the consumer's link goes, or when it expires
 * (`queues.lockDuration`), after which the consumer's outcome finds no lock: the lock is lost.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { StoredMessage } from "./stored-message.js";

/** The condition Azure Service Bus settles an outcome with when the message's lock is gone. */
export const MESSAGE_LOCK_LOST = "com.microsoft:message-lock-lost";

/** The lock of one delivered message, held by a consumer of type `C` (the queue's). */
export interface MessageLock<C = unknown> {
  /** The delivery tag of the delivery holding the lock (8 bytes; 16 for a Service Bus consumer). */
  readonly token: Buffer;
  readonly message: StoredMessage;
  readonly consumer: C;
  /** When the lock expires (ms since the epoch; Infinity = when the consumer settles or detaches). */
  readonly lockedUntil: number;
}

interface LockEntry<C> extends MessageLock<C> {
  timer: NodeJS.Timeout | undefined;
  lockedUntil: number;
  readonly onExpired: (lock: MessageLock<C>) => void;
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

/** The locks of one queue; `C` is its consumer type (generic so that this module needs no queue). */
export class MessageLocks<C> {
  readonly #locks = new Map<string, LockEntry<C>>();
  #next = 0n;

  /** Locks held. */
  get size(): number {
    return this.#locks.size;
  }

  /**
   * Takes a lock on `message` for `consumer`; after `durationMs` (0 = never) it is dropped and
   * `onExpired` runs. `token` is the lock token to use (default: the next 8-byte counter).
   */
  take(
    message: StoredMessage,
    consumer: C,
    durationMs: number,
    onExpired: (lock: MessageLock<C>) => void,
    token?: Buffer,
  ): MessageLock<C> {
    let t = token;
    if (t === undefined) {
      t = Buffer.alloc(8);
      t.writeBigUInt64BE(++this.#next);
    }
    const entry: LockEntry<C> = {
      token: t,
      message,
      consumer,
      timer: undefined,
      lockedUntil: Infinity,
      onExpired,
    };
    this.#locks.set(t.toString("hex"), entry);
    this.#arm(entry, durationMs);
    return entry;
  }

  #arm(entry: LockEntry<C>, durationMs: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    if (durationMs <= 0) {
      entry.lockedUntil = Infinity;
      return;
    }
    entry.lockedUntil = Date.now() + durationMs;
    const key = entry.token.toString("hex");
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.#locks.get(key) === entry) {
        this.#locks.delete(key);
        entry.onExpired(entry);
      }
    }, durationMs);
    entry.timer.unref();
  }

  /** The lock held under `token`, if it is still held. */
  find(token: Uint8Array | undefined): MessageLock<C> | undefined {
    if (token === undefined || token.length === 0) return undefined;
    return this.#locks.get(Buffer.from(token.buffer, token.byteOffset, token.length).toString("hex"));
  }

  /** Extends a held lock by `durationMs` from now; returns its new expiry, undefined when not held. */
  renew(lock: MessageLock<C>, durationMs: number): number | undefined {
    const entry = this.#locks.get(lock.token.toString("hex"));
    if (entry !== lock) return undefined;
    this.#arm(entry, durationMs);
    return entry.lockedUntil;
  }

  /** Every lock held. */
  all(): MessageLock<C>[] {
    return [...this.#locks.values()];
  }

  /** Ends a lock; false when it had already ended (expired, or released before). */
  release(lock: MessageLock<C>): boolean {
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
