/**
 * Composite types (performatives, SASL frames, termini, outcomes, message sections) are declared
 * once as data: an ordered field table. The encoder and decoder are derived from the table, and so
 * is the TypeScript type of the decoded object.
 *
 * Encoding drops trailing absent fields and writes `null` for absent fields in the middle; the full
 * form (`encode(w, value, true)`) keeps the trailing ones as `null` too.
 * Decoding accepts list0/list8/list32, any valid encoding of each field's type, numeric or symbolic
 * descriptors, and fewer fields than the table (the rest are absent). A `multiple` field decodes
 * from a single value, an array or a list; it is encoded as an array.
 */
import { DecodeError, EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import {
  fieldError,
  primitiveReader,
  primitiveWriter,
  readU32At,
  type FieldTypeMap,
  type FieldTypeName,
  type Reader,
  type Writer,
} from "./composite-fields.js";
import { writeSymbolArray } from "./array-encoder.js";
import { compileFieldListReader, compileNullMandatoryFinder } from "./composite-reader.js";
import { compileFieldListWriter } from "./composite-writer.js";
import type { Decoder } from "./decoder.js";
import { beginCompound, endCompound } from "./compound-writer.js";
import { encodeValue } from "./encoder.js";
import { FormatCode as F } from "./format-codes.js";
import { AMQPArray, AMQPSymbol, AMQPType, AMQPuLong, type AMQPDescribed, type AMQPValue } from "./values.js";

export { mapToFields, readFields, type FieldTypeMap, type FieldTypeName } from "./composite-fields.js";

/** One field of a composite table. */
export interface FieldSpec {
  /** camelCase name of the spec field (`max-frame-size` → `maxFrameSize`). */
  readonly key: string;
  /** A primitive field type, a composite, or a union of composites. */
  readonly type: FieldTypeName | CompositeType<object> | CompositeUnion<object>;
  readonly mandatory?: boolean;
  /**
   * The field may hold several values (`multiple="true"`): decoded as a JS array from a single value,
   * an AMQP array or an AMQP list; encoded as an AMQP array (a single value as itself).
   */
  readonly multiple?: boolean;
  /** The spec default (documentation; decoders leave absent fields `undefined`). */
  readonly default?: unknown;
}

type FieldValue<S extends FieldSpec> = S["type"] extends FieldTypeName
  ? S["multiple"] extends true
    ? FieldTypeMap[S["type"]][]
    : FieldTypeMap[S["type"]]
  : S["type"] extends CompositeType<infer T>
    ? T
    : S["type"] extends CompositeUnion<infer U>
      ? U
      : never;

export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The decoded object type of a field table: mandatory fields required, others optional. */
export type FieldsOf<Fs extends readonly FieldSpec[]> = Simplify<
  { [S in Fs[number] as S["mandatory"] extends true ? S["key"] : never]: FieldValue<S> } & {
    [S in Fs[number] as S["mandatory"] extends true ? never : S["key"]]?: FieldValue<S> | undefined;
  }
>;

/** A composite type: name, descriptor, fields, and the derived encoder and decoder. */
export interface CompositeType<T extends object> {
  readonly name: string;
  /** Numeric descriptor code (domain 0x00000000). */
  readonly code: number;
  /** Symbolic descriptor, e.g. `amqp:open:list`. */
  readonly symbol: string;
  readonly fields: readonly FieldSpec[];
  /**
   * Writes the described list: trailing absent fields dropped, or with `full` every field of the
   * table written (absent ones as null), in nested composites too: the form for peers that index
   * the fields of a list by position (see `docs/architecture.md`, "Performatives in full").
   */
  encode(w: ByteWriter, value: T, full?: boolean): void;
  /** Reads the list body after the descriptor has been read. */
  decodeBody(d: Decoder): T;
  /** Reads a whole described value, checking the descriptor. */
  decode(d: Decoder): T;
}

/** A field that may hold one of several composites; decoded values carry `type: name`. */
export interface CompositeUnion<U> {
  readonly kind: "union";
  readonly name: string;
  readonly members: readonly CompositeType<object>[];
  /** Writes the member's described list (`full`: as in `CompositeType.encode`). */
  encode(w: ByteWriter, value: U, full?: boolean): void;
  /** Reads a whole described value (constructor `0x00`, descriptor, body), like `CompositeType.decode`. */
  decode(d: Decoder): U;
  /** Reads the descriptor and body of a described value whose `0x00` constructor has been read. */
  decodeDescribed(d: Decoder): U;
}

function isComposite(t: FieldSpec["type"]): t is CompositeType<object> {
  return typeof t === "object" && !("kind" in t);
}

function compileField(comp: string, f: FieldSpec): { read: Reader; write: Writer } {
  const t = f.type;
  let readOne: Reader;
  let writeOne: Writer;
  if (typeof t === "string") {
    readOne = primitiveReader(t, comp, f.key);
    writeOne = primitiveWriter(t, comp, f.key);
  } else if (isComposite(t)) {
    readOne = (d, code) => {
      if (code !== F.Described) fieldError(comp, f.key, t.name, d, code);
      readDescriptor(d, t);
      return t.decodeBody(d);
    };
    writeOne = (w, v, full) => {
      t.encode(w, v as object, full);
    };
  } else {
    readOne = (d, code) => {
      if (code !== F.Described) fieldError(comp, f.key, t.name, d, code);
      return t.decodeDescribed(d);
    };
    writeOne = (w, v, full) => {
      t.encode(w, v as object, full);
    };
  }
  if (!f.multiple) return { read: readOne, write: writeOne };
  const symbols = t === "symbol";
  // The element type an array in this field must have (primitive fields other than `any`).
  const elementType = typeof t === "string" && t !== "any" && t !== "fields" ? t : undefined;
  return {
    // `multiple` fields hold a single value or an array of values (AMQP 1.0 part 1, section 1.4).
    // A list is accepted too: Qpid Proton, rhea and Azure accept one, and applications send one
    // (e.g. Proton's `offered_capabilities = ["ANONYMOUS-RELAY"]`); each item is read as the field's type.
    read: (d, code) => {
      if (code === F.Array8 || code === F.Array32) {
        const at = d.pos - 1;
        const arr = d.array(code);
        if (elementType !== undefined && arr.elementType !== elementType) {
          throw new DecodeError(`${comp}.${f.key} expects an array of ${elementType}`, at, code);
        }
        return arr.value.map((x) => (x instanceof AMQPType ? x.value : x));
      }
      if (code === F.List0 || code === F.List8 || code === F.List32) return readListItems(d, code, readOne);
      return [readOne(d, code)];
    },
    write: (w, v, full) => {
      // A single value is accepted where an array is expected.
      if (!Array.isArray(v)) return writeOne(w, v, full);
      const items = v as unknown[];
      if (symbols) {
        for (const it of items) if (typeof it !== "string") primitiveWriter("symbol", comp, f.key)(w, it);
        return writeSymbolArray(w, items as string[]);
      }
      if (items.length === 1) return writeOne(w, items[0], full);
      const at = beginCompound(w);
      // Arrays of composites: shared described constructor is not expressible generically; use a list.
      for (const it of items) writeOne(w, it, full);
      endCompound(w, at, items.length, F.List8, F.List32);
    },
  };
}

/**
 * Reads the items of a list whose constructor `code` (list0, list8 or list32) has been read, each
 * with `readOne`: an item of another type (null included) is the `DecodeError` of `readOne`.
 */
function readListItems(d: Decoder, code: number, readOne: Reader): unknown[] {
  if (code === F.List0) return [];
  const at = d.pos - 1;
  const wide = code === F.List32;
  const count = d.compoundHeader(code, wide);
  const stop = d.pos + (wide ? readU32At(d.buf, at + 1) - 4 : d.buf[at + 1]! - 1);
  if (count > stop - d.pos) throw new DecodeError(`list count ${count} exceeds its bytes`, at, code);
  const savedEnd = d.end;
  d.end = stop;
  const out = new Array<unknown>(count);
  for (let i = 0; i < count; i++) out[i] = readOne(d, d.u8());
  if (d.pos !== stop) throw new DecodeError(`list size does not match its content`, at, code);
  d.end = savedEnd;
  d.depth--;
  return out;
}

/** Reads and checks a descriptor (smallulong/ulong code or symbol). */
function readDescriptor(d: Decoder, t: { name: string; code: number; symbol: string }): void {
  const at = d.pos;
  const dc = d.u8();
  let ok: boolean;
  if (dc === F.SmallUlong) ok = d.u8() === t.code;
  else if (dc === F.Ulong) ok = d.u64() === BigInt(t.code);
  else if (dc === F.Sym8 || dc === F.Sym32) ok = d.text(dc === F.Sym8 ? d.u8() : d.u32(), dc) === t.symbol;
  else ok = false;
  if (!ok) throw new DecodeError(`expected descriptor of ${t.name}`, at, dc);
}

/**
 * Reads a descriptor and returns it as a number (numeric descriptors) or string (symbolic).
 * Used to dispatch on the type of a described value.
 */
export function readDescriptorKey(d: Decoder): number | string | AMQPValue {
  const at = d.pos;
  const dc = d.u8();
  if (dc === F.SmallUlong) return d.u8();
  if (dc === F.Ulong) {
    const v = d.u64();
    return v <= 0xffffffffn ? Number(v) : new AMQPuLong(v);
  }
  if (dc === F.Ulong0) return 0;
  if (dc === F.Sym8) return d.cachedText(d.u8(), dc);
  if (dc === F.Sym32) return d.text(d.u32(), dc);
  if (dc === F.Described) throw new DecodeError("a descriptor cannot itself be described", at, dc);
  return d.payload(dc);
}

/**
 * Declares a composite type.
 *
 * @example
 * ```ts
 * const Error = defineComposite({ name: "error", code: 0x1d, symbol: "amqp:error:list",
 *   fields: [{ key: "condition", type: "symbol", mandatory: true }, ...] as const });
 * ```
 */
export function defineComposite<const Fs extends readonly FieldSpec[]>(def: {
  name: string;
  code: number;
  symbol: string;
  fields: Fs;
}): CompositeType<FieldsOf<Fs>> {
  const { name, code, symbol, fields } = def;
  const compiled = fields.map((f) => compileField(name, f));
  const keys = fields.map((f) => f.key);
  const mandatory = fields.map((f) => f.mandatory === true);
  const mandatoryIndexes = fields.flatMap((f, i) => (f.mandatory === true ? [i] : []));
  const lastMandatory = mandatoryIndexes.length > 0 ? mandatoryIndexes[mandatoryIndexes.length - 1]! : -1;
  const readFieldList = compileFieldListReader(
    name,
    keys,
    compiled.map((c) => c.read),
  );
  const nullMandatory = compileNullMandatoryFinder(name, keys, mandatoryIndexes);

  const decodeBody = (d: Decoder): FieldsOf<Fs> => {
    const at = d.pos;
    const lc = d.u8();
    if (lc === F.List0) {
      checkMandatory(0, at);
      return {} as FieldsOf<Fs>;
    }
    if (lc !== F.List8 && lc !== F.List32) throw new DecodeError(`${name} expects a list`, at, lc);
    const wide = lc === F.List32;
    const count = d.compoundHeader(lc, wide);
    const stop = d.pos + (wide ? readU32At(d.buf, at + 1) - 4 : d.buf[at + 1]! - 1);
    if (count > stop - d.pos) throw new DecodeError(`${name} list count ${count} exceeds its bytes`, at, lc);
    const savedEnd = d.end;
    d.end = stop;
    const out = readFieldList(d, count);
    if (d.pos !== stop) throw new DecodeError(`${name} list size does not match its content`, at, lc);
    d.end = savedEnd;
    d.depth--;
    checkMandatory(count, at);
    if (lastMandatory >= 0) {
      const i = nullMandatory(out, count);
      if (i >= 0) throw new DecodeError(`${name}.${keys[i]!} is mandatory but null`, at);
    }
    return out as FieldsOf<Fs>;
  };

  const checkMandatory = (count: number, at: number): void => {
    if (count > lastMandatory) return;
    for (const i of mandatoryIndexes) {
      if (i >= count) throw new DecodeError(`${name}.${keys[i]!} is mandatory but missing`, at);
    }
  };

  const writeFieldList = compileFieldListWriter(
    name,
    keys,
    compiled.map((c) => c.write),
    mandatory,
    (i) => {
      throw new EncodeError(`${name}: mandatory field ${keys[i]!} is missing`);
    },
  );

  const encode = (w: ByteWriter, value: FieldsOf<Fs>, full = false): void => {
    w.u8u8(F.Described, F.SmallUlong);
    w.u8(code);
    // One pass: absent fields are written as null, then the trailing nulls are cut off again.
    const at = beginCompound(w);
    const count = writeFieldList(w, value, full);
    if (count === 0) {
      w.pos = at;
      w.u8(F.List0);
      return;
    }
    endCompound(w, at, count, F.List8, F.List32);
  };

  const type: CompositeType<FieldsOf<Fs>> = {
    name,
    code,
    symbol,
    fields,
    encode,
    decodeBody,
    decode(d: Decoder): FieldsOf<Fs> {
      const at = d.pos;
      const c = d.u8();
      if (c !== F.Described) throw new DecodeError(`expected ${name}`, at, c);
      readDescriptor(d, type);
      return decodeBody(d);
    },
  };
  return type;
}

/** A tagged member of a union: the composite's fields plus `type: name`. */
export type Tagged<N extends string, T> = Simplify<{ readonly type: N } & T>;

/** Unknown described value in a union field (kept, so nothing is lost). */
export interface UnknownComposite {
  readonly type: "unknown";
  readonly described: AMQPDescribed;
}

/**
 * Declares a union of composites for a polymorphic field (delivery states, outcomes).
 * Decoded values are the member's fields plus `type` set to the member's name;
 * an unknown descriptor decodes to `{ type: "unknown", described }`.
 */
export function defineUnion<U extends { readonly type: string }>(
  name: string,
  members: readonly CompositeType<object>[],
): CompositeUnion<U | UnknownComposite> {
  const byCode = new Map<number | string, CompositeType<object>>();
  const byName = new Map<string, CompositeType<object>>();
  for (const m of members) {
    byCode.set(m.code, m);
    byCode.set(m.symbol, m);
    byName.set(m.name, m);
  }
  return {
    kind: "union",
    name,
    members,
    encode(w, value, full) {
      if (value.type === "unknown") {
        const described = (value as UnknownComposite).described;
        w.u8(F.Described);
        encodeValue(w, described.descriptor);
        encodeValue(w, described.value);
        return;
      }
      const m = byName.get(value.type);
      if (!m) throw new EncodeError(`${name}: unknown member ${value.type}`);
      m.encode(w, value, full);
    },
    decode(d) {
      const at = d.pos;
      const c = d.u8();
      if (c !== F.Described) throw new DecodeError(`expected ${name}`, at, c);
      return this.decodeDescribed(d);
    },
    decodeDescribed(d) {
      const start = d.pos;
      const key = readDescriptorKey(d);
      const m = typeof key === "number" || typeof key === "string" ? byCode.get(key) : undefined;
      if (!m) {
        d.pos = start; // re-read as a generic described value
        return { type: "unknown", described: d.described() };
      }
      return { type: m.name, ...m.decodeBody(d) } as unknown as U;
    },
  };
}

/**
 * Symbol-valued `multiple` helper: normalises a decoded single symbol, symbol array or list of
 * symbols to `string[]`.
 */
export function symbolsOf(v: AMQPValue | undefined): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof AMQPSymbol) return [v.value];
  const items = v instanceof AMQPArray ? v.value : Array.isArray(v) ? v : undefined;
  return items?.map((x) => (x instanceof AMQPSymbol ? x.value : typeof x === "string" ? x : ""));
}
