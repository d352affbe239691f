/**
 * Fast paths of the decoder for short text: building short ASCII strings in JS (cheaper than a
 * call into C++), and a small content-addressed cache of short strings for map keys and symbols,
 * which repeat from message to message.
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

/** `String.fromCharCode` of the `n` bytes at `p` in one call, so that the result is one flat string. */
function asciiChars(b: Uint8Array, p: number, n: number): string {
  // prettier-ignore
  switch (n) {
    case 0: return "";
    case 1: return fcc(b[p]!);
    case 2: return fcc(b[p]!, b[p + 1]!);
    case 3: return fcc(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    case 8: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    case 9: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!);
    case 10: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!);
    case 11: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!);
    case 12: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!);
    default: return asciiChars(b, p, 12) + asciiChars(b, p + 12, n - 12);
  }
}

// The cache: 2048 sets of four ways. Each slot keeps the string, the offset and length of its bytes
// in an arena, a 32-bit hash of them, and the slot of the cached text decoded right after it last
// time. A lookup first tries that successor, then compares hashes in the set; either way every byte
// is compared, so a hit is always the exact string. The successor saves hashing because map keys
// and symbols come in the same order from message to message, and the arena keeps the bytes of
// such texts next to each other in memory. Four ways keep a map of a thousand distinct keys from
// evicting its own keys. When the arena is full the whole cache is emptied and starts again.
const WAYS = 4;
const SLOTS = 8192;
const ARENA = 1 << 16;
const slotHash = new Int32Array(SLOTS);
const slotLength = new Uint8Array(SLOTS);
const slotOffset = new Int32Array(SLOTS);
const slotNext = new Int32Array(SLOTS).fill(-1);
const slotText = new Array<string>(SLOTS).fill("");
const arena = new Uint8Array(ARENA);
let arenaEnd = 0;

/** The hash computed by the last {@link findText} that missed, for {@link rememberText}. */
let missedHash = 0;

/** A 32-bit hash (FNV-1a) of the bytes `[p, e)`. */
function textHash(b: Uint8Array, p: number, e: number): number {
  let h = 0x811c9dc5 ^ (e - p);
  for (let i = p; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

/** The first slot of the set for hash `h`. */
function setOf(h: number): number {
  return (h ^ (h >>> 15)) & (SLOTS - WAYS);
}

/** Whether `slot` holds the `n` bytes at `p` (a length of 0 marks an empty slot). */
function holds(slot: number, b: Uint8Array, p: number, n: number): boolean {
  if (slotLength[slot] !== n) return false;
  const o = slotOffset[slot]! - p;
  let i = p;
  const e = p + n;
  while (i < e && arena[o + i] === b[i]) i++;
  return i === e;
}

/**
 * The slot that followed `after` (the slot of the previous cached text) last time, if it holds the
 * `n` bytes at `p`; else -1. Small, so that it inlines into the decoder.
 */
export function findSuccessor(after: number, b: Uint8Array, p: number, n: number): number {
  const guess = slotNext[after]!;
  if (guess < 0 || slotLength[guess] !== n) return -1;
  const o = slotOffset[guess]! - p;
  const e = p + n;
  let i = p;
  while (i < e && arena[o + i] === b[i]) i++;
  return i === e ? guess : -1;
}

/**
 * The slot of the cached string whose UTF-8 is the `n` (1…CACHED_TEXT) bytes at `p`, or -1.
 * `after` is the slot of the previous cached text (-1 if none); it learns the slot found as
 * its successor.
 */
export function findText(b: Uint8Array, p: number, n: number, after: number): number {
  const h = textHash(b, p, p + n);
  const set = setOf(h);
  for (let slot = set; slot < set + WAYS; slot++) {
    if (slotHash[slot] === h && holds(slot, b, p, n)) {
      if (after >= 0) slotNext[after] = slot;
      return slot;
    }
  }
  missedHash = h;
  return -1;
}

/** The string in `slot` (from {@link findText} or {@link rememberText}). */
export function textInSlot(slot: number): string {
  return slotText[slot]!;
}

/**
 * Stores `s`, decoded from the `n` (1…CACHED_TEXT) bytes at `p` for which {@link findText} just
 * returned -1, newest first in its set; returns its slot. `after` as for `findText`.
 */
export function rememberText(b: Uint8Array, p: number, n: number, s: string, after: number): number {
  if (arenaEnd + n > ARENA) {
    emptyCache();
    after = -1;
  }
  const h = missedHash;
  const set = setOf(h);
  const last = set + WAYS - 1;
  slotHash.copyWithin(set + 1, set, last);
  slotLength.copyWithin(set + 1, set, last);
  slotOffset.copyWithin(set + 1, set, last);
  slotNext.copyWithin(set + 1, set, last);
  for (let slot = last; slot > set; slot--) slotText[slot] = slotText[slot - 1]!;
  slotHash[set] = h;
  slotLength[set] = n;
  slotOffset[set] = arenaEnd;
  slotNext[set] = -1;
  slotText[set] = internalize(s);
  for (let i = 0; i < n; i++) arena[arenaEnd + i] = b[p + i]!;
  arenaEnd += n;
  if (after >= 0) slotNext[after] = set;
  return set;
}

/**
 * The engine's internalized copy of `s`: the string a property key of that name is made of. Keys
 * and symbols from the cache are used as property and `Map` keys; an internalized string needs no
 * string-table lookup (and no re-hash) each time it is used so.
 */
function internalize(s: string): string {
  const holder: Record<string, number> = {};
  holder[s] = 0;
  for (const key in holder) return key;
  return s;
}

/** Forgets every cached string (the arena is full). */
function emptyCache(): void {
  slotLength.fill(0);
  slotNext.fill(-1);
  slotText.fill("");
  arenaEnd = 0;
}
