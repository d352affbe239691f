/**
 * The properties section (`amqp:properties:list`): immutable properties of a message.
 */
import type { Decoder } from "../codec/decoder.js";
import { PropertiesSection } from "../codec/definitions/messaging.js";
import { FormatCode as F } from "../codec/format-codes.js";
import {
  AMQPInt,
  AMQPLong,
  AMQPSymbol,
  AMQPTimestamp,
  AMQPType,
  AMQPuLong,
  type AMQPUuid,
  type AMQPValue,
} from "../codec/values.js";
import { DecodeError, EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import { asBuffer } from "../util/buffer-view.js";

/**
 * A `message-id` or `correlation-id`. AMQP allows four types; the JS forms map to them as follows:
 *
 * | JS value | AMQP type |
 * | --- | --- |
 * | `string` | string |
 * | `Uint8Array` | binary |
 * | `AMQPUuid` | uuid |
 * | `number` (non-negative safe integer), `bigint`, `AMQPuLong` | ulong |
 *
 * A plain integer is encoded as **ulong** (not int as elsewhere), because ulong is the only integer type
 * a message id may have. Decoded ulong ids are `bigint`. Any other explicit `AMQPType` wrapper is encoded
 * as given, for peers that use non-standard id types (Python uamqp sends int ids, which decode as
 * `AMQPInt` so that they are re-encoded unchanged).
 */
export type MessageId = string | number | bigint | Uint8Array | AMQPUuid | AMQPuLong | AMQPType;

/**
 * The properties of a message (uamqp's `MessageProperties`), with JS types. Every field is optional.
 *
 * @example
 * ```ts
 * const properties: MessageProperties = { messageId: 42, subject: "greeting", creationTime: new Date() };
 * ```
 */
export interface MessageProperties {
  /** Application message identifier (see {@link MessageId}). */
  messageId?: MessageId | undefined;
  /** Identity of the user responsible for producing the message (AMQP binary). */
  userId?: Uint8Array | undefined;
  /** The address of the node the message is destined for. */
  to?: string | undefined;
  /** A summary of the message content. */
  subject?: string | undefined;
  /** The node to send replies to. */
  replyTo?: string | undefined;
  /** Application correlation identifier (see {@link MessageId}). */
  correlationId?: MessageId | undefined;
  /** MIME content type (AMQP symbol). */
  contentType?: string | undefined;
  /** MIME content encoding (AMQP symbol). */
  contentEncoding?: string | undefined;
  /** When the message expires (AMQP timestamp). */
  absoluteExpiryTime?: Date | undefined;
  /** When the message was created (AMQP timestamp). */
  creationTime?: Date | undefined;
  /** The group the message belongs to. */
  groupId?: string | undefined;
  /** The relative position of the message within its group (uint). */
  groupSequence?: number | undefined;
  /** The group the reply message belongs to. */
  replyToGroupId?: string | undefined;
}

const KEYS = PropertiesSection.fields.map((f) => f.key) as (keyof MessageProperties)[];
/** True if no field of `p` is set. (Each field by its name: a loop over the names is a megamorphic load.) */
export function propertiesEmpty(p: MessageProperties): boolean {
  return (
    p.messageId === undefined &&
    p.userId === undefined &&
    p.to === undefined &&
    p.subject === undefined &&
    p.replyTo === undefined &&
    p.correlationId === undefined &&
    p.contentType === undefined &&
    p.contentEncoding === undefined &&
    p.absoluteExpiryTime === undefined &&
    p.creationTime === undefined &&
    p.groupId === undefined &&
    p.groupSequence === undefined &&
    p.replyToGroupId === undefined
  );
}

function checkText(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== "string") throw new EncodeError(`properties.${name} must be a string`);
}

function encodeId(name: string, v: MessageId | undefined): AMQPValue | undefined {
  switch (typeof v) {
    case "undefined":
    case "string":
      return v;
    case "number":
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new EncodeError(`properties.${name}: a number id must be a non-negative safe integer (ulong)`);
      }
      return new AMQPuLong(v);
    case "bigint":
      return new AMQPuLong(v);
    default:
      if (v instanceof Uint8Array || v instanceof AMQPType) return v;
      throw new EncodeError(`properties.${name} must be a string, number, bigint, Uint8Array or AMQPType`);
  }
}

function checkDate(name: string, v: unknown): void {
  if (v !== undefined && !(v instanceof Date && !Number.isNaN(v.getTime()))) {
    throw new EncodeError(`properties.${name} must be a valid Date`);
  }
}

/** Writes the properties section (descriptor included). */
export function writeProperties(w: ByteWriter, p: MessageProperties): void {
  checkText("to", p.to);
  checkText("subject", p.subject);
  checkText("replyTo", p.replyTo);
  checkText("contentType", p.contentType);
  checkText("contentEncoding", p.contentEncoding);
  checkText("groupId", p.groupId);
  checkText("replyToGroupId", p.replyToGroupId);
  if (p.userId !== undefined && !(p.userId instanceof Uint8Array)) {
    throw new EncodeError("properties.userId must be a Uint8Array");
  }
  checkDate("absoluteExpiryTime", p.absoluteExpiryTime);
  checkDate("creationTime", p.creationTime);
  const gs = p.groupSequence;
  if (gs !== undefined && !(Number.isInteger(gs) && gs >= 0 && gs <= 0xffffffff)) {
    throw new EncodeError("properties.groupSequence must be a uint");
  }
  const id = p.messageId;
  const cid = p.correlationId;
  const convert =
    typeof id === "number" || typeof id === "bigint" || typeof cid === "number" || typeof cid === "bigint";
  if (!convert) {
    if (id !== undefined) encodeId("messageId", id);
    if (cid !== undefined) encodeId("correlationId", cid);
    PropertiesSection.encode(w, p);
    return;
  }
  PropertiesSection.encode(w, {
    messageId: encodeId("messageId", id),
    userId: p.userId,
    to: p.to,
    subject: p.subject,
    replyTo: p.replyTo,
    correlationId: encodeId("correlationId", cid),
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    absoluteExpiryTime: p.absoluteExpiryTime,
    creationTime: p.creationTime,
    groupId: p.groupId,
    groupSequence: p.groupSequence,
    replyToGroupId: p.replyToGroupId,
  });
}

// ---- decoding ----------------------------------------------------------------------------------

function fail(key: string, d: Decoder, at: number): never {
  throw new DecodeError(`properties.${key} has a type not allowed here`, at, d.buf[at]);
}

/** A decoded id in its {@link MessageId} form; other AMQP types are kept as explicit wrappers. */
function toId(v: AMQPValue, key: string, d: Decoder, at: number): MessageId | undefined {
  if (v === null) return undefined;
  if (typeof v === "string" || v instanceof Uint8Array) return v;
  if (v instanceof AMQPuLong) return v.value;
  if (v instanceof AMQPType) return v;
  if (typeof v === "number") return new AMQPInt(v);
  if (typeof v === "bigint") return new AMQPLong(v);
  if (v instanceof Date) return new AMQPTimestamp(v);
  return fail(key, d, at);
}

function toText(v: AMQPValue, key: string, d: Decoder, at: number): string | undefined {
  if (v === null) return undefined;
  if (typeof v === "string") return v;
  if (v instanceof AMQPSymbol) return v.value;
  if (v instanceof Uint8Array) return asBuffer(v).toString("utf8");
  return fail(key, d, at);
}

function toNumber(v: AMQPValue): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof AMQPType && (typeof v.value === "number" || typeof v.value === "bigint"))
    return Number(v.value);
  return undefined;
}

function toDate(v: AMQPValue, key: string, d: Decoder, at: number): Date | undefined {
  if (v === null) return undefined;
  if (v instanceof Date) return v;
  const n = toNumber(v);
  if (n === undefined || !Number.isFinite(n)) return fail(key, d, at);
  return new Date(n);
}

/**
 * Lenient decoding for peers that put other AMQP types in the properties list: Python uamqp, for
 * instance, sends `content-type` as a string and timestamps as long. Fields are read as generic
 * values and converted to the JS form of each field.
 */
function readLenient(d: Decoder): MessageProperties {
  const at = d.pos;
  const code = d.u8();
  if (code === F.List0) return {};
  if (code !== F.List8 && code !== F.List32)
    throw new DecodeError("properties section expects a list", at, code);
  const listAt = d.pos;
  const items = d.list(code);
  const p: MessageProperties = {};
  const n = Math.min(items.length, KEYS.length);
  for (let i = 0; i < n; i++) {
    const v = items[i];
    if (v === undefined || v === null) continue;
    const key = KEYS[i]!;
    switch (key) {
      case "messageId":
      case "correlationId":
        p[key] = toId(v, key, d, listAt);
        break;
      case "userId":
        if (v instanceof Uint8Array) p.userId = v;
        else if (typeof v === "string") p.userId = Buffer.from(v, "utf8");
        else fail(key, d, listAt);
        break;
      case "absoluteExpiryTime":
      case "creationTime":
        p[key] = toDate(v, key, d, listAt);
        break;
      case "groupSequence": {
        const gs = toNumber(v);
        if (gs === undefined) fail(key, d, listAt);
        p.groupSequence = gs;
        break;
      }
      default:
        p[key] = toText(v, key, d, listAt);
    }
  }
  return p;
}

/** Reads the properties list after its descriptor. */
export function readProperties(d: Decoder): MessageProperties {
  const start = d.pos;
  const end = d.end;
  const depth = d.depth;
  let raw: ReturnType<typeof PropertiesSection.decodeBody>;
  try {
    raw = PropertiesSection.decodeBody(d);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    d.pos = start;
    d.end = end;
    d.depth = depth;
    return readLenient(d);
  }
  const p = raw as MessageProperties;
  if (raw.messageId !== undefined) p.messageId = toId(raw.messageId, "messageId", d, start);
  if (raw.correlationId !== undefined) p.correlationId = toId(raw.correlationId, "correlationId", d, start);
  if (raw.to !== undefined) p.to = toText(raw.to, "to", d, start);
  if (raw.replyTo !== undefined) p.replyTo = toText(raw.replyTo, "replyTo", d, start);
  return p;
}
