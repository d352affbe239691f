/**
 * uamqp's `data_factory` both ways: `wrap()` makes the AMQP type of a plain value explicit, and
 * `unwrap()` turns decoded values into plain JavaScript for application code.
 */
import {
  AMQPArray,
  AMQPBinary,
  AMQPDescribed,
  AMQPDouble,
  AMQPInt,
  AMQPLong,
  AMQPString,
  AMQPTimestamp,
  AMQPType,
  AMQPUuid,
  typeOf,
  type AMQPValue,
} from "./values.js";

/**
 * The explicit typed form of what `value` encodes as: a string becomes `AMQPString`, bytes
 * `AMQPBinary`, a number `AMQPInt`/`AMQPLong`/`AMQPDouble` (as the encoder picks), a `bigint`
 * `AMQPLong`, a `Date` `AMQPTimestamp`; lists and maps are wrapped element by element (a plain
 * object becomes a `Map` with `AMQPString` keys). `null`, booleans and wrappers stay as they are.
 * `encode(wrap(v))` gives the same bytes as `encode(v)`.
 *
 * @example
 * ```ts
 * wrap(5); // AMQPInt(5)
 * wrap({ n: 2 ** 40 }); // Map { AMQPString("n") => AMQPLong(1099511627776n) }
 * ```
 */
export function wrap(value: AMQPValue | undefined): AMQPValue {
  if (value === undefined || value === null || typeof value === "boolean") return value ?? null;
  if (value instanceof AMQPType) return value;
  switch (typeOf(value)) {
    case "string":
      return new AMQPString(value as string);
    case "int":
      return new AMQPInt(value as number);
    case "long":
      return new AMQPLong(value as number | bigint);
    case "double":
      return new AMQPDouble(value as number);
    case "binary":
      return new AMQPBinary(value as Uint8Array);
    case "timestamp":
      return new AMQPTimestamp(value as Date);
    case "list":
      return (value as readonly AMQPValue[]).map((v) => wrap(v));
    default:
      return wrapMap(value);
  }
}

function wrapMap(value: AMQPValue): Map<AMQPValue, AMQPValue> {
  const out = new Map<AMQPValue, AMQPValue>();
  if (value instanceof Map) {
    for (const [k, v] of value as ReadonlyMap<AMQPValue, AMQPValue>) out.set(wrap(k), wrap(v));
    return out;
  }
  const obj = value as { readonly [key: string]: AMQPValue | undefined };
  for (const k in obj) {
    const v = obj[k];
    if (v !== undefined) out.set(new AMQPString(k), wrap(v));
  }
  return out;
}

/**
 * Plain JavaScript for a decoded (or wrapped) value: every integer wrapper of 32 bits or less, float
 * and double become a `number`; `long`/`ulong` a `bigint`; symbol, string and char a `string`; binary
 * a `Buffer`; timestamp a `Date`; uuid its canonical string; arrays and lists a JS array. A map
 * becomes a plain object when every key unwraps to a string, else a `Map`. Decimals and described
 * values have no plain form and stay as they are. Unlike `wrap()`, this loses the AMQP types: do
 * not re-encode the result where the type matters.
 *
 * @example
 * ```ts
 * unwrap(decode(bytes)); // { "x-opt-sequence-number": 42n, subject: "hi" }
 * ```
 */
export function unwrap(value: AMQPValue | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof AMQPType) return unwrapTyped(value);
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value);
  if (value instanceof Date || typeof value !== "object") return value;
  if (Array.isArray(value)) return (value as readonly AMQPValue[]).map((v) => unwrap(v));
  if (value instanceof Map) return unwrapMap(value as ReadonlyMap<AMQPValue, AMQPValue>);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as { readonly [key: string]: AMQPValue | undefined })) {
    if (v !== undefined) out[k] = unwrap(v);
  }
  return out;
}

function unwrapTyped(value: AMQPType): unknown {
  if (value instanceof AMQPDescribed || value.type.startsWith("decimal")) return value;
  if (value instanceof AMQPArray) return value.value.map((v) => unwrap(v));
  if (value instanceof AMQPUuid) return value.toString();
  if (value instanceof AMQPBinary) return unwrap(value.value);
  if (value instanceof AMQPTimestamp) return new Date(value.value);
  return value.value;
}

function unwrapMap(map: ReadonlyMap<AMQPValue, AMQPValue>): unknown {
  const entries = [...map].map(([k, v]) => [unwrap(k), unwrap(v)] as const);
  if (entries.every(([k]) => typeof k === "string" && k !== "__proto__")) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) out[k as string] = v;
    return out;
  }
  return new Map(entries);
}
