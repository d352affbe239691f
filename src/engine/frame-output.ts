/**
 * The write side of a connection: frames produced during one tick accumulate in one reusable
 * `ByteWriter` and go to the transport in a single write when the tick ends (or inline above a
 * threshold). The first flush of a connection in a turn of the event loop happens as soon as the
 * tick that wrote is over (its callback and the promise reactions it started); later ones in the
 * same turn wait for the turn's end, so that many ticks writing to one connection (a queue fed by
 * many producers) make at most two writes a turn. Large transfer payloads are passed as views,
 * never copied. When the transport reports back-pressure, `blocked` is set until it drains;
 * producers of transfers check it.
 *
 * A transport that tells what it still holds (`heldBytes`, a socket) is given the writer's own
 * memory, and the writer starts over in it once the transport holds nothing (a socket mostly
 * hands a write to the system at once): no copy, and memory that stays in the cache. Otherwise
 * (another transport, or a socket still holding bytes) what the transport was given is its own:
 * a copy of the writer's content, or the writer moves to fresh memory.
 */
import type { Transport } from "../transport/transport.js";
import { ByteWriter } from "../util/byte-writer.js";

/** Flush inline once this many bytes are pending, without waiting for the end of the tick. */
const INLINE_FLUSH_BYTES = 256 * 1024;
/** The writer's memory at first; it grows to the power of two that holds the frames of a tick. */
const MEMORY_BYTES = 64 * 1024;

/**
 * Turns of the event loop, counted by one immediate per turn in which some output asked. An
 * output flushes early (at the end of the tick) once per turn: a request or an answer leaves as
 * soon as it is written, not after the rest of the turn, which a request/response pays in latency
 * on both sides (bench/README.md, "Generated field writers; a connection's first write of a turn");
 * the rest of the turn's writes are gathered as before.
 */
let turn = 0;
let counting = false;
const nextTurn = (): void => {
  turn++;
  counting = false;
};
function currentTurn(): number {
  if (!counting) {
    counting = true;
    setImmediate(nextTurn);
  }
  return turn;
}

export class FrameOutput {
  /** Where frames are encoded. Call `frameWritten()` after writing into it. */
  readonly writer = new ByteWriter(0);
  /** True while the transport asked us to wait for `drain`. */
  blocked = false;
  /** Called when the transport drained after back-pressure. */
  onDrain: (() => void) | undefined;
  /** Called just before pending bytes are written (the connection flushes dispositions etc.). */
  beforeFlush: (() => void) | undefined;
  /** Bytes handed to the transport so far. */
  bytesOut = 0;
  /** Time of the last write (for heartbeats). */
  lastWriteMs = 0;

  #transport: Transport | undefined;
  /** The memory the writer starts over in after each flush (never from Node's shared pool). */
  #memory = Buffer.allocUnsafeSlow(MEMORY_BYTES);
  /** The transport tells what it holds: it is given the writer's memory, not copies. */
  #lends = false;
  /** Bytes of the writer's memory in `#chunks` since the last flush. */
  #lent = 0;
  #chunks: Uint8Array[] = [];
  #pendingViewBytes = 0;
  #scheduled = false;
  /**
   * `beforeFlush` is running: what it writes goes out with this flush. Without it, each flush whose
   * `beforeFlush` wrote (dispositions) scheduled another, empty one: one more turn of the event loop
   * per write, which a request/response pays in latency.
   */
  #flushing = false;
  #closed = false;
  /** The turn of the last early flush (see `currentTurn`). */
  #earlyTurn = -1;
  /** The turn in which the peer began to close something (see `holdForTurn`). */
  #heldTurn = -1;
  readonly #flushTask = (): void => {
    if (this.#scheduled) this.flush();
  };
  readonly #earlyFlushTask = (): void => {
    if (!this.#scheduled) return;
    if (this.#heldTurn === turn) setImmediate(this.#flushTask);
    else this.flush();
  };
  /**
   * A microtask, then a tick: runs once the promise reactions of the current tick have run too (a
   * `nextTick` from a microtask waits for the microtask queue to drain), so the frames they write
   * go in the same write.
   */
  readonly #afterMicrotasks = (): void => {
    process.nextTick(this.#earlyFlushTask);
  };

  constructor() {
    this.writer.restart(this.#memory);
  }

  attach(transport: Transport): void {
    this.#transport = transport;
    this.#lends = transport.heldBytes !== undefined;
  }

  /** Stops writing for good (the transport is closing). */
  close(): void {
    this.#closed = true;
    this.#chunks = [];
    this.writer.reset();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Schedules a flush at the end of the current tick (or flushes now if a lot is pending). */
  frameWritten(): void {
    // Written by `beforeFlush`: the flush under way writes it.
    if (this.#flushing) return;
    if (this.writer.pos + this.#pendingViewBytes >= INLINE_FLUSH_BYTES) {
      this.flush();
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    const t = currentTurn();
    if (this.#earlyTurn !== t && this.#heldTurn !== t) {
      this.#earlyTurn = t;
      queueMicrotask(this.#afterMicrotasks);
    } else {
      setImmediate(this.#flushTask);
    }
  }

  /**
   * The peer sent a DETACH, END or CLOSE: what is written in this turn waits for its end. The peer
   * may be closing its socket right after what it sent (Python uamqp sends END and CLOSE and
   * closes without reading our answers); an answer written at once can meet the reset, and a
   * failed write destroys the socket before the rest of its input (the peer's CLOSE) is read. At
   * the turn's end, what the peer sent in this turn has been read.
   */
  holdForTurn(): void {
    this.#heldTurn = currentTurn();
  }

  /** Appends bytes that must not be copied (a large payload); they are written after what is pending. */
  appendView(view: Uint8Array): void {
    this.#cut();
    this.#chunks.push(view);
    this.#pendingViewBytes += view.length;
  }

  /**
   * Moves the writer's content into the chunk list: its memory itself when the transport lends it
   * back (the writer goes on after it), else a copy (the writer's memory is reused).
   */
  #cut(): void {
    const w = this.writer;
    const n = w.pos;
    if (n === 0) return;
    if (this.#lends) {
      this.#lent += n;
      this.#chunks.push(w.cut());
      return;
    }
    const copy = Buffer.allocUnsafe(n);
    w.buf.copy(copy, 0, 0, n);
    this.#chunks.push(copy);
    w.reset();
  }

  /**
   * After a write of lent memory: the writer starts over in its memory if the transport holds
   * nothing any more, else in fresh memory (the transport keeps the old). The memory grows to
   * what a tick wrote, so that the writer does not grow (copying) tick after tick.
   */
  #reclaim(transport: Transport): void {
    let size = this.#memory.length;
    while (size < this.#lent) size *= 2;
    this.#lent = 0;
    if (transport.heldBytes !== 0 || size !== this.#memory.length)
      this.#memory = Buffer.allocUnsafeSlow(size);
    this.writer.restart(this.#memory);
  }

  /** Writes everything pending to the transport now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    this.#flushing = true;
    try {
      this.beforeFlush?.();
    } finally {
      this.#flushing = false;
    }
    this.#cut();
    const chunks = this.#chunks;
    if (chunks.length === 0 || !this.#transport) return;
    this.#chunks = [];
    this.#pendingViewBytes = 0;
    let n = 0;
    for (const c of chunks) n += c.length;
    this.bytesOut += n;
    this.lastWriteMs = Date.now();
    const transport = this.#transport;
    const ok = chunks.length === 1 ? transport.write(chunks[0]!) : transport.writev(chunks);
    if (!ok) this.blocked = true;
    if (this.#lends) this.#reclaim(transport);
  }

  /** The transport drained. */
  drained(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.onDrain?.();
  }
}
