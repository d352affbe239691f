/**
 * RFC 1982 serial-number arithmetic on 32-bit values (delivery-ids, transfer-ids, delivery-counts),
 * which wrap around at 2^32.
 */

/** `(a + n) mod 2^32`. */
export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** `b − a` as a signed 32-bit distance (positive when b is after a). */
export function serialDiff(a: number, b: number): number {
  return (b - a) | 0;
}

/** True if `a` comes before `b` in serial order. */
export function serialLt(a: number, b: number): boolean {
  return serialDiff(a, b) > 0;
}

/** True if `a` is before or equal to `b` in serial order. */
export function serialLte(a: number, b: number): boolean {
  return a === b || serialDiff(a, b) > 0;
}
