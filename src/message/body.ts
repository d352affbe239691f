/**
 * Message bodies: the three body kinds of AMQP 1.0 and uamqp's rules for choosing one.
 */
import type { AMQPValue } from "../codec/values.js";

/**
 * The kind of a message body (uamqp's `MessageBodyType`).
 *
 * - `data`: one or more Data sections (opaque bytes);
 * - `value`: a single AmqpValue section (any AMQP value);
 * - `sequence`: one or more AmqpSequence sections (lists of AMQP values).
 */
export const MessageBodyType = {
  Data: "data",
  Value: "value",
  Sequence: "sequence",
} as const;
/** One of the {@link MessageBodyType} values: `"data"`, `"value"` or `"sequence"`. */
export type MessageBodyType = (typeof MessageBodyType)[keyof typeof MessageBodyType];

/** A Data body: the bytes of each Data section. */
export interface DataBody {
  /** Always `"data"`. */
  readonly type: "data";
  /** The bytes of each Data section, in order. */
  readonly sections: Uint8Array[];
}
/** An AmqpValue body. */
export interface ValueBody {
  /** Always `"value"`. */
  readonly type: "value";
  /** The AmqpValue section's value. */
  readonly value: AMQPValue;
}
/** An AmqpSequence body: the items of each AmqpSequence section. */
export interface SequenceBody {
  /** Always `"sequence"`. */
  readonly type: "sequence";
  /** The items of each AmqpSequence section, in order. */
  readonly sections: AMQPValue[][];
}

/** The body of a message, tagged by its kind. */
export type MessageBody = DataBody | ValueBody | SequenceBody;

function isText(v: unknown): v is string | Uint8Array {
  return typeof v === "string" || v instanceof Uint8Array;
}

function allText(items: readonly AMQPValue[]): items is readonly (string | Uint8Array)[] {
  for (const it of items) if (!isText(it)) return false;
  return true;
}

function toBytes(v: string | Uint8Array, encoding: BufferEncoding): Uint8Array {
  return typeof v === "string" ? Buffer.from(v, encoding) : v;
}

function dataBody(items: readonly (string | Uint8Array)[], encoding: BufferEncoding): DataBody {
  const sections = new Array<Uint8Array>(items.length);
  for (let i = 0; i < items.length; i++) sections[i] = toBytes(items[i]!, encoding);
  return { type: "data", sections };
}

/**
 * The bytes of the one Data section `createBody` would make of `input` (a string or bytes, with no
 * `bodyType` or `data`), without making the body; undefined for any other input.
 */
export function onlyDataSection(
  input: AMQPValue | undefined,
  bodyType: MessageBodyType | undefined,
  encoding: BufferEncoding = "utf8",
): Uint8Array | undefined {
  if (bodyType !== undefined && bodyType !== MessageBodyType.Data) return undefined;
  return isText(input) ? toBytes(input, encoding) : undefined;
}

/**
 * Builds a body from user data with uamqp's rules.
 *
 * Without `bodyType`: a string or bytes → one Data section (strings encoded with `encoding`); an array
 * whose items are all strings/bytes (including `[]`) → one Data section per item; anything else
 * (`undefined`, numbers, maps, mixed arrays, arrays of arrays) → an AmqpValue (`undefined` → `null`).
 *
 * With `bodyType`: `data` requires a string/bytes or an array of them; `sequence` requires an array
 * (an array of arrays → one section per inner array, any other array → one section); `value` takes anything.
 *
 * Bytes are kept by reference, not copied.
 *
 * @throws {TypeError} when the data does not fit the requested body type, or the body type is unknown.
 */
export function createBody(
  input: AMQPValue | undefined,
  bodyType: MessageBodyType | undefined,
  encoding: BufferEncoding = "utf8",
): MessageBody {
  if (bodyType === undefined) {
    if (isText(input)) return { type: "data", sections: [toBytes(input, encoding)] };
    if (Array.isArray(input) && allText(input as readonly AMQPValue[])) {
      return dataBody(input as readonly (string | Uint8Array)[], encoding);
    }
    return { type: "value", value: input ?? null };
  }
  switch (bodyType) {
    case MessageBodyType.Data:
      if (isText(input)) return { type: "data", sections: [toBytes(input, encoding)] };
      if (Array.isArray(input) && allText(input as readonly AMQPValue[])) {
        return dataBody(input as readonly (string | Uint8Array)[], encoding);
      }
      throw new TypeError("a Data body must be a string, bytes, or an array of strings/bytes");
    case MessageBodyType.Sequence: {
      if (!Array.isArray(input))
        throw new TypeError("a Sequence body must be an array (or an array of arrays)");
      const items = input as AMQPValue[];
      if (items.length > 0 && items.every((x) => Array.isArray(x))) {
        return { type: "sequence", sections: items.slice() as AMQPValue[][] };
      }
      return { type: "sequence", sections: [items] };
    }
    case MessageBodyType.Value:
      return { type: "value", value: input ?? null };
    default:
      throw new TypeError(`unknown body type ${String(bodyType)}`);
  }
}
