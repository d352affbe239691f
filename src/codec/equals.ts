/** Structural equality of AMQP values: same AMQP type and same value (used by tests and lookups). */
import { AMQPArray, AMQPDescribed, AMQPType, type AMQPTypeName, type AMQPValue, typeOf } from "./values.js";

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The comparable form of a value of a primitive type `t`: unwrapped, 64-bit integers as bigint,
 * timestamps as ms, floats rounded to float precision (as plain numbers in a float array are).
 */
function scalar(v: AMQPValue | undefined, t: AMQPTypeName): unknown {
  const x: unknown = v instanceof AMQPType ? v.value : v;
  if ((t === "long" || t === "ulong") && typeof x === "number") return BigInt(x);
  if (t === "timestamp" && x instanceof Date) return x.getTime();
  if (t === "float" && typeof x === "number") return Math.fround(x);
  return x;
}

/** Equality of two items of an array of `t` (items may be canonical values or the plain values they wrap). */
function itemEquals(t: AMQPTypeName, a: AMQPValue, b: AMQPValue): boolean {
  if (t === "list" || t === "map" || t === "array" || t === "described") return amqpEquals(a, b);
  const x = scalar(a, t);
  const y = scalar(b, t);
  if (x instanceof Uint8Array && y instanceof Uint8Array) return bytesEqual(x, y);
  return Object.is(x, y);
}

/** The items of a list or the value of a wrapper of a list or map. */
function unwrap(v: AMQPValue): unknown {
  return v instanceof AMQPType ? v.value : v;
}

/**
 * True if `a` and `b` encode to the same AMQP type and value: `1.5` equals `new AMQPDouble(1.5)`,
 * `2n ** 40n` equals `2 ** 40`, a plain object equals a `Map` with the same string keys in the same
 * order. Floating-point values compare with `Object.is` (`NaN` equals `NaN`, `0` differs from `-0`).
 *
 * @example
 * ```ts
 * amqpEquals(decode(encode(v)), v); // true for every value the codec accepts
 * ```
 */
export function amqpEquals(a: AMQPValue | undefined, b: AMQPValue | undefined): boolean {
  if (a === b) return true;
  const t = typeOf(a);
  if (t !== typeOf(b)) return false;
  if (a === undefined || b === undefined || a === null || b === null) return t === "null";
  switch (t) {
    case "null":
      return true;
    case "described":
      return (
        a instanceof AMQPDescribed &&
        b instanceof AMQPDescribed &&
        amqpEquals(a.descriptor, b.descriptor) &&
        amqpEquals(a.value, b.value)
      );
    case "array": {
      if (!(a instanceof AMQPArray && b instanceof AMQPArray) || a.elementType !== b.elementType)
        return false;
      if (a.value.length !== b.value.length) return false;
      for (let i = 0; i < a.value.length; i++) {
        if (!itemEquals(a.elementType, a.value[i]!, b.value[i]!)) return false;
      }
      return true;
    }
    case "list":
      return listEquals(unwrap(a) as readonly AMQPValue[], unwrap(b) as readonly AMQPValue[]);
    case "map": {
      const ea = entries(unwrap(a) as object);
      const eb = entries(unwrap(b) as object);
      if (ea.length !== eb.length) return false;
      for (let i = 0; i < ea.length; i++) {
        if (!amqpEquals(ea[i]![0], eb[i]![0]) || !amqpEquals(ea[i]![1], eb[i]![1])) return false;
      }
      return true;
    }
    default: {
      const x = scalar(a, t);
      const y = scalar(b, t);
      if (x instanceof Uint8Array && y instanceof Uint8Array) return bytesEqual(x, y);
      return Object.is(x, y);
    }
  }
}

function listEquals(a: readonly AMQPValue[], b: readonly AMQPValue[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!amqpEquals(a[i], b[i])) return false;
  return true;
}

function entries(v: object): [AMQPValue, AMQPValue][] {
  if (v instanceof Map) return [...(v as Map<AMQPValue, AMQPValue>)];
  return Object.entries(v as Record<string, AMQPValue | undefined>).filter(
    (e): e is [string, AMQPValue] => e[1] !== undefined,
  );
}
