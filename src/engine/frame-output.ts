/**
 * The write side of a connection: frames produced during one tick accumulate in one `ByteWriter`
 * and go to the transport in a single write when the tick ends (or inline above a threshold).
 * What goes to the transport is the writer's own memory, never a copy of it: the writer goes on in
 * the rest of its memory, or in a fresh slab (see `#cut`). Large transfer payloads are passed as
 * views, never copied. When the transport reports back-pressure, `blocked` is set until it
 * drains; producers of transfers check it.
 */
import type { Transport } from "../transport/transport.js";
import { ByteWriter } from "../util/byte-writer.js";

/** Flush inline once this many bytes are pending, without waiting for the end of the tick. */
const INLINE_FLUSH_BYTES = 256 * 1024;
/** The writer's memory: fresh slabs are at least this large (the writer's first one too)… */
const SLAB_BYTES = 64 * 1024;
/** …and the writer goes on in the rest of a slab while at least this much of it is left. */
const MIN_REST_BYTES = 8 * 1024;

export class FrameOutput {
  /** Where frames are encoded. Call `frameWritten()` after writing into it. */
  readonly writer = new ByteWriter(SLAB_BYTES);
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
  #chunks: Uint8Array[] = [];
  #pendingViewBytes = 0;
  #scheduled = false;
  #closed = false;
  readonly #flushTask = (): void => {
    this.flush();
  };

  attach(transport: Transport): void {
    this.#transport = transport;
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
    if (this.writer.pos + this.#pendingViewBytes >= INLINE_FLUSH_BYTES) {
      this.flush();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushTask);
    }
  }

  /** Appends bytes that must not be copied (a large payload); they are written after what is pending. */
  appendView(view: Uint8Array): void {
    this.#cut();
    this.#chunks.push(view);
    this.#pendingViewBytes += view.length;
  }

  /**
   * Moves the writer's content into the chunk list without a copy: the transport gets the writer's
   * memory, which is never written again (the writer goes on after it). A fresh slab is as large
   * as the next power of two of what was cut, so that a connection writing much per tick does not
   * grow its writer (copying what it holds) tick after tick, and one writing little keeps small
   * slabs; the memory of a connection is about that of its largest recent tick, as with one
   * reused buffer.
   */
  #cut(): void {
    const w = this.writer;
    const n = w.pos;
    if (n === 0) return;
    let slab = SLAB_BYTES;
    while (slab < n) slab *= 2;
    this.#chunks.push(w.take(MIN_REST_BYTES, slab));
  }

  /** Writes everything pending to the transport now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    this.beforeFlush?.();
    this.#cut();
    const chunks = this.#chunks;
    if (chunks.length === 0 || !this.#transport) return;
    this.#chunks = [];
    this.#pendingViewBytes = 0;
    let n = 0;
    for (const c of chunks) n += c.length;
    this.bytesOut += n;
    this.lastWriteMs = Date.now();
    const ok = chunks.length === 1 ? this.#transport.write(chunks[0]!) : this.#transport.writev(chunks);
    if (!ok) this.blocked = true;
  }

  /** The transport drained. */
  drained(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.onDrain?.();
  }
}
