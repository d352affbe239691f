/**
 * Writers of the primitive (non-compound) AMQP types, each in its smallest encoding:
 * fixed-width scalars, binary, strings and symbols. Used by `encodeValue`, the composite tables
 * and the frame writer.
 */
import type { ByteWriter } from "../util/byte-writer.js";
import { FormatCode as F } from "./format-codes.js";

/** Writes `null`. */
export function writeNull(w: ByteWriter): void {
  w.u8(F.Null);
}

/** Writes a boolean as `true`/`false` (one byte, no payload). */
export function writeBoolean(w: ByteWriter, v: boolean): void {
  w.u8(v ? F.BooleanTrue : F.BooleanFalse);
}

/** Writes a `ubyte` (0..255). */
export function writeUbyte(w: ByteWriter, v: number): void {
  w.u8u8(F.Ubyte, v);
}

/** Writes a `ushort` (0..65535). */
export function writeUshort(w: ByteWriter, v: number): void {
  w.u8(F.Ushort);
  w.u16(v);
}

/** Writes a `uint` as uint0, smalluint or uint, whichever is smallest. */
export function writeUint(w: ByteWriter, v: number): void {
  if (v === 0) w.u8(F.Uint0);
  else if (v < 256 && v > 0) w.u8u8(F.SmallUint, v);
  else {
    w.u8(F.Uint);
    w.u32(v);
  }
}

/** Writes a `ulong` as ulong0, smallulong or ulong, whichever is smallest. */
export function writeUlong(w: ByteWriter, v: bigint | number): void {
  if (typeof v === "number") {
    if (v === 0) return w.u8(F.Ulong0);
    if (v < 256 && v > 0) return w.u8u8(F.SmallUlong, v);
    w.u8(F.Ulong);
    w.u32(Math.floor(v / 0x100000000));
    w.u32(v >>> 0);
    return;
  }
  if (v === 0n) w.u8(F.Ulong0);
  else if (v < 256n && v > 0n) w.u8u8(F.SmallUlong, Number(v));
  else {
    w.u8(F.Ulong);
    w.u64(v);
  }
}

/** Writes a `byte` (signed 8-bit). */
export function writeByte(w: ByteWriter, v: number): void {
  w.u8u8(F.Byte, v & 0xff);
}

/** Writes a `short` (signed 16-bit). */
export function writeShort(w: ByteWriter, v: number): void {
  w.u8(F.Short);
  w.u16(v & 0xffff);
}

/** Writes an `int` as smallint or int, whichever is smallest. */
export function writeInt(w: ByteWriter, v: number): void {
  if (v >= -128 && v <= 127) w.u8u8(F.SmallInt, v & 0xff);
  else {
    w.u8(F.Int);
    w.u32(v | 0);
  }
}

/** Writes a `long` as smalllong or long, whichever is smallest. */
export function writeLong(w: ByteWriter, v: bigint | number): void {
  if (typeof v === "number") {
    if (v >= -128 && v <= 127) return w.u8u8(F.SmallLong, v & 0xff);
    v = BigInt(v);
  }
  if (v >= -128n && v <= 127n) w.u8u8(F.SmallLong, Number(v) & 0xff);
  else {
    w.u8(F.Long);
    w.u64(BigInt.asUintN(64, v));
  }
}

/** Writes a `float` (IEEE 754 binary32). */
export function writeFloat(w: ByteWriter, v: number): void {
  w.u8(F.Float);
  w.f32(v);
}

/** Writes a `double` (IEEE 754 binary64). */
export function writeDouble(w: ByteWriter, v: number): void {
  w.u8(F.Double);
  w.f64(v);
}

/** Writes a `timestamp` from milliseconds since the Unix epoch. */
export function writeTimestamp(w: ByteWriter, ms: number): void {
  w.u8(F.Timestamp);
  w.u32(Math.floor(ms / 0x100000000) >>> 0);
  w.u32(ms >>> 0);
}

/** Writes a `char` from a Unicode code point. */
export function writeChar(w: ByteWriter, codePoint: number): void {
  w.u8(F.Char);
  w.u32(codePoint);
}

/** Writes `binary` as vbin8 or vbin32, whichever fits. */
export function writeBinary(w: ByteWriter, v: Uint8Array): void {
  const n = v.length;
  if (n < 256) w.u8u8(F.Vbin8, n);
  else {
    w.u8(F.Vbin32);
    w.u32(n);
  }
  w.bytes(v);
}

/** Strings up to this many UTF-16 units are written by a JS loop when ASCII (no call into C++). */
const SHORT_TEXT = 32;
/** Longer strings than this are measured before writing (rather than reserving 3 bytes per unit). */
const MEASURE_TEXT = 64 * 1024;

/** Writes a str8/str32 or sym8/sym32 (given the two codes) in one pass. */
function writeText(w: ByteWriter, s: string, code8: number, code32: number): void {
  const len = s.length;
  if (len <= 85) {
    // At most 255 UTF-8 bytes: write after a one-byte size, then patch it.
    w.ensure(2 + len * 3);
    const at = w.pos;
    const buf = w.buf;
    let n = -1;
    if (len <= SHORT_TEXT) {
      const p = at + 2;
      n = len;
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) {
          n = -1;
          break;
        }
        buf[p + i] = c;
      }
    }
    w.pos = at + 2;
    if (n < 0) n = w.utf8Unchecked(s);
    else w.pos += n;
    buf[at] = code8;
    buf[at + 1] = n;
    return;
  }
  if (len <= MEASURE_TEXT) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: write first, then fill in the size.
    w.ensure(5 + len * 3);
    const at = w.pos;
    if (len < 256) {
      // Probably str8; move the bytes up if they turn out to need str32.
      w.pos = at + 2;
      const n = w.utf8Unchecked(s);
      const buf = w.buf;
      if (n < 256) {
        buf[at] = code8;
        buf[at + 1] = n;
        return;
      }
      buf.copyWithin(at + 5, at + 2, at + 2 + n);
      w.pos = at + 5 + n;
      buf[at] = code32;
      w.patchU32(at + 1, n);
      return;
    }
    // At least 256 units: at least 256 bytes, so str32.
    w.pos = at + 5;
    const n = w.utf8Unchecked(s);
    w.buf[at] = code32;
    w.patchU32(at + 1, n);
    return;
  }
  const n = Buffer.byteLength(s, "utf8");
  w.ensure(5 + n);
  w.u8(code32);
  w.u32(n);
  w.utf8Unchecked(s);
}

/** Writes a `string` as str8 or str32, whichever fits (one pass, no pre-measuring for short text). */
export function writeString(w: ByteWriter, s: string): void {
  writeText(w, s, F.Str8, F.Str32);
}

/** Writes a `symbol` as sym8 or sym32, whichever fits. */
export function writeSymbol(w: ByteWriter, s: string): void {
  writeText(w, s, F.Sym8, F.Sym32);
}
