/**
 * The primitive field types of composite tables: for each, a reader (constructor code → value, or a
 * `DecodeError` naming the field) and a checking writer (value → bytes, or an `EncodeError` naming
 * the field). Also the `fields` maps (symbol keys) read straight into plain objects.
 */
import { DecodeError, EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import type { Decoder } from "./decoder.js";
import { beginCompound, endCompound } from "./compound-writer.js";
import { encodeValue, writeObjectMap } from "./encoder.js";
import { FormatCode as F } from "./format-codes.js";
import {
  writeBinary,
  writeBoolean,
  writeInt,
  writeLong,
  writeString,
  writeSymbol,
  writeTimestamp,
  writeUbyte,
  writeUint,
  writeUlong,
  writeUshort,
} from "./scalar-writers.js";
import { AMQPSymbol, AMQPType, type AMQPValue } from "./values.js";

/** Field types a composite table may use, with the JS type each decodes to. */
export interface FieldTypeMap {
  boolean: boolean;
  ubyte: number;
  ushort: number;
  uint: number;
  ulong: bigint;
  int: number;
  long: bigint;
  symbol: string;
  string: string;
  binary: Uint8Array;
  timestamp: Date;
  /** `fields`: a map with symbol keys, as a plain object. */
  fields: Record<string, AMQPValue>;
  /** A map of any keys, kept lossless. */
  map: Map<AMQPValue, AMQPValue>;
  /** Any AMQP value (`*` in the spec). */
  any: AMQPValue;
}

export type FieldTypeName = keyof FieldTypeMap;

/** Reads a field's value given its constructor code (already read, not null). */
export type Reader = (d: Decoder, code: number) => unknown;
/** Writes a field's value (not null); `full` is passed on to nested composites (see `CompositeType.encode`). */
export type Writer = (w: ByteWriter, v: unknown, full?: boolean) => void;

export function fieldError(comp: string, key: string, expected: string, d: Decoder, code: number): never {
  throw new DecodeError(`${comp}.${key} expects ${expected}`, d.pos - 1, code);
}

/**
 * The reader of one primitive field type: given the constructor code (not null), reads the value or
 * throws a `DecodeError` naming the field. One specialised closure per field, built once per table.
 */
export function primitiveReader(type: FieldTypeName, comp: string, key: string): Reader {
  const fail = (d: Decoder, code: number): never => fieldError(comp, key, type, d, code);
  switch (type) {
    case "boolean":
      return (d, code) =>
        code === F.BooleanTrue
          ? true
          : code === F.BooleanFalse
            ? false
            : code === F.Boolean
              ? d.payload(code)
              : fail(d, code);
    case "ubyte":
      return (d, code) => (code === F.Ubyte ? d.u8() : fail(d, code));
    case "ushort":
      return (d, code) => (code === F.Ushort ? d.u16() : fail(d, code));
    case "uint":
      return (d, code) =>
        code === F.SmallUint ? d.u8() : code === F.Uint0 ? 0 : code === F.Uint ? d.u32() : fail(d, code);
    case "ulong":
      return (d, code) =>
        code === F.SmallUlong
          ? BigInt(d.u8())
          : code === F.Ulong0
            ? 0n
            : code === F.Ulong
              ? d.u64()
              : fail(d, code);
    case "int":
      return (d, code) =>
        code === F.SmallInt ? (d.u8() << 24) >> 24 : code === F.Int ? d.u32() | 0 : fail(d, code);
    case "long":
      return (d, code) =>
        code === F.SmallLong ? BigInt((d.u8() << 24) >> 24) : code === F.Long ? d.i64() : fail(d, code);
    case "symbol":
      return (d, code) =>
        code === F.Sym8
          ? d.cachedText(d.u8(), code)
          : code === F.Sym32
            ? d.text(d.u32(), code)
            : fail(d, code);
    case "string":
      return (d, code) =>
        code === F.Str8 ? d.text(d.u8(), code) : code === F.Str32 ? d.text(d.u32(), code) : fail(d, code);
    case "binary":
      return (d, code) =>
        code === F.Vbin8 ? d.bytes(d.u8(), code) : code === F.Vbin32 ? d.bytes(d.u32(), code) : fail(d, code);
    case "timestamp":
      return (d, code) => (code === F.Timestamp ? new Date(d.timestampMs()) : fail(d, code));
    case "fields":
      return (d, code) =>
        code === F.Map8 || code === F.Map32 ? readFields(d, code, comp, key) : fail(d, code);
    case "map":
      return (d, code) => (code === F.Map8 || code === F.Map32 ? d.map(code) : fail(d, code));
    case "any":
      return (d, code) => (code === F.Described ? d.described() : d.payload(code));
  }
}

/** The big-endian uint32 at `at` (the caller has checked the bounds). */
export function readU32At(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Sets `obj[key] = v` as an own property, even for the key `__proto__`. */
function setOwn(obj: Record<string, AMQPValue>, key: string, v: AMQPValue): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = v;
  }
}

/** Converts a decoded map with symbol (or string) keys to a plain object. */
export function mapToFields(
  m: Map<AMQPValue, AMQPValue>,
  d: Decoder,
  comp: string,
  key: string,
): Record<string, AMQPValue> {
  const out: Record<string, AMQPValue> = {};
  for (const [k, v] of m) {
    if (k instanceof AMQPSymbol) setOwn(out, k.value, v);
    else if (typeof k === "string") setOwn(out, k, v);
    else throw new DecodeError(`${comp}.${key} expects symbol keys`, d.pos);
  }
  return out;
}

/**
 * Reads a map (constructor `code`, map8 or map32, already read) whose keys are symbols or strings
 * straight into a plain object, without building a `Map` first. Same result as
 * `mapToFields(d.map(code), …)`; a key that is not a symbol or string is a `DecodeError`.
 */
export function readFields(d: Decoder, code: number, comp: string, key: string): Record<string, AMQPValue> {
  const at = d.pos - 1;
  const wide = code === F.Map32;
  const count = d.compoundHeader(code, wide);
  if (count % 2 !== 0) throw new DecodeError(`map has an odd element count ${count}`, at, code);
  const stop = wide ? at + 5 + readU32At(d.buf, at + 1) : at + 2 + d.buf[at + 1]!;
  if (count > stop - d.pos) throw new DecodeError(`map count ${count} exceeds its bytes`, at, code);
  const savedEnd = d.end;
  d.end = stop;
  const out: Record<string, AMQPValue> = {};
  for (let i = 0; i < count; i += 2) {
    const kc = d.u8();
    let k: string;
    if (kc === F.Sym8 || kc === F.Str8) k = d.cachedText(d.u8(), kc);
    else if (kc === F.Sym32 || kc === F.Str32) k = d.text(d.u32(), kc);
    else throw new DecodeError(`${comp}.${key} expects symbol keys`, d.pos - 1, kc);
    if (k === "__proto__") setOwn(out, k, d.value());
    else out[k] = d.value();
  }
  if (d.pos !== stop) throw new DecodeError(`compound size does not match its content`, at, code);
  d.end = savedEnd;
  d.depth--;
  return out;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object" || typeof v === "function") {
    const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor;
    return ctor?.name ?? "object";
  }
  switch (typeof v) {
    case "string":
      return `string "${v}"`;
    case "number":
    case "boolean":
      return `${typeof v} ${v}`;
    case "bigint":
      return `bigint ${v.toString()}`;
    default:
      return typeof v;
  }
}

function isUint(v: unknown, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max;
}

function isLongLike(v: unknown, min: bigint, max: bigint): v is bigint | number {
  if (typeof v === "bigint") return v >= min && v <= max;
  return typeof v === "number" && Number.isSafeInteger(v) && v >= Number(min) && v <= Number(max);
}

/** Writes a `fields` map (symbol keys) from a plain object or a `Map` with string or symbol keys. */
function writeFields(w: ByteWriter, v: object, comp: string, key: string): void {
  if (!(v instanceof Map)) return writeObjectMap(w, v as Record<string, AMQPValue>, writeSymbol);
  const at = beginCompound(w);
  for (const [k, x] of v as Map<unknown, AMQPValue>) {
    if (typeof k === "string") writeSymbol(w, k);
    else if (k instanceof AMQPSymbol) writeSymbol(w, k.value);
    else throw new EncodeError(`${comp}.${key} requires symbol keys, got ${describe(k)}`);
    encodeValue(w, x);
  }
  endCompound(w, at, v.size * 2, F.Map8, F.Map32);
}

/**
 * The writer of one primitive field type. Values are checked (type and range) so that a wrong value
 * is an `EncodeError` naming the field rather than silently truncated bytes.
 */
export function primitiveWriter(type: FieldTypeName, comp: string, key: string): Writer {
  const bad = (v: unknown): never => {
    throw new EncodeError(`${comp}.${key} requires a ${type}, got ${describe(v)}`);
  };
  switch (type) {
    case "boolean":
      return (w, v) => (typeof v === "boolean" ? writeBoolean(w, v) : bad(v));
    case "ubyte":
      return (w, v) => (isUint(v, 0xff) ? writeUbyte(w, v) : bad(v));
    case "ushort":
      return (w, v) => (isUint(v, 0xffff) ? writeUshort(w, v) : bad(v));
    case "uint":
      return (w, v) => (isUint(v, 0xffffffff) ? writeUint(w, v) : bad(v));
    case "ulong":
      return (w, v) => (isLongLike(v, 0n, 0xffffffffffffffffn) ? writeUlong(w, v) : bad(v));
    case "int":
      return (w, v) =>
        typeof v === "number" && (v | 0) === v && !Object.is(v, -0) ? writeInt(w, v) : bad(v);
    case "long":
      return (w, v) => (isLongLike(v, -0x8000000000000000n, 0x7fffffffffffffffn) ? writeLong(w, v) : bad(v));
    case "symbol":
      return (w, v) => (typeof v === "string" ? writeSymbol(w, v) : bad(v));
    case "string":
      return (w, v) => (typeof v === "string" ? writeString(w, v) : bad(v));
    case "binary":
      return (w, v) => (v instanceof Uint8Array ? writeBinary(w, v) : bad(v));
    case "timestamp":
      return (w, v) => {
        const ms = v instanceof Date ? v.getTime() : v;
        return Number.isSafeInteger(ms) ? writeTimestamp(w, ms as number) : bad(v);
      };
    case "fields":
      return (w, v) =>
        typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof AMQPType)
          ? writeFields(w, v, comp, key)
          : bad(v);
    case "map":
      return (w, v) =>
        v instanceof Map || (typeof v === "object" && v !== null && v.constructor === Object)
          ? encodeValue(w, v as AMQPValue)
          : bad(v);
    case "any":
      return (w, v) => encodeValue(w, v as AMQPValue);
  }
}
