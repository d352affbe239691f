/**
 * The URL parser behind {@link Address} (internal). A plain RFC 3986 split, like Python's
 * `urlparse` that uamqp uses: no WHATWG normalisation of the path, the port kept even when it is the
 * scheme default, the userinfo split at the last `@` of the authority and at its first `:`.
 */
import { InvalidAddressError } from "./address-error.js";
import { DEFAULT_PORTS, type AddressScheme } from "./terminus-types.js";

/** The pieces of a parsed address URL. */
export interface ParsedAddressUrl {
  readonly scheme: AddressScheme;
  /** Lower-cased host; an IPv6 literal without its brackets. */
  readonly hostname: string;
  /** True when the host was an IPv6 literal (`[::1]`). */
  readonly ipv6: boolean;
  readonly port: number | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** The path as written (still percent-encoded), starting with `/`. */
  readonly path: string;
  /** The query string without `?` ("" when none). */
  readonly query: string;
  /** The URL with the password replaced by `***` (everything before the last `@` when the userinfo is ambiguous). */
  readonly masked: string;
}

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/s;
const PCT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const SCHEMES = new Set<string>(Object.keys(DEFAULT_PORTS));

/**
 * Decodes `%XX` escapes (runs of them as UTF-8). Malformed escapes are kept as written, and `+`
 * stays `+` (uamqp's client used `unquote_plus`, which turns `+` into a space).
 */
export function percentDecode(s: string): string {
  return s.replace(PCT_RUN, (run) => Buffer.from(run.replace(/%/g, ""), "hex").toString("utf8"));
}

/**
 * A version of `input` safe to show in an error message when it could not be parsed: everything
 * up to the last `@` (where a password could be) is replaced by `***`.
 */
export function redactUnparsed(input: string): string {
  const at = input.lastIndexOf("@");
  return at < 0 ? input : `***${input.slice(at)}`;
}

function fail(shown: string, why: string, reason: InvalidAddressError["reason"]): never {
  throw new InvalidAddressError(`Invalid address "${shown}": ${why}`, reason);
}

/**
 * Parses an `amqp://`, `amqps://`, `ws://` or `wss://` URL.
 * @throws {InvalidAddressError} not a URL, unsupported scheme, no host, bad port, no path.
 */
export function parseAddressUrl(input: string): ParsedAddressUrl {
  if (typeof input !== "string") {
    throw new InvalidAddressError(`Invalid address: expected a string, got ${typeof input}`, "not-a-url");
  }
  const text = input.trim();
  const m = URL_SHAPE.exec(text);
  if (!m) {
    fail(
      redactUnparsed(text),
      "not a URL (expected scheme://host/path; use Address.node(name) for a bare node name)",
      "not-a-url",
    );
  }
  const rawScheme = m[1]!;
  const authority = m[2]!;
  const path = m[3]!;
  const query = m[4] ?? "";

  const at = authority.lastIndexOf("@");
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const hostport = authority.slice(at + 1);
  const colon = userinfo === undefined ? -1 : userinfo.indexOf(":");
  const rawUser = userinfo === undefined ? undefined : colon < 0 ? userinfo : userinfo.slice(0, colon);
  const rawPassword = userinfo === undefined || colon < 0 ? undefined : userinfo.slice(colon + 1);
  const afterAuthority = text.slice(rawScheme.length + 3 + authority.length);
  // An "@" after the authority may mean a password with an unencoded "/": hide all before it.
  const suspicious = userinfo === undefined && afterAuthority.includes("@");
  const masked = suspicious
    ? redactUnparsed(text)
    : rawPassword === undefined || rawPassword === ""
      ? text
      : `${rawScheme}://${rawUser ?? ""}:***@${hostport}${afterAuthority}`;

  const scheme = rawScheme.toLowerCase();
  if (!SCHEMES.has(scheme)) {
    fail(masked, `unsupported scheme "${rawScheme}" (expected amqp, amqps, ws or wss)`, "unsupported-scheme");
  }

  let host: string;
  let portText: string | undefined;
  let ipv6 = false;
  if (hostport.startsWith("[")) {
    const close = hostport.indexOf("]");
    if (close < 0) fail(masked, "unterminated IPv6 literal in the host", "no-host");
    host = hostport.slice(1, close);
    ipv6 = true;
    const rest = hostport.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) fail(masked, "unexpected text after the IPv6 host", "no-host");
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const c = hostport.indexOf(":");
    host = c < 0 ? hostport : hostport.slice(0, c);
    portText = c < 0 ? undefined : hostport.slice(c + 1);
  }
  if (host === "") fail(masked, "it has no host", "no-host");
  if (/[\s<>"\\^`{|}]/.test(host)) fail(masked, "the host contains invalid characters", "no-host");

  let port: number | undefined;
  if (portText !== undefined && portText !== "") {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port <= 65535))
      fail(masked, suspicious ? "invalid port" : `invalid port "${portText}"`, "invalid-port");
  }
  if (path === "") fail(masked, "it has no path (the node name)", "no-path");

  const username = rawUser === undefined || rawUser === "" ? undefined : percentDecode(rawUser);
  const password = rawPassword === undefined || rawPassword === "" ? undefined : percentDecode(rawPassword);
  return {
    scheme: scheme as AddressScheme,
    hostname: host.toLowerCase(),
    ipv6,
    port,
    username,
    password,
    path,
    query,
    masked,
  };
}
