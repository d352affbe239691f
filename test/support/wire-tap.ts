/**
 * Records the bytes a transport carries both ways, and splits them into frames whose performatives
 * are decoded as plain AMQP values (lists stay JS arrays), so that a test can check what went on
 * the wire: field counts, nulls, encodings.
 *
 * @example
 * ```ts
 * const tap = tapTransport(await connectTcp({ host, port }));
 * conn.start(tap.transport);
 * // ...
 * for (const f of wireFrames(tap.received)) console.log(f.name, f.fields.length);
 * ```
 */
import { decodeAt } from "../../src/codec/codec.js";
import { AMQPDescribed, AMQPuLong } from "../../src/codec/values.js";
import { PerformativeName } from "../../src/frames/performatives.js";
import type { Transport } from "../../src/transport/transport.js";

/** A transport and what went through it: `sent` by us, `received` from the peer. */
export interface TappedTransport {
  readonly transport: Transport;
  readonly sent: Buffer[];
  readonly received: Buffer[];
}

/** Wraps `inner`: every chunk written and every chunk received is copied into `sent` / `received`. */
export function tapTransport(inner: Transport): TappedTransport {
  const sent: Buffer[] = [];
  const received: Buffer[] = [];
  const transport = new Proxy(inner, {
    get(target, prop) {
      switch (prop) {
        case "setHandler":
          return (handler: Parameters<Transport["setHandler"]>[0]): void => {
            target.setHandler({
              ...handler,
              onData: (chunk) => {
                received.push(Buffer.from(chunk));
                handler.onData(chunk);
              },
            });
          };
        case "write":
          return (chunk: Uint8Array): boolean => {
            sent.push(Buffer.from(chunk));
            return target.write(chunk);
          };
        case "writev":
          return (chunks: readonly Uint8Array[]): boolean => {
            for (const c of chunks) sent.push(Buffer.from(c));
            return target.writev(chunks);
          };
        default: {
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
      }
    },
  });
  return { transport, sent, received };
}

/** One frame of a byte stream, its performative decoded as a plain value. */
export interface WireFrame {
  /** 0 = AMQP, 1 = SASL. */
  readonly type: number;
  readonly channel: number;
  /** The descriptor code (e.g. 0x10 for OPEN). */
  readonly code: number;
  /** `OPEN`, `TRANSFER`, `SASL-OUTCOME`… */
  readonly name: string;
  /** The performative's field list as it was on the wire (trailing nulls included). */
  readonly fields: unknown[];
  /** Bytes after the performative (a transfer's payload). */
  readonly payloadBytes: number;
}

/** Splits a byte stream (protocol headers and frames, as one side sent it) into its frames; heartbeats are skipped. */
export function wireFrames(chunks: readonly Buffer[]): WireFrame[] {
  const bytes = Buffer.concat(chunks);
  const frames: WireFrame[] = [];
  let pos = 0;
  while (pos + 8 <= bytes.length) {
    if (bytes.toString("latin1", pos, pos + 4) === "AMQP") {
      pos += 8;
      continue;
    }
    const size = bytes.readUInt32BE(pos);
    if (pos + size > bytes.length) break; // an incomplete last frame (the transport was cut)
    const bodyAt = pos + bytes[pos + 4]! * 4;
    const type = bytes[pos + 5]!;
    const channel = bytes.readUInt16BE(pos + 6);
    const end = pos + size;
    pos = end;
    if (bodyAt === end) continue;
    const body = bytes.subarray(bodyAt, end);
    const { value, offset } = decodeAt(body);
    if (!(value instanceof AMQPDescribed) || !Array.isArray(value.value)) {
      throw new Error(`frame body at offset ${bodyAt} is not a described list`);
    }
    const code = descriptorCode(value);
    frames.push({
      type,
      channel,
      code,
      name: PerformativeName[code] ?? `0x${code.toString(16)}`,
      fields: value.value as unknown[],
      payloadBytes: body.length - offset,
    });
  }
  return frames;
}

/** The numeric descriptor of a described value, or -1 (symbolic or other descriptors). */
export function descriptorCode(v: AMQPDescribed): number {
  const d = v.descriptor;
  if (d instanceof AMQPuLong) return Number(d.value);
  if (typeof d === "bigint") return Number(d);
  if (typeof d === "number") return d;
  return -1;
}

/** Every described value nested in `v` (depth-first, `v` itself excluded). */
export function nestedDescribed(v: unknown): AMQPDescribed[] {
  const out: AMQPDescribed[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof AMQPDescribed) {
      out.push(x);
      walk(x.value);
    } else if (Array.isArray(x)) {
      for (const item of x) walk(item);
    } else if (x instanceof Map) {
      for (const [k, item] of x) {
        walk(k);
        walk(item);
      }
    }
  };
  walk(v);
  return out;
}
