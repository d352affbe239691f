/**
 * Reading the few message fields the broker needs straight from the encoded bytes, and rewriting
 * only the header section when the delivery-count changes (every other byte passes through).
 *
 * Sections are located by skipping over their encodings (sizes are in the constructors), so a
 * message is never fully decoded; only the sections asked for are.
 */
import { readDescriptorKey } from "../codec/composite.js";
import { Decoder } from "../codec/decoder.js";
import { HeaderSection, PropertiesSection, SectionCode } from "../codec/definitions/messaging.js";
import { encodeValue } from "../codec/encoder.js";
import { FormatCode as F } from "../codec/format-codes.js";
import { AMQPDescribed, AMQPuLong, type AMQPValue } from "../codec/values.js";
import { valueEnd } from "../codec/value-extent.js";
import { DecodeError } from "../errors/decode-error.js";
import { ByteWriter } from "../util/byte-writer.js";

/** The decoded header section. */
export type HeaderFields = ReturnType<typeof HeaderSection.decodeBody>;
/** The decoded properties section. */
export type PropertiesFields = ReturnType<typeof PropertiesSection.decodeBody>;

/** Where each section of a message starts and ends (`-1` when absent). */
export interface SectionMap {
  readonly headerStart: number;
  readonly headerEnd: number;
  readonly propertiesStart: number;
  readonly applicationPropertiesStart: number;
  /** Start of every body section, in order, with its code (data, amqp-sequence or amqp-value). */
  readonly body: readonly { readonly code: number; readonly start: number }[];
}

const SYMBOLIC: ReadonlyMap<string, number> = new Map([
  ["amqp:header:list", SectionCode.Header],
  ["amqp:delivery-annotations:map", SectionCode.DeliveryAnnotations],
  ["amqp:message-annotations:map", SectionCode.MessageAnnotations],
  ["amqp:properties:list", SectionCode.Properties],
  ["amqp:application-properties:map", SectionCode.ApplicationProperties],
  ["amqp:data:binary", SectionCode.Data],
  ["amqp:amqp-sequence:list", SectionCode.AmqpSequence],
  ["amqp:amqp-value:*", SectionCode.AmqpValue],
  ["amqp:footer:map", SectionCode.Footer],
]);

/**
 * The offset just after the encoded value starting at `pos`, which must end by `end` (the codec's
 * `valueEnd`, with a typed error).
 * @throws {DecodeError}
 */
export function skipValue(buf: Uint8Array, pos: number, end: number): number {
  const next = valueEnd(buf, pos, end);
  if (next < 0) throw new DecodeError("truncated or invalid value", pos, buf[pos]);
  if (next > end) throw new DecodeError("value runs past the end of the message", pos, buf[pos]);
  return next;
}

/**
 * The section code of the described value at `pos` and the offset of its value, in one number
 * (`valueStart * 256 + code`: section codes are below 256), so that walking a message allocates
 * nothing; read it with {@link codeOf} and {@link valueStartOf}.
 */
function sectionAt(buf: Buffer, pos: number, end: number): number {
  if (buf[pos] !== F.Described) throw new DecodeError("expected a message section", pos, buf[pos]);
  if (buf[pos + 1] === F.SmallUlong && pos + 2 < end) return (pos + 3) * 256 + buf[pos + 2]!;
  const d = new Decoder(buf, pos + 1, end);
  const key = readDescriptorKey(d);
  const code = typeof key === "number" ? key : typeof key === "string" ? SYMBOLIC.get(key) : undefined;
  if (code === undefined || code < 0 || code > 0xff) throw new DecodeError("unknown message section", pos);
  return d.pos * 256 + code;
}

const codeOf = (section: number): number => section % 256;
const valueStartOf = (section: number): number => Math.floor(section / 256);

const NO_BODY: SectionMap["body"] = Object.freeze([]);

/**
 * Locates the sections of an encoded message; undefined if the bytes are not a valid section
 * sequence. Without `withBody` the body sections are checked but not listed (`body` is empty).
 */
export function scanSections(payload: Buffer, withBody = true): SectionMap | undefined {
  let headerStart = -1;
  let headerEnd = -1;
  let propertiesStart = -1;
  let applicationPropertiesStart = -1;
  let body: { code: number; start: number }[] | undefined;
  const end = payload.length;
  let pos = 0;
  try {
    while (pos < end) {
      const section = sectionAt(payload, pos, end);
      const code = codeOf(section);
      const next = skipValue(payload, valueStartOf(section), end);
      if (code === SectionCode.Header) {
        headerStart = pos;
        headerEnd = next;
      } else if (code === SectionCode.Properties) {
        propertiesStart = pos;
      } else if (code === SectionCode.ApplicationProperties) {
        applicationPropertiesStart = pos;
      } else if (code >= SectionCode.Data && code <= SectionCode.AmqpValue) {
        if (withBody) (body ??= []).push({ code, start: pos });
      } else if (code < SectionCode.Header || code > SectionCode.Footer) {
        return undefined;
      }
      pos = next;
    }
  } catch {
    return undefined;
  }
  return { headerStart, headerEnd, propertiesStart, applicationPropertiesStart, body: body ?? NO_BODY };
}

/**
 * Whether the message-annotations section holds the bytes `needle` (a quick test before decoding
 * it: the sections before it are skipped over, not read); false when the message has none, or its
 * sections cannot be read that far.
 */
export function messageAnnotationsInclude(payload: Buffer, needle: Buffer): boolean {
  const end = payload.length;
  let pos = 0;
  try {
    while (pos < end) {
      const section = sectionAt(payload, pos, end);
      const code = codeOf(section);
      // Sections come in a fixed order (AMQP 1.0 section 3.2): none after these is the one.
      if (code > SectionCode.MessageAnnotations) return false;
      const next = skipValue(payload, valueStartOf(section), end);
      if (code === SectionCode.MessageAnnotations) return payload.subarray(pos, next).includes(needle);
      pos = next;
    }
  } catch {
    return false;
  }
  return false;
}

/**
 * Whether the message starts with a body section (data, amqp-sequence or amqp-value): then it has
 * no header and no properties, which come before the body (AMQP 1.0 section 3.2).
 */
export function startsWithBody(payload: Buffer): boolean {
  const code =
    payload.length > 2 && payload[0] === F.Described && payload[1] === F.SmallUlong ? payload[2]! : 0;
  return code >= SectionCode.Data && code <= SectionCode.AmqpValue;
}

/** The header section, if present and valid. */
export function readHeader(payload: Buffer, map: SectionMap): HeaderFields | undefined {
  if (map.headerStart < 0) return undefined;
  try {
    return HeaderSection.decode(new Decoder(payload, map.headerStart, map.headerEnd));
  } catch {
    return undefined;
  }
}

/** The properties section, if present and valid. */
export function readProperties(payload: Buffer, map: SectionMap): PropertiesFields | undefined {
  if (map.propertiesStart < 0) return undefined;
  try {
    return PropertiesSection.decode(new Decoder(payload, map.propertiesStart));
  } catch {
    return undefined;
  }
}

/**
 * The properties section's absolute-expiry-time (ms since the epoch) without decoding the rest of
 * the section; undefined when absent or unreadable.
 */
export function readAbsoluteExpiry(payload: Buffer, map: SectionMap): number | undefined {
  if (map.propertiesStart < 0) return undefined;
  try {
    const end = payload.length;
    let pos = map.propertiesStart + 1;
    pos = skipValue(payload, pos, end); // descriptor
    const lc = payload[pos];
    let count: number;
    if (lc === F.List8) {
      count = payload[pos + 2]!;
      pos += 3;
    } else if (lc === F.List32) {
      count = payload.readUInt32BE(pos + 5);
      pos += 9;
    } else {
      return undefined;
    }
    const ABSOLUTE_EXPIRY_TIME = 8;
    if (count <= ABSOLUTE_EXPIRY_TIME) return undefined;
    for (let i = 0; i < ABSOLUTE_EXPIRY_TIME; i++) pos = skipValue(payload, pos, end);
    if (payload[pos] !== F.Timestamp || pos + 9 > end) return undefined;
    return Number(payload.readBigInt64BE(pos + 1));
  } catch {
    return undefined;
  }
}

/** The application-properties map, keys as strings (other keys are skipped). */
export function readApplicationProperties(payload: Buffer, map: SectionMap): Map<string, AMQPValue> {
  const out = new Map<string, AMQPValue>();
  if (map.applicationPropertiesStart < 0) return out;
  try {
    const v = new Decoder(payload, map.applicationPropertiesStart).value();
    const inner = v instanceof AMQPDescribed ? v.value : undefined;
    if (inner instanceof Map) {
      for (const [k, val] of inner as Map<AMQPValue, AMQPValue>) {
        const key = typeof k === "string" ? k : k instanceof Object && "value" in k ? k.value : undefined;
        if (typeof key === "string") out.set(key, val);
      }
    }
  } catch {
    // A malformed map reads as empty.
  }
  return out;
}

/** The value of the first amqp-value body section, if the body is one. */
export function readValueBody(payload: Buffer, map: SectionMap): AMQPValue | undefined {
  const first = map.body[0];
  if (first?.code !== SectionCode.AmqpValue) return undefined;
  try {
    const v = new Decoder(payload, first.start).value();
    return v instanceof AMQPDescribed ? v.value : undefined;
  } catch {
    return undefined;
  }
}

/** The contents of each data body section (views into `payload`). */
export function readDataSections(payload: Buffer, map: SectionMap): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (const s of map.body) {
    if (s.code !== SectionCode.Data) return undefined;
    const valueStart = valueStartOf(sectionAt(payload, s.start, payload.length));
    const c = payload[valueStart];
    if (c === F.Vbin8) {
      const n = payload[valueStart + 1]!;
      out.push(payload.subarray(valueStart + 2, valueStart + 2 + n));
    } else if (c === F.Vbin32) {
      const n = payload.readUInt32BE(valueStart + 1);
      out.push(payload.subarray(valueStart + 5, valueStart + 5 + n));
    } else {
      return undefined;
    }
  }
  return out;
}

const writer = new ByteWriter(256);

/**
 * The message with its header's delivery-count set to `count` (a header is added if there was
 * none); every byte after the header is kept as it was.
 */
export function withDeliveryCount(payload: Buffer, map: SectionMap, count: number): Buffer {
  const header: HeaderFields = { ...(readHeader(payload, map) ?? {}), deliveryCount: count >>> 0 };
  writer.reset();
  HeaderSection.encode(writer, header);
  const rest = payload.subarray(map.headerStart >= 0 ? map.headerEnd : 0);
  const out = Buffer.allocUnsafe(writer.pos + rest.length);
  writer.buf.copy(out, 0, 0, writer.pos);
  rest.copy(out, writer.pos);
  return out;
}

/** What a broker-generated message (a management or CBS response) holds. */
export interface ResponseMessage {
  readonly properties?: PropertiesFields;
  readonly applicationProperties?: ReadonlyMap<string, AMQPValue>;
  readonly body?: AMQPValue;
}

/** Encodes a properties / application-properties / amqp-value message. */
export function encodeResponse(m: ResponseMessage): Buffer {
  const w = new ByteWriter(256);
  if (m.properties) PropertiesSection.encode(w, m.properties);
  if (m.applicationProperties) {
    encodeValue(
      w,
      new AMQPDescribed(new AMQPuLong(SectionCode.ApplicationProperties), m.applicationProperties),
    );
  }
  encodeValue(w, new AMQPDescribed(new AMQPuLong(SectionCode.AmqpValue), m.body ?? null));
  return w.toBuffer();
}
