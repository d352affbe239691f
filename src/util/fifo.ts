/** The first number of slots of a {@link Fifo} (a power of two). */
const INITIAL_SLOTS = 16;
/** A ring with more slots than this is given back when it empties (a burst's memory is not kept). */
const SHRINK_ABOVE = 1 << 16;

/**
 * A first-in first-out queue in a ring of slots that doubles when full: no allocation per item,
 * O(1) at both ends and by position. The queues of the client and the broker take and give items
 * at the message rate; an array with `shift()` copies, one with a head index must be compacted.
 * @internal
 */
export class Fifo<T> {
  #slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
  #head = 0;
  #length = 0;

  /** Items held. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item` at the back. */
  push(item: T): void {
    let slots = this.#slots;
    if (this.#length === slots.length) slots = this.#grow();
    slots[(this.#head + this.#length) & (slots.length - 1)] = item;
    this.#length++;
  }

  /** Takes the oldest item, if there is one. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const slots = this.#slots;
    const item = slots[this.#head];
    slots[this.#head] = undefined;
    this.#head = (this.#head + 1) & (slots.length - 1);
    if (--this.#length === 0 && slots.length > SHRINK_ABOVE) this.clear();
    return item;
  }

  /** The item at position `i` (0: the oldest), if there is one; nothing is taken. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.#length) return undefined;
    const slots = this.#slots;
    return slots[(this.#head + i) & (slots.length - 1)];
  }

  /** The position of `item` (0: the oldest), or -1 when it is not held. */
  indexOf(item: T): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = 0; i < this.#length; i++) if (slots[(this.#head + i) & mask] === item) return i;
    return -1;
  }

  /** Takes the item at position `i` (0 <= i < length) out of the middle: O(distance to the nearer end). */
  removeAt(i: number): T {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const head = this.#head;
    const item = slots[(head + i) & mask] as T;
    if (i < this.#length >> 1) {
      for (let j = i; j > 0; j--) slots[(head + j) & mask] = slots[(head + j - 1) & mask];
      slots[head] = undefined;
      this.#head = (head + 1) & mask;
    } else {
      const last = this.#length - 1;
      for (let j = i; j < last; j++) slots[(head + j) & mask] = slots[(head + j + 1) & mask];
      slots[(head + last) & mask] = undefined;
    }
    this.#length--;
    return item;
  }

  /** Puts `item` at position `i` (0 <= i <= length): O(distance to the nearer end). */
  insertAt(i: number, item: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    const slots = this.#slots;
    const mask = slots.length - 1;
    if (i < this.#length >> 1) {
      // The items before `i` move one slot towards the front.
      const head = (this.#head - 1) & mask;
      for (let j = 0; j < i; j++) slots[(head + j) & mask] = slots[(head + j + 1) & mask];
      slots[(head + i) & mask] = item;
      this.#head = head;
    } else {
      const head = this.#head;
      for (let j = this.#length; j > i; j--) slots[(head + j) & mask] = slots[(head + j - 1) & mask];
      slots[(head + i) & mask] = item;
    }
    this.#length++;
  }

  /** Keeps the items `keep` returns true for, in order, and drops the others. */
  retain(keep: (item: T) => boolean): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const n = this.#length;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const item = slots[(this.#head + i) & mask] as T;
      if (keep(item)) slots[(this.#head + kept++) & mask] = item;
    }
    for (let i = kept; i < n; i++) slots[(this.#head + i) & mask] = undefined;
    this.#length = kept;
  }

  /** The items, oldest first, in a new array. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#length; i++) out.push(this.at(i)!);
    return out;
  }

  /** Drops every item (and the memory of a grown ring). */
  clear(): void {
    this.#slots = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): (T | undefined)[] {
    const old = this.#slots;
    const slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.#length; i++) slots[i] = old[(this.#head + i) & (old.length - 1)];
    this.#slots = slots;
    this.#head = 0;
    return slots;
  }
}
