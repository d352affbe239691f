/**
 * Bytes → message sections. Accepts any valid sequence of sections, with numeric or symbolic
 * descriptors; rejects garbage, sections out of order, repeated sections, mixed body kinds and unknown
 * descriptors with a `DecodeError`.
 *
 * Aliasing: Data sections, binary values and `userId` are views into the input bytes, not copies.
 */
import { readDescriptorKey } from "../codec/composite.js";
import { Decoder } from "../codec/decoder.js";
import { FormatCode as F } from "../codec/format-codes.js";
import type { AMQPValue } from "../codec/values.js";
import { DecodeError } from "../errors/decode-error.js";
import { readKeyedMap, type AnnotationsMap, type ApplicationProperties } from "./annotations.js";
import type { MessageBody } from "./body.js";
import { Section } from "./encode.js";
import { readHeader, type MessageHeader } from "./header.js";
import { readProperties, type MessageProperties } from "./properties.js";

const SYMBOLIC: ReadonlyMap<string, number> = new Map([
  ["amqp:header:list", Section.Header],
  ["amqp:delivery-annotations:map", Section.DeliveryAnnotations],
  ["amqp:message-annotations:map", Section.MessageAnnotations],
  ["amqp:properties:list", Section.Properties],
  ["amqp:application-properties:map", Section.ApplicationProperties],
  ["amqp:data:binary", Section.Data],
  ["amqp:amqp-sequence:list", Section.AmqpSequence],
  ["amqp:amqp-value:*", Section.AmqpValue],
  ["amqp:footer:map", Section.Footer],
]);

const NAMES = [
  "header",
  "delivery-annotations",
  "message-annotations",
  "properties",
  "application-properties",
  "data",
  "amqp-sequence",
  "amqp-value",
  "footer",
];

function nameOf(code: number): string {
  return NAMES[code - Section.Header]!;
}

/** Position of a section kind in the required order (all body kinds share one rank). */
function rankOf(code: number): number {
  if (code >= Section.Data && code <= Section.AmqpValue) return 6;
  if (code === Section.Footer) return 7;
  return code - Section.Header + 1;
}

/** Reads a section descriptor and returns its code (0x70 … 0x78). */
function readSectionCode(d: Decoder): number {
  const at = d.pos;
  const c = d.u8();
  if (c !== F.Described) throw new DecodeError("expected a message section (a described value)", at, c);
  const buf = d.buf;
  const p = d.pos;
  if (p + 1 < d.end && buf[p] === F.SmallUlong) {
    const code = buf[p + 1]!;
    d.pos = p + 2;
    if (code >= Section.Header && code <= Section.Footer) return code;
    throw new DecodeError(`unknown message section descriptor 0x${code.toString(16)}`, p);
  }
  const key = readDescriptorKey(d);
  if (typeof key === "number" && key >= Section.Header && key <= Section.Footer) return key;
  if (typeof key === "string") {
    const code = SYMBOLIC.get(key);
    if (code !== undefined) return code;
  }
  const shown = typeof key === "string" ? key : typeof key === "number" ? `0x${key.toString(16)}` : "(other)";
  throw new DecodeError(`unknown message section descriptor ${shown}`, p);
}

function readData(d: Decoder): Uint8Array {
  const at = d.pos;
  const c = d.u8();
  if (c === F.Vbin8) return d.bytes(d.u8(), c);
  if (c === F.Vbin32) return d.bytes(d.u32(), c);
  throw new DecodeError("data section expects binary", at, c);
}

function readSequence(d: Decoder): AMQPValue[] {
  const at = d.pos;
  const c = d.u8();
  if (c === F.List0) return [];
  if (c === F.List8 || c === F.List32) return d.list(c);
  throw new DecodeError("amqp-sequence section expects a list", at, c);
}

/** The sections besides the body, as {@link readSectionsInto} fills them in. */
export interface SectionFields {
  header: MessageHeader | undefined;
  deliveryAnnotations: AnnotationsMap | undefined;
  messageAnnotations: AnnotationsMap | undefined;
  properties: MessageProperties | undefined;
  applicationProperties: ApplicationProperties | undefined;
  footer: AnnotationsMap | undefined;
}

/** The sections of a decoded message. A message without body sections has an empty Data body. */
export interface DecodedSections extends SectionFields {
  body: MessageBody;
}

/**
 * Decodes the sections of one message.
 * @throws {DecodeError} on malformed input.
 */
export function readSections(bytes: Uint8Array): DecodedSections {
  const s: SectionFields = {
    header: undefined,
    deliveryAnnotations: undefined,
    messageAnnotations: undefined,
    properties: undefined,
    applicationProperties: undefined,
    footer: undefined,
  };
  const body = readSectionsInto(bytes, s);
  // One literal (no object spread, which V8 makes slow when properties are added).
  return {
    header: s.header,
    deliveryAnnotations: s.deliveryAnnotations,
    messageAnnotations: s.messageAnnotations,
    properties: s.properties,
    applicationProperties: s.applicationProperties,
    body,
    footer: s.footer,
  };
}

/**
 * Decodes the sections of one message, `bytes[start, end)`: every section but the body is stored
 * into `target` (each of its fields is set, to undefined when the section is absent), the body is
 * returned. On a throw, `target` may hold some of the sections.
 * @throws {DecodeError} on malformed input (its offset counted from the start of `bytes`).
 */
export function readSectionsInto(
  bytes: Uint8Array,
  target: SectionFields,
  start = 0,
  end = bytes.length,
): MessageBody {
  if (!(bytes instanceof Buffer)) return readWith(new Decoder(bytes, start, end), target);
  // Nothing called while decoding can decode again, so one decoder serves every message; it lets
  // go of the bytes afterwards (they may be a large message).
  const d = SHARED_DECODER;
  d.reset(bytes, start, end);
  try {
    return readWith(d, target);
  } finally {
    d.reset(NO_BYTES, 0, 0);
  }
}

const NO_BYTES = Buffer.alloc(0);
const SHARED_DECODER = new Decoder(NO_BYTES);

function readWith(d: Decoder, target: SectionFields): MessageBody {
  let header: MessageHeader | undefined;
  let deliveryAnnotations: AnnotationsMap | undefined;
  let messageAnnotations: AnnotationsMap | undefined;
  let properties: MessageProperties | undefined;
  let applicationProperties: ApplicationProperties | undefined;
  let footer: AnnotationsMap | undefined;
  let rank = 0;
  let bodyCode = 0;
  let sections: (Uint8Array | AMQPValue[])[] | undefined;
  let value: AMQPValue = null;
  while (d.pos < d.end) {
    const at = d.pos;
    const code = readSectionCode(d);
    const r = rankOf(code);
    if (r < rank) throw new DecodeError(`${nameOf(code)} section out of order`, at);
    if (r === rank) {
      if (r !== 6) throw new DecodeError(`repeated ${nameOf(code)} section`, at);
      if (code !== bodyCode) {
        throw new DecodeError(`${nameOf(code)} section after ${nameOf(bodyCode)} (mixed body kinds)`, at);
      }
      if (code === Section.AmqpValue) throw new DecodeError("more than one amqp-value section", at);
    }
    rank = r;
    switch (code) {
      case Section.Header:
        header = readHeader(d);
        break;
      case Section.DeliveryAnnotations:
        deliveryAnnotations = readKeyedMap(d, true, "delivery-annotations");
        break;
      case Section.MessageAnnotations:
        messageAnnotations = readKeyedMap(d, true, "message-annotations");
        break;
      case Section.Properties:
        properties = readProperties(d);
        break;
      case Section.ApplicationProperties:
        applicationProperties = readKeyedMap(d, false, "application-properties");
        break;
      case Section.Data:
        bodyCode = code;
        if (sections === undefined) sections = [readData(d)];
        else sections.push(readData(d));
        break;
      case Section.AmqpSequence:
        bodyCode = code;
        if (sections === undefined) sections = [readSequence(d)];
        else sections.push(readSequence(d));
        break;
      case Section.AmqpValue:
        bodyCode = code;
        value = d.value();
        break;
      default:
        footer = readKeyedMap(d, true, "footer");
    }
  }
  target.header = header;
  target.deliveryAnnotations = deliveryAnnotations;
  target.messageAnnotations = messageAnnotations;
  target.properties = properties;
  target.applicationProperties = applicationProperties;
  target.footer = footer;
  if (bodyCode === Section.AmqpValue) return { type: "value", value };
  if (bodyCode === Section.AmqpSequence) return { type: "sequence", sections: sections as AMQPValue[][] };
  return { type: "data", sections: (sections ?? []) as Uint8Array[] };
}
