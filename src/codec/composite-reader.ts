/**
 * The field-list reader of one composite type, generated from its field table.
 *
 * A generic loop (`out[keys[i]] = readers[i](d, code)`) is shared by every composite, so V8 sees
 * every composite's fields at the same store and call: both become megamorphic and nothing is
 * inlined. Generating one straight-line function per composite gives each field its own store
 * (`out["deliveryId"] = …`) and its own call to its reader, both monomorphic. Only the field names
 * of our own tables, quoted with `JSON.stringify`, go into the generated source; no input does.
 */
import type { Reader } from "./composite-fields.js";
import type { Decoder } from "./decoder.js";
import { FormatCode as F } from "./format-codes.js";
import { generated, identifier } from "./generated.js";

/**
 * Reads the first `count` items of a composite's list (its header already read) into a new object:
 * a field whose item is null is left absent, items beyond the table are read and ignored.
 */
export type FieldListReader = (d: Decoder, count: number) => Record<string, unknown>;

/** Reads and ignores one value (for list items beyond a composite's table). */
function skipValue(d: Decoder): void {
  const code = d.u8();
  if (code === F.Described) d.described();
  else d.payload(code);
}

/** Builds the reader of the fields `keys`, field `i` read by `readers[i]`. */
export function compileFieldListReader(
  name: string,
  keys: readonly string[],
  readers: readonly Reader[],
): FieldListReader {
  const lines = [`return function read_${identifier(name)}(d, count) {`, "  const out = {};"];
  lines.push("  let code;");
  keys.forEach((key, i) => {
    lines.push(`  if (count <= ${i}) return out;`);
    lines.push("  code = d.u8();");
    lines.push(`  if (code !== ${F.Null}) out[${JSON.stringify(key)}] = r${i}(d, code);`);
  });
  lines.push(`  for (let i = ${keys.length}; i < count; i++) skip(d);`);
  lines.push("  return out;", "};");
  return generated<FieldListReader>(
    lines,
    [...readers.map((_, i) => `r${i}`), "skip"],
    [...readers, skipValue],
    () => genericFieldListReader(keys, readers),
  );
}

/**
 * Finds the first mandatory field among the first `count` of a read list that came as null (left
 * absent by the reader): its index, or -1.
 */
export type NullMandatoryFinder = (out: Record<string, unknown>, count: number) => number;

/** Builds the finder for the mandatory fields `indexes` of `keys`, generated as the reader is. */
export function compileNullMandatoryFinder(
  name: string,
  keys: readonly string[],
  indexes: readonly number[],
): NullMandatoryFinder {
  const lines = [`return function nullMandatory_${identifier(name)}(out, count) {`];
  for (const i of indexes)
    lines.push(`  if (count > ${i} && out[${JSON.stringify(keys[i]!)}] === undefined) return ${i};`);
  lines.push("  return -1;", "};");
  return generated<NullMandatoryFinder>(lines, [], [], () => (out, count) => {
    for (const i of indexes) if (i < count && out[keys[i]!] === undefined) return i;
    return -1;
  });
}

/** The same reader as a loop over the table: used where code generation is not allowed. */
export function genericFieldListReader(keys: readonly string[], readers: readonly Reader[]): FieldListReader {
  const n = keys.length;
  return (d, count) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      if (i >= n) {
        skipValue(d);
        continue;
      }
      const code = d.u8();
      if (code !== F.Null) out[keys[i]!] = readers[i]!(d, code);
    }
    return out;
  };
}
