/**
 * Encoder: JS values → AMQP 1.0 bytes, always in the smallest encoding (`encodeValue`), and the
 * writers of lists, maps and described values. The primitive writers (`writeUint`, `writeSymbol`,
 * …) are in `scalar-writers.ts`, the compound size header in `compound-writer.ts`, arrays in
 * `array-encoder.ts`.
 */
import { EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import { writeArrayWith } from "./array-encoder.js";
import { beginCompound, beginWide, endCompound, endWide } from "./compound-writer.js";
import { FormatCode as F } from "./format-codes.js";
import {
  writeBinary,
  writeBoolean,
  writeByte,
  writeChar,
  writeDouble,
  writeFloat,
  writeInt,
  writeLong,
  writeNull,
  writeShort,
  writeString,
  writeSymbol,
  writeTimestamp,
  writeUbyte,
  writeUint,
  writeUlong,
  writeUshort,
} from "./scalar-writers.js";
import { AMQPArray, AMQPDescribed, AMQPType, type AMQPValue } from "./values.js";

/** Writes a list as list0, list8 or list32, whichever is smallest. */
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

/** Writes a map as map8 or map32, whichever fits. */
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

/** Writes a described value: the descriptor, then the value. */
export function writeDescribed(w: ByteWriter, d: AMQPDescribed): void {
  w.u8(F.Described);
  encodeValue(w, d.descriptor);
  encodeValue(w, d.value);
}

/**
 * Encodes any value in its smallest encoding into `w`. `undefined` encodes as null.
 * @throws {EncodeError} for a value that cannot be encoded (e.g. a bigint outside the long range).
 */
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

/** Writes an AMQP array (array8 when it fits, else array32). */
export function writeArray(w: ByteWriter, arr: AMQPArray): void {
  writeArrayWith(w, arr, encodeValue);
}
