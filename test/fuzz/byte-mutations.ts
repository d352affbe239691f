/**
 * Byte-level mutations for fuzzing: set, flip, insert or delete one byte, truncate, extend.
 */
import fc from "fast-check";

export type MutationKind = "set" | "insert" | "delete" | "truncate" | "extend" | "flip";

/** One edit of a byte string; `at` is taken modulo the current length. */
export interface Mutation {
  readonly kind: MutationKind;
  readonly at: number;
  readonly byte: number;
}

/** Mutations of the given kinds. */
export function mutationOf(kinds: readonly MutationKind[]): fc.Arbitrary<Mutation> {
  return fc.record({
    kind: fc.constantFrom(...kinds),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  });
}

/** Applies `ms` in order to a copy of `bytes`. */
export function mutateBytes(bytes: Uint8Array, ms: readonly Mutation[]): number[] {
  const b = [...bytes];
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case "set":
        b[at] = m.byte;
        break;
      case "flip":
        b[at] = (b[at] ?? 0) ^ (1 << (m.byte & 7));
        break;
      case "insert":
        b.splice(at, 0, m.byte);
        break;
      case "delete":
        b.splice(at, 1);
        break;
      case "truncate":
        b.length = at;
        break;
      case "extend":
        b.push(m.byte, m.at & 0xff);
        break;
    }
  }
  return b;
}
