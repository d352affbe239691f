/**
 * Reading the `info` map of `amqp:link:redirect` / `amqp:connection:redirect` errors (AMQP 1.0
 * §2.8.16, §2.8.18): `hostname`, `network-host`, `port`, and for links `address`, `scheme`, `path`.
 */
import { asBuffer } from "../util/buffer-view.js";

/** Where a redirect error sends the client. Every field is optional: peers send what they know. */
export interface RedirectInfo {
  /** `hostname`: the DNS name of the host to use in the OPEN (virtual host). */
  readonly hostname: string | undefined;
  /** `network-host`: the DNS name or IP address to open the TCP connection to. */
  readonly networkHost: string | undefined;
  /** `port`: the TCP port to connect to. */
  readonly port: number | undefined;
  /** `address`: the node address to attach to (link redirect). */
  readonly address: string | undefined;
  /** `scheme`: the URI scheme, e.g. `amqps` (Azure extension). */
  readonly scheme: string | undefined;
  /** `path`: the path of the redirected address (Azure extension). */
  readonly path: string | undefined;
}

const KEYS = ["hostname", "network-host", "port", "address", "scheme", "path"] as const;
type Key = (typeof KEYS)[number];

/** A map key as a plain string: strings, JS symbols (by description), AMQP symbols, UTF-8 bytes. */
function keyName(key: unknown): string | undefined {
  if (typeof key === "string") return key;
  if (typeof key === "symbol") return key.description;
  if (key instanceof Uint8Array) return asBuffer(key).toString("utf8");
  if (typeof key === "object" && key !== null && "value" in key) {
    const v: unknown = key.value;
    if (typeof v === "string") return v;
  }
  return undefined;
}

/** A map value unwrapped to a string or number: AMQP type wrappers (`.value`), bigint, UTF-8 bytes. */
function scalar(value: unknown, depth = 0): string | number | undefined {
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) {
    return asBuffer(value).toString("utf8");
  }
  if (depth < 2 && typeof value === "object" && value !== null && "value" in value) {
    return scalar(value.value, depth + 1);
  }
  return undefined;
}

function entries(info: unknown): Iterable<readonly [unknown, unknown]> {
  if (info instanceof Map) return info as Map<unknown, unknown>;
  if (typeof info === "object" && info !== null) {
    const obj = info as Record<PropertyKey, unknown>;
    return Reflect.ownKeys(obj).map((k) => [k, obj[k]] as const);
  }
  return [];
}

function asString(v: string | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === "number" ? String(v) : v;
}

function asPort(v: string | number | undefined): number | undefined {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

/**
 * Reads the redirect fields from an error's `info`: a plain object or a `Map`, whose keys may be
 * strings, JS symbols, AMQP symbols (`AMQPSymbol`) or UTF-8 bytes, and whose values may be strings,
 * numbers, bigints or AMQP type wrappers (`AMQPuShort`, `AMQPSymbol`, …). Unreadable values are
 * left `undefined`; a port outside 0–65535 is ignored.
 *
 * @example
 * ```ts
 * parseRedirectInfo({ hostname: "h2.example.net", "network-host": "10.0.0.7", port: 5671 });
 * // { hostname: "h2.example.net", networkHost: "10.0.0.7", port: 5671, address: undefined, ... }
 * ```
 */
export function parseRedirectInfo(info: unknown): RedirectInfo {
  const found = new Map<Key, string | number>();
  for (const [k, v] of entries(info)) {
    const name = keyName(k);
    if (name === undefined || !(KEYS as readonly string[]).includes(name)) continue;
    const value = scalar(v);
    if (value !== undefined && !found.has(name as Key)) found.set(name as Key, value);
  }
  return {
    hostname: asString(found.get("hostname")),
    networkHost: asString(found.get("network-host")),
    port: asPort(found.get("port")),
    address: asString(found.get("address")),
    scheme: asString(found.get("scheme")),
    path: asString(found.get("path")),
  };
}
