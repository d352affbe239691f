/**
 * Which partition an event with a partition key goes to: Bob Jenkins' lookup3 hash ("hashlittle2",
 * both 32-bit results, seeds 0) of the key's UTF-8 bytes, the two results XORed and cut to a signed
 * 16-bit number, its remainder by the partition count without sign. That is the mapping Azure Event
 * Hubs applies, and the one `@azure/event-hubs`'s buffered producer computes on its own, so a key
 * lands on the same partition whether the client or the broker picks it.
 */

/** The partition index (0-based) of `key` among `partitionCount` partitions. */
export function partitionIndexForKey(key: string, partitionCount: number): number {
  const { b, c } = hashLittle2(Buffer.from(key, "utf8"));
  const short = ((b ^ c) << 16) >> 16;
  return Math.abs(short % partitionCount);
}

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A little-endian 32-bit word of `bytes` at `i`, missing bytes (past the end) counting as 0. */
function word(bytes: Uint8Array, i: number, end: number): number {
  let w = 0;
  for (let k = 0; k < 4 && i + k < end; k++) w |= bytes[i + k]! << (8 * k);
  return w | 0;
}

/** lookup3's hashlittle2 with both seeds 0: the primary (`c`) and secondary (`b`) hashes, as int32. */
function hashLittle2(bytes: Uint8Array): { b: number; c: number } {
  let length = bytes.length;
  let a = (0xdeadbeef + length) | 0;
  let b = a;
  let c = a;
  let i = 0;
  while (length > 12) {
    a = (a + word(bytes, i, bytes.length)) | 0;
    b = (b + word(bytes, i + 4, bytes.length)) | 0;
    c = (c + word(bytes, i + 8, bytes.length)) | 0;
    // mix(a, b, c)
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    length -= 12;
    i += 12;
  }
  if (length === 0) return { b, c };
  // The last 1 to 12 bytes, zero-padded to three words.
  const end = i + length;
  a = (a + word(bytes, i, end)) | 0;
  b = (b + word(bytes, i + 4, end)) | 0;
  c = (c + word(bytes, i + 8, end)) | 0;
  // final(a, b, c)
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return { b, c };
}
