/**
 * Keyed map sections: delivery annotations, message annotations and footer (`annotations`: symbol or
 * ulong keys), and application properties (string keys).
 *
 * In the API these maps are plain objects. Key rules:
 * - annotation keys are encoded as AMQP **symbols** (the spec requires symbol or ulong keys; uamqp sent
 *   Python `str`/`bytes` keys as AMQP strings). A plain object key cannot carry a type, so there is no
 *   way to force a string key here; peers that need string keys are not spec-compliant.
 * - a ulong key is written in an object as `ulong:<decimal>` (see {@link ulongKey}); this is lossless
 *   because every symbol key not starting with `x-` is reserved by the spec, so no valid symbol key
 *   looks like that.
 * - decoded annotation keys of type symbol or string become object keys; ulong keys become
 *   `ulong:<decimal>`; any other key type is a `DecodeError`.
 * - application-properties keys are AMQP **strings** (symbol keys from lax peers are accepted on decode).
 */
import type { Decoder } from "../codec/decoder.js";
import { writeObjectMap } from "../codec/encoder.js";
import { writeString, writeSymbol, writeUlong } from "../codec/scalar-writers.js";
import { FormatCode as F } from "../codec/format-codes.js";
import type { AMQPValue } from "../codec/values.js";
import { DecodeError, EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";

/**
 * Delivery annotations, message annotations or footer: symbol keys (or `ulong:<n>` for ulong keys)
 * to AMQP values.
 *
 * @example
 * ```ts
 * const annotations: AnnotationsMap = { "x-opt-partition-key": "p1", [ulongKey(7)]: true };
 * ```
 */
export type AnnotationsMap = Record<string, AMQPValue>;

/** Application properties: string keys to AMQP values (the spec wants simple values: no list, map or array). */
export type ApplicationProperties = Record<string, AMQPValue>;

/** Prefix of object keys that stand for ulong annotation keys. */
export const ULONG_KEY_PREFIX = "ulong:";

const MAX_ULONG = 0xffffffffffffffffn;
const DIGITS = /^[0-9]+$/;

/**
 * The object key that stands for the ulong annotation key `n`.
 * @throws {RangeError} when `n` is not an integer, is negative, or is above 2^64−1.
 *
 * @example
 * ```ts
 * ulongKey(7n); // "ulong:7"
 * ```
 */
export function ulongKey(n: bigint | number): string {
  const b = BigInt(n);
  if (b < 0n || b > MAX_ULONG) throw new RangeError(`ulong key ${b} is out of range`);
  return ULONG_KEY_PREFIX + b.toString();
}

/** Writes an annotation key: `ulong:<n>` as ulong, anything else as symbol. */
function writeAnnotationKey(w: ByteWriter, key: string): void {
  if (key.charCodeAt(0) === 0x75 /* u */ && key.startsWith(ULONG_KEY_PREFIX)) {
    const digits = key.slice(ULONG_KEY_PREFIX.length);
    if (DIGITS.test(digits)) {
      const n = BigInt(digits);
      if (n > MAX_ULONG) throw new EncodeError(`annotation key ${key} is out of the ulong range`);
      writeUlong(w, n);
      return;
    }
  }
  writeSymbol(w, key);
}

/** True if the object has no defined value. */
export function mapEmpty(obj: Readonly<Record<string, AMQPValue | undefined>>): boolean {
  for (const k in obj) if (obj[k] !== undefined) return false;
  return true;
}

function checkObject(name: string, obj: unknown): void {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj) || obj instanceof Map) {
    throw new EncodeError(`${name} must be a plain object`);
  }
}

/** Writes an annotations section (descriptor `code`: 0x71, 0x72 or 0x78). */
export function writeAnnotations(w: ByteWriter, code: number, obj: AnnotationsMap): void {
  checkObject("annotations", obj);
  w.u8u8(F.Described, F.SmallUlong);
  w.u8(code);
  writeObjectMap(w, obj, writeAnnotationKey);
}

/** Writes the application-properties section (0x74). */
export function writeApplicationProperties(w: ByteWriter, obj: ApplicationProperties): void {
  checkObject("applicationProperties", obj);
  w.u8u8(F.Described, F.SmallUlong);
  w.u8(0x74);
  writeObjectMap(w, obj, writeString);
}

function setKey(out: Record<string, AMQPValue>, key: string, v: AMQPValue): void {
  if (key === "__proto__") {
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = v;
  }
}

/**
 * Reads a map section body (after the descriptor) into a plain object.
 * `annotations`: symbol, string and ulong keys allowed; otherwise string and symbol keys.
 * A `null` body reads as an empty object.
 */
export function readKeyedMap(d: Decoder, annotations: boolean, section: string): Record<string, AMQPValue> {
  const at = d.pos;
  const code = d.u8();
  const out: Record<string, AMQPValue> = {};
  if (code === F.Null) return out;
  if (code !== F.Map8 && code !== F.Map32)
    throw new DecodeError(`${section} section expects a map`, at, code);
  const wide = code === F.Map32;
  const count = d.compoundHeader(code, wide);
  if (count % 2 !== 0) throw new DecodeError(`${section} map has an odd element count ${count}`, at, code);
  const stop = wide ? at + 5 + d.buf.readUInt32BE(at + 1) : at + 2 + d.buf[at + 1]!;
  if (count > stop - d.pos)
    throw new DecodeError(`${section} map count ${count} exceeds its bytes`, at, code);
  const savedEnd = d.end;
  d.end = stop;
  for (let i = 0; i < count; i += 2) {
    const kAt = d.pos;
    const kc = d.u8();
    let key: string;
    if (kc === F.Sym8 || kc === F.Str8) key = d.cachedText(d.u8(), kc);
    else if (kc === F.Sym32 || kc === F.Str32) key = d.text(d.u32(), kc);
    else if (annotations && kc === F.SmallUlong) key = ULONG_KEY_PREFIX + String(d.u8());
    else if (annotations && kc === F.Ulong0) key = ULONG_KEY_PREFIX + "0";
    else if (annotations && kc === F.Ulong) key = ULONG_KEY_PREFIX + d.u64().toString();
    else {
      const allowed = annotations ? "symbol, string or ulong" : "string";
      throw new DecodeError(`${section} keys must be ${allowed}`, kAt, kc);
    }
    setKey(out, key, d.value());
  }
  if (d.pos !== stop) throw new DecodeError(`${section} map size does not match its content`, at, code);
  d.end = savedEnd;
  d.depth--;
  return out;
}
