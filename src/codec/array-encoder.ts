/**
 * AMQP arrays: one element constructor, then the payloads only. Elements that are themselves
 * compound (lists, maps, described values) are written with the `encode` function passed in by
 * `encoder.ts`, so that this file does not import it back (no import cycle).
 */
import { EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import { beginCompound, endCompound } from "./compound-writer.js";
import { FormatCode as F } from "./format-codes.js";
import {
  AMQPArray,
  AMQPChar,
  AMQPDescribed,
  AMQPType,
  type AMQPArrayElementType,
  type AMQPValue,
} from "./values.js";

/**
 * Encodes any value (`encodeValue`, passed in to write compound array elements).
 *
 * @internal
 */
export type ValueEncoder = (w: ByteWriter, v: AMQPValue | undefined) => void;

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

/**
 * Writes an AMQP array (array8 when it fits, else array32), compound elements with `encode`.
 * `writeArray` in `encoder.ts` calls this with `encodeValue`.
 *
 * @internal
 */
export function writeArrayWith(w: ByteWriter, arr: AMQPArray, encode: ValueEncoder): void {
  const at = beginCompound(w);
  writeArrayElements(w, arr.elementType, arr.value, encode);
  endCompound(w, at, arr.value.length, F.Array8, F.Array32);
}

/** Writes a symbol array from plain strings (capabilities, mechanisms). */
export function writeSymbolArray(w: ByteWriter, items: readonly string[]): void {
  const at = beginCompound(w);
  writeTextElements(w, "symbol", items);
  endCompound(w, at, items.length, F.Array8, F.Array32);
}

/** Writes the element constructor and payloads of a string or symbol array. */
function writeTextElements(w: ByteWriter, type: "string" | "symbol", items: readonly unknown[]): void {
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
}

/** Writes the element constructor and payloads of a binary array. */
function writeBinaryElements(w: ByteWriter, items: readonly unknown[]): void {
  const bins = items.map(bytesOf);
  const small = bins.every((b) => b.length < 256);
  w.u8(small ? F.Vbin8 : F.Vbin32);
  for (const b of bins) {
    if (small) w.u8(b.length);
    else w.u32(b.length);
    w.bytes(b);
  }
}

/** Writes element constructor + payloads of an array body. */
function writeArrayElements(
  w: ByteWriter,
  type: AMQPArrayElementType,
  items: readonly unknown[],
  encode: ValueEncoder,
): void {
  const fixed = fixedElement(type);
  if (fixed) {
    w.u8(fixed.code);
    for (const it of items) fixed.write(w, it);
    return;
  }
  switch (type) {
    case "string":
    case "symbol":
      return writeTextElements(w, type, items);
    case "binary":
      return writeBinaryElements(w, items);
    case "list": {
      w.u8(F.List32);
      for (const it of items) {
        if (!Array.isArray(it)) throw new EncodeError("array of list can only hold arrays");
        const start = w.reserve(8);
        for (const x of it as AMQPValue[]) encode(w, x);
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
          encode(w, k);
          encode(w, x);
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
        writeArrayElements(w, it.elementType, it.value, encode);
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
      encode(w, first.descriptor);
      writeArrayElements(w, inner.elementType, inner.value, encode);
      return;
    }
    default:
      throw new EncodeError(`unsupported array element type ${type}`);
  }
}
