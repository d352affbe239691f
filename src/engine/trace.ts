/**
 * The network trace (uamqp's `debug=True`): one line per frame in and out, the performative
 * summarised, secrets redacted (the SASL initial response is never shown).
 */
import { AMQPSymbol } from "../codec/values.js";
import { PerformativeName } from "../frames/performatives.js";

/** Receives trace lines. */
export type TraceSink = (line: string) => void;

const MAX_VALUE_CHARS = 120;

function show(v: unknown): string {
  if (v === undefined) return "";
  if (v === null) return "null";
  if (typeof v === "string")
    return JSON.stringify(v.length > MAX_VALUE_CHARS ? v.slice(0, MAX_VALUE_CHARS) + "…" : v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof AMQPSymbol) return `:${v.value}`;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(show).join(",")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("type" in o && typeof o["type"] === "string" && Object.keys(o).length === 1) return o["type"];
    const parts: string[] = [];
    for (const [k, x] of Object.entries(o)) {
      if (x === undefined) continue;
      parts.push(`${k}=${show(x)}`);
    }
    const s = `{${parts.join(" ")}}`;
    return s.length > 400 ? s.slice(0, 400) + "…}" : s;
  }
  return "?";
}

/** Formats one frame line, e.g. `-> [ATTACH] ch=0 {name="x" handle=0 …}`. */
export function traceLine(
  direction: "->" | "<-",
  code: number | undefined,
  channel: number,
  fields: object | undefined,
  payloadBytes: number,
): string {
  if (code === undefined) return `${direction} [EMPTY]`;
  const name = PerformativeName[code] ?? `0x${code.toString(16)}`;
  let body: string;
  if (code === 0x41 && fields) {
    // sasl-init: never show the initial response (it holds the PLAIN password).
    const f = fields as { mechanism?: string; hostname?: string };
    body = `{mechanism=${show(f.mechanism)} initialResponse=<redacted>${f.hostname !== undefined ? ` hostname=${show(f.hostname)}` : ""}}`;
  } else if (code === 0x43) {
    body = "{response=<redacted>}";
  } else {
    body = fields ? show(fields) : "";
  }
  const payload = payloadBytes > 0 ? ` +${payloadBytes}B` : "";
  return `${direction} [${name}] ch=${channel} ${body}${payload}`;
}
