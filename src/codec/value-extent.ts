/**
 * Where an encoded value ends, read from its constructor and size fields alone, without decoding
 * it: how a receiver learns, from the first bytes of a message still arriving, how long the value
 * those bytes stop in will be. The width of every value follows from the high four bits of its
 * format code (AMQP 1.0 section 1.2, "Format code subcategories").
 */

/**
 * Bytes that give the width, by the high four bits of a format code: a fixed width `w` as `-1 - w`
 * (0x4… 0 bytes up to 0x9… 16 bytes), a size field of 1 or 4 bytes before the data (variable width,
 * compound and array values) as 1 or 4; 0 for the subcategories that do not exist.
 */
const WIDTH = [0, 0, 0, 0, -1, -2, -3, -5, -9, -17, 1, 4, 1, 4, 1, 4] as const;

/**
 * The offset just past the value whose constructor is at `buf[at]`, reading no byte at or beyond
 * `end` (the offset may lie beyond `end`, or beyond `buf`: that is what it is for). -1 when it cannot
 * be known from `buf[at, end)`: a size field or a descriptor is cut off at `end`, or a format code is
 * not a valid one. A described value's descriptor and value are walked in a loop, not by recursion,
 * so that any input takes constant stack.
 */
export function valueEnd(buf: Uint8Array, at: number, end: number): number {
  let p = at;
  // Values still to walk after the current one: a described value is a descriptor, then its value.
  let pending = 0;
  while (p < end) {
    const code = buf[p]!;
    if (code === 0x00) {
      pending++;
      p++;
      continue;
    }
    const w = WIDTH[code >> 4]!;
    let e: number;
    if (w < 0)
      e = p - w; // 1 + (-1 - w): the constructor and the fixed width
    else if (w === 1) {
      if (p + 2 > end) return -1;
      e = p + 2 + buf[p + 1]!;
    } else if (w === 4) {
      if (p + 5 > end) return -1;
      e = p + 5 + (((buf[p + 1]! << 24) >>> 0) + ((buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!));
    } else return -1;
    if (pending === 0) return e;
    pending--;
    p = e;
  }
  return -1;
}
