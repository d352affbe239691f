/**
 * Events as a partition stores and delivers them: the producer's message with the broker's
 * message annotations (`x-opt-sequence-number` as a long, `x-opt-offset` as a string,
 * `x-opt-enqueued-time` as a timestamp) merged into its own (`x-opt-partition-key` and the rest are
 * kept byte for byte), its delivery annotations dropped (they were meant for the hop to the
 * broker), every other section passed through untouched. For a receiver that asked for the runtime
 * metric, each delivery gets delivery annotations describing the last event of the partition.
 *
 * Only the message-annotations map is looked into, entry by entry, without decoding the rest.
 */
import { readDescriptorKey } from "../../codec/composite.js";
import { beginCompound, endCompound } from "../../codec/compound-writer.js";
import { Decoder } from "../../codec/decoder.js";
import { SectionCode } from "../../codec/definitions/messaging.js";
import { FormatCode as F } from "../../codec/format-codes.js";
import { writeLong, writeString, writeSymbol, writeTimestamp } from "../../codec/scalar-writers.js";
import { DecodeError } from "../../errors/decode-error.js";
import { ByteWriter } from "../../util/byte-writer.js";
import { skipValue } from "../message-scan.js";

/** Message annotations the broker sets on every event. */
export const SEQUENCE_NUMBER = "x-opt-sequence-number";
export const OFFSET = "x-opt-offset";
export const ENQUEUED_TIME = "x-opt-enqueued-time";
/** The producer's partition key (kept as sent). */
export const PARTITION_KEY = "x-opt-partition-key";

const BROKER_ANNOTATIONS: ReadonlySet<string> = new Set([SEQUENCE_NUMBER, OFFSET, ENQUEUED_TIME]);

/** Section descriptors given by name instead of code (the ones this module tells apart). */
const SYMBOLIC: ReadonlyMap<string, number> = new Map([
  ["amqp:header:list", SectionCode.Header],
  ["amqp:delivery-annotations:map", SectionCode.DeliveryAnnotations],
  ["amqp:message-annotations:map", SectionCode.MessageAnnotations],
]);

/** An event as received, split around its message annotations. */
export interface IncomingEvent {
  /** The header section, as received. */
  readonly header: Buffer | undefined;
  /** The producer's message annotations other than the broker's: each entry's key and value bytes. */
  readonly annotations: readonly Buffer[];
  /** Every other section (properties, application properties, body, footer), in order. */
  readonly rest: readonly Buffer[];
  /** The `x-opt-partition-key` annotation, when it is a string or a symbol. */
  readonly partitionKey: string | undefined;
}

/** An event kept by a partition. */
export interface StoredEvent {
  readonly sequenceNumber: number;
  /** Bytes of the partition's events before this one. */
  readonly offset: number;
  /** When the broker enqueued it (ms since the epoch). */
  readonly enqueuedTime: number;
  /** The message as delivered. */
  readonly payload: Buffer;
  /** Where delivery annotations go in `payload` (just after the header section, if any). */
  readonly deliveryAnnotationsAt: number;
}

/** The last event of a partition, as the runtime metric reports it. */
export interface LastEnqueued {
  readonly sequenceNumber: number;
  readonly offset: number;
  readonly enqueuedTime: number;
}

/** The code of the section whose descriptor starts at `d.pos` (after the 0x00), or -1 when not one of ours. */
function sectionCode(d: Decoder): number {
  const key = readDescriptorKey(d);
  if (typeof key === "number") return key;
  if (typeof key === "string") return SYMBOLIC.get(key) ?? -1;
  return -1;
}

/** The text of a string or symbol at `pos` (undefined for any other value). */
function textAt(buf: Buffer, pos: number, end: number): string | undefined {
  const code = buf[pos];
  if (code === F.Str8 || code === F.Sym8) {
    const n = buf[pos + 1]!;
    if (pos + 2 + n > end) throw new DecodeError("truncated string", pos, code);
    return buf.toString("utf8", pos + 2, pos + 2 + n);
  }
  if (code === F.Str32 || code === F.Sym32) {
    if (pos + 5 > end) throw new DecodeError("truncated string", pos, code);
    const n = buf.readUInt32BE(pos + 1);
    if (pos + 5 + n > end) throw new DecodeError("truncated string", pos, code);
    return buf.toString("utf8", pos + 5, pos + 5 + n);
  }
  return undefined;
}

/** Reads the entries of the message-annotations map whose value starts at `pos`. */
function readAnnotations(
  buf: Buffer,
  pos: number,
  end: number,
): { entries: Buffer[]; partitionKey: string | undefined } {
  const code = buf[pos];
  let count: number;
  let at: number;
  if (code === F.Map8) {
    count = buf[pos + 2]!;
    at = pos + 3;
  } else if (code === F.Map32) {
    if (pos + 9 > end) throw new DecodeError("truncated map", pos, code);
    count = buf.readUInt32BE(pos + 5);
    at = pos + 9;
  } else {
    throw new DecodeError("message annotations must be a map", pos, code);
  }
  if (count % 2 !== 0) throw new DecodeError("a map needs an even number of items", pos, code);
  const entries: Buffer[] = [];
  let partitionKey: string | undefined;
  for (let i = 0; i < count; i += 2) {
    const valueAt = skipValue(buf, at, end);
    const next = skipValue(buf, valueAt, end);
    const key = textAt(buf, at, end);
    if (key === PARTITION_KEY) partitionKey = textAt(buf, valueAt, next);
    if (key === undefined || !BROKER_ANNOTATIONS.has(key)) entries.push(buf.subarray(at, next));
    at = next;
  }
  return { entries, partitionKey };
}

/**
 * Splits an encoded message into its sections.
 * @throws {DecodeError} when the bytes are not a sequence of message sections.
 */
export function readEvent(payload: Buffer): IncomingEvent {
  const end = payload.length;
  let header: Buffer | undefined;
  let annotations: Buffer[] = [];
  let partitionKey: string | undefined;
  const rest: Buffer[] = [];
  let pos = 0;
  while (pos < end) {
    if (payload[pos] !== F.Described) throw new DecodeError("expected a message section", pos, payload[pos]);
    const d = new Decoder(payload, pos + 1, end);
    const code = sectionCode(d);
    const valueAt = d.pos;
    const next = skipValue(payload, valueAt, end);
    if (code === SectionCode.Header) {
      header = payload.subarray(pos, next);
    } else if (code === SectionCode.MessageAnnotations) {
      const a = readAnnotations(payload, valueAt, next);
      annotations = a.entries;
      partitionKey = a.partitionKey;
    } else if (code !== SectionCode.DeliveryAnnotations) {
      rest.push(payload.subarray(pos, next));
    }
    pos = next;
  }
  return { header, annotations, rest, partitionKey };
}

const writer = new ByteWriter(256);

/** Writes an annotations section (`code`) holding `entries` (raw key/value bytes) and then `add`. */
function writeAnnotationsSection(
  code: number,
  entries: readonly Buffer[],
  add: (w: ByteWriter) => number,
): Buffer {
  const w = writer;
  w.reset();
  w.u8(F.Described);
  w.u8(F.SmallUlong);
  w.u8(code);
  const at = beginCompound(w);
  for (const e of entries) w.bytes(e);
  const added = add(w);
  endCompound(w, at, entries.length * 2 + added * 2, F.Map8, F.Map32);
  return w.toBuffer();
}

/** The stored form of `event`, numbered `sequenceNumber` at `offset`, enqueued at `enqueuedTime`. */
export function stampEvent(
  event: IncomingEvent,
  sequenceNumber: number,
  offset: number,
  enqueuedTime: number,
): StoredEvent {
  const annotations = writeAnnotationsSection(SectionCode.MessageAnnotations, event.annotations, (w) => {
    writeSymbol(w, SEQUENCE_NUMBER);
    writeLong(w, BigInt(sequenceNumber));
    writeSymbol(w, OFFSET);
    writeString(w, String(offset));
    writeSymbol(w, ENQUEUED_TIME);
    writeTimestamp(w, enqueuedTime);
    return 3;
  });
  const parts = event.header ? [event.header, annotations, ...event.rest] : [annotations, ...event.rest];
  return {
    sequenceNumber,
    offset,
    enqueuedTime,
    payload: Buffer.concat(parts),
    deliveryAnnotationsAt: event.header?.length ?? 0,
  };
}

/**
 * The event with delivery annotations describing the partition's last event
 * (`last_enqueued_sequence_number`, `last_enqueued_offset`, `last_enqueued_time_utc`) and when that
 * was read (`runtime_info_retrieval_time_utc`): what the service sends to a receiver that desired
 * the `com.microsoft:enable-receiver-runtime-metric` capability.
 */
export function withRuntimeMetric(event: StoredEvent, last: LastEnqueued, now: number): Buffer {
  const section = writeAnnotationsSection(SectionCode.DeliveryAnnotations, [], (w) => {
    writeSymbol(w, "last_enqueued_sequence_number");
    writeLong(w, BigInt(last.sequenceNumber));
    writeSymbol(w, "last_enqueued_offset");
    writeString(w, String(last.offset));
    writeSymbol(w, "last_enqueued_time_utc");
    writeTimestamp(w, last.enqueuedTime);
    writeSymbol(w, "runtime_info_retrieval_time_utc");
    writeTimestamp(w, now);
    return 4;
  });
  const at = event.deliveryAnnotationsAt;
  return Buffer.concat([event.payload.subarray(0, at), section, event.payload.subarray(at)]);
}
