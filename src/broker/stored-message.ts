/**
 * A message held by a queue: its encoded bytes (passed through untouched except for the header's
 * delivery-count), its message format, and what the broker read from its header. This module is the
 * record's only writer: the queues and the Service Bus layer change it through the functions below.
 */
import { MESSAGE_OVERHEAD_BYTES } from "./byte-budget.js";
import {
  readAbsoluteExpiry,
  readHeader,
  scanSections,
  startsWithBody,
  withDeliveryCount,
} from "./message-scan.js";

/** A message in a queue. */
export interface StoredMessage {
  /** The encoded message, exactly as received (or with a rewritten header or properties). */
  readonly payload: Buffer;
  /** The transfer's message-format (0 = standard AMQP message). */
  readonly messageFormat: number;
  /** Header delivery-count: failed delivery attempts so far. */
  readonly deliveryCount: number;
  /** When the message expires (ms since the epoch); `Infinity` when it does not (dead letters never do). */
  readonly expiresAt: number;
  /** Arrival order in its queue (redelivered messages go back in this order); 0 until enqueued. */
  readonly seq: number;
  /** When the broker received (or, scheduled, enqueued) the message (ms since the epoch). */
  readonly enqueuedAt: number;
  /**
   * What the message counts against the byte limits: its encoded size when it arrived plus
   * `MESSAGE_OVERHEAD_BYTES` (fixed, so that what is added when it is stored is what is taken off
   * when it goes, whatever rewrites its header in between).
   */
  readonly byteCount: number;
}

/** Payloads up to this size are copied into a shared slab (as Node.js pools small buffers). */
const SMALL_PAYLOAD_BYTES = 1024;
/** The size of a slab. */
const SLAB_BYTES = 8 * 1024;

let slab = new ArrayBuffer(SLAB_BYTES);
let slabBytes = new Uint8Array(slab);
let slabUsed = 0;

/**
 * Copies a payload that is a small view of a much larger buffer (a socket chunk), so a stored
 * message does not keep the whole chunk alive. A small payload is always copied, into the current
 * slab: that costs less than finding out whether it must be (`Buffer.from` of a small payload
 * would copy it into Node.js's pool all the same).
 */
function compact(payload: Buffer): Buffer {
  const n = payload.length;
  if (n > SMALL_PAYLOAD_BYTES) {
    return payload.buffer.byteLength > n * 2 + 1024 ? Buffer.from(payload) : payload;
  }
  if (slabUsed + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabBytes = new Uint8Array(slab);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabBytes.set(payload, at);
  slabUsed = at + n;
  return Buffer.from(slab, at, n);
}

/** Builds the stored form of a received message; `now` is the arrival time (ms). */
export function storeMessage(payload: Buffer, messageFormat: number, now: number): StoredMessage {
  const bytes = compact(payload);
  let deliveryCount = 0;
  let expiresAt = Infinity;
  if (messageFormat === 0 && !startsWithBody(bytes)) {
    const map = scanSections(bytes, false);
    if (map) {
      const header = readHeader(bytes, map);
      if (header) {
        deliveryCount = header.deliveryCount ?? 0;
        if (header.ttl !== undefined && header.ttl > 0) expiresAt = now + header.ttl;
      }
      const abs = readAbsoluteExpiry(bytes, map);
      if (abs !== undefined && abs > 0) expiresAt = Math.min(expiresAt, abs);
    }
  }
  return {
    payload: bytes,
    messageFormat,
    deliveryCount,
    expiresAt,
    seq: 0,
    enqueuedAt: now,
    byteCount: bytes.length + MESSAGE_OVERHEAD_BYTES,
  };
}

/** The record as this module writes it. */
type Writable = { -readonly [K in keyof StoredMessage]: StoredMessage[K] };

/** Adds one to the delivery-count, rewriting the header section of a standard message. */
export function incrementDeliveryCount(m: StoredMessage): void {
  const w = m as Writable;
  w.deliveryCount++;
  if (m.messageFormat !== 0) return;
  const map = scanSections(m.payload);
  if (map) w.payload = withDeliveryCount(m.payload, map, m.deliveryCount);
}

/**
 * Gives `m` its place in a queue: `seq`, or 0 to take it back (a message moving to another queue
 * gets a new one there).
 */
export function setSequenceNumber(m: StoredMessage, seq: number): void {
  (m as Writable).seq = seq;
}

/** Sets when `m` expires (ms since the epoch; `Infinity`: never). */
export function setExpiry(m: StoredMessage, at: number): void {
  (m as Writable).expiresAt = at;
}

/** Sets when `m` was enqueued (a scheduled message, once due). */
export function setEnqueuedAt(m: StoredMessage, at: number): void {
  (m as Writable).enqueuedAt = at;
}

/**
 * Replaces the encoded message (properties edited). What it counts against the byte limits stays
 * (see `byteCount`).
 */
export function replacePayload(m: StoredMessage, payload: Buffer): void {
  (m as Writable).payload = payload;
}

/** A copy of `m` for another queue (a topic's subscription): the same bytes, no sequence number yet. */
export function copyForQueue(m: StoredMessage): StoredMessage {
  return { ...m, seq: 0 };
}
