/**
 * The AMQP type names, the `AMQPValue` union and `AMQPType`, the base of the explicit type wrappers.
 * Re-exported by `values.ts`, which documents the JS ↔ AMQP mapping.
 */

/** Names of the AMQP 1.0 primitive types, plus `described`. */
export type AMQPTypeName =
  | "null"
  | "boolean"
  | "ubyte"
  | "ushort"
  | "uint"
  | "ulong"
  | "byte"
  | "short"
  | "int"
  | "long"
  | "float"
  | "double"
  | "decimal32"
  | "decimal64"
  | "decimal128"
  | "char"
  | "timestamp"
  | "uuid"
  | "binary"
  | "string"
  | "symbol"
  | "list"
  | "map"
  | "array"
  | "described";

/** Any value the codec can encode or decode. */
export type AMQPValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Uint8Array
  | AMQPType
  | readonly AMQPValue[]
  | ReadonlyMap<AMQPValue, AMQPValue>
  | { readonly [key: string]: AMQPValue | undefined };

/** Base of the explicit type wrappers: a JS value plus the AMQP type it must be encoded as. */
export abstract class AMQPType<T = unknown> {
  /** The AMQP type this value encodes as. */
  abstract readonly type: AMQPTypeName;
  /** The wrapped JavaScript value. */
  declare readonly value: T;
  /** @param value - the JavaScript value (subclasses check it against their AMQP type) */
  constructor(value: T) {
    // Assigned, not a class field: one store instead of a define plus a store (hot in the decoder).
    (this as { value: T }).value = value;
  }
  /** The plain value, for `JSON.stringify`. */
  toJSON(): unknown {
    const v: unknown = this.value;
    return typeof v === "bigint" ? v.toString() : v;
  }
}
