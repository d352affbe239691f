/**
 * The field-list writer of one composite type, generated from its field table: the counterpart of
 * composite-reader.ts, for the same reason. A generic loop (`v = value[keys[i]]; writers[i](w, v)`)
 * is shared by every composite, so V8 sees every composite's fields at the same load and call: both
 * become megamorphic (a flow, a disposition or a message's properties cost 2–4 times what the
 * straight-line form costs). One generated function per composite loads each field by its own name
 * and calls its own writer. Only the field names of our own tables, quoted with `JSON.stringify`,
 * go into the generated source; no input does.
 */
import type { ByteWriter } from "../util/byte-writer.js";
import type { Writer } from "./composite-fields.js";
import { FormatCode as F } from "./format-codes.js";
import { generated, identifier } from "./generated.js";

/**
 * Writes the fields of `value` as list items (the list header is the caller's): an absent field
 * (`undefined` or `null`) as null, then the trailing nulls cut off again unless `full`. Returns the
 * count of items kept, with `w.pos` after the last of them. `missing(i)` throws for an absent
 * mandatory field `i`.
 */
export type FieldListWriter = (w: ByteWriter, value: object, full: boolean) => number;

/** Builds the writer of the fields `keys`, field `i` written by `writers[i]`. */
export function compileFieldListWriter(
  name: string,
  keys: readonly string[],
  writers: readonly Writer[],
  mandatory: readonly boolean[],
  missing: (i: number) => never,
): FieldListWriter {
  const lines = [
    `return function write_${identifier(name)}(w, value, full) {`,
    "  let count = 0;",
    "  let end = w.pos;",
    "  let v;",
  ];
  keys.forEach((key, i) => {
    lines.push(`  v = value[${JSON.stringify(key)}];`);
    lines.push("  if (v === undefined || v === null) {");
    if (mandatory[i]) lines.push(`    missing(${i});`);
    lines.push(`    w.u8(${F.Null});`);
    lines.push("  } else {");
    lines.push(`    w${i}(w, v, full);`);
    lines.push(`    count = ${i + 1};`);
    lines.push("    end = w.pos;");
    lines.push("  }");
  });
  lines.push(`  if (full) return ${keys.length};`, "  w.pos = end;", "  return count;", "};");
  return generated<FieldListWriter>(
    lines,
    [...writers.map((_, i) => `w${i}`), "missing"],
    [...writers, missing],
    () => genericFieldListWriter(keys, writers, mandatory, missing),
  );
}

/** The same writer as a loop over the table: used where code generation is not allowed. */
export function genericFieldListWriter(
  keys: readonly string[],
  writers: readonly Writer[],
  mandatory: readonly boolean[],
  missing: (i: number) => never,
): FieldListWriter {
  const n = keys.length;
  return (w, value, full) => {
    const obj = value as Record<string, unknown>;
    let count = 0;
    let end = w.pos;
    for (let i = 0; i < n; i++) {
      const v = obj[keys[i]!];
      if (v === undefined || v === null) {
        if (mandatory[i]) missing(i);
        w.u8(F.Null);
      } else {
        writers[i]!(w, v, full);
        count = i + 1;
        end = w.pos;
      }
    }
    if (full) return n;
    w.pos = end;
    return count;
  };
}
