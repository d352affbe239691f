/**
 * The JavaScript forms of AMQP 1.0 values.
 *
 * Decoding always returns the *canonical* form of each AMQP type (table below), and every canonical
 * form encodes back to the same AMQP type, so `decode(encode(v))` equals `v`. The explicit wrapper
 * classes (uamqp's `AMQPInt`, `AMQPSymbol`, …) force a type when encoding a plain JS value.
 *
 * | AMQP type | decoded as | plain JS that encodes to it |
 * | --- | --- | --- |
 * | null | `null` | `null`, `undefined` |
 * | boolean | `boolean` | `boolean` |
 * | ubyte, ushort, uint | `AMQPuByte`, `AMQPuShort`, `AMQPuInt` | — |
 * | ulong | `AMQPuLong` (`value: bigint`) | — |
 * | byte, short | `AMQPByte`, `AMQPShort` | — |
 * | int | `number` | an integer `number` in the int32 range |
 * | long | `bigint` | `bigint`; an integer `number` outside int32 (but safe) |
 * | float | `AMQPFloat` | — |
 * | double | `AMQPDouble` | a non-integer, non-finite, or `-0` `number`, or an unsafe integer |
 * | decimal32/64/128 | `AMQPDecimal32/64/128` (raw BID bytes) | — |
 * | char | `AMQPChar` | — |
 * | timestamp | `Date` | `Date` |
 * | uuid | `AMQPUuid` | — |
 * | binary | `Uint8Array` (a `Buffer`) | `Uint8Array`, `Buffer` |
 * | string | `string` | `string` |
 * | symbol | `AMQPSymbol` | — |
 * | list | `Array` | `Array` |
 * | map | `Map` | `Map`, or a plain object (string keys) |
 * | array | `AMQPArray` | — |
 * | described | `AMQPDescribed` | — |
 *
 * A timestamp outside the range of a JavaScript `Date` (±8.64e15 ms) cannot be represented and is
 * rejected by the decoder with a `DecodeError`.
 */

import { EncodeError } from "../errors/decode-error.js";
import { AMQPType, type AMQPTypeName, type AMQPValue } from "./amqp-type.js";

export { AMQPType, type AMQPTypeName, type AMQPValue } from "./amqp-type.js";
export {
  AMQPuByte,
  AMQPuShort,
  AMQPuInt,
  AMQPuLong,
  AMQPByte,
  AMQPShort,
  AMQPInt,
  AMQPLong,
  AMQPFloat,
  AMQPDouble,
} from "./numeric-types.js";
import { asBuffer } from "../util/buffer-view.js";

function fixedBytes(name: string, v: Uint8Array, n: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== n) {
    throw new EncodeError(`${name} requires exactly ${n} bytes`);
  }
  return v;
}

/** AMQP `decimal32`: the 4 bytes of an IEEE 754-2008 decimal32 (BID encoding), big-endian. */
export class AMQPDecimal32 extends AMQPType<Uint8Array> {
  /** Always `"decimal32"`. */
  readonly type = "decimal32";
  /** @throws {EncodeError} unless `bytes` is a Uint8Array of exactly 4 bytes. */
  constructor(bytes: Uint8Array) {
    super(fixedBytes("decimal32", bytes, 4));
  }
}
/** AMQP `decimal64`: the 8 bytes of an IEEE 754-2008 decimal64 (BID encoding), big-endian. */
export class AMQPDecimal64 extends AMQPType<Uint8Array> {
  /** Always `"decimal64"`. */
  readonly type = "decimal64";
  /** @throws {EncodeError} unless `bytes` is a Uint8Array of exactly 8 bytes. */
  constructor(bytes: Uint8Array) {
    super(fixedBytes("decimal64", bytes, 8));
  }
}
/** AMQP `decimal128`: the 16 bytes of an IEEE 754-2008 decimal128 (BID encoding), big-endian. */
export class AMQPDecimal128 extends AMQPType<Uint8Array> {
  /** Always `"decimal128"`. */
  readonly type = "decimal128";
  /** @throws {EncodeError} unless `bytes` is a Uint8Array of exactly 16 bytes. */
  constructor(bytes: Uint8Array) {
    super(fixedBytes("decimal128", bytes, 16));
  }
}

/** AMQP `char`: exactly one Unicode code point (encoded as UTF-32BE). */
export class AMQPChar extends AMQPType<string> {
  /** Always `"char"`. */
  readonly type = "char";
  /** @throws {EncodeError} unless `value` is exactly one code point (not a lone surrogate). */
  constructor(value: string) {
    const cp = typeof value === "string" ? value.codePointAt(0) : undefined;
    if (cp === undefined || String.fromCodePoint(cp) !== value) {
      throw new EncodeError("char requires a string of exactly one code point");
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate is not a Unicode scalar value: the decoder would refuse it.
      throw new EncodeError(`char cannot be the lone surrogate U+${cp.toString(16).toUpperCase()}`);
    }
    super(value);
  }
  /** The Unicode code point. */
  get codePoint(): number {
    return this.value.codePointAt(0)!;
  }
}

/** AMQP `symbol`: an ASCII string from a constrained domain (capabilities, conditions, keys). */
export class AMQPSymbol extends AMQPType<string> {
  /** Always `"symbol"`. */
  readonly type = "symbol";
  /** @throws {EncodeError} when `value` is not a string. */
  constructor(value: string) {
    if (typeof value !== "string") throw new EncodeError("symbol requires a string");
    super(value);
  }
  /** The symbol name. */
  override toString(): string {
    return this.value;
  }
}

/** Forces a JS string to be encoded as an AMQP `string` (e.g. as a map key where symbols are the default). */
export class AMQPString extends AMQPType<string> {
  /** Always `"string"`. */
  readonly type = "string";
  /** @throws {EncodeError} when `value` is not a string. */
  constructor(value: string) {
    if (typeof value !== "string") throw new EncodeError("string requires a string");
    super(value);
  }
}

/** Forces bytes (or a string, as its UTF-8 bytes) to be encoded as AMQP `binary`. */
export class AMQPBinary extends AMQPType<Uint8Array> {
  /** Always `"binary"`. */
  readonly type = "binary";
  /** @param value - bytes (kept by reference), or a string encoded as UTF-8 */
  constructor(value: Uint8Array | string) {
    super(typeof value === "string" ? Buffer.from(value, "utf8") : value);
  }
}

/** AMQP `timestamp`: milliseconds since the Unix epoch. Plain `Date` values already encode as timestamp. */
export class AMQPTimestamp extends AMQPType<number> {
  /** Always `"timestamp"`. */
  readonly type = "timestamp";
  /**
   * @param value - a Date or milliseconds since the epoch
   * @throws {EncodeError} unless the milliseconds are a safe integer.
   */
  constructor(value: Date | number) {
    const ms = value instanceof Date ? value.getTime() : value;
    if (!Number.isSafeInteger(ms)) throw new EncodeError(`timestamp requires integer milliseconds`);
    super(ms);
  }
}

const HEX = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** AMQP `uuid`: 16 bytes in RFC 4122 order. `toString()` gives the canonical 8-4-4-4-12 form. */
export class AMQPUuid extends AMQPType<Uint8Array> {
  /** Always `"uuid"`. */
  readonly type = "uuid";
  /**
   * @param value - 16 bytes, or a hex string with or without dashes
   * @throws {EncodeError} for a malformed string or a byte count other than 16.
   */
  constructor(value: Uint8Array | string) {
    if (typeof value === "string") {
      if (!HEX.test(value)) throw new EncodeError(`invalid uuid string: ${value}`);
      super(Buffer.from(value.replace(/-/g, ""), "hex"));
    } else {
      super(fixedBytes("uuid", value, 16));
    }
  }
  /** A random (version 4) uuid. */
  static random(): AMQPUuid {
    return new AMQPUuid(globalThis.crypto.randomUUID());
  }
  /** The canonical 8-4-4-4-12 lowercase hex form. */
  override toString(): string {
    const h = asBuffer(this.value).toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  /** The canonical string form, for `JSON.stringify`. */
  override toJSON(): string {
    return this.toString();
  }
}

/** The element types an {@link AMQPArray} may have. */
export type AMQPArrayElementType = Exclude<AMQPTypeName, "null">;

/**
 * AMQP `array`: a sequence of values of one type, encoded with one shared element constructor.
 * `items` hold canonical values of `elementType` (e.g. `AMQPSymbol` items for a symbol array; for
 * convenience plain strings are accepted for symbol and string arrays, and plain numbers for numeric ones).
 *
 * An array of described values shares one descriptor: every item must be an `AMQPDescribed` with an
 * equal descriptor and the same value type.
 *
 * @example
 * ```ts
 * new AMQPArray("symbol", ["PLAIN", "ANONYMOUS"]);
 * ```
 */
export class AMQPArray extends AMQPType<readonly AMQPValue[]> {
  /** Always `"array"`. */
  readonly type = "array";
  /** The AMQP type of every element. */
  declare readonly elementType: AMQPArrayElementType;
  /** @throws {EncodeError} when `items` is not an Array. */
  constructor(elementType: AMQPArrayElementType, items: readonly AMQPValue[]) {
    if (!Array.isArray(items)) throw new EncodeError("array items must be an Array");
    super(items);
    (this as { elementType: AMQPArrayElementType }).elementType = elementType;
  }
  /**
   * Builds an array from uniformly typed items, inferring the element type from the first (uamqp's `AMQPArray(list)`).
   * @throws {EncodeError} for an empty list, items of different types, or null items.
   */
  static of(items: readonly AMQPValue[]): AMQPArray {
    if (items.length === 0) throw new EncodeError("cannot infer the element type of an empty array");
    const t = typeOf(items[0]);
    for (const it of items) {
      if (typeOf(it) !== t)
        throw new EncodeError(`array items must all have one type (${t}, got ${typeOf(it)})`);
    }
    if (t === "null") throw new EncodeError("an array cannot hold null elements");
    return new AMQPArray(t, items);
  }
}

/** AMQP described value: a descriptor (normally an `AMQPuLong` or `AMQPSymbol`) and a value. */
export class AMQPDescribed extends AMQPType<AMQPValue> {
  /** Always `"described"`. */
  readonly type = "described";
  /** The descriptor. */
  declare readonly descriptor: AMQPValue;
  /**
   * @param descriptor - normally an `AMQPuLong` code or an `AMQPSymbol` name
   * @param value - the described value
   */
  constructor(descriptor: AMQPValue, value: AMQPValue) {
    super(value);
    (this as { descriptor: AMQPValue }).descriptor = descriptor;
  }
}

/** The AMQP type a JS value encodes as (without encoding it). */
export function typeOf(v: AMQPValue | undefined): AMQPTypeName {
  switch (typeof v) {
    case "undefined":
      return "null";
    case "boolean":
      return "boolean";
    case "string":
      return "string";
    case "bigint":
      return "long";
    case "number":
      if (Number.isInteger(v) && !Object.is(v, -0)) {
        if (v >= -0x80000000 && v <= 0x7fffffff) return "int";
        if (Number.isSafeInteger(v)) return "long";
      }
      return "double";
    default:
      if (v === null) return "null";
      if (v instanceof AMQPType) return v.type;
      if (v instanceof Uint8Array) return "binary";
      if (v instanceof Date) return "timestamp";
      if (Array.isArray(v)) return "list";
      return "map";
  }
}
