/**
 * Node addresses as the broker sees them: bare names (`q1`), paths (`/q1`) and uamqp-style URLs
 * (`amqps://host/q1`, `sb://ns.servicebus.windows.net/q1`) name the same queue (`q1`). Our clients
 * send the path of a URL and Python uamqp sends the whole URL (docs/addresses.md), so both forms
 * must meet here.
 */
import { isAddressUrl } from "../address/link-address.js";
import { asBuffer } from "../util/buffer-view.js";

/**
 * The queue name of an address: for a URL, its path (query and fragment dropped); otherwise the
 * address itself; in both cases without leading slashes and with percent-escapes decoded (a client
 * sends the URL's path as written).
 *
 * @example
 * ```ts
 * normalizeAddress("amqps://localhost:5671/orders"); // "orders"
 * normalizeAddress("/queue/orders"); // "queue/orders"
 * normalizeAddress("my%20queue"); // "my queue"
 * ```
 */
export function normalizeAddress(address: string): string {
  let path = address;
  if (isAddressUrl(address)) {
    const afterScheme = address.slice(address.indexOf("://") + 3);
    const slash = afterScheme.indexOf("/");
    if (slash < 0) return "";
    path = afterScheme.slice(slash + 1);
    const cut = path.search(/[?#]/);
    if (cut >= 0) path = path.slice(0, cut);
  }
  if (path.includes("%")) {
    try {
      path = decodeURIComponent(path);
    } catch {
      // Keep the raw name when it holds a malformed escape.
    }
  }
  return path.replace(/^\/+/, "");
}

/** The string form of an address field (terminus addresses are usually strings, sometimes symbols or binary). */
export function addressText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return asBuffer(value).toString();
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
