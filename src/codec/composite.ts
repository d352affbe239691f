/**
 * Composite types (performatives, SASL frames, termini, outcomes, message sections) are declared
 * once as data: an ordered field table. The encoder and decoder are derived from the table, and so
 * is the TypeScript type of the decoded object.
 *
 * Encoding drops trailing absent fields and writes `null` for absent fields in the middle.
 * Decoding accepts list0/list8/list32, any valid encoding of each field's type, numeric or symbolic
 * descriptors, and fewer fields than the table (the rest are absent).
 */
import { DecodeError, EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import type { Decoder } from "./decoder.js";
import {
  beginCompound,
  encodeValue,
  endCompound,
  writeBinary,
  writeBoolean,
  writeInt,
  writeLong,
  writeObjectMap,
  writeString,
  writeSymbol,
  writeSymbolArray,
  writeTimestamp,
  writeUbyte,
  writeUint,
  writeUlong,
  writeUshort,
} from "./encoder.js";
import { FormatCode as F } from "./format-codes.js";
import { AMQPArray, AMQPSymbol, AMQPType, AMQPuLong, type AMQPDescribed, type AMQPValue } from "./values.js";

/** Field types a composite table may use, with the JS type each decodes to. */
export interface FieldTypeMap {
  boolean: boolean;
  ubyte: number;
  ushort: number;
  uint: number;
  ulong: bigint;
  int: number;
  long: bigint;
  symbol: string;
  string: string;
  binary: Uint8Array;
  timestamp: Date;
  /** `fields`: a map with symbol keys, as a plain object. */
  fields: Record<string, AMQPValue>;
  /** A map of any keys, kept lossless. */
  map: Map<AMQPValue, AMQPValue>;
  /** Any AMQP value (`*` in the spec). */
  any: AMQPValue;
}

export type FieldTypeName = keyof FieldTypeMap;

/** One field of a composite table. */
export interface FieldSpec {
  /** camelCase name of the spec field (`max-frame-size` → `maxFrameSize`). */
  readonly key: string;
  /** A primitive field type, a composite, or a union of composites. */
  readonly type: FieldTypeName | CompositeType<object> | CompositeUnion<object>;
  readonly mandatory?: boolean;
  /** The field may hold several values (`multiple="true"`): decoded as an array. */
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

type Simplify<T> = { [K in keyof T]: T[K] } & {};

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
  /** Writes the described list. */
  encode(w: ByteWriter, value: T): void;
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
  encode(w: ByteWriter, value: U): void;
  decode(d: Decoder): U;
}

function fieldError(comp: string, key: string, expected: string, d: Decoder, code: number): never {
  throw new DecodeError(`${comp}.${key} expects ${expected}`, d.pos - 1, code);
}

/** Reads a value of a primitive field type, given its constructor code (not null). */
function readTyped(type: FieldTypeName, d: Decoder, code: number, comp: string, key: string): unknown {
  switch (type) {
    case "boolean":
      if (code === F.BooleanTrue) return true;
      if (code === F.BooleanFalse) return false;
      if (code === F.Boolean) return d.payload(code);
      break;
    case "ubyte":
      if (code === F.Ubyte) return d.u8();
      break;
    case "ushort":
      if (code === F.Ushort) return d.u16();
      break;
    case "uint":
      if (code === F.Uint0) return 0;
      if (code === F.SmallUint) return d.u8();
      if (code === F.Uint) return d.u32();
      break;
    case "ulong":
      if (code === F.Ulong0) return 0n;
      if (code === F.SmallUlong) return BigInt(d.u8());
      if (code === F.Ulong) return d.u64();
      break;
    case "int":
      if (code === F.SmallInt) return (d.u8() << 24) >> 24;
      if (code === F.Int) return d.u32() | 0;
      break;
    case "long":
      if (code === F.SmallLong) return BigInt((d.u8() << 24) >> 24);
      if (code === F.Long) return d.i64();
      break;
    case "symbol":
      if (code === F.Sym8) return d.text(d.u8(), code);
      if (code === F.Sym32) return d.text(d.u32(), code);
      break;
    case "string":
      if (code === F.Str8) return d.text(d.u8(), code);
      if (code === F.Str32) return d.text(d.u32(), code);
      break;
    case "binary":
      if (code === F.Vbin8) return d.bytes(d.u8(), code);
      if (code === F.Vbin32) return d.bytes(d.u32(), code);
      break;
    case "timestamp":
      if (code === F.Timestamp) return new Date(d.timestampMs());
      break;
    case "fields":
      if (code === F.Map8 || code === F.Map32) return mapToFields(d.map(code), d, comp, key);
      break;
    case "map":
      if (code === F.Map8 || code === F.Map32) return d.map(code);
      break;
    case "any":
      return code === F.Described ? d.described() : d.payload(code);
  }
  return fieldError(comp, key, type, d, code);
}

/** Converts a decoded map with symbol (or string) keys to a plain object. */
export function mapToFields(
  m: Map<AMQPValue, AMQPValue>,
  d: Decoder,
  comp: string,
  key: string,
): Record<string, AMQPValue> {
  const out: Record<string, AMQPValue> = {};
  for (const [k, v] of m) {
    if (k instanceof AMQPSymbol) out[k.value] = v;
    else if (typeof k === "string") out[k] = v;
    else throw new DecodeError(`${comp}.${key} expects symbol keys`, d.pos);
  }
  return out;
}

function writeTyped(type: FieldTypeName, w: ByteWriter, v: unknown): void {
  switch (type) {
    case "boolean":
      return writeBoolean(w, v as boolean);
    case "ubyte":
      return writeUbyte(w, v as number);
    case "ushort":
      return writeUshort(w, v as number);
    case "uint":
      return writeUint(w, v as number);
    case "ulong":
      return writeUlong(w, v as bigint);
    case "int":
      return writeInt(w, v as number);
    case "long":
      return writeLong(w, v as bigint);
    case "symbol":
      return writeSymbol(w, v as string);
    case "string":
      return writeString(w, v as string);
    case "binary":
      return writeBinary(w, v as Uint8Array);
    case "timestamp":
      return writeTimestamp(w, (v as Date).getTime());
    case "fields":
      return writeObjectMap(w, v as Record<string, AMQPValue>, writeSymbol);
    case "map":
    case "any":
      return encodeValue(w, v as AMQPValue);
  }
}

type Reader = (d: Decoder, code: number) => unknown;
type Writer = (w: ByteWriter, v: unknown) => void;

function isComposite(t: FieldSpec["type"]): t is CompositeType<object> {
  return typeof t === "object" && !("kind" in t);
}

function compileField(comp: string, f: FieldSpec): { read: Reader; write: Writer } {
  const t = f.type;
  let readOne: Reader;
  let writeOne: Writer;
  if (typeof t === "string") {
    readOne = (d, code) => readTyped(t, d, code, comp, f.key);
    writeOne = (w, v) => {
      writeTyped(t, w, v);
    };
  } else if (isComposite(t)) {
    readOne = (d, code) => {
      if (code !== F.Described) fieldError(comp, f.key, t.name, d, code);
      readDescriptor(d, t);
      return t.decodeBody(d);
    };
    writeOne = (w, v) => {
      t.encode(w, v as object);
    };
  } else {
    readOne = (d, code) => {
      if (code !== F.Described) fieldError(comp, f.key, t.name, d, code);
      return t.decode(d);
    };
    writeOne = (w, v) => {
      t.encode(w, v as object);
    };
  }
  if (!f.multiple) return { read: readOne, write: writeOne };
  const symbols = t === "symbol";
  return {
    // `multiple` fields hold a single value or an array of values.
    read: (d, code) => {
      if (code === F.Array8 || code === F.Array32) {
        const arr = d.array(code);
        return arr.value.map((x) => (x instanceof AMQPType ? x.value : x));
      }
      return [readOne(d, code)];
    },
    write: (w, v) => {
      const items = v as unknown[];
      if (symbols) return writeSymbolArray(w, items as string[]);
      if (items.length === 1) return writeOne(w, items[0]);
      const at = beginCompound(w);
      // Arrays of composites: shared described constructor is not expressible generically; use a list.
      for (const it of items) writeOne(w, it);
      endCompound(w, at, items.length, F.List8, F.List32);
    },
  };
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
  if (dc === F.Sym8 || dc === F.Sym32) return d.text(dc === F.Sym8 ? d.u8() : d.u32(), dc);
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
  const n = fields.length;

  const decodeBody = (d: Decoder): FieldsOf<Fs> => {
    const at = d.pos;
    const lc = d.u8();
    const out: Record<string, unknown> = {};
    if (lc === F.List0) {
      checkMandatory(0, at);
      return out as FieldsOf<Fs>;
    }
    if (lc !== F.List8 && lc !== F.List32) throw new DecodeError(`${name} expects a list`, at, lc);
    const wide = lc === F.List32;
    const count = d.compoundHeader(lc, wide);
    const stop = d.pos + (wide ? d.buf.readUInt32BE(at + 1) - 4 : d.buf[at + 1]! - 1);
    if (count > stop - d.pos) throw new DecodeError(`${name} list count ${count} exceeds its bytes`, at, lc);
    const savedEnd = d.end;
    d.end = stop;
    for (let i = 0; i < count; i++) {
      const fc = d.u8();
      if (i >= n) {
        // Fields beyond the table (a newer protocol version): read and ignore.
        if (fc === F.Described) d.described();
        else d.payload(fc);
        continue;
      }
      if (fc === F.Null) continue;
      out[keys[i]!] = compiled[i]!.read(d, fc);
    }
    if (d.pos !== stop) throw new DecodeError(`${name} list size does not match its content`, at, lc);
    d.end = savedEnd;
    d.depth--;
    checkMandatory(count, at);
    for (let i = 0; i < Math.min(count, n); i++) {
      if (mandatory[i] && out[keys[i]!] === undefined) {
        throw new DecodeError(`${name}.${keys[i]!} is mandatory but null`, at);
      }
    }
    return out as FieldsOf<Fs>;
  };

  const checkMandatory = (count: number, at: number): void => {
    for (let i = count; i < n; i++) {
      if (mandatory[i]) throw new DecodeError(`${name}.${keys[i]!} is mandatory but missing`, at);
    }
  };

  const encode = (w: ByteWriter, value: FieldsOf<Fs>): void => {
    const obj = value as Record<string, unknown>;
    let last = -1;
    for (let i = n - 1; i >= 0; i--) {
      if (obj[keys[i]!] !== undefined) {
        last = i;
        break;
      }
    }
    w.u8u8(F.Described, F.SmallUlong);
    w.u8(code);
    if (last < 0) {
      if (mandatory.includes(true))
        throw new EncodeError(`${name}: mandatory field ${keys[mandatory.indexOf(true)]!} is missing`);
      w.u8(F.List0);
      return;
    }
    const at = beginCompound(w);
    for (let i = 0; i <= last; i++) {
      const v = obj[keys[i]!];
      if (v === undefined || v === null) {
        if (mandatory[i]) throw new EncodeError(`${name}: mandatory field ${keys[i]!} is missing`);
        w.u8(F.Null);
      } else {
        compiled[i]!.write(w, v);
      }
    }
    endCompound(w, at, last + 1, F.List8, F.List32);
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
    encode(w, value) {
      if (value.type === "unknown") {
        const described = (value as UnknownComposite).described;
        w.u8(F.Described);
        encodeValue(w, described.descriptor);
        encodeValue(w, described.value);
        return;
      }
      const m = byName.get(value.type);
      if (!m) throw new EncodeError(`${name}: unknown member ${value.type}`);
      m.encode(w, value);
    },
    decode(d) {
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

/** Symbol-valued `multiple` helper: normalises a decoded symbol array or single symbol to `string[]`. */
export function symbolsOf(v: AMQPValue | undefined): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof AMQPSymbol) return [v.value];
  if (v instanceof AMQPArray)
    return v.value.map((x) => (x instanceof AMQPSymbol ? x.value : typeof x === "string" ? x : ""));
  return undefined;
}
