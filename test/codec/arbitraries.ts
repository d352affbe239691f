/**
 * fast-check arbitraries of AMQP values in their *canonical* JS form (the "decoded as" column of
 * the mapping table in src/codec/values.ts), shared by the property, fuzz and rhea tests.
 */
import fc from "fast-check";
import {
  AMQPArray,
  AMQPByte,
  AMQPChar,
  AMQPDecimal128,
  AMQPDecimal32,
  AMQPDecimal64,
  AMQPDescribed,
  AMQPDouble,
  AMQPFloat,
  AMQPShort,
  AMQPSymbol,
  AMQPuByte,
  AMQPuInt,
  AMQPuLong,
  AMQPuShort,
  AMQPUuid,
  encode,
  type AMQPArrayElementType,
  type AMQPValue,
} from "../../src/codec/index.js";

/** The largest Date, in ms from the epoch (either side). */
export const MAX_DATE_MS = 8.64e15;

const bytes = (n: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));

/** A code point that is a Unicode scalar value (no surrogates). */
export const codePoint = fc
  .integer({ min: 0, max: 0x10ffff - 0x800 })
  .map((n) => (n >= 0xd800 ? n + 0x800 : n));

/** Binary, mostly short (vbin8) and sometimes over 255 bytes (vbin32). */
export const binary = fc
  .oneof(
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 300 }) },
  )
  .map((a) => Buffer.from(a));

/** Any well-formed string (all of Unicode), sometimes long enough for str32. */
export const text = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 70, maxLength: 140 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", minLength: 250, maxLength: 300 }) },
);

/** Symbol text: ASCII as the spec requires, sometimes long enough for sym32. */
export const symbolText = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", minLength: 250, maxLength: 300 }) },
);

/** Canonical values of each primitive (non-compound, non-described) type. */
export const primitive = {
  boolean: fc.boolean(),
  ubyte: fc.integer({ min: 0, max: 0xff }).map((n) => new AMQPuByte(n)),
  ushort: fc.integer({ min: 0, max: 0xffff }).map((n) => new AMQPuShort(n)),
  uint: fc
    .oneof(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffffffff }))
    .map((n) => new AMQPuInt(n)),
  ulong: fc
    .oneof(fc.bigInt({ min: 0n, max: 0xffn }), fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }))
    .map((n) => new AMQPuLong(n)),
  byte: fc.integer({ min: -0x80, max: 0x7f }).map((n) => new AMQPByte(n)),
  short: fc.integer({ min: -0x8000, max: 0x7fff }).map((n) => new AMQPShort(n)),
  int: fc.oneof(fc.integer({ min: -128, max: 127 }), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
  long: fc.oneof(
    fc.bigInt({ min: -128n, max: 127n }),
    fc.bigInt({ min: -0x8000000000000000n, max: 0x7fffffffffffffffn }),
  ),
  float: fc.float().map((n) => new AMQPFloat(n)),
  double: fc.double().map((n) => new AMQPDouble(n)),
  decimal32: bytes(4).map((b) => new AMQPDecimal32(b)),
  decimal64: bytes(8).map((b) => new AMQPDecimal64(b)),
  decimal128: bytes(16).map((b) => new AMQPDecimal128(b)),
  char: codePoint.map((cp) => new AMQPChar(String.fromCodePoint(cp))),
  timestamp: fc.integer({ min: -MAX_DATE_MS, max: MAX_DATE_MS }).map((ms) => new Date(ms)),
  uuid: bytes(16).map((b) => new AMQPUuid(b)),
  binary,
  string: text,
  symbol: symbolText.map((s) => new AMQPSymbol(s)),
} satisfies Record<string, fc.Arbitrary<AMQPValue>>;

export type PrimitiveName = keyof typeof primitive;
export const primitiveNames = Object.keys(primitive) as PrimitiveName[];

/** A descriptor as used in practice: a ulong (domain-id:descriptor-id) or a symbol. */
export const descriptor: fc.Arbitrary<AMQPValue> = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }).map((n) => new AMQPuLong(n)),
  fc.integer({ min: 0, max: 0xff }).map((n) => new AMQPuLong(n)),
  symbolText.map((s) => new AMQPSymbol(s)),
);

/** A hex key of a value's encoding: distinct for values that are not AMQP-equal. */
export function encodingKey(v: AMQPValue): string {
  return Buffer.from(encode(v)).toString("hex");
}

export interface ValueOptions {
  /** Maximum nesting of lists, maps, arrays and described values. */
  readonly maxDepth?: number;
  /** Maximum number of items in a list, map or array. */
  readonly maxItems?: number;
}

/**
 * Any canonical AMQP value: every primitive type, lists, maps with any keys (unique by encoding),
 * arrays of every element type (including arrays of lists, maps, arrays and described values),
 * and described values with ulong and symbol descriptors, nested.
 */
export function amqpValue(options: ValueOptions = {}): fc.Arbitrary<AMQPValue> {
  const maxDepth = options.maxDepth ?? 3;
  const maxItems = options.maxItems ?? 5;
  const tree = fc.letrec<{
    value: AMQPValue;
    list: AMQPValue;
    map: AMQPValue;
    array: AMQPValue;
    described: AMQPValue;
  }>((tie) => ({
    value: fc.oneof(
      { maxDepth, depthIdentifier: "amqp" },
      fc.constant(null),
      ...primitiveNames.map((n) => primitive[n] as fc.Arbitrary<AMQPValue>),
      // About half of the values are compound.
      { weight: 6, arbitrary: tie("list") },
      { weight: 6, arbitrary: tie("map") },
      { weight: 6, arbitrary: tie("array") },
      { weight: 4, arbitrary: tie("described") },
    ),
    list: fc.array(tie("value"), { maxLength: maxItems, depthIdentifier: "amqp" }),
    map: fc
      .uniqueArray(fc.tuple(tie("value"), tie("value")), {
        maxLength: maxItems,
        selector: (e) => encodingKey(e[0]),
        depthIdentifier: "amqp",
      })
      .map((entries) => new Map(entries)),
    array: arrayOf(tie("value"), maxItems),
    described: fc.tuple(descriptor, tie("value")).map(([d, v]) => new AMQPDescribed(d, v)),
  }));
  return tree.value;
}

/** Canonical elements of an array of `type` (compound element types built from `value`). */
function elementsOf(
  type: AMQPArrayElementType,
  value: fc.Arbitrary<AMQPValue>,
  maxItems: number,
  nested: number,
): fc.Arbitrary<AMQPValue[]> {
  const many = <T extends AMQPValue>(a: fc.Arbitrary<T>, minLength = 0): fc.Arbitrary<AMQPValue[]> =>
    fc.array(a, { minLength, maxLength: maxItems, depthIdentifier: "amqp" });
  switch (type) {
    case "list":
      return many(fc.array(value, { maxLength: maxItems, depthIdentifier: "amqp" }));
    case "map":
      return many(
        fc
          .uniqueArray(fc.tuple(value, value), {
            maxLength: maxItems,
            selector: (e) => encodingKey(e[0]),
            depthIdentifier: "amqp",
          })
          .map((entries) => new Map(entries)),
      );
    case "array":
      // Inner arrays may each have their own element type.
      return many(arrayOf(value, maxItems, nested + 1));
    case "described":
      // All items share one descriptor and one value type; an empty array has no descriptor to share.
      return fc
        .tuple(descriptor, fc.constantFrom(...primitiveNames))
        .chain(([d, inner]) =>
          many(primitive[inner] as fc.Arbitrary<AMQPValue>, 1).map((vs) =>
            vs.map((v) => new AMQPDescribed(d, v)),
          ),
        );
    default:
      return many(primitive[type] as fc.Arbitrary<AMQPValue>);
  }
}

/** Every element type an `AMQPArray` may have. */
export const arrayElementTypes: readonly AMQPArrayElementType[] = [
  ...primitiveNames,
  "list",
  "map",
  "array",
  "described",
];

/** An `AMQPArray` of one element type, or of any (arrays of arrays at most two levels deep). */
export function arrayOf(
  value: fc.Arbitrary<AMQPValue>,
  maxItems = 5,
  nested = 0,
  only?: AMQPArrayElementType,
): fc.Arbitrary<AMQPArray> {
  const types = only ? [only] : arrayElementTypes.filter((t) => t !== "array" || nested < 2);
  return fc
    .constantFrom(...types)
    .chain((t) => elementsOf(t, value, maxItems, nested).map((items) => new AMQPArray(t, items)));
}
