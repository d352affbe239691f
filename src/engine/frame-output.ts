/**
 * The write side of a connection: frames produced during one tick accumulate in one reusable
 * `ByteWriter` and go to the transport in a single write when the tick ends (or inline above a
 * threshold). Large transfer payloads are passed as views, never copied. When the transport
 * reports back-pressure, `blocked` is set until it drains; producers of transfers check it.
 */
import type { Transport } from "../transport/transport.js";
import { ByteWriter } from "../util/byte-writer.js";

/** Flush inline once this many bytes are pending, without waiting for the end of the tick. */
const INLINE_FLUSH_BYTES = 256 * 1024;

export class FrameOutput {
  /** Where frames are encoded. Call `frameWritten()` after writing into it. */
  readonly writer = new ByteWriter(64 * 1024);
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

  /** Moves the writer's content into the chunk list as a copy (the writer's memory is reused). */
  #cut(): void {
    const w = this.writer;
    if (w.pos === 0) return;
    const copy = Buffer.allocUnsafe(w.pos);
    w.buf.copy(copy, 0, 0, w.pos);
    this.#chunks.push(copy);
    w.reset();
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
