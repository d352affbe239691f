/**
 * The URI handling the auth module needs: a URL with a host, a host ready for a URL, user info read
 * as uamqp reads it, and a URI safe to show (password masked) or to sign (user info removed).
 */
import { REDACTED } from "./amqp-auth.js";

/** `text` parsed as a URL that names a host (IPv6 without brackets); undefined otherwise. */
export function urlWithHost(text: string): { readonly url: URL; readonly host: string } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return host === "" ? undefined : { url, host };
}

/** `host` as it goes into a URL: IPv6 literals in brackets. */
export function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Python's `unquote_plus` (uamqp reads user info with it): `+` is a space; bad escapes kept. */
export function unquotePlus(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/**
 * A URI for messages and inspection, with its password masked. Everything between `://` and the
 * last `@` counts as user info, so a malformed password (holding `/` or `@`) is masked too; the
 * price is an odd rendering of a URI with `@` in its path, never a leak.
 */
export function maskUri(uri: string): string {
  const schemeEnd = uri.indexOf("://");
  const start = schemeEnd < 0 ? 0 : schemeEnd + 3;
  const at = uri.lastIndexOf("@");
  if (at < start) return uri;
  const colon = uri.indexOf(":", start);
  if (colon < 0 || colon > at) return uri;
  return `${uri.slice(0, colon)}:${REDACTED}${uri.slice(at)}`;
}

/** `uri` without `user:password@`. */
export function withoutUserInfo(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1");
}
