/**
 * Splits a byte stream into protocol headers and frames.
 *
 * Safe at every split point. A frame that lies wholly inside one chunk is handed over as a view of
 * that chunk (no copy); a frame that straddles chunks is copied once into a buffer of its own, or
 * read straight into it by a transport that asks where to read (`readInto()`). A
 * frame whose declared size exceeds `maxFrameSize` is rejected *before* anything of that size is
 * allocated.
 *
 * Aliasing: the body views stay valid forever (chunks are fresh buffers and straddling frames get
 * their own buffer), so receivers may keep views into them. The one exception is a straddling frame
 * the sink released (`releaseFrame()`: it kept no view of it): the reader assembles the next
 * straddling frame in the same memory. Fresh memory costs its first touch (the system maps its
 * pages in), and with frames as large as Node's 64 KiB socket reads nearly every frame straddles.
 *
 * Time slices: with a slice, the reader stops once the frames it delivered since it last stopped
 * took that long to handle (the sink's work included) and were at least `minFrames` many (timed at
 * that floor, then every 8 small frames or every large one), and holds
 * the rest of the stream until `resume()`. Its owner then lets the event loop serve everything else
 * first, so that one peer writing megabytes of cheap frames cannot keep the others waiting. The
 * floor keeps a small burst (a few dozen deliveries written at once) in one piece even on a machine
 * so loaded that a millisecond passes within it.
 */
import { FramingError } from "./framing-error.js";
import { parseProtocolHeader, type ProtocolHeader } from "./protocol-header.js";

/** Frame types in the frame header. */
export const FrameType = {
  Amqp: 0,
  Sasl: 1,
} as const;

/** How long the reader reads before it stops and holds the rest (see the file's comment). */
export interface ReadSlice {
  /** Handling time, in milliseconds. */
  readonly ms: number;
  /** Frames (and protocol headers) delivered at least. @defaultValue 64 */
  readonly minFrames?: number;
}

/** Frames a slice delivers at least (`ReadSlice.minFrames`). */
const DEFAULT_SLICE_MIN_FRAMES = 64;

/**
 * Past the floor, the clock is read once the frames delivered since the last reading weigh this much:
 * a frame weighs 1, and 1 more per 8 KiB of it. A reading costs about as much as handling a small
 * delivery, so small frames are timed 8 at a time (a slice runs over by 7 of them at most), frames of
 * 56 KiB or more one by one.
 */
const CLOCK_WEIGHT = 8;

/** Where the reader delivers what it parses. Called synchronously from `push()`. */
export interface FrameSink {
  /** A protocol header arrived (only when the reader was told to expect one). */
  onProtocolHeader(header: ProtocolHeader): void;
  /**
   * A frame arrived: `buf[bodyStart, bodyEnd)` is its body (after the extended header).
   * An empty body (`bodyStart === bodyEnd`) is a heartbeat. `buf` is the sink's to keep, unless it
   * calls `FrameReader.releaseFrame()` before it returns.
   */
  onFrame(type: number, channel: number, buf: Buffer, bodyStart: number, bodyEnd: number): void;
}

/** The largest assembly buffer kept for reuse (see the file's comment); larger ones are dropped. */
const SPARE_MAX_BYTES = 1024 * 1024;

export class FrameReader {
  /** Largest frame accepted; larger declared sizes raise `amqp:connection:framing-error`. */
  maxFrameSize: number;
  readonly #sink: FrameSink;
  /** Handling time (ms) after which the reader stops and holds the rest (Infinity: never). */
  readonly #sliceMs: number;
  /** Frames the reader delivers at least before it stops. */
  readonly #sliceMinFrames: number;
  /** Handling time spent since the reader last stopped, in ms (counted only with a slice). */
  #spentMs = 0;
  /** Frames and headers delivered since the reader last stopped. */
  #sliceFrames = 0;
  /** The weight of the frames delivered since the clock was last read (see `CLOCK_WEIGHT`). */
  #unclocked = 0;
  /** Stopped at the end of a slice: bytes are held in `#held` until `resume()`. */
  #yielded = false;
  /** Bytes received and not yet read, in order (while the reader is yielded). */
  readonly #held: Buffer[] = [];
  #expectHeader = false;
  #stopped = false;
  /** Bytes of a header (protocol or frame) split across chunks. */
  readonly #head = Buffer.alloc(8);
  #headFill = 0;
  /** A frame split across chunks, and how much of it has arrived. */
  #partial: Buffer | undefined;
  #partialFill = 0;
  /** The size of the frame in `#partial` (its buffer may be larger: reused memory). */
  #partialSize = 0;
  /** The sink called `releaseFrame()` during the last delivery. */
  #released = false;
  /** Memory of an assembled frame the sink released, for the next one (at most `SPARE_MAX_BYTES`). */
  #spare: Buffer | undefined;
  /** Total bytes consumed (for error offsets). */
  #consumed = 0;

  /**
   * @param slice - stop after this much reading and hold the rest until `resume()` (see the file's
   *   comment). @defaultValue none (every byte pushed is read before `push()` returns)
   */
  constructor(sink: FrameSink, maxFrameSize: number, slice?: ReadSlice) {
    this.#sink = sink;
    this.maxFrameSize = maxFrameSize;
    this.#sliceMs = slice?.ms ?? Infinity;
    // At least one, so that every slice makes progress.
    this.#sliceMinFrames = Math.max(1, slice?.minFrames ?? DEFAULT_SLICE_MIN_FRAMES);
  }

  /** The next 8 bytes are a protocol header. */
  expectProtocolHeader(): void {
    this.#expectHeader = true;
  }

  /** Stops delivering anything (after a fatal error or close). */
  stop(): void {
    this.#stopped = true;
    this.#partial = undefined;
    this.#spare = undefined;
    this.#held.length = 0;
    this.#yielded = false;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Called by the sink from within `onFrame`: it kept no view of the frame's buffer, nor of anything
   * decoded from it, so the reader may write over it once `onFrame` returns.
   */
  releaseFrame(): void {
    this.#released = true;
  }

  /**
   * Memory the next bytes of the stream may be read into: the rest of the frame being assembled,
   * when at least `minBytes` of it are missing. A chunk pushed next that is a view of it from its
   * start completes the frame without a copy. Undefined when no frame is being assembled, while the
   * reader holds bytes, and once it stopped.
   */
  readInto(minBytes: number): Buffer | undefined {
    const partial = this.#partial;
    if (partial === undefined || this.#yielded || this.#held.length > 0 || this.#stopped) return undefined;
    const fill = this.#partialFill;
    if (this.#partialSize - fill < minBytes) return undefined;
    return partial.subarray(fill, this.#partialSize);
  }

  /** The reader stopped at the end of a time slice and holds bytes until `resume()`. */
  get yielded(): boolean {
    return this.#yielded;
  }

  /**
   * Feeds bytes. Frames and headers are delivered to the sink before this returns, unless the
   * reader is yielded or its time slice ends on the way: then the rest waits for `resume()`.
   * @throws {FramingError} on a malformed header or an oversized frame; the reader is stopped.
   */
  push(chunk: Buffer): void {
    if (this.#yielded) this.#held.push(chunk);
    else this.#read(chunk, true);
  }

  /**
   * Starts a new time slice and reads the bytes held so far, until they are read or the slice ends
   * again (then `yielded` is true once more).
   * @throws {FramingError} as `push()`.
   */
  resume(): void {
    this.#yielded = false;
    this.#spentMs = 0;
    this.#sliceFrames = 0;
    this.#unclocked = 0;
    while (this.#held.length > 0 && !this.yielded && !this.#stopped) this.#read(this.#held.shift()!, true);
  }

  /**
   * Reads every byte held, regardless of the time slice (the transport closed: what arrived before
   * the close is handled before it).
   * @throws {FramingError} as `push()`.
   */
  drain(): void {
    this.#yielded = false;
    this.#spentMs = 0;
    this.#sliceFrames = 0;
    this.#unclocked = 0;
    while (this.#held.length > 0 && !this.#stopped) this.#read(this.#held.shift()!, false);
  }

  #read(chunk: Buffer, sliced: boolean): void {
    const timed = sliced && this.#sliceMs !== Infinity;
    const started = timed ? performance.now() : 0;
    let off = 0;
    const len = chunk.length;
    while (off < len && !this.#stopped) {
      if (
        timed &&
        this.#sliceFrames >= this.#sliceMinFrames &&
        (this.#sliceFrames === this.#sliceMinFrames || this.#unclocked >= CLOCK_WEIGHT)
      ) {
        this.#unclocked = 0;
        if (this.#spentMs + (performance.now() - started) >= this.#sliceMs) {
          // The slice is over: hold the rest. Reading can go on from `off` later, whatever it was in
          // the middle of (a split header or frame is buffered in `#head` or `#partial`).
          this.#yielded = true;
          this.#held.unshift(chunk.subarray(off));
          this.#consumed += off;
          return;
        }
      }
      const partial = this.#partial;
      if (partial !== undefined) {
        const size = this.#partialSize;
        const fill = this.#partialFill;
        const n = Math.min(size - fill, len - off);
        // Bytes read into `readInto()` are in place already.
        if (chunk.buffer !== partial.buffer || chunk.byteOffset + off !== partial.byteOffset + fill)
          chunk.copy(partial, fill, off, off + n);
        this.#partialFill += n;
        off += n;
        if (this.#partialFill === size) {
          this.#partial = undefined;
          this.#deliver(partial, 0, size);
          if (this.#released) this.#keepSpare(partial);
        }
        continue;
      }
      if (this.#headFill > 0 || len - off < 8) {
        const n = Math.min(8 - this.#headFill, len - off);
        chunk.copy(this.#head, this.#headFill, off, off + n);
        this.#headFill += n;
        off += n;
        if (this.#headFill < 8) continue;
        this.#headFill = 0;
        if (this.#expectHeader) {
          this.#protocolHeader(this.#head, 0);
          continue;
        }
        const size = this.#checkSize(this.#head, 0);
        if (size === 8) {
          this.#deliver(this.#head, 0, 8);
          continue;
        }
        const frame = this.#assembly(size);
        this.#head.copy(frame, 0, 0, 8);
        this.#partialFill = 8;
        continue;
      }
      // Fast path: at least 8 bytes available in this chunk.
      if (this.#expectHeader) {
        this.#protocolHeader(chunk, off);
        off += 8;
        continue;
      }
      const size = this.#checkSize(chunk, off);
      if (off + size <= len) {
        this.#deliver(chunk, off, size);
        off += size;
      } else {
        const frame = this.#assembly(size);
        chunk.copy(frame, 0, off, len);
        this.#partialFill = len - off;
        off = len;
      }
    }
    this.#consumed += len;
    if (timed) this.#spentMs += performance.now() - started;
  }

  /**
   * Starts assembling a frame of `size` bytes: in the spare memory if it fits and the frame fills at
   * least half of it (a small frame the sink keeps would hold on to all of it), else in a buffer of
   * exactly that size. The spare stays the spare only if the sink releases this frame too.
   */
  #assembly(size: number): Buffer {
    const spare = this.#spare;
    let frame: Buffer;
    if (spare !== undefined && spare.length >= size && size * 2 >= spare.length) {
      frame = spare;
      this.#spare = undefined;
    } else {
      frame = Buffer.allocUnsafe(size);
    }
    this.#partial = frame;
    this.#partialSize = size;
    return frame;
  }

  /** `buf` was released by the sink: the spare from now on, unless too large or smaller than the spare. */
  #keepSpare(buf: Buffer): void {
    if (buf.length > SPARE_MAX_BYTES) return;
    const spare = this.#spare;
    if (spare === undefined || buf.length > spare.length) this.#spare = buf;
  }

  #protocolHeader(buf: Buffer, at: number): void {
    this.#expectHeader = false;
    this.#sliceFrames++;
    this.#unclocked++;
    const h = parseProtocolHeader(buf, at);
    if (!h) {
      this.stop();
      throw new FramingError("expected an AMQP protocol header", this.#consumed + at);
    }
    this.#sink.onProtocolHeader(h);
  }

  #checkSize(buf: Buffer, at: number): number {
    const size = buf.readUInt32BE(at);
    if (size < 8) {
      this.stop();
      throw new FramingError(`frame size ${size} is smaller than the frame header`, this.#consumed + at);
    }
    if (size > this.maxFrameSize) {
      this.stop();
      throw new FramingError(
        `frame size ${size} exceeds the max-frame-size ${this.maxFrameSize}`,
        this.#consumed + at,
      );
    }
    const doff = buf[at + 4]!;
    if (doff < 2 || doff * 4 > size) {
      this.stop();
      throw new FramingError(`invalid data offset ${doff} for a frame of ${size} bytes`, this.#consumed + at);
    }
    return size;
  }

  #deliver(buf: Buffer, start: number, size: number): void {
    this.#released = false;
    this.#sliceFrames++;
    this.#unclocked += 1 + (size >>> 13);
    const doff = buf[start + 4]!;
    const type = buf[start + 5]!;
    const channel = (buf[start + 6]! << 8) | buf[start + 7]!;
    this.#sink.onFrame(type, channel, buf, start + doff * 4, start + size);
  }
}
