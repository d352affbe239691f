/** Encoded message payloads for engine tests (the engine moves bytes only). */

/** A message of one data section holding `body` (vbin8 or vbin32). */
export function dataMessage(body: Buffer): Buffer {
  const head =
    body.length < 256
      ? Buffer.from([0x00, 0x53, 0x75, 0xa0, body.length])
      : Buffer.from([0x00, 0x53, 0x75, 0xb0, 0, 0, 0, 0]);
  if (body.length >= 256) head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}
