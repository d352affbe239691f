/**
 * Decoding of AMQP array bodies: the element constructor (optionally described), then `count`
 * payloads that share it. Called by `Decoder.array`, which has read the size and count.
 */
import type { DecoderCursor } from "./decoder-cursor.js";
import { FormatCode as F } from "./format-codes.js";
import { AMQPArray, AMQPDescribed, type AMQPArrayElementType, type AMQPValue } from "./values.js";

/**
 * Reads the element constructor and `count` payloads of an array whose constructor is at `at`.
 *
 * @internal
 */
export function readArrayElements(d: DecoderCursor, count: number, at: number): AMQPArray {
  let elementCode = d.u8();
  let descriptor: AMQPValue | undefined;
  let isDescribed = false;
  if (elementCode === F.Described) {
    isDescribed = true;
    descriptor = d.value();
    elementCode = d.u8();
    if (elementCode === F.Described) d.fail("nested described array element constructor", elementCode);
  }
  const width = fixedWidth(elementCode);
  if (width === 0) d.fail("zero-width constructor cannot be an array element constructor", elementCode, at);
  // Every element takes at least one byte: a count beyond the remaining bytes is a lie.
  if (count > d.end - d.pos)
    d.fail(`array count ${count} exceeds its ${d.end - d.pos} bytes`, elementCode, at);
  const items = new Array<AMQPValue>(count);
  for (let i = 0; i < count; i++) {
    const v =
      elementCode === F.List8 || elementCode === F.List32
        ? d.list(elementCode)
        : elementCode === F.Map8 || elementCode === F.Map32
          ? d.map(elementCode)
          : elementCode === F.Array8 || elementCode === F.Array32
            ? d.array(elementCode)
            : d.payload(elementCode);
    items[i] = isDescribed ? new AMQPDescribed(descriptor!, v) : v;
  }
  return new AMQPArray(isDescribed ? "described" : elementTypeOf(elementCode, d, at), items);
}

/** Width in bytes of a fixed-width constructor, or -1 if not fixed. */
function fixedWidth(code: number): number {
  switch (code >> 4) {
    case 0x4:
      return 0;
    case 0x5:
      return 1;
    case 0x6:
      return 2;
    case 0x7:
      return 4;
    case 0x8:
      return 8;
    case 0x9:
      return 16;
    default:
      return -1;
  }
}

/** The element type of an array whose element constructor is `code`. */
function elementTypeOf(code: number, d: DecoderCursor, at: number): AMQPArrayElementType {
  switch (code) {
    case F.Boolean:
      return "boolean";
    case F.Ubyte:
      return "ubyte";
    case F.Byte:
      return "byte";
    case F.SmallUint:
    case F.Uint:
      return "uint";
    case F.SmallUlong:
    case F.Ulong:
      return "ulong";
    case F.SmallInt:
    case F.Int:
      return "int";
    case F.SmallLong:
    case F.Long:
      return "long";
    case F.Ushort:
      return "ushort";
    case F.Short:
      return "short";
    case F.Float:
      return "float";
    case F.Double:
      return "double";
    case F.Char:
      return "char";
    case F.Timestamp:
      return "timestamp";
    case F.Decimal32:
      return "decimal32";
    case F.Decimal64:
      return "decimal64";
    case F.Decimal128:
      return "decimal128";
    case F.Uuid:
      return "uuid";
    case F.Vbin8:
    case F.Vbin32:
      return "binary";
    case F.Str8:
    case F.Str32:
      return "string";
    case F.Sym8:
    case F.Sym32:
      return "symbol";
    case F.List8:
    case F.List32:
      return "list";
    case F.Map8:
    case F.Map32:
      return "map";
    case F.Array8:
    case F.Array32:
      return "array";
    default:
      return d.fail("unknown array element constructor", code, at);
  }
}
