/**
 * The unsettled deliveries of one direction of a session, by delivery-id. Delivery-ids are serial
 * numbers their sender assigns in increasing order (AMQP 1.0 section 2.6.12), and deliveries are
 * mostly settled in about that order: so they live in a ring indexed by delivery-id, from the oldest
 * to the newest, which costs no hashing and no allocation per delivery (a `Map` that is filled and
 * emptied at the message rate rebuilds its table over and over). A delivery left far behind the
 * newest one (settled long after those sent after it), or older than the oldest in the ring, is
 * kept in a `Map` instead, so the ring never spans more ids than it has slots for.
 */

/** The ring starts with this many slots… */
const INITIAL_SLOTS = 64;
/** …and grows (doubling, while at least half full) up to this many. */
const MAX_SLOTS = 1 << 16;

export class DeliveryTable<D> {
  #slots: (D | undefined)[] = new Array<D | undefined>(INITIAL_SLOTS).fill(undefined);
  #mask = INITIAL_SLOTS - 1;
  /** The delivery-id of the oldest delivery in the ring (meaningful while `#span` > 0). */
  #first = 0;
  /** How many ids from `#first` the ring covers (the settled ones among them are empty slots). */
  #span = 0;
  /** Deliveries in the ring. */
  #inRing = 0;
  /** Deliveries outside the ring's span. */
  readonly #far = new Map<number, D>();

  /** How many deliveries the table holds. */
  get size(): number {
    return this.#inRing + this.#far.size;
  }

  /** The delivery `id`, if the table holds it. */
  get(id: number): D | undefined {
    if ((id - this.#first) >>> 0 < this.#span) return this.#slots[id & this.#mask];
    return this.#far.size > 0 ? this.#far.get(id) : undefined;
  }

  /** Files delivery `id` (replacing one of the same id). */
  set(id: number, d: D): void {
    if (this.#span === 0) {
      this.#first = id;
      this.#span = 1;
      this.#put(id, d);
      return;
    }
    const offset = (id - this.#first) >>> 0;
    if (offset < this.#span) {
      this.#put(id, d);
      return;
    }
    if (offset >= 0x80000000) {
      // Before the oldest in the ring (serial order): not where the ring grows.
      this.#far.set(id, d);
      return;
    }
    this.#makeRoom(offset);
    if (this.#span === 0) {
      this.#first = id;
      this.#span = 1;
    } else {
      this.#span = ((id - this.#first) >>> 0) + 1;
    }
    this.#put(id, d);
  }

  /** Removes delivery `id`; returns whether the table held it. */
  delete(id: number): boolean {
    if ((id - this.#first) >>> 0 >= this.#span) return this.#far.size > 0 && this.#far.delete(id);
    const slots = this.#slots;
    const slot = id & this.#mask;
    if (slots[slot] === undefined) return false;
    slots[slot] = undefined;
    this.#inRing--;
    if (this.#inRing === 0) {
      this.#span = 0;
    } else if (id === this.#first) {
      // The oldest went: the ring starts at the next one still there.
      let first = this.#first;
      let span = this.#span;
      do {
        first = (first + 1) >>> 0;
        span--;
      } while (slots[first & this.#mask] === undefined);
      this.#first = first;
      this.#span = span;
    }
    return true;
  }

  /** Every delivery with its id: those outside the ring first, then the ring's from the oldest. */
  entries(): [number, D][] {
    const out: [number, D][] = [...this.#far];
    for (let i = 0; i < this.#span; i++) {
      const id = (this.#first + i) >>> 0;
      const d = this.#slots[id & this.#mask];
      if (d !== undefined) out.push([id, d]);
    }
    return out;
  }

  /** Removes every delivery. */
  clear(): void {
    this.#slots.fill(undefined);
    this.#span = 0;
    this.#inRing = 0;
    this.#far.clear();
  }

  #put(id: number, d: D): void {
    const slot = id & this.#mask;
    if (this.#slots[slot] === undefined) this.#inRing++;
    this.#slots[slot] = d;
  }

  /**
   * Makes the ring able to span `offset + 1` ids from `#first` (or from the next delivery in it):
   * it doubles while it is at least half full, and otherwise moves its oldest deliveries to the map.
   */
  #makeRoom(offset: number): void {
    while (offset >= this.#slots.length) {
      if (this.#inRing * 2 >= this.#slots.length && this.#slots.length < MAX_SLOTS) {
        this.#grow();
        continue;
      }
      // Sparse (or as large as it gets): the oldest delivery moves out.
      const slots = this.#slots;
      const first = this.#first;
      const d = slots[first & this.#mask];
      if (d !== undefined) {
        slots[first & this.#mask] = undefined;
        this.#inRing--;
        this.#far.set(first, d);
      }
      if (this.#inRing === 0) {
        this.#span = 0;
        return;
      }
      let next = first;
      do {
        next = (next + 1) >>> 0;
      } while (slots[next & this.#mask] === undefined);
      const moved = (next - first) >>> 0;
      this.#first = next;
      this.#span -= moved;
      offset -= moved;
    }
  }

  #grow(): void {
    const old = this.#slots;
    const size = old.length * 2;
    const slots = new Array<D | undefined>(size).fill(undefined);
    const mask = size - 1;
    for (let i = 0; i < this.#span; i++) {
      const id = (this.#first + i) >>> 0;
      const d = old[id & this.#mask];
      if (d !== undefined) slots[id & mask] = d;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
