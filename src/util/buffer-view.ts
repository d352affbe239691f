/**
 * The one helper for "these bytes as a `Buffer`" (its methods: `toString`, `readUInt32BE`…) without
 * copying them: the codec and the public API take any `Uint8Array`.
 */

/** `bytes` as a `Buffer` over the same memory: itself when it is one already. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
