/**
 * Decoder: AMQP 1.0 bytes → canonical JS values (see `values.ts` for the mapping).
 *
 * Defensive by construction: every size and count is checked against the bytes that remain
 * *before* anything of that size is allocated, nesting is limited to {@link MAX_NESTING_DEPTH},
 * strings and symbols must be valid UTF-8, and any problem raises a `DecodeError` with its offset.
 * The full constructor switch is in `payload-decoder.ts` and array bodies are read by
 * `array-decoder.ts`; both call back into the `Decoder` they are given, through the
 * `DecoderCursor` interface.
 */
import { isUtf8 } from "node:buffer";
import { DecodeError } from "../errors/decode-error.js";
import { readArrayElements } from "./array-decoder.js";
import type { DecoderCursor } from "./decoder-cursor.js";
import { FormatCode as F } from "./format-codes.js";
import { readOtherPayload } from "./payload-decoder.js";
import {
  CACHED_TEXT,
  SHORT_TEXT,
  findSuccessor,
  findText,
  rememberText,
  shortAscii,
  textInSlot,
} from "./text.js";
import { AMQPDescribed, AMQPDouble, AMQPSymbol, type AMQPArray, type AMQPValue } from "./values.js";
import { asBuffer } from "../util/buffer-view.js";

/** Node's Buffer has undocumented but long-stable slice decoders, faster than `toString()`. */
interface FastSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Lists, maps, arrays and described values may nest at most this deep. */
export const MAX_NESTING_DEPTH = 64;

const MAX_DATE_MS = 8.64e15;

// Scratch memory to assemble floats from big-endian bytes (faster than Buffer#readDoubleBE and its argument checks).
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A cursor over bytes that decodes AMQP values. Reused by the frame and message layers. Every read
 * advances {@link pos} and throws a {@link DecodeError} (with the offset) on malformed or truncated input.
 *
 * @example
 * ```ts
 * const d = new codec.Decoder(bytes);
 * while (d.remaining > 0) console.log(d.value());
 * ```
 */
export class Decoder implements DecoderCursor {
  /** The bytes read (a Buffer view of the input). */
  buf: Buffer;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset just past the last byte that may be read. */
  end: number;
  /** Current nesting depth of compounds and described values (at most {@link MAX_NESTING_DEPTH}). */
  depth = 0;
  /** The text cache slot of the last `cachedText` (-1: none, or it was not cached). */
  textSlot = -1;

  /**
   * @param bytes - the input (not copied)
   * @param start - first offset to read @defaultValue 0
   * @param end - offset just past the last byte to read @defaultValue `bytes.length`
   * @throws {RangeError} when `[start, end)` is not inside `bytes`.
   */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buf = asBuffer(bytes);
    if (!(start >= 0 && start <= end && end <= bytes.length)) {
      throw new RangeError(`decoder range [${start}, ${end}) is outside the ${bytes.length} bytes given`);
    }
    this.pos = start;
    this.end = end;
  }

  /** Points the decoder at new bytes. */
  reset(bytes: Buffer, start: number, end: number): void {
    this.buf = bytes;
    this.pos = start;
    this.end = end;
    this.depth = 0;
  }

  /** Bytes left between {@link pos} and {@link end}. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** @throws {DecodeError} always, with `message`, the offset `at` and the format `code`. */
  fail(message: string, code?: number, at = this.pos): never {
    throw new DecodeError(message, at, code);
  }

  /** @throws {DecodeError} unless `n` more bytes remain. */
  need(n: number, code?: number): void {
    if (this.pos + n > this.end) {
      this.fail(`truncated input: need ${n} more bytes, ${this.end - this.pos} remain`, code);
    }
  }

  /** Reads an unsigned byte. @throws {DecodeError} on truncated input. */
  u8(): number {
    if (this.pos >= this.end) this.fail("truncated input: need 1 more byte, 0 remain");
    return this.buf[this.pos++]!;
  }

  /** Reads a big-endian uint16. @throws {DecodeError} on truncated input. */
  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  /** Reads a big-endian uint32. @throws {DecodeError} on truncated input. */
  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** Reads a big-endian int64. @throws {DecodeError} on truncated input. */
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a big-endian uint64. @throws {DecodeError} on truncated input. */
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a big-endian IEEE 754 binary64. */
  f64(code?: number): number {
    this.need(8, code);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 8;
    if (LITTLE_ENDIAN) {
      for (let i = 0; i < 8; i++) f64Bytes[7 - i] = b[p + i]!;
    } else {
      for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + i]!;
    }
    return f64[0]!;
  }

  /** Reads a big-endian IEEE 754 binary32. */
  f32(code?: number): number {
    this.need(4, code);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    if (LITTLE_ENDIAN) {
      for (let i = 0; i < 4; i++) f32Bytes[3 - i] = b[p + i]!;
    } else {
      for (let i = 0; i < 4; i++) f32Bytes[i] = b[p + i]!;
    }
    return f32[0]!;
  }

  /** Reads a timestamp payload (int64 ms) as a number of ms. */
  timestampMs(): number {
    this.need(8);
    const b = this.buf;
    const p = this.pos;
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    const ms = hi * 0x100000000 + lo;
    if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) {
      this.fail("timestamp outside the range of a JavaScript Date", F.Timestamp);
    }
    this.pos += 8;
    return ms;
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, code?: number): Buffer {
    this.need(n, code);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** Reads `n` bytes of UTF-8 text, rejecting invalid sequences. */
  text(n: number, code: number): string {
    const p = this.pos;
    const e = p + n;
    if (e > this.end) this.need(n, code);
    const b = this.buf;
    if (n <= SHORT_TEXT) {
      const s = shortAscii(b, p, n);
      if (s !== undefined) {
        this.pos = e;
        return s;
      }
    }
    // utf8Slice replaces every invalid sequence with U+FFFD: only then is the (slower) validation needed.
    const s = (b as unknown as FastSlices).utf8Slice(p, e);
    if (s.includes("\uFFFD") && !isUtf8(b.subarray(p, e))) this.fail("invalid UTF-8", code, p);
    this.pos = e;
    return s;
  }

  /**
   * Reads `n` bytes of UTF-8 text that is likely to repeat: map keys and symbols. Short strings
   * are looked up in a small content-addressed cache (`text.ts`), so a key seen before costs
   * neither an allocation nor a re-hash when it is used as a property key. Same result as `text`.
   * The cache learns which cached text followed which: keys and symbols come in the same order
   * from message to message, so most lookups are one comparison with the predicted successor of
   * the previous one ({@link textSlot}).
   */
  cachedText(n: number, code: number): string {
    if (n > CACHED_TEXT || n === 0) {
      this.textSlot = -1;
      return this.text(n, code);
    }
    const p = this.pos;
    const e = p + n;
    if (e > this.end) this.need(n, code);
    const b = this.buf;
    const after = this.textSlot;
    let slot = after >= 0 ? findSuccessor(after, b, p, n) : -1;
    if (slot < 0) slot = findText(b, p, n, after);
    if (slot >= 0) {
      this.textSlot = slot;
      this.pos = e;
      return textInSlot(slot);
    }
    const s = this.text(n, code);
    this.textSlot = rememberText(b, p, n, s, after);
    return s;
  }

  /** Reads a constructor and its value. */
  value(): AMQPValue {
    const code = this.u8();
    return code === F.Described ? this.described() : this.payload(code);
  }

  /** Reads a described value's descriptor and value (after its `0x00` constructor). @throws {DecodeError} */
  described(): AMQPDescribed {
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(`nesting deeper than ${MAX_NESTING_DEPTH}`, F.Described);
    const descriptor = this.value();
    const v = this.value();
    this.depth--;
    return new AMQPDescribed(descriptor, v);
  }

  /** Reads the payload of a value whose constructor `code` has been read. */
  payload(code: number): AMQPValue {
    // The most common constructors here (small enough to be inlined), the rest in `readOtherPayload`.
    switch (code) {
      case F.Str8:
        return this.text(this.u8(), code);
      case F.SmallInt:
        return (this.u8() << 24) >> 24;
      case F.Null:
        return null;
      case F.BooleanTrue:
        return true;
      case F.BooleanFalse:
        return false;
      case F.Int:
        return this.u32() | 0;
      case F.Double:
        return new AMQPDouble(this.f64(code));
      case F.Timestamp:
        return new Date(this.timestampMs());
      case F.Sym8:
        return new AMQPSymbol(this.cachedText(this.u8(), code));
      default:
        return readOtherPayload(this, code);
    }
  }
  /** Reads size and count of a compound (list/map/array); returns [count, endOffset]. */
  compoundHeader(code: number, wide: boolean): number {
    const at = this.pos - 1;
    const size = wide ? this.u32() : this.u8();
    const countWidth = wide ? 4 : 1;
    if (size < countWidth) this.fail(`compound size ${size} too small for its count`, code, at);
    if (size > this.end - this.pos) {
      this.fail(`size ${size} is larger than the ${this.end - this.pos} bytes that remain`, code, at);
    }
    const count = wide ? this.u32() : this.u8();
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(`nesting deeper than ${MAX_NESTING_DEPTH}`, code, at);
    return count;
  }

  /** Reads a list whose constructor `code` has been read. @throws {DecodeError} */
  list(code: number): AMQPValue[] {
    const at = this.pos - 1;
    const wide = code === F.List32;
    const count = this.compoundHeader(code, wide);
    const stop = this.pos + this.sizeAfterCount(at, wide);
    if (count > stop - this.pos)
      this.fail(`list count ${count} exceeds its ${stop - this.pos} bytes`, code, at);
    const out = new Array<AMQPValue>(count);
    const savedEnd = this.end;
    this.end = stop;
    for (let i = 0; i < count; i++) out[i] = this.value();
    this.closeCompound(stop, savedEnd, code, at);
    return out;
  }

  /** Reads a map whose constructor `code` has been read. @throws {DecodeError} */
  map(code: number): Map<AMQPValue, AMQPValue> {
    const at = this.pos - 1;
    const wide = code === F.Map32;
    const count = this.compoundHeader(code, wide);
    if (count % 2 !== 0) this.fail(`map has an odd element count ${count}`, code, at);
    const stop = this.pos + this.sizeAfterCount(at, wide);
    if (count > stop - this.pos)
      this.fail(`map count ${count} exceeds its ${stop - this.pos} bytes`, code, at);
    const out = new Map<AMQPValue, AMQPValue>();
    const savedEnd = this.end;
    this.end = stop;
    for (let i = 0; i < count; i += 2) {
      const kc = this.u8();
      // Keys repeat from map to map: read string keys through the text cache.
      const k =
        kc === F.Str8
          ? this.cachedText(this.u8(), kc)
          : kc === F.Described
            ? this.described()
            : this.payload(kc);
      out.set(k, this.value());
    }
    this.closeCompound(stop, savedEnd, code, at);
    return out;
  }

  /** The number of body bytes after the count field, from the size field read at `at`. */
  private sizeAfterCount(at: number, wide: boolean): number {
    const b = this.buf;
    return wide
      ? (((b[at + 1]! << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!) >>> 0) - 4
      : b[at + 1]! - 1;
  }

  private closeCompound(stop: number, savedEnd: number, code: number, at: number): void {
    if (this.pos !== stop) this.fail(`compound size does not match its content`, code, at);
    this.end = savedEnd;
    this.depth--;
  }

  /** Reads an array whose constructor `code` has been read. @throws {DecodeError} */
  array(code: number): AMQPArray {
    const at = this.pos - 1;
    const wide = code === F.Array32;
    const count = this.compoundHeader(code, wide);
    const stop = this.pos + this.sizeAfterCount(at, wide);
    const savedEnd = this.end;
    this.end = stop;
    const result = readArrayElements(this, count, at);
    this.closeCompound(stop, savedEnd, code, at);
    return result;
  }
}
