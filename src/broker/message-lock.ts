/**
 * PeekLock locks of one queue: each unsettled delivery holds a lock on its message, identified by
 * a lock token that is also the delivery tag (as Azure Service Bus does). A lock ends once: when
 * the consumer's outcome is applied, when the consumer's link goes, or when it expires
 * (`queues.lockDuration`), after which the consumer's outcome finds no lock: the lock is lost.
 *
 * Taking and releasing a lock is O(1) and costs one small object and the 8-byte token, and no
 * hashing: our tokens hold a counter, and locks end in about the order they were taken, so they are
 * indexed by that number in a ring (the engine's `DeliveryTable`, which keeps the few locks held far
 * longer than those taken after them in a `Map`); tokens we are given (a Service Bus GUID) are
 * indexed in a `Map`. Expiry needs no timer per lock: locks of the same duration expire in the
 * order they were taken, so each duration has a list in expiry order, and one timer per queue waits
 * for the earliest head of these lists.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import { DeliveryTable } from "../engine/delivery-table.js";
import type { StoredMessage } from "./stored-message.js";

/** The condition Azure Service Bus settles an outcome with when the message's lock is gone. */
export const MESSAGE_LOCK_LOST = "com.microsoft:message-lock-lost";

/** The lock of one delivered message, held by a consumer of type `C` (the queue's). */
export interface MessageLock<C = unknown> {
  /** The delivery tag of the delivery holding the lock (8 bytes; 16 for a Service Bus consumer). */
  readonly token: Buffer;
  readonly message: StoredMessage;
  /**
   * The message's `byteCount`, kept here too: a settlement frees the bytes without reading the
   * message (which by then has usually left the processor's caches).
   */
  readonly bytes: number;
  readonly consumer: C;
  /** When the lock expires (ms since the epoch; Infinity = when the consumer settles or detaches). */
  readonly lockedUntil: number;
}

/** A held lock; also a link of the expiry list of its duration. */
class LockEntry<C> implements MessageLock<C> {
  /** The token given, or ours once asked for (made from the counter in `key` on first use). */
  #token: Buffer | undefined;
  readonly key: LockKey;
  readonly message: StoredMessage;
  readonly bytes: number;
  readonly consumer: C;
  lockedUntil = Infinity;
  /** Until released or expired. */
  held = true;
  /** Indexed in the ring by its counter (else in the `Map`, by its key). */
  inRing = false;
  /** The expiry list it is on (none: it does not expire). */
  list: ExpiryList<C> | undefined = undefined;
  prev: LockEntry<C> | undefined = undefined;
  next: LockEntry<C> | undefined = undefined;

  constructor(token: Buffer | undefined, key: LockKey, message: StoredMessage, consumer: C) {
    this.#token = token;
    this.key = key;
    this.message = message;
    this.bytes = message.byteCount;
    this.consumer = consumer;
  }

  get token(): Buffer {
    return (this.#token ??= writeCounter(Buffer.allocUnsafe(8), this.key as number));
  }

  /** The delivery tag to send: the token, or when ours is not made yet, its bytes in `scratch`. */
  tag(scratch: Buffer): Buffer {
    return this.#token ?? writeCounter(scratch, this.key as number);
  }
}

/** Writes the 8-byte token of counter `n` into `into`; returns `into`. */
function writeCounter(into: Buffer, n: number): Buffer {
  const hi = Math.floor(n / TWO_32);
  into[0] = 0;
  into[1] = hi >>> 16;
  into[2] = hi >>> 8;
  into[3] = hi;
  into[4] = n >>> 24;
  into[5] = n >>> 16;
  into[6] = n >>> 8;
  into[7] = n;
  return into;
}

/** The locks of one duration, in the order they expire (oldest first). */
interface ExpiryList<C> {
  readonly durationMs: number;
  head: LockEntry<C> | undefined;
  tail: LockEntry<C> | undefined;
}

/**
 * A lock token's key in the index: the number an 8-byte token holds when it is below 2^53 (every
 * token of ours), else the token in hex (a Service Bus GUID). One key per token either way.
 */
type LockKey = number | string;

const TWO_32 = 2 ** 32;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function keyOf(token: Uint8Array): LockKey {
  if (token.length === 8) {
    const hi = ((token[0]! << 24) | (token[1]! << 16) | (token[2]! << 8) | token[3]!) >>> 0;
    if (hi < 0x200000) {
      const lo = ((token[4]! << 24) | (token[5]! << 16) | (token[6]! << 8) | token[7]!) >>> 0;
      return hi * TWO_32 + lo;
    }
  }
  return Buffer.from(token.buffer, token.byteOffset, token.length).toString("hex");
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
  /** Locks under our own tokens, by the token's counter modulo 2^32 (a serial number). */
  readonly #ring = new DeliveryTable<LockEntry<C>>();
  /** Locks under tokens we were given, and any of ours the ring could not take, by key. */
  readonly #byKey = new Map<LockKey, LockEntry<C>>();
  #size = 0;
  /** The expiry lists, by lock duration (ms); an empty one stays until the timer next fires. */
  readonly #lists = new Map<number, ExpiryList<C>>();
  /** The list last appended to (most locks of a queue have its one duration). */
  #lastList: ExpiryList<C> | undefined;
  readonly #onExpired: (lock: MessageLock<C>) => void;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (Infinity: not armed). */
  #timerAt = Infinity;
  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#expire();
  };

  /** `onExpired` runs for each lock that expired, after it was dropped. */
  constructor(onExpired: (lock: MessageLock<C>) => void) {
    this.#onExpired = onExpired;
  }

  /** Locks held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Takes a lock on `message` for `consumer`, expiring `durationMs` after `now` (0 = never).
   * `token` is the lock token to use (default: the next 8-byte counter).
   */
  take(message: StoredMessage, consumer: C, durationMs: number, now: number, token?: Buffer): MessageLock<C> {
    let entry: LockEntry<C>;
    if (token === undefined) {
      // The token's bytes are made when first asked for: most locks only send them as a tag.
      const n = ++this.#next;
      entry = new LockEntry<C>(undefined, n, message, consumer);
      // After 2^32 locks a counter meets one still held under the same ring slot: that lock keeps it.
      if (this.#ring.get(n >>> 0) === undefined) {
        entry.inRing = true;
        this.#ring.set(n >>> 0, entry);
      } else {
        this.#byKey.set(n, entry);
      }
    } else {
      entry = new LockEntry(token, keyOf(token), message, consumer);
      this.#byKey.set(entry.key, entry);
    }
    this.#size++;
    if (durationMs > 0) this.#append(entry, durationMs, now);
    return entry;
  }

  /** The lock held under `token`, if it is still held. */
  find(token: Uint8Array | undefined): MessageLock<C> | undefined {
    return this.#find(token);
  }

  #find(token: Uint8Array | undefined): LockEntry<C> | undefined {
    if (token === undefined || token.length === 0) return undefined;
    const key = keyOf(token);
    if (typeof key === "number") {
      const entry = this.#ring.get(key >>> 0);
      if (entry !== undefined && entry.key === key) return entry;
    }
    return this.#byKey.size > 0 ? this.#byKey.get(key) : undefined;
  }

  /** Extends a held lock by `durationMs` from now; returns its new expiry, undefined when not held. */
  renew(lock: MessageLock, durationMs: number): number | undefined {
    const entry = this.#held(lock);
    if (entry === undefined) return undefined;
    this.#unlink(entry);
    if (durationMs > 0) this.#append(entry, durationMs, Date.now());
    else entry.lockedUntil = Infinity;
    return entry.lockedUntil;
  }

  /** `x` when it is a lock of this set still held (e.g. the context a delivery was sent with). */
  held(x: unknown): MessageLock<C> | undefined {
    return this.#held(x);
  }

  /**
   * The delivery tag to send for `lock`: its token, or for one of our tokens not made yet, its 8
   * bytes written into `scratch` (which must then stay untouched until the tag is written).
   */
  sendTag(lock: MessageLock<C>, scratch: Buffer): Buffer {
    return lock instanceof LockEntry ? lock.tag(scratch) : lock.token;
  }

  /** Every lock held. */
  all(): MessageLock<C>[] {
    const out: MessageLock<C>[] = [];
    for (const [, entry] of this.#ring.entries()) out.push(entry);
    for (const entry of this.#byKey.values()) out.push(entry);
    return out;
  }

  /** Ends a lock; false when it had already ended (expired, or released before). */
  release(lock: MessageLock<C>): boolean {
    const entry = this.#held(lock);
    if (entry === undefined) return false;
    this.#drop(entry);
    this.#unlink(entry);
    return true;
  }

  /** Ends every lock (the queue is deleted). */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    for (const [, entry] of this.#ring.entries()) entry.held = false;
    for (const entry of this.#byKey.values()) entry.held = false;
    this.#ring.clear();
    this.#byKey.clear();
    this.#size = 0;
    this.#lists.clear();
    this.#lastList = undefined;
  }

  /** `lock` as our entry, when it is one of ours and still held. */
  #held(lock: unknown): LockEntry<C> | undefined {
    if (lock instanceof LockEntry && lock.held) {
      // The entry of this set of locks (another's has no slot here).
      const entry = lock.inRing ? this.#ring.get((lock.key as number) >>> 0) : this.#byKey.get(lock.key);
      if (entry === lock) return entry;
    }
    return undefined;
  }

  /** Takes a held lock out of the index. */
  #drop(entry: LockEntry<C>): void {
    entry.held = false;
    this.#size--;
    if (entry.inRing) this.#ring.delete((entry.key as number) >>> 0);
    else this.#byKey.delete(entry.key);
  }

  /** Puts `entry` at the end of its duration's list (locks of one duration expire in order). */
  #append(entry: LockEntry<C>, durationMs: number, now: number): void {
    entry.lockedUntil = now + durationMs;
    let list = this.#lastList;
    if (list === undefined || list.durationMs !== durationMs) {
      list = this.#lists.get(durationMs);
      if (list === undefined) {
        list = { durationMs, head: undefined, tail: undefined };
        this.#lists.set(durationMs, list);
      }
      this.#lastList = list;
    }
    entry.list = list;
    const tail = list.tail;
    entry.prev = tail;
    entry.next = undefined;
    if (tail) {
      tail.next = entry;
    } else {
      list.head = entry;
    }
    list.tail = entry;
    // Only a new head can expire before the timer fires.
    if (list.head === entry && entry.lockedUntil < this.#timerAt) this.#arm(entry.lockedUntil, now);
  }

  #unlink(entry: LockEntry<C>): void {
    const list = entry.list;
    if (list === undefined) return;
    const { prev, next } = entry;
    if (prev) prev.next = next;
    else list.head = next;
    if (next) next.prev = prev;
    else list.tail = prev;
    entry.list = entry.prev = entry.next = undefined;
    // The timer stays armed: if it fires for a lock released meanwhile, it finds the next one.
  }

  #arm(at: number, now: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, Math.min(MAX_TIMER_MS, Math.max(0, at - now)));
    this.#timer.unref();
  }

  /** Drops the locks whose time is up, tells `onExpired` of each, and waits for the next one. */
  #expire(): void {
    const now = Date.now();
    const expired: LockEntry<C>[] = [];
    for (const list of [...this.#lists.values()]) {
      while (list.head !== undefined && list.head.lockedUntil <= now) {
        const e = list.head;
        this.#drop(e);
        this.#unlink(e);
        expired.push(e);
      }
    }
    let next = Infinity;
    for (const list of [...this.#lists.values()]) {
      if (list.head === undefined) {
        // Empty lists go here, not as they empty: a queue whose consumers keep up empties its
        // list again and again.
        this.#lists.delete(list.durationMs);
        if (this.#lastList === list) this.#lastList = undefined;
      } else if (list.head.lockedUntil < next) {
        next = list.head.lockedUntil;
      }
    }
    if (next !== Infinity) this.#arm(next, now);
    // Last: expiring requeues messages, which may take new locks.
    for (const e of expired) this.#onExpired(e);
  }
}
