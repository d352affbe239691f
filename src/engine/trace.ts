/**
 * The network trace (uamqp's `debug=True`): one line per frame in and out, the performative
 * summarised, secrets redacted (the SASL initial response and responses are never shown, and a
 * transfer's payload is shown as its size only: a `$cbs` put-token carries the token in its body).
 * Fields whose values are the names of AMQP 1.0 restricted types are shown by those names
 * (`role=receiver`, `sndSettleMode=settled`, SASL `code=auth`). Where a line goes, with its time and
 * connection id, is up to the sink (`frameTrace` in `util/log.ts`).
 */
import { AMQPSymbol } from "../codec/values.js";
import { PerformativeName } from "../frames/performatives.js";
import type { ProtocolHeader } from "../frames/protocol-header.js";

/** Receives trace lines. */
export type TraceSink = (line: string) => void;

const MAX_VALUE_CHARS = 120;

/**
 * Field names whose values are restricted types with named choices (AMQP 1.0 §2.8.3 role, §2.8.2
 * sender-settle-mode, §2.8.3 receiver-settle-mode, §3.5.5 terminus-durability), by value.
 */
const NAMED_VALUES: Record<string, readonly string[]> = {
  sndSettleMode: ["unsettled", "settled", "mixed"],
  rcvSettleMode: ["first", "second"],
  durable: ["none", "configuration", "unsettled-state"],
};

/** sasl-code names (AMQP 1.0 §5.3.3.6), by value. */
const SASL_CODES: readonly string[] = ["ok", "auth", "sys", "sys-perm", "sys-temp"];

/** `v`, a field named `key`, by the name of its value where it has one. */
function showField(key: string, v: unknown): string {
  if (key === "role" && typeof v === "boolean") return v ? "receiver" : "sender";
  const names = NAMED_VALUES[key];
  if (names !== undefined && typeof v === "number") return names[v] ?? String(v);
  return show(v);
}

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
      parts.push(`${k}=${showField(k, x)}`);
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
  } else if (code === 0x44 && fields) {
    // sasl-outcome: the code by name; additional-data may hold mechanism data, shown by size only.
    const f = fields as { code?: number; additionalData?: Uint8Array };
    const name = f.code === undefined ? "" : (SASL_CODES[f.code] ?? String(f.code));
    body = `{code=${name}${f.additionalData !== undefined ? ` additionalData=${show(f.additionalData)}` : ""}}`;
  } else {
    body = fields ? show(fields) : "";
  }
  const payload = payloadBytes > 0 ? ` +${payloadBytes}B` : "";
  return `${direction} [${name}] ch=${channel} ${body}${payload}`;
}

/** Protocol names by protocol id (AMQP 1.0 §2.2, §5.2.1, §5.3.1). */
const PROTOCOLS: Record<number, string> = { 0: "AMQP", 2: "TLS", 3: "SASL" };

/** Formats one protocol-header line, e.g. `-> [HEADER] SASL 1.0.0`. */
export function traceHeaderLine(direction: "->" | "<-", h: ProtocolHeader): string {
  return `${direction} [HEADER] ${PROTOCOLS[h.id] ?? `id=${h.id}`} ${h.major}.${h.minor}.${h.revision}`;
}
