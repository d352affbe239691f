/**
 * The header section (`amqp:header:list`): transport headers of a message.
 */
import type { Decoder } from "../codec/decoder.js";
import { HeaderSection } from "../codec/definitions/messaging.js";
import { EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";

/**
 * The message header (uamqp's `MessageHeader`). Every field is optional.
 *
 * When a header is present, `deliveryCount` is always encoded (0 when unset), as uamqp does; a decoded
 * header always has `deliveryCount` (the AMQP default 0 when the peer left it out).
 *
 * @example
 * ```ts
 * new Message({ body: "hi", header: { durable: true, ttl: 60_000 } });
 * ```
 */
export interface MessageHeader {
  /** Whether intermediaries must store the message durably (AMQP `durable`). */
  durable?: boolean | undefined;
  /** Relative priority 0–255 (AMQP `priority`, default 4). */
  priority?: number | undefined;
  /** Time to live in milliseconds (AMQP `ttl`, a uint). */
  ttl?: number | undefined;
  /**
   * A second name of `ttl` (milliseconds), accepted when encoding; a decoded header has `ttl`.
   * Giving both with different values is an `EncodeError`.
   */
  ttlMs?: number | undefined;
  /** Whether this is the first acquirer of the message (AMQP `first-acquirer`). */
  firstAcquirer?: boolean | undefined;
  /** Number of prior unsuccessful delivery attempts (AMQP `delivery-count`, default 0). */
  deliveryCount?: number | undefined;
}

function checkBool(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== "boolean") throw new EncodeError(`header.${name} must be a boolean`);
}

function checkUint(name: string, v: unknown, max: number): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new EncodeError(
      `header.${name} must be an integer in [0, ${max}], got ${typeof v === "number" ? v : typeof v}`,
    );
  }
}

/** `h` with `ttlMs` moved to `ttl`. */
function withTtlMs(h: MessageHeader): MessageHeader {
  if (h.ttl !== undefined && h.ttl !== h.ttlMs) {
    throw new EncodeError(`header.ttl (${h.ttl}) and header.ttlMs (${String(h.ttlMs)}) disagree: give one`);
  }
  const { ttlMs, ...rest } = h;
  return { ...rest, ttl: ttlMs };
}

/** Writes the header section (descriptor included). */
export function writeHeader(w: ByteWriter, h: MessageHeader): void {
  if (h.ttlMs !== undefined) h = withTtlMs(h);
  checkBool("durable", h.durable);
  checkUint("priority", h.priority, 0xff);
  checkUint("ttl", h.ttl, 0xffffffff);
  checkBool("firstAcquirer", h.firstAcquirer);
  checkUint("deliveryCount", h.deliveryCount, 0xffffffff);
  if (h.deliveryCount !== undefined) return HeaderSection.encode(w, h);
  // A literal, not an object spread: V8 makes `{ ...h, k: v }` cost microseconds.
  HeaderSection.encode(w, {
    durable: h.durable,
    priority: h.priority,
    ttl: h.ttl,
    firstAcquirer: h.firstAcquirer,
    deliveryCount: 0,
  });
}

/** Reads the header list after its descriptor. */
export function readHeader(d: Decoder): MessageHeader {
  const h: MessageHeader = HeaderSection.decodeBody(d);
  h.deliveryCount ??= 0;
  return h;
}
