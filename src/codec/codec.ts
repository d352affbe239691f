/**
 * The public entry points of the codec: `encode(value)` and `decode(bytes)`.
 *
 * @example
 * ```ts
 * import { codec, AMQPSymbol } from "uamqp";
 * const bytes = codec.encode(new Map([[new AMQPSymbol("k"), 1]]));
 * const value = codec.decode(bytes); // Map { AMQPSymbol("k") => 1 }
 * ```
 */
import { DecodeError, EncodeError } from "../errors/decode-error.js";
import { ByteWriter } from "../util/byte-writer.js";
import { Decoder } from "./decoder.js";
import { encodeValue } from "./encoder.js";
import type { AMQPValue } from "./values.js";

const shared = new ByteWriter(1024);

/**
 * Encodes one value in its smallest AMQP encoding. Returns a new buffer (not shared with later calls).
 * `undefined` encodes as null.
 * @throws {EncodeError} if the value (or a part of it) cannot be encoded, or nests too deeply.
 *
 * @example
 * ```ts
 * codec.encode("hi"); // <a1 02 68 69> (str8)
 * codec.encode(new AMQPuInt(0)); // <43> (uint0)
 * ```
 */
export function encode(value: AMQPValue | undefined): Uint8Array {
  shared.reset();
  try {
    encodeValue(shared, value);
  } catch (e) {
    shared.reset();
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new EncodeError("cannot encode the value: it nests too deeply or contains itself", { cause: e });
    }
    throw e;
  }
  return shared.take();
}

/**
 * Decodes exactly one value from `bytes`; trailing bytes are a `DecodeError`.
 * @throws {DecodeError} on malformed or truncated input, or trailing bytes.
 *
 * @example
 * ```ts
 * codec.decode(Buffer.from([0xa1, 0x02, 0x68, 0x69])); // "hi"
 * codec.decode(Buffer.from([0x43])); // AMQPuInt { value: 0 }
 * ```
 */
export function decode(bytes: Uint8Array): AMQPValue {
  const d = new Decoder(bytes);
  const v = d.value();
  if (d.pos !== d.end) throw new DecodeError(`${d.end - d.pos} trailing bytes after the value`, d.pos);
  return v;
}

/**
 * Decodes one value starting at `offset`; returns it and the offset after it (for streams of values).
 * @throws {DecodeError} on malformed or truncated input; {@link RangeError} for an `offset` outside `bytes`.
 */
export function decodeAt(bytes: Uint8Array, offset = 0): { value: AMQPValue; offset: number } {
  const d = new Decoder(bytes, offset);
  const value = d.value();
  return { value, offset: d.pos };
}
