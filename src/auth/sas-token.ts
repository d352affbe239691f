/**
 * Shared access signature (SAS) tokens, the way uamqp makes them (`uamqp.utils.create_sas_token`,
 * which calls the C library's `SASToken_Create`):
 *
 *   `SharedAccessSignature sr=<scope>&sig=<signature>&se=<expiry>&skn=<key name>`
 *
 * - `se` is the expiry in whole seconds since the epoch: `floor(now / 1000) + floor(expiry / 1000)`.
 * - the signature is HMAC-SHA256 over `<scope>\n<se>` keyed with the shared access key's bytes (the key
 *   string's UTF-8 bytes, not its base64 decoding), base64-encoded, then URL-encoded with lowercase hex
 *   escapes (`+` → `%2b`, `/` → `%2f`, `=` → `%3d`), as the C library does.
 * - scope and key name are inserted as given: callers encode them ({@link quotePlus}, as uamqp does).
 */
import { createHmac } from "node:crypto";
import { asBuffer } from "../util/buffer-view.js";

const PREFIX = "SharedAccessSignature ";

/** Default lifetime of a token made from a shared access key: one hour (uamqp's `AUTH_EXPIRATION_SECS`). */
export const DEFAULT_SAS_EXPIRY_MS = 3_600_000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Bytes left as they are by Python's `urllib.parse.quote_plus` (letters, digits, `_.-~`). */
function quotePlusSafe(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x5f ||
    byte === 0x2e ||
    byte === 0x2d ||
    byte === 0x7e
  );
}

/**
 * Python's `urllib.parse.quote_plus(s)` (what uamqp applies to the URI and the key name before
 * signing): UTF-8, space → `+`, every byte except letters, digits and `_.-~` → `%XX` (uppercase hex).
 * It differs from `encodeURIComponent` for space and `!'()*`.
 * @throws {TypeError} when `s` holds a lone UTF-16 surrogate (it has no UTF-8 form; Python refuses it too).
 * @internal
 */
export function quotePlus(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError("quotePlus: the string holds a lone UTF-16 surrogate");
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    if (quotePlusSafe(byte)) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The C library's URL encoding of a base64 signature: only `+`, `/` and `=` occur, lowercase hex. */
function encodeSignature(base64: string): string {
  return base64.replace(/[+/=]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

function keyBytes(key: string | Uint8Array, what: string): Buffer {
  if (typeof key === "string") {
    if (LONE_SURROGATE.test(key)) throw new TypeError(`${what}: the key holds a lone UTF-16 surrogate`);
    return Buffer.from(key, "utf8");
  }
  if (key instanceof Uint8Array) return asBuffer(key);
  throw new TypeError(`${what}: the key must be a string or a Uint8Array, got ${typeof key}`);
}

/**
 * Builds a SAS token expiring at `se` (seconds since the epoch). Validates like {@link createSASToken}.
 * @internal
 */
export function sasTokenAt(keyName: string, key: string | Uint8Array, scope: string, se: number): string {
  const what = "createSASToken";
  if (typeof keyName !== "string" || keyName === "") {
    throw new TypeError(`${what}: keyName must be a non-empty string`);
  }
  if (typeof scope !== "string" || scope === "")
    throw new TypeError(`${what}: scope must be a non-empty string`);
  const bytes = keyBytes(key, what);
  // The C library refuses an empty key ("Failed to create SAS token"); so do we.
  if (bytes.length === 0) throw new TypeError(`${what}: the key is empty`);
  const signature = createHmac("sha256", bytes).update(`${scope}\n${se}`, "utf8").digest("base64");
  return `${PREFIX}sr=${scope}&sig=${encodeSignature(signature)}&se=${se}&skn=${keyName}`;
}

/**
 * Checks an expiry given in milliseconds and returns it in whole seconds (uamqp's lifetimes are
 * whole seconds: the fraction is dropped).
 * @internal
 */
export function expirySeconds(expiry: number, what: string): number {
  if (typeof expiry !== "number" || !Number.isFinite(expiry) || expiry < 1000) {
    throw new RangeError(
      `${what}: expiry must be a finite number of milliseconds >= 1000, got ${String(expiry)}`,
    );
  }
  return Math.floor(expiry / 1000);
}

/**
 * Creates a shared access signature token (uamqp's `utils.create_sas_token`): byte for byte the
 * token uamqp makes for the same arguments at the same second.
 *
 * @param keyName - the key (policy) name, e.g. `RootManageSharedAccessKey`, inserted as given: encode
 *   it if it holds characters other than letters, digits and `_.-~`
 * @param key - the shared access key. A string (as Azure shows it) is used as its UTF-8 bytes, not
 *   base64-decoded; a `Uint8Array` is used as the raw HMAC key bytes
 * @param scope - the resource URI, already URL-encoded (uamqp: `quote_plus(uri)`;
 *   `encodeURIComponent(uri)` gives the same result unless the URI holds a space or one of `!'()*`)
 * @param expiry - lifetime in milliseconds (whole seconds count; at least 1000).
 *   @defaultValue 3 600 000 (one hour)
 * @returns `SharedAccessSignature sr=<scope>&sig=<signature>&se=<expiry s>&skn=<keyName>`
 * @throws {TypeError} for an empty key name, scope or key, or a key that is neither a string nor bytes.
 * @throws {RangeError} for an expiry below one second or not finite.
 *
 * Unlike uamqp, an expiry of a day or more is kept whole (uamqp used `timedelta.seconds`, which
 * drops whole days: its 25-hour token lives one hour).
 *
 * @example
 * ```ts
 * const token = createSASToken(
 *   "RootManageSharedAccessKey",
 *   process.env.SB_KEY!,
 *   encodeURIComponent("sb://ns.servicebus.windows.net/orders"),
 *   30 * 60_000,
 * );
 * ```
 */
export function createSASToken(
  keyName: string,
  key: string | Uint8Array,
  scope: string,
  expiry: number = DEFAULT_SAS_EXPIRY_MS,
): string {
  const seconds = expirySeconds(expiry, "createSASToken");
  return sasTokenAt(keyName, key, scope, Math.floor(Date.now() / 1000) + seconds);
}

/**
 * The expiry of a SAS token (its `se` field) in milliseconds since the epoch; undefined when the
 * token has no such field.
 * @internal
 */
export function sasTokenExpiresAtMs(token: string): number | undefined {
  const body = token.startsWith(PREFIX) ? token.slice(PREFIX.length) : token;
  for (const part of body.trim().split("&")) {
    if (part.startsWith("se=")) {
      const value = part.slice(3);
      return /^\d{1,15}$/.test(value) ? Number(value) * 1000 : undefined;
    }
  }
  return undefined;
}
