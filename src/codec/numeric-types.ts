/**
 * The explicit numeric type wrappers (uamqp's `AMQPuByte` … `AMQPLong`, plus float and double).
 * Re-exported by `values.ts`.
 */

import { EncodeError } from "../errors/decode-error.js";
import { AMQPType } from "./amqp-type.js";

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new EncodeError(`${name} requires an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function toBigInt(name: string, v: bigint | number, min: bigint, max: bigint): bigint {
  let b: bigint;
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new EncodeError(`${name} requires an integer, got ${String(v)}`);
    b = BigInt(v);
  } else {
    b = v;
  }
  if (b < min || b > max) throw new EncodeError(`${name} value ${b} is outside [${min}, ${max}]`);
  return b;
}

/** AMQP `ubyte` (0 … 255). */
export class AMQPuByte extends AMQPType<number> {
  /** Always `"ubyte"`. */
  readonly type = "ubyte";
  /** @throws {EncodeError} unless `value` is an integer in range. */
  constructor(value: number) {
    super(checkInt("ubyte", value, 0, 0xff));
  }
}
/** AMQP `ushort` (0 … 65535). */
export class AMQPuShort extends AMQPType<number> {
  /** Always `"ushort"`. */
  readonly type = "ushort";
  /** @throws {EncodeError} unless `value` is an integer in range. */
  constructor(value: number) {
    super(checkInt("ushort", value, 0, 0xffff));
  }
}
/** AMQP `uint` (0 … 2^32−1). */
export class AMQPuInt extends AMQPType<number> {
  /** Always `"uint"`. */
  readonly type = "uint";
  /** @throws {EncodeError} unless `value` is an integer in range. */
  constructor(value: number) {
    super(checkInt("uint", value, 0, 0xffffffff));
  }
}
/** AMQP `ulong` (0 … 2^64−1), held as a `bigint`. */
export class AMQPuLong extends AMQPType<bigint> {
  /** Always `"ulong"`. */
  readonly type = "ulong";
  /** @throws {EncodeError} for a number that is not a safe integer, or a value out of range. */
  constructor(value: bigint | number) {
    super(toBigInt("ulong", value, 0n, 0xffffffffffffffffn));
  }
}
/** AMQP `byte` (−128 … 127). */
export class AMQPByte extends AMQPType<number> {
  /** Always `"byte"`. */
  readonly type = "byte";
  /** @throws {EncodeError} unless `value` is an integer in range. */
  constructor(value: number) {
    super(checkInt("byte", value, -0x80, 0x7f));
  }
}
/** AMQP `short` (−32768 … 32767). */
export class AMQPShort extends AMQPType<number> {
  /** Always `"short"`. */
  readonly type = "short";
  /** @throws {EncodeError} unless `value` is an integer in range. */
  constructor(value: number) {
    super(checkInt("short", value, -0x8000, 0x7fff));
  }
}
/** AMQP `int` (−2^31 … 2^31−1). Plain integer numbers in this range already encode as int. */
export class AMQPInt extends AMQPType<number> {
  /** Always `"int"`. */
  readonly type = "int";
  /** @throws {EncodeError} unless `value` is an integer in range. */
  constructor(value: number) {
    super(checkInt("int", value, -0x80000000, 0x7fffffff));
  }
}
/** AMQP `long` (−2^63 … 2^63−1), held as a `bigint`. Plain `bigint` values already encode as long. */
export class AMQPLong extends AMQPType<bigint> {
  /** Always `"long"`. */
  readonly type = "long";
  /** @throws {EncodeError} for a number that is not a safe integer, or a value out of range. */
  constructor(value: bigint | number) {
    super(toBigInt("long", value, -0x8000000000000000n, 0x7fffffffffffffffn));
  }
}
/** AMQP `float` (IEEE 754 binary32). The value is rounded to float precision. */
export class AMQPFloat extends AMQPType<number> {
  /** Always `"float"`. */
  readonly type = "float";
  /** @throws {EncodeError} when `value` is not a number. */
  constructor(value: number) {
    if (typeof value !== "number") throw new EncodeError(`float requires a number`);
    super(Math.fround(value));
  }
}
/** AMQP `double` (IEEE 754 binary64). */
export class AMQPDouble extends AMQPType<number> {
  /** Always `"double"`. */
  readonly type = "double";
  /** @throws {EncodeError} when `value` is not a number. */
  constructor(value: number) {
    if (typeof value !== "number") throw new EncodeError(`double requires a number`);
    super(value);
  }
}
