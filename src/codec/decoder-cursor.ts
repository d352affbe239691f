/**
 * The reads of a `Decoder` that the constructor switch (`payload-decoder.ts`) and the array reader
 * (`array-decoder.ts`) call back into. A leaf, so that those helpers and the `Decoder` that calls
 * them do not import each other.
 */
import type { AMQPArray, AMQPValue } from "./values.js";

/** A cursor over AMQP bytes; `Decoder` implements it. Every read advances `pos`. */
export interface DecoderCursor {
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset just past the last byte that may be read. */
  readonly end: number;
  /** @throws {DecodeError} always, with `message`, the offset `at` and the format `code`. */
  fail(message: string, code?: number, at?: number): never;
  u8(): number;
  u16(): number;
  u32(): number;
  u64(): bigint;
  i64(): bigint;
  f32(code?: number): number;
  f64(code?: number): number;
  timestampMs(): number;
  bytes(n: number, code?: number): Buffer;
  text(n: number, code: number): string;
  cachedText(n: number, code: number): string;
  /** One whole value (constructor and payload). */
  value(): AMQPValue;
  /** The payload of a value whose constructor `code` was read. */
  payload(code: number): AMQPValue;
  list(code: number): AMQPValue[];
  map(code: number): Map<AMQPValue, AMQPValue>;
  array(code: number): AMQPArray;
}
