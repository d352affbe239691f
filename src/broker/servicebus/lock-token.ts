/**
 * Service Bus lock tokens and times. A lock token is a GUID: the delivery tag carries its 16 bytes
 * in .NET order (the first three fields little-endian), and the SDKs render it as the standard GUID
 * text of those bytes reordered; management requests (renew-lock, update-disposition) send the
 * standard (RFC 4122) byte order, and responses (receive-by-sequence-number) answer in it. The two
 * orders differ only by reversing bytes 0–3, 4–5 and 6–7, so the same swap converts either way.
 */
import { randomBytes } from "node:crypto";

/** A new lock token in delivery-tag (.NET) byte order. */
export function newLockToken(): Buffer {
  return randomBytes(16);
}

/** Converts a GUID between .NET and RFC 4122 byte orders (the swap is its own inverse). */
export function swapGuidOrder(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  if (b.length !== 16) return b;
  return Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

/** .NET ticks (100 ns since 0001-01-01) at the Unix epoch. */
const EPOCH_TICKS = 621_355_968_000_000_000n;

/** A time (ms since the Unix epoch) as .NET ticks, as `com.microsoft:locked-until-utc` carries it. */
export function dotNetTicks(ms: number): bigint {
  return EPOCH_TICKS + BigInt(Math.trunc(ms)) * 10_000n;
}
