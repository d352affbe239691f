/**
 * Splits a byte stream into protocol headers and frames.
 *
 * Safe at every split point. A frame that lies wholly inside one chunk is handed over as a view of
 * that chunk (no copy); a frame that straddles chunks is copied once into a buffer of exactly its
 * size. A frame whose declared size exceeds `maxFrameSize` is rejected *before* anything of that
 * size is allocated.
 *
 * Aliasing: the body views stay valid forever (chunks are fresh buffers and straddling frames get
 * their own buffer), so receivers may keep views into them.
 *
 * Time slices: with a slice, the reader stops once the frames it delivered since it last stopped
 * took that long to handle (the sink's work included) and were at least `minFrames` many (looking
 * at the clock at the floor and every 8 frames past it), and holds the rest of the stream until
 * `resume()`. Its owner then lets the event loop serve everything else
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
 * Past the floor, the clock is read before every this many frames (a power of two), not before
 * each: reading it cost more than handling a small transfer frame.
 */
const SLICE_CLOCK_FRAMES = 8;

/** Where the reader delivers what it parses. Called synchronously from `push()`. */
export interface FrameSink {
  /** A protocol header arrived (only when the reader was told to expect one). */
  onProtocolHeader(header: ProtocolHeader): void;
  /**
   * A frame arrived: `buf[bodyStart, bodyEnd)` is its body (after the extended header).
   * An empty body (`bodyStart === bodyEnd`) is a heartbeat.
   */
  onFrame(type: number, channel: number, buf: Buffer, bodyStart: number, bodyEnd: number): void;
}

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
    this.#held.length = 0;
    this.#yielded = false;
  }

  get stopped(): boolean {
    return this.#stopped;
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
        ((this.#sliceFrames - this.#sliceMinFrames) & (SLICE_CLOCK_FRAMES - 1)) === 0 &&
        this.#spentMs + (performance.now() - started) >= this.#sliceMs
      ) {
        // The slice is over: hold the rest. Reading can go on from `off` later, whatever it was in
        // the middle of (a split header or frame is buffered in `#head` or `#partial`).
        this.#yielded = true;
        this.#held.unshift(chunk.subarray(off));
        this.#consumed += off;
        return;
      }
      const partial = this.#partial;
      if (partial !== undefined) {
        const n = Math.min(partial.length - this.#partialFill, len - off);
        chunk.copy(partial, this.#partialFill, off, off + n);
        this.#partialFill += n;
        off += n;
        if (this.#partialFill === partial.length) {
          this.#partial = undefined;
          this.#deliver(partial, 0, partial.length);
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
        const frame = Buffer.allocUnsafe(size);
        this.#head.copy(frame, 0, 0, 8);
        this.#partial = frame;
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
        const frame = Buffer.allocUnsafe(size);
        chunk.copy(frame, 0, off, len);
        this.#partial = frame;
        this.#partialFill = len - off;
        off = len;
      }
    }
    this.#consumed += len;
    if (timed) this.#spentMs += performance.now() - started;
  }

  #protocolHeader(buf: Buffer, at: number): void {
    this.#expectHeader = false;
    this.#sliceFrames++;
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
    this.#sliceFrames++;
    const doff = buf[start + 4]!;
    const type = buf[start + 5]!;
    const channel = (buf[start + 6]! << 8) | buf[start + 7]!;
    this.#sink.onFrame(type, channel, buf, start + doff * 4, start + size);
  }
}
