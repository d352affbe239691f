/**
 * Endpoint formatting for descriptions and error messages (never with credentials).
 */
import { isIP } from "node:net";

/** @internal `host:port`, with IPv6 literals in brackets. */
export function formatHostPort(host: string | undefined, port: number | undefined): string {
  const h = host ?? "?";
  const shown = isIP(h) === 6 ? `[${h}]` : h;
  return port === undefined ? shown : `${shown}:${port}`;
}

/** @internal A URL without user info, query or fragment (they may carry secrets). */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** @internal The host of a URL without IPv6 brackets. */
export function urlHostname(url: URL): string {
  const h = url.hostname;
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}
