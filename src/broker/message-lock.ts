/**
 * PeekLock locks of one queue: each unsettled delivery holds a lock on its message, identified by
 * a lock token that is also the delivery tag (as Azure Service Bus does). A lock ends once: when
 * the consumer's outcome is applied, when the consumer's link goes, or when it expires
 * (`queues.lockDuration`), after which the consumer's outcome finds no lock: the lock is lost.
 *
 * Taking and releasing a lock is O(1), costs one small object, and neither hashes nor touches
 * another lock. Our tokens hold a counter, and locks end in about the order they were taken: the
 * locks of the queue's one duration live in a ring indexed by that counter, oldest first, so the
 * oldest is also the next to expire and one timer per queue waits for it. The token's bytes are
 * made only when asked for (the delivery tag is written from the counter). The rest (tokens we are
 * given, a Service Bus GUID; locks of another duration; renewed locks; and the few held so much
 * longer than those taken after them that the ring would have to span too many) are indexed in a
 * `Map` and wait on lists in expiry order, one per duration, whose heads the timer waits for too.
 */
import type { DeliveryState } from "../codec/definitions/messaging.js";
import type { StoredMessage } from "./stored-message.js";
import { asBuffer } from "../util/buffer-view.js";

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
  /** In the ring, at its counter (else in the `Map`, by its key). */
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
  return asBuffer(token).toString("hex");
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

/** The ring starts with this many slots… */
const INITIAL_SLOTS = 64;
/** …and grows (doubling, while at least half full) up to this many. */
const MAX_SLOTS = 1 << 16;

/** The locks of one queue; `C` is its consumer type (generic so that this module needs no queue). */
export class MessageLocks<C> {
  /** Our locks of the ring's duration, at slot `counter & #mask`, from `#oldest` to `#next`. */
  #slots: (LockEntry<C> | undefined)[] = new Array<LockEntry<C> | undefined>(INITIAL_SLOTS).fill(undefined);
  #mask = INITIAL_SLOTS - 1;
  /** The counter of the oldest lock in the ring (when it holds any). */
  #oldest = 1;
  /** Locks in the ring. */
  #inRing = 0;
  /** The duration of the locks in the ring: that of the first lock of ours (ms; 0 = no expiry). */
  #ringDuration = -1;
  /** Every other lock, by key. */
  readonly #byKey = new Map<LockKey, LockEntry<C>>();
  #size = 0;
  /** The expiry lists of the locks in the `Map`, by duration (ms); an empty one stays until the timer fires. */
  readonly #lists = new Map<number, ExpiryList<C>>();
  /** Locks that left the ring still held, in the order they were taken (so, of expiry). */
  readonly #stragglers: ExpiryList<C> = { durationMs: -1, head: undefined, tail: undefined };
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
    this.#size++;
    if (token === undefined) {
      const n = ++this.#next;
      entry = new LockEntry<C>(undefined, n, message, consumer);
      if (this.#ringDuration < 0) this.#ringDuration = durationMs;
      if (durationMs === this.#ringDuration) {
        if (durationMs > 0) entry.lockedUntil = now + durationMs;
        this.#putInRing(entry, n);
        // Only a lock that is the ring's oldest can expire before the timer fires.
        if (this.#inRing === 1 && entry.lockedUntil < this.#timerAt) this.#arm(entry.lockedUntil, now);
        return entry;
      }
    } else {
      entry = new LockEntry<C>(token, keyOf(token), message, consumer);
    }
    this.#byKey.set(entry.key, entry);
    if (durationMs > 0) this.#append(entry, durationMs, now);
    return entry;
  }

  /** The lock held under `token`, if it is still held. */
  find(token: Uint8Array | undefined): MessageLock<C> | undefined {
    if (token === undefined || token.length === 0) return undefined;
    const key = keyOf(token);
    if (typeof key === "number" && this.#inRing > 0 && key >= this.#oldest && key <= this.#next) {
      const entry = this.#slots[key & this.#mask];
      if (entry !== undefined && entry.key === key) return entry;
    }
    return this.#byKey.size > 0 ? this.#byKey.get(key) : undefined;
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

  /** Extends a held lock by `durationMs` from now; returns its new expiry, undefined when not held. */
  renew(lock: MessageLock, durationMs: number): number | undefined {
    const entry = this.#held(lock);
    if (entry === undefined) return undefined;
    // A renewed lock expires out of the ring's order: it waits on the list of its new duration.
    if (entry.inRing) {
      this.#takeFromRing(entry);
      this.#byKey.set(entry.key, entry);
    } else {
      this.#unlink(entry);
    }
    if (durationMs > 0) this.#append(entry, durationMs, Date.now());
    else entry.lockedUntil = Infinity;
    return entry.lockedUntil;
  }

  /** Every lock held. */
  all(): MessageLock<C>[] {
    const out: MessageLock<C>[] = [];
    for (let n = this.#oldest, left = this.#inRing; left > 0; n++) {
      const entry = this.#slots[n & this.#mask];
      if (entry === undefined) continue;
      out.push(entry);
      left--;
    }
    for (const entry of this.#byKey.values()) out.push(entry);
    return out;
  }

  /** Ends a lock; false when it had already ended (expired, or released before). */
  release(lock: MessageLock<C>): boolean {
    const entry = this.#held(lock);
    if (entry === undefined) return false;
    this.#drop(entry);
    return true;
  }

  /** Ends every lock (the queue is deleted). */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    for (const lock of this.all()) this.#held(lock)!.held = false;
    this.#slots.fill(undefined);
    this.#inRing = 0;
    this.#byKey.clear();
    this.#size = 0;
    this.#lists.clear();
    this.#stragglers.head = this.#stragglers.tail = undefined;
  }

  /** `lock` as our entry, when it is one of ours and still held. */
  #held(lock: unknown): LockEntry<C> | undefined {
    if (lock instanceof LockEntry && lock.held) {
      // The entry of this set of locks (another's has no place here).
      const entry = lock.inRing ? this.#slots[(lock.key as number) & this.#mask] : this.#byKey.get(lock.key);
      if (entry === lock) return entry;
    }
    return undefined;
  }

  /** Ends a held lock: out of its index and its expiry list. */
  #drop(entry: LockEntry<C>): void {
    entry.held = false;
    this.#size--;
    if (entry.inRing) {
      this.#takeFromRing(entry);
    } else {
      this.#byKey.delete(entry.key);
      this.#unlink(entry);
    }
  }

  /** Files lock `entry` of counter `n` (the newest) in the ring, making room for it. */
  #putInRing(entry: LockEntry<C>, n: number): void {
    while (this.#inRing > 0 && n - this.#oldest >= this.#slots.length) {
      if (this.#inRing * 2 >= this.#slots.length && this.#slots.length < MAX_SLOTS) this.#grow();
      else this.#evictOldest();
    }
    if (this.#inRing === 0) this.#oldest = n;
    entry.inRing = true;
    this.#slots[n & this.#mask] = entry;
    this.#inRing++;
  }

  /** Takes a lock out of the ring; the ring then starts at the oldest lock left in it. */
  #takeFromRing(entry: LockEntry<C>): void {
    const n = entry.key as number;
    const slots = this.#slots;
    slots[n & this.#mask] = undefined;
    entry.inRing = false;
    if (--this.#inRing === 0 || n !== this.#oldest) return;
    let oldest = n + 1;
    while (slots[oldest & this.#mask] === undefined) oldest++;
    this.#oldest = oldest;
  }

  /**
   * The ring is as large as it gets, or sparse: its oldest lock, held far longer than those after
   * it, moves to the `Map` and the stragglers' list (its place in expiry order).
   */
  #evictOldest(): void {
    const entry = this.#slots[this.#oldest & this.#mask]!;
    this.#takeFromRing(entry);
    this.#byKey.set(entry.key, entry);
    if (entry.lockedUntil !== Infinity) this.#link(entry, this.#stragglers);
  }

  #grow(): void {
    const size = this.#slots.length * 2;
    const slots = new Array<LockEntry<C> | undefined>(size).fill(undefined);
    for (let n = this.#oldest, left = this.#inRing; left > 0; n++) {
      const entry = this.#slots[n & this.#mask];
      if (entry === undefined) continue;
      slots[n & (size - 1)] = entry;
      left--;
    }
    this.#slots = slots;
    this.#mask = size - 1;
  }

  /** Puts `entry` at the end of its duration's list (locks of one duration expire in order). */
  #append(entry: LockEntry<C>, durationMs: number, now: number): void {
    entry.lockedUntil = now + durationMs;
    let list = this.#lists.get(durationMs);
    if (list === undefined) {
      list = { durationMs, head: undefined, tail: undefined };
      this.#lists.set(durationMs, list);
    }
    this.#link(entry, list);
    // Only a new head can expire before the timer fires.
    if (list.head === entry && entry.lockedUntil < this.#timerAt) this.#arm(entry.lockedUntil, now);
  }

  /** Puts `entry` at the end of `list`. */
  #link(entry: LockEntry<C>, list: ExpiryList<C>): void {
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
    while (this.#inRing > 0) {
      const oldest = this.#slots[this.#oldest & this.#mask]!;
      if (oldest.lockedUntil > now) break;
      this.#drop(oldest);
      expired.push(oldest);
    }
    for (const list of [this.#stragglers, ...this.#lists.values()]) {
      while (list.head !== undefined && list.head.lockedUntil <= now) {
        const e = list.head;
        this.#drop(e);
        expired.push(e);
      }
    }
    let next = this.#inRing > 0 ? this.#slots[this.#oldest & this.#mask]!.lockedUntil : Infinity;
    if (this.#stragglers.head !== undefined && this.#stragglers.head.lockedUntil < next) {
      next = this.#stragglers.head.lockedUntil;
    }
    for (const list of [...this.#lists.values()]) {
      if (list.head === undefined) {
        // Empty lists go here, not as they empty: a queue whose consumers keep up would empty its
        // list again and again.
        this.#lists.delete(list.durationMs);
      } else if (list.head.lockedUntil < next) {
        next = list.head.lockedUntil;
      }
    }
    if (next !== Infinity) this.#arm(next, now);
    // Last: expiring requeues messages, which may take new locks.
    for (const e of expired) this.#onExpired(e);
  }
}
