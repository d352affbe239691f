/**
 * Azure connection strings (`Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=…;
 * SharedAccessKey=…;EntityPath=…`): parsing, the host, port, scheme and SAS auth a client needs,
 * and the one path from a string to a client's address and options (the `fromConnectionString()`
 * constructors of `AMQPClient`, `SendClient` and `ReceiveClient`).
 * Keys are case-insensitive (as Azure treats them); values are kept as written (`+`, `/`, `=` intact).
 * The key and signature are not own properties of the parsed result, so logging it does not show them.
 */
import { inspect, type InspectOptionsStylized } from "node:util";
import { AMQPError } from "../errors/amqp-error.js";
import { checkOptions, type OptionNames } from "../util/options.js";
import { REDACTED, type AMQPAuth, type TransportOptions } from "./amqp-auth.js";
import { hostForUrl, urlWithHost } from "./uri.js";
import { SASTokenAuth, type CBSAuthOptions } from "./cbs-auth.js";
import type { TokenRetryPolicy, TokenRetryPolicyOptions } from "./token-retry-policy.js";

/** Which check a connection string failed (see {@link ConnectionStringError.reason}). */
export type ConnectionStringErrorReason =
  | "not-a-string"
  | "malformed-part"
  | "duplicate-key"
  | "no-endpoint"
  | "invalid-endpoint"
  | "invalid-value"
  | "incomplete-key"
  | "conflicting-credentials"
  | "no-credentials"
  | "entity-path-mismatch";

/**
 * A connection string that cannot be used. Code `AMQP_INVALID_CONNECTION_STRING`; `reason` tells
 * which check failed. The message names keys and positions, never a value that may be secret.
 *
 * @example
 * ```ts
 * try { parseConnectionString("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey"); }
 * catch (e) { if (e instanceof ConnectionStringError) console.log(e.reason); } // "malformed-part"
 * ```
 */
export class ConnectionStringError extends AMQPError {
  /** Always `"AMQP_INVALID_CONNECTION_STRING"`. */
  override readonly code: string = "AMQP_INVALID_CONNECTION_STRING";
  /** Which check failed. */
  readonly reason: ConnectionStringErrorReason;

  /**
   * @param message - what is wrong (never a secret value)
   * @param reason - which check failed
   */
  constructor(message: string, reason: ConnectionStringErrorReason) {
    super(message);
    this.reason = reason;
  }
}

/** A parsed connection string. */
export interface ConnectionStringProperties {
  /** `Endpoint`, as written (e.g. `sb://ns.servicebus.windows.net/`). */
  readonly endpoint: string;
  /** The endpoint's host (without brackets for IPv6). */
  readonly host: string;
  /** The endpoint's port, when it names one. */
  readonly port: number | undefined;
  /** `SharedAccessKeyName`. */
  readonly sharedAccessKeyName: string | undefined;
  /** `SharedAccessKey`, as written (a getter: not shown by inspect or JSON, not copied by spread). */
  readonly sharedAccessKey: string | undefined;
  /** `SharedAccessSignature`, a whole SAS token (a getter like `sharedAccessKey`). */
  readonly sharedAccessSignature: string | undefined;
  /** `EntityPath`: the queue, topic or event hub. */
  readonly entityPath: string | undefined;
  /** `UseDevelopmentEmulator=true`: the local emulator, plain TCP. @defaultValue false */
  readonly useDevelopmentEmulator: boolean;
  /** Other keys, as written, with their values. */
  readonly otherProperties: Readonly<Record<string, string>>;
}

/** The non-secret fields of {@link ConnectionStringProperties}. */
type PlainProperties = Omit<ConnectionStringProperties, "sharedAccessKey" | "sharedAccessSignature">;

/**
 * The parsed string. The key and signature are private fields behind prototype getters: readable
 * as properties, but not own properties, so `util.inspect` (even with `showHidden`), JSON and
 * spreading never show them.
 */
class ParsedConnectionString implements ConnectionStringProperties {
  readonly endpoint: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly sharedAccessKeyName: string | undefined;
  readonly entityPath: string | undefined;
  readonly useDevelopmentEmulator: boolean;
  readonly otherProperties: Readonly<Record<string, string>>;
  readonly #key: string | undefined;
  readonly #signature: string | undefined;

  constructor(plain: PlainProperties, key: string | undefined, signature: string | undefined) {
    this.endpoint = plain.endpoint;
    this.host = plain.host;
    this.port = plain.port;
    this.sharedAccessKeyName = plain.sharedAccessKeyName;
    this.entityPath = plain.entityPath;
    this.useDevelopmentEmulator = plain.useDevelopmentEmulator;
    this.otherProperties = plain.otherProperties;
    this.#key = key;
    this.#signature = signature;
    Object.freeze(this);
  }

  get sharedAccessKey(): string | undefined {
    return this.#key;
  }

  get sharedAccessSignature(): string | undefined {
    return this.#signature;
  }

  /** The fields with the key and signature shown as `<redacted>` when set. */
  #shown(): Record<string, unknown> {
    return {
      endpoint: this.endpoint,
      host: this.host,
      port: this.port,
      sharedAccessKeyName: this.sharedAccessKeyName,
      entityPath: this.entityPath,
      useDevelopmentEmulator: this.useDevelopmentEmulator,
      otherProperties: this.otherProperties,
      sharedAccessKey: this.#key === undefined ? undefined : REDACTED,
      sharedAccessSignature: this.#signature === undefined ? undefined : REDACTED,
    };
  }

  /** `util.inspect` shows the fields, the secrets redacted. */
  [inspect.custom](_depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    return `ConnectionStringProperties ${show(this.#shown(), options)}`;
  }
}

/** Canonical names of the keys this module knows, by lower-case name. */
const KNOWN_KEYS = new Map<string, string>(
  [
    "Endpoint",
    "SharedAccessKeyName",
    "SharedAccessKey",
    "SharedAccessSignature",
    "EntityPath",
    "UseDevelopmentEmulator",
  ].map((k) => [k.toLowerCase(), k]),
);

function parseEndpoint(endpoint: string): { host: string; port: number | undefined } {
  // Azure writes `sb://host/`; a bare host name is accepted as `sb://host`.
  const text = endpoint.includes("://") ? endpoint : `sb://${endpoint}`;
  const parsed = urlWithHost(text);
  if (parsed === undefined) {
    throw new ConnectionStringError(
      `Invalid connection string: Endpoint "${endpoint}" is not a URL with a host (e.g. sb://ns.servicebus.windows.net/)`,
      "invalid-endpoint",
    );
  }
  return { host: parsed.host, port: parsed.url.port === "" ? undefined : Number(parsed.url.port) };
}

/**
 * Parses an Azure connection string (uamqp's `parse_connection_string`, with checks uamqp lacked):
 * `Key=Value` parts separated by `;` (empty parts and surrounding spaces ignored), split at the first
 * `=` so base64 keys keep their `=`; keys case-insensitive; `Endpoint` required; a key name needs a
 * key and the reverse; a key and a `SharedAccessSignature` together are refused.
 *
 * @throws {ConnectionStringError} with `reason`: `not-a-string`, `malformed-part` (a part without
 *   `=` or with an empty key), `duplicate-key`, `no-endpoint`, `invalid-endpoint`, `invalid-value`
 *   (an empty value, or `UseDevelopmentEmulator` not `true`/`false`), `incomplete-key`,
 *   `conflicting-credentials`.
 *
 * @example
 * ```ts
 * const p = parseConnectionString(
 *   "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true",
 * );
 * p.host; // "127.0.0.1"
 * p.port; // 5672
 * p.useDevelopmentEmulator; // true
 * ```
 */
export function parseConnectionString(connectionString: string): ConnectionStringProperties {
  if (typeof connectionString !== "string") {
    throw new ConnectionStringError(
      `Invalid connection string: expected a string, got ${typeof connectionString}`,
      "not-a-string",
    );
  }
  const known = new Map<string, string>();
  const other: Record<string, string> = {};
  const seen = new Set<string>();
  const parts = connectionString.split(";");
  parts.forEach((raw, index) => {
    const part = raw.trim();
    if (part === "") return;
    const eq = part.indexOf("=");
    const key = eq < 0 ? "" : part.slice(0, eq).trim();
    if (key === "") {
      const why = eq < 0 ? "has no '='" : "has no key before '='";
      throw new ConnectionStringError(
        `Invalid connection string: part ${index + 1} ${why} (expected Key=Value parts separated by ';')`,
        "malformed-part",
      );
    }
    const lower = key.toLowerCase();
    if (seen.has(lower)) {
      throw new ConnectionStringError(`Invalid connection string: ${key} is given twice`, "duplicate-key");
    }
    seen.add(lower);
    const value = part.slice(eq + 1).trim();
    const canonical = KNOWN_KEYS.get(lower);
    if (canonical === undefined) {
      other[key] = value;
      return;
    }
    if (value === "") {
      throw new ConnectionStringError(`Invalid connection string: ${canonical} is empty`, "invalid-value");
    }
    known.set(canonical, value);
  });

  const endpoint = known.get("Endpoint");
  if (endpoint === undefined) {
    throw new ConnectionStringError("Invalid connection string: it has no Endpoint", "no-endpoint");
  }
  const { host, port } = parseEndpoint(endpoint);
  const emulator = known.get("UseDevelopmentEmulator")?.toLowerCase();
  if (emulator !== undefined && emulator !== "true" && emulator !== "false") {
    throw new ConnectionStringError(
      "Invalid connection string: UseDevelopmentEmulator must be true or false",
      "invalid-value",
    );
  }
  const keyName = known.get("SharedAccessKeyName");
  const key = known.get("SharedAccessKey");
  const signature = known.get("SharedAccessSignature");
  if ((keyName === undefined) !== (key === undefined)) {
    throw new ConnectionStringError(
      `Invalid connection string: ${keyName === undefined ? "SharedAccessKey" : "SharedAccessKeyName"} is given without ${keyName === undefined ? "SharedAccessKeyName" : "SharedAccessKey"}`,
      "incomplete-key",
    );
  }
  if (key !== undefined && signature !== undefined) {
    throw new ConnectionStringError(
      "Invalid connection string: give either SharedAccessKeyName and SharedAccessKey or SharedAccessSignature, not both",
      "conflicting-credentials",
    );
  }
  return new ParsedConnectionString(
    {
      endpoint,
      host,
      port,
      sharedAccessKeyName: keyName,
      entityPath: known.get("EntityPath"),
      useDevelopmentEmulator: emulator === "true",
      otherProperties: Object.freeze(other),
    },
    key,
    signature,
  );
}

/** Options of {@link authFromConnectionString}. */
export interface ConnectionStringAuthOptions extends CBSAuthOptions {
  /** The entity (queue, topic, event hub), when the string has no `EntityPath`; both must agree. */
  entityPath?: string | undefined;
  /** Lifetime of each token made from the key, in ms. @defaultValue 3600000 (one hour) */
  expiry?: number | undefined;
}

/** What a client needs to connect with a connection string (see {@link authFromConnectionString}). */
export interface ConnectionStringInfo {
  /** `amqp` for the development emulator, else `amqps` (`ws`/`wss` when the options ask for WebSocket). */
  readonly scheme: "amqp" | "amqps" | "ws" | "wss";
  /** The endpoint's host. */
  readonly host: string;
  /** The port connected to: the endpoint's, else 5672 for the emulator and 5671 otherwise. */
  readonly port: number;
  /** The entity path (`EntityPath` or the `entityPath` option), if any. */
  readonly entityPath: string | undefined;
  /** `scheme://host:port/entityPath`, the URL a client takes; undefined without an entity path. */
  readonly address: string | undefined;
  /** Whether the string named the development emulator. */
  readonly useDevelopmentEmulator: boolean;
  /** The SAS auth: from the key (a new token per refresh), or the string's `SharedAccessSignature`. */
  readonly auth: SASTokenAuth;
}

/** Percent-encodes what would end or break a URL path; Azure names (`$Default`, `/`) stay as written. */
function pathForUrl(entityPath: string): string {
  return entityPath.replace(/[\s#?%"<>\\^`{|}]/g, (c) => encodeURIComponent(c));
}

/**
 * The host, port, scheme, address and SAS auth of a connection string: what a client constructor
 * needs (`new SendClient(info.address!, { auth: info.auth })`). With `UseDevelopmentEmulator=true`
 * the connection is plain TCP (`amqp://`) to the endpoint's host and port (default 5672); otherwise
 * TLS (`amqps://`, default port 5671). The token audience is `sb://<host>/<entityPath>`, as Azure's
 * SDKs use. The options' transport settings (`tls`, `port`, WebSocket, proxy…) win over these.
 *
 * @throws {ConnectionStringError} for the reasons of {@link parseConnectionString}, `no-credentials`
 *   (neither a key nor a signature), `entity-path-mismatch` (`EntityPath` and `entityPath` differ).
 * @throws {TokenExpired} when the string's `SharedAccessSignature` has expired.
 *
 * @example
 * ```ts
 * const info = authFromConnectionString(process.env.SERVICEBUS_CONNECTION_STRING!, { entityPath: "orders" });
 * const sender = new SendClient(info.address!, { auth: info.auth });
 * ```
 */
export function authFromConnectionString(
  connectionString: string,
  options: ConnectionStringAuthOptions = {},
): ConnectionStringInfo {
  const p = parseConnectionString(connectionString);
  const { entityPath: optionPath, expiry, ...authOptions } = options;
  if (p.entityPath !== undefined && optionPath !== undefined && p.entityPath !== optionPath) {
    throw new ConnectionStringError(
      `Invalid connection string: its EntityPath "${p.entityPath}" differs from the entityPath option "${optionPath}"`,
      "entity-path-mismatch",
    );
  }
  const entityPath = p.entityPath ?? optionPath;
  const audience = `sb://${hostForUrl(p.host)}/${entityPath ?? ""}`;
  const transport: CBSAuthOptions = {
    tls: !p.useDevelopmentEmulator,
    ...(p.port !== undefined ? { port: p.port } : {}),
    ...authOptions,
  };
  let auth: SASTokenAuth;
  if (p.sharedAccessKeyName !== undefined && p.sharedAccessKey !== undefined) {
    auth = SASTokenAuth.fromSharedAccessKey(audience, p.sharedAccessKeyName, p.sharedAccessKey, {
      ...transport,
      ...(expiry !== undefined ? { expiry } : {}),
    });
  } else if (p.sharedAccessSignature !== undefined) {
    auth = new SASTokenAuth(audience, audience, p.sharedAccessSignature, transport);
  } else {
    throw new ConnectionStringError(
      "Invalid connection string: it has neither SharedAccessKeyName and SharedAccessKey nor SharedAccessSignature",
      "no-credentials",
    );
  }
  const port = auth.port;
  const scheme = auth.webSocket ? (auth.tls ? "wss" : "ws") : auth.tls ? "amqps" : "amqp";
  return {
    scheme,
    host: p.host,
    port,
    entityPath,
    address:
      entityPath === undefined
        ? undefined
        : `${scheme}://${hostForUrl(p.host)}:${port}/${pathForUrl(entityPath)}`,
    useDevelopmentEmulator: p.useDevelopmentEmulator,
    auth,
  };
}

// ---- clients from connection strings -------------------------------------------------------------

/** Token settings of a client made from a connection string (those of `SASTokenAuth`). */
export interface ConnectionStringTokenOptions {
  /** Lifetime of each token made from the key, in ms. @defaultValue 3600000 (one hour) */
  readonly expiry?: number | undefined;
  /** Refresh each token this many ms before it expires. @defaultValue 10 % of its lifetime */
  readonly refreshWindow?: number | undefined;
  /** Bound on one put-token, in ms. @defaultValue 10000 */
  readonly timeout?: number | undefined;
  /** Retries of a refused put-token. @defaultValue `{ retries: 3, backoff: 0 }` */
  readonly retryPolicy?: TokenRetryPolicy | TokenRetryPolicyOptions | undefined;
  /** The put-token `type`. @defaultValue "servicebus.windows.net:sastoken" */
  readonly tokenType?: string | undefined;
}
const CONNECTION_STRING_TOKEN_OPTIONS: OptionNames<ConnectionStringTokenOptions> = {
  expiry: true,
  refreshWindow: true,
  timeout: true,
  retryPolicy: true,
  tokenType: true,
};

/**
 * What the `fromConnectionString()` constructors add to a client's options (which then have no
 * `auth`: the connection string gives it; the `transport` option applies to it).
 */
export interface ConnectionStringOptions {
  /** The entity (queue, topic, event hub) when the string has no `EntityPath`; both must agree. */
  readonly entityPath?: string | undefined;
  /** Settings of the SAS tokens made from the string. */
  readonly tokenAuth?: ConnectionStringTokenOptions | undefined;
}

/** The options of a client that takes an auth and transport settings (`AMQPClientOptions`…). */
interface AuthOptions {
  readonly auth?: AMQPAuth | undefined;
  readonly transport?: TransportOptions | undefined;
}

/** `names` with `auth` left out and the connection-string options added. @internal */
export function connectionStringNames<T extends { auth?: unknown }>(
  names: OptionNames<T>,
): OptionNames<Omit<T, "auth"> & ConnectionStringOptions> {
  const { auth: _auth, ...rest } = names;
  return { ...rest, entityPath: true, tokenAuth: true } as OptionNames<
    Omit<T, "auth"> & ConnectionStringOptions
  >;
}

/**
 * The address and options of a client made from `connectionString`: the string's endpoint and SAS
 * credentials ({@link authFromConnectionString}) give the URL and a `SASTokenAuth`; the development
 * emulator's string gives plain TCP. `fallbackPath`: the node to use when neither the string nor
 * the options name an entity (`AMQPClient`: `$management`); without one an entity is required.
 *
 * @param names - the known names of the client's options (see {@link connectionStringNames})
 * @param owner - the client class, for error messages
 * @throws {TypeError} for an unknown option, or no entity when one is required.
 * @throws {ConnectionStringError} for a malformed string (see {@link parseConnectionString}).
 * @throws {TokenExpired} when the string's `SharedAccessSignature` has expired.
 * @internal
 */
export function clientSetup<O extends AuthOptions>(
  connectionString: string,
  options: Omit<O, "auth"> & ConnectionStringOptions,
  names: OptionNames<Omit<O, "auth"> & ConnectionStringOptions>,
  owner: string,
  fallbackPath?: string,
): { readonly address: string; readonly options: O } {
  checkOptions(options, names, `${owner}.fromConnectionString()`);
  const { entityPath, tokenAuth, ...clientOptions } = options;
  checkOptions(
    tokenAuth,
    CONNECTION_STRING_TOKEN_OPTIONS,
    `the tokenAuth option of ${owner}.fromConnectionString()`,
  );
  const info = authFromConnectionString(connectionString, {
    ...clientOptions.transport,
    ...tokenAuth,
    ...(entityPath !== undefined ? { entityPath } : {}),
  });
  let address = info.address;
  if (address === undefined) {
    if (fallbackPath === undefined) {
      throw new TypeError(
        `${owner}.fromConnectionString(): name the entity, with EntityPath in the connection string or the entityPath option`,
      );
    }
    address = `${info.scheme}://${hostForUrl(info.host)}:${info.port}/${fallbackPath}`;
  }
  return { address, options: { ...clientOptions, auth: info.auth } as unknown as O };
}
