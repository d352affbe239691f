/**
 * A growable, reusable byte buffer with big-endian writers.
 *
 * The hot paths (frame and message encoding) reuse one writer: `reset()` keeps the memory.
 * `reserve()` returns an offset that is patched afterwards (size slots), so nothing is measured twice.
 */
/** Node's Buffer has an undocumented but long-stable `utf8Write`, faster than `write()`. */
interface FastUtf8 {
  utf8Write(s: string, offset: number): number;
}

// Scratch memory to split floats into big-endian bytes (faster than Buffer#writeDoubleBE and its checks).
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `take()` keeps writing into the rest of the current memory while at least this much is left… */
const TAKE_MIN_REST = 1024;
/** …and otherwise continues in a fresh allocation of this size. */
const TAKE_SLAB = 16 * 1024;

export class ByteWriter {
  /** The underlying buffer; valid bytes are `[0, pos)`. Replaced when it grows. */
  buf: Buffer;
  /** The write position. */
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Discards the content, keeping the memory. */
  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need > this.buf.length) this.grow(need);
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(this.pos + 1);
    this.buf[this.pos++] = v;
  }

  /** Writes two bytes: a constructor and a one-byte value. */
  u8u8(a: number, b: number): void {
    if (this.pos + 2 > this.buf.length) this.grow(this.pos + 2);
    const buf = this.buf;
    buf[this.pos] = a;
    buf[this.pos + 1] = b;
    this.pos += 2;
  }

  u16(v: number): void {
    if (this.pos + 2 > this.buf.length) this.grow(this.pos + 2);
    const buf = this.buf;
    buf[this.pos] = v >>> 8;
    buf[this.pos + 1] = v;
    this.pos += 2;
  }

  u32(v: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(this.pos + 4);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = v >>> 24;
    buf[p + 1] = v >>> 16;
    buf[p + 2] = v >>> 8;
    buf[p + 3] = v;
    this.pos = p + 4;
  }

  /** Writes a 64-bit two's-complement or unsigned value given as bigint. */
  u64(v: bigint): void {
    this.u32(Number((v >> 32n) & 0xffffffffn));
    this.u32(Number(v & 0xffffffffn));
  }

  f32(v: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(this.pos + 4);
    f32[0] = v;
    const buf = this.buf;
    const p = this.pos;
    if (LITTLE_ENDIAN) {
      for (let i = 0; i < 4; i++) buf[p + i] = f32Bytes[3 - i]!;
    } else {
      for (let i = 0; i < 4; i++) buf[p + i] = f32Bytes[i]!;
    }
    this.pos = p + 4;
  }

  f64(v: number): void {
    if (this.pos + 8 > this.buf.length) this.grow(this.pos + 8);
    f64[0] = v;
    const buf = this.buf;
    const p = this.pos;
    if (LITTLE_ENDIAN) {
      for (let i = 0; i < 8; i++) buf[p + i] = f64Bytes[7 - i]!;
    } else {
      for (let i = 0; i < 8; i++) buf[p + i] = f64Bytes[i]!;
    }
    this.pos = p + 8;
  }

  bytes(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
    this.buf.set(src, this.pos);
    this.pos += n;
  }

  /** Appends `src[start, end)` (without making a view of it). */
  copyRange(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
    const buf = this.buf;
    const p = this.pos;
    // A few bytes by hand: `copy` costs more to call than to copy them.
    if (n <= 64) for (let i = 0; i < n; i++) buf[p + i] = src[start + i]!;
    else src.copy(buf, p, start, end);
    this.pos = p + n;
  }

  /** Writes a string as UTF-8 at the current position, returning the byte count. Call `ensure(3 * length)` first. */
  utf8Unchecked(s: string): number {
    const n = (this.buf as unknown as FastUtf8).utf8Write(s, this.pos);
    this.pos += n;
    return n;
  }

  /** Reserves `n` bytes to patch later; returns their offset. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Writes a 32-bit value at an earlier offset. */
  patchU32(at: number, v: number): void {
    const buf = this.buf;
    buf[at] = v >>> 24;
    buf[at + 1] = v >>> 16;
    buf[at + 2] = v >>> 8;
    buf[at + 3] = v;
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /**
   * The bytes written so far, without a copy; the writer then starts over (as after `reset()`) in
   * memory that does not overlap them, so the returned buffer is never written again. Small results
   * are carved out of one larger allocation, like `Buffer.allocUnsafe` does from its pool.
   */
  take(): Buffer {
    const buf = this.buf;
    const n = this.pos;
    const out = buf.subarray(0, n);
    const rest = buf.length - n;
    // A large leftover (after a big result) is dropped, so that small results never pin big memory.
    this.buf = rest >= TAKE_MIN_REST && rest <= TAKE_SLAB ? buf.subarray(n) : Buffer.allocUnsafe(TAKE_SLAB);
    this.pos = 0;
    return out;
  }

  /**
   * The bytes written so far, without a copy; the writer goes on in the rest of its memory (and
   * grows as usual when that runs out), so the returned bytes are not written again.
   */
  cut(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
    return out;
  }

  /** Starts over at the beginning of `memory`, which the caller gives to the writer. */
  restart(memory: Buffer): void {
    this.buf = memory;
    this.pos = 0;
  }

  /** A view of the bytes written so far (valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
