/**
 * The 8-byte protocol header that opens each protocol layer: "AMQP", a protocol id, and version 1.0.0.
 * Protocol ids: 0 = AMQP, 2 = TLS, 3 = SASL.
 */
export const ProtocolId = {
  Amqp: 0,
  Tls: 2,
  Sasl: 3,
} as const;
export type ProtocolId = (typeof ProtocolId)[keyof typeof ProtocolId];

/** A decoded protocol header. */
export interface ProtocolHeader {
  readonly id: number;
  readonly major: number;
  readonly minor: number;
  readonly revision: number;
}

const HEADERS: Record<number, Buffer> = {};

/** The header bytes for a protocol id (version 1.0.0). */
export function protocolHeader(id: ProtocolId): Buffer {
  let h = HEADERS[id];
  if (!h) {
    h = Buffer.from([0x41, 0x4d, 0x51, 0x50, id, 1, 0, 0]);
    HEADERS[id] = h;
  }
  return h;
}

/** Parses 8 bytes at `offset`; returns undefined if they do not start with "AMQP". */
export function parseProtocolHeader(buf: Uint8Array, offset = 0): ProtocolHeader | undefined {
  if (
    buf[offset] !== 0x41 ||
    buf[offset + 1] !== 0x4d ||
    buf[offset + 2] !== 0x51 ||
    buf[offset + 3] !== 0x50
  ) {
    return undefined;
  }
  return {
    id: buf[offset + 4]!,
    major: buf[offset + 5]!,
    minor: buf[offset + 6]!,
    revision: buf[offset + 7]!,
  };
}

/** True if the header is AMQP 1.0.0 with the given protocol id. */
export function isVersion10(h: ProtocolHeader, id: ProtocolId): boolean {
  return h.id === id && h.major === 1 && h.minor === 0 && h.revision === 0;
}
