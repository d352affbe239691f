/**
 * Section-level editing of encoded messages for the Service Bus emulation: what the broker stamps on
 * a delivery (header delivery-count, message annotations, a message-id when the sender set none) and
 * the permanent edits of a settlement (application properties of a dead-letter reason or of the
 * properties an abandon or defer modifies). Only the sections that change are re-encoded; every
 * other byte passes through.
 */
import { readDescriptorKey } from "../../codec/composite.js";
import { Decoder } from "../../codec/decoder.js";
import { HeaderSection, PropertiesSection, SectionCode } from "../../codec/definitions/messaging.js";
import { encodeValue } from "../../codec/encoder.js";
import { AMQPDescribed, AMQPSymbol, AMQPuLong, type AMQPValue } from "../../codec/values.js";
import { ByteWriter } from "../../util/byte-writer.js";
import { skipValue, type HeaderFields, type PropertiesFields } from "../message-scan.js";

/** One section of an encoded message: its code and its byte range. */
interface Section {
  readonly code: number;
  readonly start: number;
  readonly end: number;
}

/** The sections of a standard message, in order; undefined if the bytes are not a section sequence. */
function sections(payload: Buffer): Section[] | undefined {
  const out: Section[] = [];
  let pos = 0;
  try {
    while (pos < payload.length) {
      if (payload[pos] !== 0x00) return undefined;
      const d = new Decoder(payload, pos + 1, payload.length);
      const key = readDescriptorKey(d);
      const code = typeof key === "number" ? key : typeof key === "string" ? symbolicCode(key) : undefined;
      if (code === undefined || code < SectionCode.Header || code > SectionCode.Footer) return undefined;
      const end = skipValue(payload, d.pos, payload.length);
      out.push({ code, start: pos, end });
      pos = end;
    }
  } catch {
    return undefined;
  }
  return out;
}

const SYMBOLIC: Readonly<Record<string, number>> = {
  "amqp:header:list": SectionCode.Header,
  "amqp:delivery-annotations:map": SectionCode.DeliveryAnnotations,
  "amqp:message-annotations:map": SectionCode.MessageAnnotations,
  "amqp:properties:list": SectionCode.Properties,
  "amqp:application-properties:map": SectionCode.ApplicationProperties,
  "amqp:data:binary": SectionCode.Data,
  "amqp:amqp-sequence:list": SectionCode.AmqpSequence,
  "amqp:amqp-value:*": SectionCode.AmqpValue,
  "amqp:footer:map": SectionCode.Footer,
};

function symbolicCode(name: string): number | undefined {
  return SYMBOLIC[name];
}

function readMap(payload: Buffer, s: Section | undefined): Map<AMQPValue, AMQPValue> {
  if (!s) return new Map();
  try {
    const v = new Decoder(payload, s.start, s.end).value();
    const inner = v instanceof AMQPDescribed ? v.value : undefined;
    if (inner instanceof Map) return new Map(inner as Map<AMQPValue, AMQPValue>);
  } catch {
    // A malformed map is replaced.
  }
  return new Map();
}

/** The text of a map key (string or symbol). */
function keyText(k: AMQPValue): string | undefined {
  if (typeof k === "string") return k;
  if (k instanceof AMQPSymbol) return k.value;
  return undefined;
}

/** Sets `key` in a map whose keys may be strings or symbols, replacing an entry of either type. */
function setKey(map: Map<AMQPValue, AMQPValue>, key: string, value: AMQPValue, symbolKey: boolean): void {
  for (const k of map.keys()) {
    if (keyText(k) === key) map.delete(k);
  }
  map.set(symbolKey ? new AMQPSymbol(key) : key, value);
}

/** What a delivery carries besides the stored message. */
export interface Stamp {
  /** The header's delivery-count. */
  readonly deliveryCount: number;
  /** Message annotations set over the message's own (symbol keys). */
  readonly annotations: ReadonlyMap<string, AMQPValue>;
  /** The message-id to set when the message has none. */
  readonly messageId?: string;
}

/** Changes kept in a message (a settlement's dead-letter reason or modified properties). */
export interface Edit {
  /** Message annotations to set (symbol keys). */
  readonly annotations?: ReadonlyMap<string, AMQPValue>;
  /** Application properties to set (string keys). */
  readonly applicationProperties?: ReadonlyMap<string, AMQPValue>;
}

const writer = new ByteWriter(512);

/**
 * Re-encodes the sections a stamp or an edit changes (header, message annotations, properties,
 * application properties), in section order, keeping every other byte. Non-standard messages
 * (no valid section sequence) are returned unchanged.
 */
function rewrite(
  payload: Buffer,
  change: {
    header?: (h: HeaderFields) => HeaderFields;
    annotations?: ReadonlyMap<string, AMQPValue>;
    properties?: (p: PropertiesFields | undefined) => PropertiesFields | undefined;
    applicationProperties?: ReadonlyMap<string, AMQPValue>;
  },
): Buffer {
  const list = sections(payload);
  if (!list) return payload;
  const find = (code: number): Section | undefined => list.find((s) => s.code === code);
  const w = writer;
  w.reset();
  const copy = (s: Section | undefined): void => {
    if (s) w.bytes(payload.subarray(s.start, s.end));
  };
  // header
  const header = find(SectionCode.Header);
  if (change.header) {
    let h: HeaderFields = {};
    if (header) {
      try {
        h = HeaderSection.decode(new Decoder(payload, header.start, header.end));
      } catch {
        h = {};
      }
    }
    HeaderSection.encode(w, change.header(h));
  } else copy(header);
  copy(find(SectionCode.DeliveryAnnotations));
  // message annotations
  const ma = find(SectionCode.MessageAnnotations);
  if (change.annotations && change.annotations.size > 0) {
    const map = readMap(payload, ma);
    for (const [k, v] of change.annotations) setKey(map, k, v, true);
    encodeValue(w, new AMQPDescribed(new AMQPuLong(SectionCode.MessageAnnotations), map));
  } else copy(ma);
  // properties
  const props = find(SectionCode.Properties);
  if (change.properties) {
    let p: PropertiesFields | undefined;
    if (props) {
      try {
        p = PropertiesSection.decode(new Decoder(payload, props.start, props.end));
      } catch {
        p = undefined;
      }
    }
    const next = change.properties(p);
    if (next) PropertiesSection.encode(w, next);
    else copy(props);
  } else copy(props);
  // application properties
  const app = find(SectionCode.ApplicationProperties);
  if (change.applicationProperties && change.applicationProperties.size > 0) {
    const map = readMap(payload, app);
    for (const [k, v] of change.applicationProperties) setKey(map, k, v, false);
    encodeValue(w, new AMQPDescribed(new AMQPuLong(SectionCode.ApplicationProperties), map));
  } else copy(app);
  // body and footer, as they were
  for (const s of list) if (s.code > SectionCode.ApplicationProperties) copy(s);
  return w.toBuffer();
}

/** The message as delivered to a Service Bus client: `stamp` applied (see {@link Stamp}). */
export function stampMessage(payload: Buffer, stamp: Stamp): Buffer {
  const messageId = stamp.messageId;
  return rewrite(payload, {
    header: (h) => ({ ...h, deliveryCount: stamp.deliveryCount >>> 0 }),
    annotations: stamp.annotations,
    ...(messageId !== undefined
      ? {
          properties: (p: PropertiesFields | undefined): PropertiesFields | undefined =>
            p?.messageId !== undefined && p.messageId !== null ? undefined : { ...(p ?? {}), messageId },
        }
      : {}),
  });
}

/** The message with `edit` applied (kept from then on). */
export function editMessage(payload: Buffer, edit: Edit): Buffer {
  return rewrite(payload, {
    ...(edit.annotations ? { annotations: edit.annotations } : {}),
    ...(edit.applicationProperties ? { applicationProperties: edit.applicationProperties } : {}),
  });
}

/** What the emulation reads from a stored message: session id, message-id, and one annotation. */
export interface MessageFacts {
  /** The properties' group-id (the Service Bus session id), if a string. */
  readonly groupId: string | undefined;
  /** Whether the properties carry a message-id. */
  readonly hasMessageId: boolean;
  /** `x-opt-scheduled-enqueue-time`, in ms since the epoch. */
  readonly scheduledEnqueueTime: number | undefined;
}

/** Reads {@link MessageFacts} from an encoded message (nothing for non-standard ones). */
export function readFacts(payload: Buffer): MessageFacts {
  const list = sections(payload);
  if (!list) return { groupId: undefined, hasMessageId: true, scheduledEnqueueTime: undefined };
  let groupId: string | undefined;
  let hasMessageId = false;
  let scheduled: number | undefined;
  const props = list.find((s) => s.code === SectionCode.Properties);
  if (props) {
    try {
      const p = PropertiesSection.decode(new Decoder(payload, props.start, props.end));
      if (typeof p.groupId === "string") groupId = p.groupId;
      hasMessageId = p.messageId !== undefined && p.messageId !== null;
    } catch {
      // Unreadable properties: no session, and no message-id to add either.
      hasMessageId = true;
    }
  }
  const ma = list.find((s) => s.code === SectionCode.MessageAnnotations);
  if (ma) {
    for (const [k, v] of readMap(payload, ma)) {
      if (keyText(k) === "x-opt-scheduled-enqueue-time" && v instanceof Date) scheduled = v.getTime();
    }
  }
  return { groupId, hasMessageId, scheduledEnqueueTime: scheduled };
}
