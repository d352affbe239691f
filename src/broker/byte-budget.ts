/**
 * The bytes of stored messages counted against a limit (one budget per queue, one for the whole
 * broker), with the hysteresis of producer flow control: a budget is full once its count reaches
 * the limit and stays full until it has come down to the low-water mark, so producers held back get
 * their credit again in one go, not one message at a time (docs/broker.md, "Memory").
 */

/**
 * What each message counts besides its encoded bytes: the broker's bookkeeping of it (its record,
 * the buffer object, its slot in the queue). Measured at about 350 bytes for a tiny message on
 * Node 20 (64-bit); counting it keeps a flood of tiny messages bounded too.
 */
export const MESSAGE_OVERHEAD_BYTES = 256;

/** A full budget takes new messages again once it has come down to this share of its limit. */
export const LOW_WATER_FRACTION = 0.75;

export class ByteBudget {
  /** The limit (bytes): the budget is full once its count reaches it. */
  readonly limit: number;
  /** A full budget stops being full once its count is at or below this (bytes). */
  readonly lowWater: number;
  readonly #parent: ByteBudget | undefined;
  readonly #waiters = new Set<() => void>();
  #used = 0;
  #full = false;

  /** A budget of `limit` bytes; what it counts is counted by `parent` too (the broker's total). */
  constructor(limit: number, parent?: ByteBudget) {
    this.limit = limit;
    this.lowWater = Math.floor(limit * LOW_WATER_FRACTION);
    this.#parent = parent;
  }

  /** Bytes counted now. */
  get used(): number {
    return this.#used;
  }

  /** Reached its limit and not yet back down to the low-water mark: nothing more is taken. */
  get full(): boolean {
    return this.#full;
  }

  /** Bytes that may still be added before the limit (0 while full). */
  get room(): number {
    return this.#full ? 0 : Math.max(0, this.limit - this.#used);
  }

  /** Counts `n` more bytes. */
  add(n: number): void {
    this.#used += n;
    if (this.#used >= this.limit) this.#full = true;
    this.#parent?.add(n);
  }

  /** Counts `n` bytes fewer; when that ends the full state, wakes the waiters. */
  remove(n: number): void {
    const d = Math.min(n, this.#used);
    this.#used -= d;
    this.#parent?.remove(d);
    if (this.#full && this.#used <= this.lowWater) {
      this.#full = false;
      if (this.#waiters.size === 0) return;
      const waiters = [...this.#waiters];
      this.#waiters.clear();
      for (const w of waiters) w();
    }
  }

  /** Drops the whole count (the queue was deleted). */
  clear(): void {
    this.remove(this.#used);
  }

  /** Calls `fn` once, when the budget stops being full (producers waiting for credit). */
  whenRoom(fn: () => void): void {
    this.#waiters.add(fn);
  }

  /** Forgets a function given to {@link ByteBudget.whenRoom}. */
  cancelWhenRoom(fn: () => void): void {
    this.#waiters.delete(fn);
  }
}
