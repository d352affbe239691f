/**
 * Node addresses as the broker sees them: bare names (`q1`) and uamqp-style URLs
 * (`amqps://host/q1`, `sb://ns.servicebus.windows.net/q1`) name the same queue (`q1`).
 */

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The queue name of an address: for a URL, its path without the leading slash (query and fragment
 * dropped, percent-escapes decoded); otherwise the address itself without leading slashes.
 *
 * @example
 * ```ts
 * normalizeAddress("amqps://localhost:5671/orders"); // "orders"
 * normalizeAddress("orders"); // "orders"
 * ```
 */
export function normalizeAddress(address: string): string {
  if (!SCHEME.test(address)) return address.replace(/^\/+/, "");
  const afterScheme = address.slice(address.indexOf("://") + 3);
  const slash = afterScheme.indexOf("/");
  if (slash < 0) return "";
  let path = afterScheme.slice(slash + 1);
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  try {
    path = decodeURIComponent(path);
  } catch {
    // Keep the raw path when it holds a malformed escape.
  }
  return path.replace(/^\/+/, "");
}

/** The string form of an address field (terminus addresses are usually strings, sometimes symbols or binary). */
export function addressText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString();
  if (typeof value === "object" && "value" in value) {
    const inner: unknown = value.value;
    if (typeof inner === "string") return inner;
  }
  return undefined;
}

/**
 * Whether a token scope (a normalized resource path) grants access to `address` (a queue name):
 * an empty scope covers everything, otherwise the scope must equal the address or be one of its
 * parent paths. Comparison ignores case, as Azure entity names do.
 */
export function scopeCovers(scope: string, address: string): boolean {
  const s = scope.replace(/\/+$/, "").toLowerCase();
  if (s === "") return true;
  const a = address.toLowerCase();
  return a === s || a.startsWith(`${s}/`);
}

/** The dead-letter sub-queue of `queue`. */
export function deadLetterAddress(queue: string): string {
  return `${queue}/$deadletter`;
}

/** Whether `name` is a dead-letter sub-queue. */
export function isDeadLetterAddress(name: string): boolean {
  return name.endsWith("/$deadletter");
}
