/**
 * Loads the byte-exact AMQP 1.0 vectors (test/fixtures/amqp10-vectors.jsonl, copied from the
 * project's shared spec folder) and converts their typed-value notation to our JS values.
 */
import { readFileSync } from "node:fs";
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
  type AMQPArrayElementType,
  type AMQPValue,
} from "../../src/codec/index.js";

export interface Vector {
  name: string;
  type: string;
  value: unknown;
  hex: string;
  encoding?: string;
  note?: string;
}

export function loadVectors(): Vector[] {
  const text = readFileSync(new URL("../fixtures/amqp10-vectors.jsonl", import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Vector);
}

function big(v: unknown): bigint {
  if (typeof v === "number") return BigInt(v);
  return BigInt((v as { bigint: string }).bigint);
}

function num(v: unknown): number {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (v === "-0") return -0;
  return v as number;
}

/** Converts a payload of the given AMQP type to our canonical JS value. */
export function fromPayload(type: string, p: unknown): AMQPValue {
  switch (type) {
    case "null":
      return null;
    case "boolean":
      return p as boolean;
    case "ubyte":
      return new AMQPuByte(p as number);
    case "ushort":
      return new AMQPuShort(p as number);
    case "uint":
      return new AMQPuInt(p as number);
    case "ulong":
      return new AMQPuLong(big(p));
    case "byte":
      return new AMQPByte(p as number);
    case "short":
      return new AMQPShort(p as number);
    case "int":
      return p as number;
    case "long":
      return big(p);
    case "float":
      return new AMQPFloat(num(p));
    case "double":
      return new AMQPDouble(num(p));
    case "decimal32":
      return new AMQPDecimal32(Buffer.from(p as string, "hex"));
    case "decimal64":
      return new AMQPDecimal64(Buffer.from(p as string, "hex"));
    case "decimal128":
      return new AMQPDecimal128(Buffer.from(p as string, "hex"));
    case "char":
      return new AMQPChar(p as string);
    case "timestamp":
      return new Date(Number(big(p)));
    case "uuid":
      return new AMQPUuid(p as string);
    case "binary":
      return Buffer.from(p as string, "hex");
    case "string":
      return p as string;
    case "symbol":
      return new AMQPSymbol(p as string);
    case "list":
      return (p as unknown[]).map(fromTyped);
    case "map":
      return new Map((p as [unknown, unknown][]).map(([k, v]) => [fromTyped(k), fromTyped(v)]));
    case "array": {
      const a = p as { type: string; elements: unknown[] };
      return new AMQPArray(
        a.type as AMQPArrayElementType,
        a.elements.map((e) => fromPayload(a.type, e)),
      );
    }
    case "described": {
      const d = p as { descriptor: unknown; value: unknown };
      return new AMQPDescribed(fromTyped(d.descriptor), fromTyped(d.value));
    }
    default:
      throw new Error(`unknown vector type ${type}`);
  }
}

/** Converts a typed value `{ "<type>": payload }` to our JS value. */
export function fromTyped(t: unknown): AMQPValue {
  const obj = t as Record<string, unknown>;
  const key = Object.keys(obj).find((k) => k !== "@encoding")!;
  return fromPayload(key, obj[key]);
}

/** True if the vector (or anything nested in it) uses a non-smallest encoding. */
export function usesAlternativeEncoding(v: Vector): boolean {
  return (
    JSON.stringify(v.value).includes("@encoding") ||
    /alternative|also valid|may use a compact/i.test(v.note ?? "") ||
    (["list32", "map32", "array32", "str32-utf8", "sym32", "vbin32"].includes(v.encoding ?? "") &&
      v.hex.length < 2 * 256) ||
    v.name.includes("list32") ||
    v.name.includes("1byte") ||
    v.name === "list-empty-list8"
  );
}
