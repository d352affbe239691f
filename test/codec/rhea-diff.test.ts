/**
 * Differential tests against rhea 3's codec (`rhea.types`): on values of the types rhea keeps
 * losslessly, our bytes decode in rhea to the same value and rhea's bytes decode in ours to the same
 * value. Where rhea is lossy or disagrees, the last suite pins down its behaviour (documented in
 * docs/codec.md as known rhea limitations).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import rhea from "rhea";
import {
  AMQPArray,
  AMQPByte,
  AMQPChar,
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
  amqpEquals,
  decode,
  decodeAt,
  encode,
  typeOf,
  type AMQPArrayElementType,
  type AMQPValue,
} from "../../src/codec/index.js";
import { primitive } from "./arbitraries.js";

/** rhea's untyped codec API (its typings do not cover Writer/Reader). */
interface RheaTyped {
  type: { typecode: number; name: string };
  value: unknown;
  descriptor?: RheaTyped;
  array_constructor?: { typecode: number; descriptor?: RheaTyped };
}
const types = (rhea as unknown as { types: Record<string, any> }).types;

function rheaEncode(t: RheaTyped): Buffer {
  const w = new types["Writer"]();
  w.write(t);
  return w.toBuffer() as Buffer;
}

function rheaDecode(b: Uint8Array): RheaTyped {
  return new types["Reader"](Buffer.from(b)).read() as RheaTyped;
}

const SAFE = 2 ** 53 - 1;

/** Array element types rhea can write, with the element constructor it needs. */
const rheaElementCode: Partial<Record<AMQPArrayElementType, number>> = {
  boolean: 0x56,
  ubyte: 0x50,
  ushort: 0x60,
  uint: 0x70,
  ulong: 0x80,
  byte: 0x51,
  short: 0x61,
  int: 0x71,
  long: 0x81,
  float: 0x72,
  double: 0x82,
  timestamp: 0x83,
  char: 0x73,
  uuid: 0x98,
};

/** The raw element payload rhea's `write_value` takes for an array element. */
function rheaElement(v: AMQPValue): unknown {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof AMQPuLong) return Number(v.value);
  if (v instanceof AMQPChar) return v.codePoint;
  if (v instanceof AMQPUuid) return Buffer.from(v.value);
  if (v instanceof AMQPSymbol) return v.value;
  if (v instanceof Date) return v.getTime();
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v === "object" && v !== null && "value" in v) return v.value;
  return v;
}

/** Our canonical value as a rhea typed value (only for the types rhea keeps losslessly). */
function toRhea(v: AMQPValue): RheaTyped {
  if (v === null) return types["Null"]();
  if (typeof v === "boolean") return types["wrap_boolean"](v);
  if (typeof v === "number") return types["wrap_int"](v);
  if (typeof v === "bigint") return types["wrap_long"](Number(v));
  if (typeof v === "string") return types["wrap_string"](v);
  if (v instanceof Date) return types["wrap_timestamp"](v.getTime());
  if (v instanceof Uint8Array) return types["wrap_binary"](Buffer.from(v));
  if (Array.isArray(v)) {
    const items = (v as AMQPValue[]).map(toRhea);
    return items.length === 0 ? types["List0"]() : types["List32"](items);
  }
  if (v instanceof Map) {
    const items: RheaTyped[] = [];
    for (const [k, x] of v as Map<AMQPValue, AMQPValue>) items.push(toRhea(k), toRhea(x));
    return types["Map32"](items);
  }
  if (v instanceof AMQPuByte) return types["wrap_ubyte"](v.value);
  if (v instanceof AMQPuShort) return types["wrap_ushort"](v.value);
  if (v instanceof AMQPuInt) return types["wrap_uint"](v.value);
  if (v instanceof AMQPuLong) return types["wrap_ulong"](Number(v.value));
  if (v instanceof AMQPByte) return types["wrap_byte"](v.value);
  if (v instanceof AMQPShort) return types["wrap_short"](v.value);
  if (v instanceof AMQPFloat) return types["wrap_float"](v.value);
  if (v instanceof AMQPDouble) return types["wrap_double"](v.value);
  if (v instanceof AMQPChar) return types["wrap_char"](v.codePoint);
  if (v instanceof AMQPUuid) return types["wrap_uuid"](Buffer.from(v.value));
  if (v instanceof AMQPSymbol) return types["wrap_symbol"](v.value);
  if (v instanceof AMQPDescribed) return types["described"](toRhea(v.descriptor), toRhea(v.value));
  if (v instanceof AMQPArray && v.elementType === "described") {
    const items = v.value as AMQPDescribed[];
    const inner = new AMQPArray(
      typeOf(items[0]!.value) as AMQPArrayElementType,
      items.map((d) => d.value),
    );
    const t = toRhea(inner);
    return types["wrap_array"](t.value, t.array_constructor!.typecode, toRhea(items[0]!.descriptor));
  }
  if (v instanceof AMQPArray) {
    let code = rheaElementCode[v.elementType];
    if (v.elementType === "symbol")
      code = v.value.every((s) => Buffer.byteLength((s as AMQPSymbol).value) < 256) ? 0xa3 : 0xb3;
    if (v.elementType === "string")
      code = v.value.every((s) => Buffer.byteLength(s as string) < 256) ? 0xa1 : 0xb1;
    assert.ok(code !== undefined, `no rhea array of ${v.elementType}`);
    return types["wrap_array"](v.value.map(rheaElement), code);
  }
  throw new Error(`no rhea form for a ${typeOf(v)}`);
}

/** A rhea number or 8-byte Buffer (rhea's form of a 64-bit integer) as a bigint. */
function big(x: unknown, signed: boolean): bigint {
  if (typeof x === "number") return BigInt(x);
  const b = x as Buffer;
  return signed ? b.readBigInt64BE(0) : b.readBigUInt64BE(0);
}

/** A rhea typed value as our canonical value. */
function fromRhea(t: RheaTyped, withDescriptor = true): AMQPValue {
  if (withDescriptor && t.descriptor !== undefined) {
    return new AMQPDescribed(fromRhea(t.descriptor), fromRhea(t, false));
  }
  const x = t.value;
  switch (t.type.typecode) {
    case 0x40:
      return null;
    case 0x41:
    case 0x42:
      return x as boolean;
    case 0x56:
      return x === 1 || x === true;
    case 0x50:
      return new AMQPuByte(x as number);
    case 0x60:
      return new AMQPuShort(x as number);
    case 0x43:
    case 0x52:
    case 0x70:
      return new AMQPuInt(x as number);
    case 0x44:
    case 0x53:
    case 0x80:
      return new AMQPuLong(big(x, false));
    case 0x51:
      return new AMQPByte(x as number);
    case 0x61:
      return new AMQPShort(x as number);
    case 0x54:
    case 0x71:
      return x as number;
    case 0x55:
    case 0x81:
      return big(x, true);
    case 0x72:
      return new AMQPFloat(x as number);
    case 0x82:
      return new AMQPDouble(x as number);
    case 0x73:
      return new AMQPChar(String.fromCodePoint(x as number));
    case 0x83:
      return x as Date;
    case 0x98:
      return new AMQPUuid(x as Buffer);
    case 0xa0:
    case 0xb0:
      return x as Buffer;
    case 0xa1:
    case 0xb1:
      return x as string;
    case 0xa3:
    case 0xb3:
      return new AMQPSymbol(x as string);
    case 0x45:
    case 0xc0:
    case 0xd0:
      return (x as RheaTyped[]).map((i) => fromRhea(i));
    case 0xc1:
    case 0xd1: {
      const items = (x as RheaTyped[]).map((i) => fromRhea(i));
      const m = new Map<AMQPValue, AMQPValue>();
      for (let i = 0; i < items.length; i += 2) m.set(items[i]!, items[i + 1]!);
      return m;
    }
    case 0xe0:
    case 0xf0: {
      const c = t.array_constructor!;
      const items = (x as RheaTyped[]).map((i) => fromRhea(i));
      if (c.descriptor !== undefined) {
        const d = fromRhea(c.descriptor);
        return new AMQPArray(
          "described",
          items.map((i) => new AMQPDescribed(d, i)),
        );
      }
      return new AMQPArray(elementTypeOfCode(c.typecode), items);
    }
    default:
      throw new Error(`unexpected rhea typecode 0x${t.type.typecode.toString(16)}`);
  }
}

function elementTypeOfCode(code: number): AMQPArrayElementType {
  if (code === 0xa3 || code === 0xb3) return "symbol";
  if (code === 0xa1 || code === 0xb1) return "string";
  if (code === 0xa0 || code === 0xb0) return "binary";
  const found = Object.entries(rheaElementCode).find(([, c]) => c === code);
  assert.ok(found, `element code 0x${code.toString(16)}`);
  return found[0] as AMQPArrayElementType;
}

// ---- the values rhea keeps losslessly --------------------------------------------------------

const rheaScalar: fc.Arbitrary<AMQPValue> = fc.oneof(
  fc.constant(null),
  primitive.boolean,
  primitive.ubyte,
  primitive.ushort,
  primitive.uint,
  fc
    .oneof(fc.bigInt({ min: 0n, max: 0xffn }), fc.bigInt({ min: 0n, max: BigInt(SAFE) }))
    .map((n) => new AMQPuLong(n)),
  primitive.byte,
  primitive.short,
  primitive.int,
  fc.oneof(fc.bigInt({ min: -128n, max: 127n }), fc.bigInt({ min: BigInt(-SAFE), max: BigInt(SAFE) })),
  primitive.float,
  primitive.double,
  primitive.timestamp,
  primitive.binary,
  primitive.string,
  primitive.symbol,
  primitive.uuid,
  primitive.char,
);

const rheaKey: fc.Arbitrary<AMQPValue> = fc.oneof(primitive.string, primitive.symbol);
const rheaDescriptor: fc.Arbitrary<AMQPValue> = fc.oneof(
  fc.integer({ min: 0, max: 0xff }).map((n) => new AMQPuLong(n)),
  fc.bigInt({ min: 0n, max: BigInt(SAFE) }).map((n) => new AMQPuLong(n)),
  primitive.symbol,
);

const rheaArray: fc.Arbitrary<AMQPArray> = fc.oneof(
  ...(Object.keys(rheaElementCode) as AMQPArrayElementType[]).map((t) => {
    const elements: fc.Arbitrary<AMQPValue> =
      t === "ulong"
        ? fc.bigInt({ min: 0n, max: BigInt(SAFE) }).map((n) => new AMQPuLong(n))
        : t === "long"
          ? fc.bigInt({ min: BigInt(-SAFE), max: BigInt(SAFE) })
          : (primitive[t as keyof typeof primitive] as fc.Arbitrary<AMQPValue>);
    return fc.array(elements, { maxLength: 5 }).map((xs) => new AMQPArray(t, xs));
  }),
  fc.array(primitive.symbol, { maxLength: 5 }).map((xs) => new AMQPArray("symbol", xs)),
  fc.array(primitive.string, { maxLength: 5 }).map((xs) => new AMQPArray("string", xs)),
  fc.tuple(rheaDescriptor, fc.array(primitive.int, { minLength: 1, maxLength: 4 })).map(
    ([d, xs]) =>
      new AMQPArray(
        "described",
        xs.map((x) => new AMQPDescribed(d, x)),
      ),
  ),
);

const rheaValue = fc.letrec<{ value: AMQPValue }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: "rhea" },
    rheaScalar,
    fc.array(tie("value"), { maxLength: 4, depthIdentifier: "rhea" }),
    fc
      .uniqueArray(fc.tuple(rheaKey, tie("value")), {
        maxLength: 4,
        selector: (e) => Buffer.from(encode(e[0])).toString("hex"),
        depthIdentifier: "rhea",
      })
      .map((e) => new Map(e)),
    rheaArray,
    // rhea reads a described value whose value is itself described as one value with two
    // descriptors and keeps only the first: not lossless, so not generated here.
    fc
      .tuple(rheaDescriptor, tie("value"))
      .filter(([, v]) => !(v instanceof AMQPDescribed))
      .map(([d, v]) => new AMQPDescribed(d, v)),
  ),
})).value;

const SEED = 0x7e4;

describe("rhea differential: values rhea keeps losslessly", () => {
  it("our bytes decode in rhea to the same value", () => {
    fc.assert(
      fc.property(rheaValue, (v) => {
        assert.ok(amqpEquals(fromRhea(rheaDecode(encode(v))), v));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("rhea's bytes decode in ours to the same value", () => {
    fc.assert(
      fc.property(rheaValue, (v) => {
        assert.ok(amqpEquals(decode(rheaEncode(toRhea(v))), v));
      }),
      { seed: SEED + 1, numRuns: 400 },
    );
  });

  it("scalars: both pick the same smallest encoding, byte for byte", () => {
    fc.assert(
      fc.property(rheaScalar, (v) => {
        assert.equal(Buffer.from(encode(v)).toString("hex"), rheaEncode(toRhea(v)).toString("hex"));
      }),
      { seed: SEED + 2, numRuns: 400 },
    );
  });

  it("compounds: rhea always writes the 32-bit forms, we write the 8-bit forms when they fit", () => {
    const v = [1, "a", new Map([["k", true]])];
    const ours = Buffer.from(encode(v));
    const theirs = rheaEncode(toRhea(v));
    assert.equal(ours[0], 0xc0);
    assert.equal(theirs[0], 0xd0);
    assert.ok(ours.length < theirs.length);
    assert.ok(amqpEquals(decode(theirs), decode(ours)));
  });

  it("rhea.message sections decode in ours, and ours in rhea.message", () => {
    const msg = {
      message_id: "id-1",
      correlation_id: "c-1",
      content_type: "text/plain",
      application_properties: { a: 1, b: "two" },
      message_annotations: { "x-opt-k": "v" },
      body: "hello",
    };
    const bytes: Buffer = (rhea as unknown as { message: { encode(m: object): Buffer } }).message.encode(msg);
    let offset = 0;
    const sections: AMQPDescribed[] = [];
    while (offset < bytes.length) {
      const r = decodeAt(bytes, offset);
      assert.ok(r.value instanceof AMQPDescribed);
      sections.push(r.value);
      offset = r.offset;
    }
    const codes = sections.map((s) => Number((s.descriptor as AMQPuLong).value));
    assert.deepEqual(codes, [0x70, 0x72, 0x73, 0x74, 0x77]);
    assert.equal(sections[4]!.value, "hello");
    const back = (
      rhea as unknown as { message: { decode(b: Buffer): Record<string, unknown> } }
    ).message.decode(Buffer.concat(sections.map((s) => encode(s))));
    assert.equal(back["message_id"], "id-1");
    assert.equal(back["body"], "hello");
    assert.deepEqual(back["application_properties"], { a: 1, b: "two" });
  });
});

describe("rhea differential: known rhea limitations (docs/codec.md)", () => {
  it("a ulong or long beyond 2^53 decodes in rhea as a raw 8-byte Buffer", () => {
    const ulong = rheaDecode(encode(new AMQPuLong(2n ** 60n)));
    assert.ok(Buffer.isBuffer(ulong.value));
    const long = rheaDecode(encode(-(2n ** 60n)));
    assert.ok(Buffer.isBuffer(long.value));
  });

  it("rhea writes and reads symbols as ASCII: non-ASCII symbols are mangled both ways", () => {
    const inRhea = rheaDecode(encode(new AMQPSymbol("é")));
    assert.notEqual(inRhea.value, "é");
    // rhea writes "é" as the single byte 0xe9, which is not UTF-8: we refuse it.
    assert.equal(rheaEncode(types["wrap_symbol"]("é")).toString("hex"), "a301e9");
    assert.throws(() => decode(rheaEncode(types["wrap_symbol"]("é"))), { name: "DecodeError" });
  });

  it("rhea's generic wrap maps JS numbers differently: positive → uint, -0 → int 0, NaN → null", () => {
    const wrap = (x: unknown): string => rheaEncode(types["wrap"](x)).toString("hex");
    assert.equal(wrap(5), "5205");
    assert.equal(Buffer.from(encode(5)).toString("hex"), "5405");
    assert.equal(wrap(-0), "5400");
    assert.equal(Buffer.from(encode(-0)).toString("hex"), "828000000000000000");
    assert.equal(wrap(NaN), "40");
  });

  it("rhea's unwrap turns maps into plain objects: non-string keys are stringified", () => {
    const bytes = encode(
      new Map<AMQPValue, AMQPValue>([
        [1, "a"],
        [true, "b"],
      ]),
    );
    assert.deepEqual(types["unwrap"](rheaDecode(bytes)), { "1": "a", true: "b" });
    assert.ok(decode(bytes) instanceof Map);
  });

  it("rhea keeps only the outer descriptor of a described value whose value is described", () => {
    const nested = new AMQPDescribed(new AMQPuLong(1), new AMQPDescribed(new AMQPuLong(2), "x"));
    const back = fromRhea(rheaDecode(encode(nested)));
    assert.ok(!amqpEquals(back, nested));
    assert.ok(amqpEquals(back, new AMQPDescribed(new AMQPuLong(1), "x")));
  });

  it("rhea decodes char as a number and uuid and decimals as raw Buffers", () => {
    assert.equal(rheaDecode(encode(new AMQPChar("😀"))).value, 0x1f600);
    assert.ok(Buffer.isBuffer(rheaDecode(encode(AMQPUuid.random())).value));
  });

  it("rhea's reader trusts sizes: a 4 GiB vbin32 decodes as an empty Buffer, invalid UTF-8 is replaced", () => {
    assert.equal((rheaDecode(Buffer.from("b0ffffffff", "hex")).value as Buffer).length, 0);
    assert.equal(rheaDecode(Buffer.from("a102c328", "hex")).value, "\ufffd(");
    assert.throws(() => rheaDecode(Buffer.from("d0ffffffffffffffff", "hex")), RangeError);
    assert.throws(() => decode(Buffer.from("b0ffffffff", "hex")), { name: "DecodeError" });
  });
});
