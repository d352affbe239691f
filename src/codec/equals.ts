/** Structural equality of AMQP values: same AMQP type and same value (used by tests and lookups). */
import { AMQPArray, AMQPDescribed, AMQPType, type AMQPValue, typeOf } from "./values.js";

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True if `a` and `b` encode to the same AMQP type and value. */
export function amqpEquals(a: AMQPValue | undefined, b: AMQPValue | undefined): boolean {
  if (a === b) return true;
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  if (a === null || b === null || a === undefined || b === undefined) return a == b;
  if (typeof a !== "object" || typeof b !== "object") {
    return Object.is(a, b) || (typeof a === "number" && typeof b === "number" && a === b);
  }
  if (a instanceof AMQPDescribed && b instanceof AMQPDescribed) {
    return amqpEquals(a.descriptor, b.descriptor) && amqpEquals(a.value, b.value);
  }
  if (a instanceof AMQPArray && b instanceof AMQPArray) {
    return a.elementType === b.elementType && listEquals(a.value, b.value);
  }
  if (a instanceof AMQPType && b instanceof AMQPType) {
    const va: unknown = a.value;
    const vb: unknown = b.value;
    if (va instanceof Uint8Array && vb instanceof Uint8Array) return bytesEqual(va, vb);
    return Object.is(va, vb);
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesEqual(a, b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return listEquals(a as AMQPValue[], b as AMQPValue[]);
  const ea = entries(a);
  const eb = entries(b);
  if (ea.length !== eb.length) return false;
  for (let i = 0; i < ea.length; i++) {
    if (!amqpEquals(ea[i]![0], eb[i]![0]) || !amqpEquals(ea[i]![1], eb[i]![1])) return false;
  }
  return true;
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
