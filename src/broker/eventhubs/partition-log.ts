/**
 * One partition of an event hub: an append-only log of events, numbered from 0, each at the offset
 * of the bytes before it, kept within the retention limits (count, bytes, age; the oldest go first)
 * and read by any number of readers without being removed. Age is checked whenever the log is
 * written or read, so no timer runs. The events kept count in the broker's total of stored bytes.
 */
import { Fifo } from "../../util/fifo.js";
import { MESSAGE_OVERHEAD_BYTES, type ByteBudget } from "../byte-budget.js";
import { stampEvent, type IncomingEvent, type LastEnqueued, type StoredEvent } from "./event-format.js";
import type { EventPosition } from "./position-filter.js";

/** Retention limits with every default filled in. */
export interface Retention {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

/** Where a reader starts: a sequence number, and a test the first events must pass. */
export interface StartPoint {
  readonly sequenceNumber: number;
  /**
   * Events from `sequenceNumber` on that fail it are skipped until one passes (a position past the
   * end of the log: an offset or time not reached yet).
   */
  readonly after?: (e: StoredEvent) => boolean;
}

export class PartitionLog {
  readonly id: string;
  readonly #retention: Retention;
  readonly #memory: ByteBudget;
  readonly #events = new Fifo<StoredEvent>();
  #nextSequenceNumber = 0;
  #nextOffset = 0;
  #bytes = 0;
  #last: LastEnqueued | undefined;
  readonly #watchers = new Set<() => void>();

  /** `memory`: the broker's total, where the events kept are counted (encoded size plus overhead). */
  constructor(id: string, retention: Retention, memory: ByteBudget) {
    this.id = id;
    this.#retention = retention;
    this.#memory = memory;
  }

  /** Events kept. */
  get eventCount(): number {
    return this.#events.length;
  }

  /** Bytes of the events kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sequence number of the oldest event kept, or of the next one when none is. */
  get beginSequenceNumber(): number {
    return this.#events.at(0)?.sequenceNumber ?? this.#nextSequenceNumber;
  }

  /** The sequence number the next event will get. */
  get nextSequenceNumber(): number {
    return this.#nextSequenceNumber;
  }

  /** The last event enqueued (kept even after it expired); undefined before the first. */
  get lastEnqueued(): LastEnqueued | undefined {
    return this.#last;
  }

  /** Appends events (all enqueued at `now`) and wakes the readers. */
  append(events: readonly IncomingEvent[], now: number): void {
    if (events.length === 0) return;
    for (const e of events) {
      const stored = stampEvent(e, this.#nextSequenceNumber++, this.#nextOffset, now);
      this.#nextOffset += stored.payload.length;
      this.#bytes += stored.payload.length;
      this.#memory.add(stored.payload.length + MESSAGE_OVERHEAD_BYTES);
      this.#events.push(stored);
      this.#last = stored;
    }
    this.expire(now);
    for (const w of [...this.#watchers]) w();
  }

  /** The event numbered `sequenceNumber`, if it is kept. */
  at(sequenceNumber: number): StoredEvent | undefined {
    return this.#events.at(sequenceNumber - this.beginSequenceNumber);
  }

  /** Calls `fn` after every append; returns a function that stops it. */
  watch(fn: () => void): () => void {
    this.#watchers.add(fn);
    return () => this.#watchers.delete(fn);
  }

  /** Readers watching the log. */
  get watcherCount(): number {
    return this.#watchers.size;
  }

  /** Where a reader with `position` starts (the log's age limit applied at `now` first). */
  seek(position: EventPosition, now: number): StartPoint {
    this.expire(now);
    const begin = this.beginSequenceNumber;
    switch (position.kind) {
      case "earliest":
        return { sequenceNumber: begin };
      case "latest":
        return { sequenceNumber: this.#nextSequenceNumber };
      case "sequence-number": {
        const first = position.inclusive ? position.value : position.value + 1;
        return { sequenceNumber: Math.max(begin, first) };
      }
      case "offset":
      case "enqueued-time": {
        const v = position.value;
        const key =
          position.kind === "offset" ? (e: StoredEvent) => e.offset : (e: StoredEvent) => e.enqueuedTime;
        const after = position.inclusive ? (e: StoredEvent) => key(e) >= v : (e: StoredEvent) => key(e) > v;
        return { sequenceNumber: this.#firstPassing(after), after };
      }
    }
  }

  /**
   * The sequence number of the first kept event passing `test` (offsets and enqueued times never
   * decrease along the log, so a binary search finds it), or the next one's when none does.
   */
  #firstPassing(test: (e: StoredEvent) => boolean): number {
    let lo = 0;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (test(this.#events.at(mid)!)) hi = mid;
      else lo = mid + 1;
    }
    return this.#events.at(lo)?.sequenceNumber ?? this.#nextSequenceNumber;
  }

  /** Drops the events beyond the retention limits (the newest event stays within count and bytes). */
  expire(now: number): void {
    const r = this.#retention;
    const oldest = now - r.maxAgeMs;
    for (let e = this.#events.at(0); e !== undefined; e = this.#events.at(0)) {
      const count = this.#events.length;
      const over = count > r.maxEvents || (count > 1 && this.#bytes > r.maxBytes) || e.enqueuedTime <= oldest;
      if (!over) break;
      this.#bytes -= e.payload.length;
      this.#memory.remove(e.payload.length + MESSAGE_OVERHEAD_BYTES);
      this.#events.shift();
    }
  }

  /** Drops every event and reader (the broker closed). */
  clear(): void {
    this.#memory.remove(this.#bytes + this.eventCount * MESSAGE_OVERHEAD_BYTES);
    this.#events.clear();
    this.#bytes = 0;
    this.#watchers.clear();
  }
}
