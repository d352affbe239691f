/**
 * Shared access signature tokens, as Azure services check them:
 * `SharedAccessSignature sr=<url-encoded resource>&sig=<url-encoded base64 HMAC-SHA256>&se=<expiry s>&skn=<key name>`,
 * where the signature is computed over `"<sr>\n<se>"` (sr exactly as it appears in the token) with
 * the key's UTF-8 bytes.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const PREFIX = "SharedAccessSignature ";

/** The fields of a SAS token. */
export interface SasToken {
  /** The resource, as it appears in the token (URL-encoded). */
  readonly sr: string;
  /** The resource URL-decoded. */
  readonly resource: string;
  /** The signature, URL-decoded (base64). */
  readonly sig: string;
  /** Expiry in seconds since the epoch. */
  readonly se: number;
  /** The key name. */
  readonly skn: string;
}

/** Whether `token` is a SAS token (by its prefix). */
export function isSasToken(token: string): boolean {
  return token.startsWith(PREFIX);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A key name as clients encode it: form encoding, where `+` stands for a space (uamqp and the
 * Azure SDKs `quote_plus` the key name; a literal `+` arrives as `%2B`).
 */
function decodeKeyName(s: string): string {
  return decode(s.replace(/\+/g, " "));
}

/** Parses a SAS token; undefined when a field is missing or malformed. */
export function parseSasToken(token: string): SasToken | undefined {
  if (!isSasToken(token)) return undefined;
  const fields = new Map<string, string>();
  for (const part of token.slice(PREFIX.length).trim().split("&")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const sr = fields.get("sr");
  const sig = fields.get("sig");
  const se = fields.get("se");
  const skn = fields.get("skn");
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined) return undefined;
  if (!/^\d+$/.test(se)) return undefined;
  return { sr, resource: decode(sr), sig: decode(sig), se: Number(se), skn: decodeKeyName(skn) };
}

/** Signs `"<sr>\n<se>"` with `key` (what a valid token's `sig` holds, before URL encoding). */
export function sasSignature(sr: string, se: number, key: string): string {
  return createHmac("sha256", Buffer.from(key, "utf8")).update(`${sr}\n${se}`, "utf8").digest("base64");
}

/** Why a token was refused, or its expiry. */
export type SasVerdict =
  { readonly ok: true; readonly expiresAtMs: number } | { readonly ok: false; readonly reason: string };

/** Checks a parsed token's key, signature and expiry. */
export function verifySasToken(
  token: SasToken,
  keys: Readonly<Record<string, string>>,
  nowMs: number,
): SasVerdict {
  if (!Object.hasOwn(keys, token.skn)) return { ok: false, reason: `unknown key name '${token.skn}'` };
  const expected = Buffer.from(sasSignature(token.sr, token.se, keys[token.skn]!), "utf8");
  const given = Buffer.from(token.sig, "utf8");
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: "the token signature is invalid" };
  }
  const expiresAtMs = token.se * 1000;
  if (expiresAtMs <= nowMs) return { ok: false, reason: "the token has expired" };
  return { ok: true, expiresAtMs };
}
