/**
 * Fast paths of the decoder for short text: building short ASCII strings in JS (cheaper than a
 * call into C++), and a small content-addressed cache of short ASCII strings for map keys and
 * symbols, which repeat from message to message.
 */

/** Strings up to this many bytes are built in JS when ASCII. */
export const SHORT_TEXT = 12;
/** Map keys and symbols up to this many bytes go through the text cache. */
export const CACHED_TEXT = 32;

const fcc = String.fromCharCode;

/** The ASCII string of `n` (≤ SHORT_TEXT) bytes at `p`, or undefined if a byte is not ASCII. */
export function shortAscii(b: Uint8Array, p: number, n: number): string | undefined {
  let or = 0;
  for (let i = p; i < p + n; i++) or |= b[i]!;
  return or > 0x7f ? undefined : asciiChars(b, p, n);
}

/** `String.fromCharCode` of up to 8 bytes at a time (a short concatenation stays a flat string). */
function asciiChars(b: Uint8Array, p: number, n: number): string {
  switch (n) {
    case 0:
      return "";
    case 1:
      return fcc(b[p]!);
    case 2:
      return fcc(b[p]!, b[p + 1]!);
    case 3:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7:
      return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    default: {
      const head = fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
      return n === 8 ? head : head + asciiChars(b, p + 8, n - 8);
    }
  }
}

// The cache: 2048 sets of two ways, indexed by a hash of the bytes. Only ASCII strings are stored
// (as many UTF-16 units as bytes), so comparing their char codes with the bytes is exact.
const TEXT_CACHE_SIZE = 4096;
const textCache = new Array<string | undefined>(TEXT_CACHE_SIZE).fill(undefined);

/** The set (first of its two slots) for the bytes `[p, e)`. */
export function textCacheSlot(b: Uint8Array, p: number, e: number): number {
  let h = e - p;
  for (let i = p; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return (h ^ (h >>> 16)) & (TEXT_CACHE_SIZE - 2);
}

/** The cached string equal to the `n` ASCII bytes at `p`, if the set `slot` holds it. */
export function findCachedText(slot: number, b: Uint8Array, p: number, n: number): string | undefined {
  for (let way = slot; way <= slot + 1; way++) {
    const cached = textCache[way];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === b[p + i]) i++;
      if (i === n) return cached;
    }
  }
  return undefined;
}

/** Stores `s`, decoded from `n` bytes, in the set `slot` (newest first) if it is ASCII. */
export function rememberText(slot: number, s: string, n: number): void {
  if (s.length !== n) return;
  textCache[slot + 1] = textCache[slot];
  textCache[slot] = s;
}
