/**
 * The full constructor switch of the decoder: the payload of a value of any constructor.
 * `Decoder.payload` handles the most common constructors itself (small enough for V8 to inline it)
 * and falls back to this for the rest.
 */
import type { DecoderCursor } from "./decoder-cursor.js";
import { FormatCode as F } from "./format-codes.js";
import {
  AMQPByte,
  AMQPChar,
  AMQPDecimal128,
  AMQPDecimal32,
  AMQPDecimal64,
  AMQPDouble,
  AMQPFloat,
  AMQPShort,
  AMQPSymbol,
  AMQPuByte,
  AMQPuInt,
  AMQPuLong,
  AMQPuShort,
  AMQPUuid,
  type AMQPValue,
} from "./values.js";

/**
 * Reads the payload of a value whose constructor `code` has been read (`described` excepted).
 *
 * @internal
 */
export function readOtherPayload(d: DecoderCursor, code: number): AMQPValue {
  switch (code) {
    case F.Null:
      return null;
    case F.BooleanTrue:
      return true;
    case F.BooleanFalse:
      return false;
    case F.Boolean: {
      const b = d.u8();
      if (b > 1) d.fail(`invalid boolean octet ${b}`, code, d.pos - 1);
      return b === 1;
    }
    case F.Uint0:
      return new AMQPuInt(0);
    case F.SmallUint:
      return new AMQPuInt(d.u8());
    case F.Uint:
      return new AMQPuInt(d.u32());
    case F.Ulong0:
      return new AMQPuLong(0n);
    case F.SmallUlong:
      return new AMQPuLong(BigInt(d.u8()));
    case F.Ulong:
      return new AMQPuLong(d.u64());
    case F.Ubyte:
      return new AMQPuByte(d.u8());
    case F.Ushort:
      return new AMQPuShort(d.u16());
    case F.Byte:
      return new AMQPByte((d.u8() << 24) >> 24);
    case F.Short:
      return new AMQPShort((d.u16() << 16) >> 16);
    case F.SmallInt:
      return (d.u8() << 24) >> 24;
    case F.Int:
      return d.u32() | 0;
    case F.SmallLong:
      return BigInt((d.u8() << 24) >> 24);
    case F.Long:
      return d.i64();
    case F.Float:
      return new AMQPFloat(d.f32(code));
    case F.Double:
      return new AMQPDouble(d.f64(code));
    case F.Decimal32:
      return new AMQPDecimal32(Buffer.from(d.bytes(4, code)));
    case F.Decimal64:
      return new AMQPDecimal64(Buffer.from(d.bytes(8, code)));
    case F.Decimal128:
      return new AMQPDecimal128(Buffer.from(d.bytes(16, code)));
    case F.Char: {
      const at = d.pos;
      const cp = d.u32();
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) d.fail(`invalid char code point ${cp}`, code, at);
      return new AMQPChar(String.fromCodePoint(cp));
    }
    case F.Timestamp:
      return new Date(d.timestampMs());
    case F.Uuid:
      return new AMQPUuid(Buffer.from(d.bytes(16, code)));
    case F.Vbin8:
      return d.bytes(d.u8(), code);
    case F.Vbin32:
      return d.bytes(d.u32(), code);
    case F.Str8:
      return d.text(d.u8(), code);
    case F.Str32:
      return d.text(d.u32(), code);
    case F.Sym8:
      return new AMQPSymbol(d.cachedText(d.u8(), code));
    case F.Sym32:
      return new AMQPSymbol(d.text(d.u32(), code));
    case F.List0:
      return [];
    case F.List8:
    case F.List32:
      return d.list(code);
    case F.Map8:
    case F.Map32:
      return d.map(code);
    case F.Array8:
    case F.Array32:
      return d.array(code);
    default:
      return d.fail("unknown constructor", code, d.pos - 1);
  }
}
