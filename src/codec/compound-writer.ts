/**
 * The size-and-count header of lists, maps and arrays: reserved before the body is written and
 * filled in afterwards, in the 8-bit form when it fits (the body is moved up for the 32-bit form).
 */
import type { ByteWriter } from "../util/byte-writer.js";

/**
 * Starts a list/map/array body: reserves the 3 bytes of the 8-bit form (constructor, size, count).
 * `endCompound` fills them in, or moves the body up to make room for the 32-bit form when it does not fit.
 */
export function beginCompound(w: ByteWriter): number {
  return w.reserve(3);
}

/** Finishes a compound started at `at` with `count` items, choosing the 8- or 32-bit form. */
export function endCompound(w: ByteWriter, at: number, count: number, code8: number, code32: number): void {
  const bodyStart = at + 3;
  const bodyLen = w.pos - bodyStart;
  if (count < 256 && bodyLen < 255) {
    const buf = w.buf;
    buf[at] = code8;
    buf[at + 1] = bodyLen + 1;
    buf[at + 2] = count;
    return;
  }
  w.ensure(6);
  const buf = w.buf;
  buf.copyWithin(bodyStart + 6, bodyStart, w.pos);
  w.pos += 6;
  buf[at] = code32;
  w.patchU32(at + 1, bodyLen + 4);
  w.patchU32(at + 5, count);
}

/**
 * Starts a compound known to need the 32-bit form (more than 255 items): no move at the end.
 *
 * @internal
 */
export function beginWide(w: ByteWriter): number {
  return w.reserve(9);
}

/**
 * Finishes a compound started by {@link beginWide} with `count` items.
 *
 * @internal
 */
export function endWide(w: ByteWriter, at: number, count: number, code32: number): void {
  w.buf[at] = code32;
  w.patchU32(at + 1, w.pos - at - 5);
  w.patchU32(at + 5, count);
}
