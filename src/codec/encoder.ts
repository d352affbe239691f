/**
 * Encoder: JS values → AMQP 1.0 bytes, always in the smallest encoding.
 * The typed writers (`writeUint`, `writeSymbol`, …) are used by the composite tables.
 */
import { EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import { FormatCode as F } from "./format-codes.js";
import {
  AMQPArray,
  AMQPChar,
  AMQPDescribed,
  AMQPType,
  type AMQPArrayElementType,
  type AMQPValue,
} from "./values.js";

export function writeNull(w: ByteWriter): void {
  w.u8(F.Null);
}

export function writeBoolean(w: ByteWriter, v: boolean): void {
  w.u8(v ? F.BooleanTrue : F.BooleanFalse);
}

export function writeUbyte(w: ByteWriter, v: number): void {
  w.u8u8(F.Ubyte, v);
}

export function writeUshort(w: ByteWriter, v: number): void {
  w.u8(F.Ushort);
  w.u16(v);
}

export function writeUint(w: ByteWriter, v: number): void {
  if (v === 0) w.u8(F.Uint0);
  else if (v < 256 && v > 0) w.u8u8(F.SmallUint, v);
  else {
    w.u8(F.Uint);
    w.u32(v);
  }
}

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

export function writeByte(w: ByteWriter, v: number): void {
  w.u8u8(F.Byte, v & 0xff);
}

export function writeShort(w: ByteWriter, v: number): void {
  w.u8(F.Short);
  w.u16(v & 0xffff);
}

export function writeInt(w: ByteWriter, v: number): void {
  if (v >= -128 && v <= 127) w.u8u8(F.SmallInt, v & 0xff);
  else {
    w.u8(F.Int);
    w.u32(v | 0);
  }
}

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

export function writeFloat(w: ByteWriter, v: number): void {
  w.u8(F.Float);
  w.f32(v);
}

export function writeDouble(w: ByteWriter, v: number): void {
  w.u8(F.Double);
  w.f64(v);
}

export function writeTimestamp(w: ByteWriter, ms: number): void {
  w.u8(F.Timestamp);
  w.u32(Math.floor(ms / 0x100000000) >>> 0);
  w.u32(ms >>> 0);
}

export function writeChar(w: ByteWriter, codePoint: number): void {
  w.u8(F.Char);
  w.u32(codePoint);
}

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

export function writeString(w: ByteWriter, s: string): void {
  writeText(w, s, F.Str8, F.Str32);
}

export function writeSymbol(w: ByteWriter, s: string): void {
  writeText(w, s, F.Sym8, F.Sym32);
}

/**
 * Starts a list/map/array body: reserves the 3 bytes of the 8-bit form (constructor, size, count).
 * `endCompound` fills them in, or moves the body up to make room for the 32-bit form when it does not fit.
 */
export function beginCompound(w: ByteWriter): number {
  return w.reserve(3);
}

/** Finishes a compound started at `at` with `count` items, choosing the 8- or 32-bit form. */
export function endCompound(w: ByteWriter, at: number, count: number, code8: number, code32: number): void {
  const bodyStart = at + 3;
  const bodyLen = w.pos - bodyStart;
  if (count < 256 && bodyLen < 255) {
    const buf = w.buf;
    buf[at] = code8;
    buf[at + 1] = bodyLen + 1;
    buf[at + 2] = count;
    return;
  }
  w.ensure(6);
  const buf = w.buf;
  buf.copyWithin(bodyStart + 6, bodyStart, w.pos);
  w.pos += 6;
  buf[at] = code32;
  w.patchU32(at + 1, bodyLen + 4);
  w.patchU32(at + 5, count);
}

/** Starts a compound known to need the 32-bit form (more than 255 items): no move at the end. */
function beginWide(w: ByteWriter): number {
  return w.reserve(9);
}

function endWide(w: ByteWriter, at: number, count: number, code32: number): void {
  w.buf[at] = code32;
  w.patchU32(at + 1, w.pos - at - 5);
  w.patchU32(at + 5, count);
}

export function writeList(w: ByteWriter, items: readonly AMQPValue[]): void {
  const n = items.length;
  if (n === 0) return w.u8(F.List0);
  if (n > 255) {
    const at = beginWide(w);
    for (let i = 0; i < n; i++) encodeValue(w, items[i]);
    return endWide(w, at, n, F.List32);
  }
  const at = beginCompound(w);
  for (let i = 0; i < n; i++) encodeValue(w, items[i]);
  endCompound(w, at, n, F.List8, F.List32);
}

export function writeMap(w: ByteWriter, map: ReadonlyMap<AMQPValue, AMQPValue>): void {
  const count = map.size * 2;
  const wide = count > 255;
  const at = wide ? beginWide(w) : beginCompound(w);
  for (const [k, v] of map) {
    encodeValue(w, k);
    encodeValue(w, v);
  }
  if (wide) endWide(w, at, count, F.Map32);
  else endCompound(w, at, count, F.Map8, F.Map32);
}

/** Writes a plain object as a map; keys are written with `writeKey` (string by default), undefined values skipped. */
export function writeObjectMap(
  w: ByteWriter,
  obj: { readonly [key: string]: AMQPValue | undefined },
  writeKey: (w: ByteWriter, key: string) => void = writeString,
): void {
  const at = beginCompound(w);
  let count = 0;
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    writeKey(w, k);
    encodeValue(w, v);
    count += 2;
  }
  endCompound(w, at, count, F.Map8, F.Map32);
}

export function writeDescribed(w: ByteWriter, d: AMQPDescribed): void {
  w.u8(F.Described);
  encodeValue(w, d.descriptor);
  encodeValue(w, d.value);
}

/** Encodes any value in its smallest encoding. `undefined` encodes as null. */
export function encodeValue(w: ByteWriter, v: AMQPValue | undefined): void {
  switch (typeof v) {
    case "string":
      return writeString(w, v);
    case "number":
      if (Number.isInteger(v) && !Object.is(v, -0)) {
        if (v >= -0x80000000 && v <= 0x7fffffff) return writeInt(w, v);
        if (Number.isSafeInteger(v)) return writeLong(w, BigInt(v));
      }
      return writeDouble(w, v);
    case "boolean":
      return writeBoolean(w, v);
    case "bigint":
      if (v < -0x8000000000000000n || v > 0x7fffffffffffffffn) {
        throw new EncodeError(
          `bigint ${v} does not fit in an AMQP long; wrap it in AMQPuLong if it is unsigned`,
        );
      }
      return writeLong(w, v);
    case "undefined":
      return writeNull(w);
    case "object":
      if (v === null) return writeNull(w);
      if (v instanceof AMQPType) return writeTyped(w, v);
      if (v instanceof Uint8Array) return writeBinary(w, v);
      if (Array.isArray(v)) return writeList(w, v as readonly AMQPValue[]);
      if (v instanceof Map) return writeMap(w, v as ReadonlyMap<AMQPValue, AMQPValue>);
      if (v instanceof Date) {
        const ms = v.getTime();
        if (Number.isNaN(ms)) throw new EncodeError("cannot encode an invalid Date");
        return writeTimestamp(w, ms);
      }
      return writeObjectMap(w, v as { readonly [key: string]: AMQPValue | undefined });
    default:
      throw new EncodeError(`cannot encode a value of JS type ${typeof v}`);
  }
}

function writeTyped(w: ByteWriter, v: AMQPType): void {
  const value = v.value as never;
  switch (v.type) {
    case "ubyte":
      return writeUbyte(w, value);
    case "ushort":
      return writeUshort(w, value);
    case "uint":
      return writeUint(w, value);
    case "ulong":
      return writeUlong(w, value);
    case "byte":
      return writeByte(w, value);
    case "short":
      return writeShort(w, value);
    case "int":
      return writeInt(w, value);
    case "long":
      return writeLong(w, value);
    case "float":
      return writeFloat(w, value);
    case "double":
      return writeDouble(w, value);
    case "decimal32":
      w.u8(F.Decimal32);
      return w.bytes(value);
    case "decimal64":
      w.u8(F.Decimal64);
      return w.bytes(value);
    case "decimal128":
      w.u8(F.Decimal128);
      return w.bytes(value);
    case "char":
      return writeChar(w, (value as string).codePointAt(0)!);
    case "timestamp":
      return writeTimestamp(w, value);
    case "uuid":
      w.u8(F.Uuid);
      return w.bytes(value);
    case "binary":
      return writeBinary(w, value);
    case "string":
      return writeString(w, value);
    case "symbol":
      return writeSymbol(w, value);
    case "array":
      if (v instanceof AMQPArray) return writeArray(w, v);
      throw new EncodeError("array type without AMQPArray");
    case "described":
      if (v instanceof AMQPDescribed) return writeDescribed(w, v);
      throw new EncodeError("described type without AMQPDescribed");
    case "null":
      return writeNull(w);
    case "boolean":
      return writeBoolean(w, value);
    case "list":
      return writeList(w, value);
    case "map":
      return writeMap(w, value);
  }
}

// ---- arrays -------------------------------------------------------------------------------

/** Element payload writers for arrays: the constructor is written once, then payloads only. */
function fixedElement(
  type: AMQPArrayElementType,
): { code: number; write: (w: ByteWriter, v: unknown) => void } | undefined {
  switch (type) {
    case "boolean":
      return { code: F.Boolean, write: (w, v) => w.u8(unwrapAs<boolean>(v, type) ? 1 : 0) };
    case "ubyte":
      return { code: F.Ubyte, write: (w, v) => w.u8(unwrapAs<number>(v, type)) };
    case "byte":
      return { code: F.Byte, write: (w, v) => w.u8(unwrapAs<number>(v, type) & 0xff) };
    case "ushort":
      return { code: F.Ushort, write: (w, v) => w.u16(unwrapAs<number>(v, type)) };
    case "short":
      return { code: F.Short, write: (w, v) => w.u16(unwrapAs<number>(v, type) & 0xffff) };
    case "uint":
      return { code: F.Uint, write: (w, v) => w.u32(unwrapAs<number>(v, type)) };
    case "int":
      return { code: F.Int, write: (w, v) => w.u32(unwrapAs<number>(v, type) | 0) };
    case "char":
      return {
        code: F.Char,
        write: (w, v) =>
          w.u32(v instanceof AMQPChar ? v.codePoint : new AMQPChar(unwrapAs<string>(v, type)).codePoint),
      };
    case "float":
      return { code: F.Float, write: (w, v) => w.f32(unwrapAs<number>(v, type)) };
    case "double":
      return { code: F.Double, write: (w, v) => w.f64(unwrapAs<number>(v, type)) };
    case "ulong":
      return { code: F.Ulong, write: (w, v) => w.u64(BigInt(unwrapAs<bigint | number>(v, type))) };
    case "long":
      return {
        code: F.Long,
        write: (w, v) => w.u64(BigInt.asUintN(64, BigInt(unwrapAs<bigint | number>(v, type)))),
      };
    case "timestamp":
      return {
        code: F.Timestamp,
        write: (w, v) => {
          const ms = v instanceof Date ? v.getTime() : unwrapAs<number>(v, type);
          w.u32(Math.floor(ms / 0x100000000) >>> 0);
          w.u32(ms >>> 0);
        },
      };
    case "decimal32":
      return { code: F.Decimal32, write: (w, v) => w.bytes(unwrapAs<Uint8Array>(v, type)) };
    case "decimal64":
      return { code: F.Decimal64, write: (w, v) => w.bytes(unwrapAs<Uint8Array>(v, type)) };
    case "decimal128":
      return { code: F.Decimal128, write: (w, v) => w.bytes(unwrapAs<Uint8Array>(v, type)) };
    case "uuid":
      return { code: F.Uuid, write: (w, v) => w.bytes(unwrapAs<Uint8Array>(v, type)) };
    default:
      return undefined;
  }
}

/** Accepts a canonical value of `type` or, for convenience, the plain JS value it wraps. */
function unwrapAs<T>(v: unknown, type: AMQPArrayElementType): T {
  if (v instanceof AMQPType) {
    if (v.type !== type) throw new EncodeError(`array of ${type} cannot hold a ${v.type}`);
    return v.value as T;
  }
  const actual = v instanceof Date ? "timestamp" : typeof v;
  const ok =
    (actual === "boolean" && type === "boolean") ||
    (actual === "number" &&
      type !== "boolean" &&
      type !== "char" &&
      type !== "uuid" &&
      !type.startsWith("decimal")) ||
    (actual === "bigint" && (type === "long" || type === "ulong")) ||
    (actual === "string" && type === "char") ||
    (actual === "timestamp" && type === "timestamp") ||
    (v instanceof Uint8Array && (type === "uuid" || type.startsWith("decimal")));
  if (!ok) throw new EncodeError(`array of ${type} cannot hold a JS ${actual}`);
  return v as T;
}

function textOf(v: unknown, type: "string" | "symbol"): string {
  if (typeof v === "string") return v;
  if (v instanceof AMQPType && v.type === type) return v.value as string;
  throw new EncodeError(`array of ${type} cannot hold ${v instanceof AMQPType ? v.type : typeof v}`);
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof AMQPType && v.type === "binary") return v.value as Uint8Array;
  throw new EncodeError(`array of binary cannot hold ${v instanceof AMQPType ? v.type : typeof v}`);
}

/** Writes an AMQP array (array8 when it fits, else array32). */
export function writeArray(w: ByteWriter, arr: AMQPArray): void {
  const at = beginCompound(w);
  writeArrayElements(w, arr.elementType, arr.value);
  endCompound(w, at, arr.value.length, F.Array8, F.Array32);
}

/** Writes a symbol array from plain strings (capabilities, mechanisms). */
export function writeSymbolArray(w: ByteWriter, items: readonly string[]): void {
  const at = beginCompound(w);
  writeArrayElements(w, "symbol", items);
  endCompound(w, at, items.length, F.Array8, F.Array32);
}

/** Writes element constructor + payloads of an array body. */
function writeArrayElements(w: ByteWriter, type: AMQPArrayElementType, items: readonly unknown[]): void {
  const fixed = fixedElement(type);
  if (fixed) {
    w.u8(fixed.code);
    for (const it of items) fixed.write(w, it);
    return;
  }
  switch (type) {
    case "string":
    case "symbol": {
      const texts = items.map((it) => textOf(it, type));
      const lens = texts.map((s) => Buffer.byteLength(s, "utf8"));
      const small = lens.every((n) => n < 256);
      const codes = type === "string" ? [F.Str8, F.Str32] : [F.Sym8, F.Sym32];
      w.u8(small ? codes[0]! : codes[1]!);
      for (let i = 0; i < texts.length; i++) {
        const n = lens[i]!;
        w.ensure(4 + n);
        if (small) w.u8(n);
        else w.u32(n);
        w.utf8Unchecked(texts[i]!);
      }
      return;
    }
    case "binary": {
      const bins = items.map(bytesOf);
      const small = bins.every((b) => b.length < 256);
      w.u8(small ? F.Vbin8 : F.Vbin32);
      for (const b of bins) {
        if (small) w.u8(b.length);
        else w.u32(b.length);
        w.bytes(b);
      }
      return;
    }
    case "list": {
      w.u8(F.List32);
      for (const it of items) {
        if (!Array.isArray(it)) throw new EncodeError("array of list can only hold arrays");
        const start = w.reserve(8);
        for (const x of it as AMQPValue[]) encodeValue(w, x);
        w.patchU32(start, w.pos - start - 4);
        w.patchU32(start + 4, it.length);
      }
      return;
    }
    case "map": {
      w.u8(F.Map32);
      for (const it of items) {
        if (!(it instanceof Map)) throw new EncodeError("array of map can only hold Map values");
        const start = w.reserve(8);
        for (const [k, x] of it as Map<AMQPValue, AMQPValue>) {
          encodeValue(w, k);
          encodeValue(w, x);
        }
        w.patchU32(start, w.pos - start - 4);
        w.patchU32(start + 4, it.size * 2);
      }
      return;
    }
    case "array": {
      w.u8(F.Array32);
      for (const it of items) {
        if (!(it instanceof AMQPArray))
          throw new EncodeError("array of array can only hold AMQPArray values");
        const start = w.reserve(8);
        writeArrayElements(w, it.elementType, it.value);
        w.patchU32(start, w.pos - start - 4);
        w.patchU32(start + 4, it.value.length);
      }
      return;
    }
    case "described": {
      const ds = items.map((it) => {
        if (!(it instanceof AMQPDescribed))
          throw new EncodeError("array of described can only hold AMQPDescribed");
        return it;
      });
      const first = ds[0];
      if (!first) {
        // An empty array of described values still needs a constructor; use a null descriptor on null.
        throw new EncodeError("cannot encode an empty array of described values (no descriptor to share)");
      }
      const inner = AMQPArray.of(ds.map((d) => d.value));
      w.u8(F.Described);
      encodeValue(w, first.descriptor);
      writeArrayElements(w, inner.elementType, inner.value);
      return;
    }
    default:
      throw new EncodeError(`unsupported array element type ${type}`);
  }
}
