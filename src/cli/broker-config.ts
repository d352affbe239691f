/**
 * `uamqp broker`'s configuration: the JSON file of `--config` (the options of `Broker.start`, with
 * file paths for the TLS material), the flags that override it, their validation, the defaults the
 * command applies, and the summary the broker prints when it starts (docs/cli.md).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { TlsOptions } from "node:tls";
import { parseRights } from "../broker/authorization.js";
import { BrokerError } from "../broker/errors.js";
import {
  BROKER_DEFAULTS as D,
  type BrokerAuthorizationOptions,
  type BrokerAuthorizationRule,
  type BrokerCbsOptions,
  type BrokerLimits,
  type BrokerOptions,
  type BrokerQueueOptions,
  type BrokerSaslOptions,
} from "../broker/options.js";
import { UsageError, integerValue, listFlag, nearest, stringFlag, type FlagSpec } from "./args.js";
import type { ParsedCommand } from "./args.js";

/** What a configuration key holds. */
type Field =
  | {
      readonly kind: "int";
      readonly min: number;
      readonly max?: number;
      /** The value the command uses when neither the file nor a flag gives one. */
      readonly default?: number;
      /** `null` is a value too (`port`: no plain listener). */
      readonly orNull?: boolean;
    }
  | { readonly kind: "boolean"; readonly default?: boolean }
  | { readonly kind: "string"; readonly default?: string }
  /** A list of strings; `union`: a flag's values are added to the file's rather than replacing them. */
  | { readonly kind: "strings"; readonly union?: boolean; readonly nonEmpty?: boolean }
  /** Names to secrets (users, SAS keys): only the names are ever printed. */
  | { readonly kind: "secrets" }
  /** A file path (relative to the config file, or to the working directory for a flag). */
  | { readonly kind: "file" }
  /** One file path or a list of them. */
  | { readonly kind: "files" }
  /** Any JSON object, passed through (`tls.tlsOptions`). */
  | { readonly kind: "object" }
  /**
   * A list of JSON values, passed through and checked by `Broker.start` (`authorization.rules`); a
   * flag's entries are added to the file's.
   */
  | { readonly kind: "list" }
  | { readonly kind: "section"; readonly fields: Readonly<Record<string, Field>>; readonly orFalse?: boolean }
  /** Takes functions: only a program can set it. */
  | { readonly kind: "program" };

/**
 * One field per option of `T`: the `satisfies` clauses below make the type checker fail when the
 * broker gains an option the command does not know, or loses one it still lists.
 */
type Fields<T> = { readonly [K in keyof Required<T>]: Field };

const PORT = { min: 0, max: 65535 } as const;
const UINT = 0xffff_ffff;

const TLS_FIELDS = {
  cert: { kind: "file" },
  key: { kind: "file" },
  ca: { kind: "files" },
  passphrase: { kind: "string" },
  port: { kind: "int", ...PORT, default: 5671 },
  requestCert: { kind: "boolean", default: false },
  rejectUnauthorized: { kind: "boolean", default: true },
  tlsOptions: { kind: "object" },
} as const satisfies Fields<NonNullable<BrokerOptions["tls"]>>;

const WEBSOCKET_FIELDS = {
  port: { kind: "int", ...PORT },
  path: { kind: "string" },
  tls: { kind: "boolean", default: false },
} as const satisfies Fields<NonNullable<BrokerOptions["webSocket"]>>;

const SASL_FIELDS = {
  mechanisms: { kind: "strings", nonEmpty: true },
  users: { kind: "secrets" },
  allowAnonymous: { kind: "boolean" },
  allowNoSasl: { kind: "boolean" },
  failedLoginDelayMs: { kind: "int", min: 0, default: D.sasl.failedLoginDelayMs },
} as const satisfies Fields<BrokerSaslOptions>;

const LIMIT_FIELDS = {
  maxConnections: { kind: "int", min: 1, default: D.limits.maxConnections },
  maxSessionsPerConnection: { kind: "int", min: 1, max: 65536, default: D.limits.maxSessionsPerConnection },
  maxLinksPerSession: { kind: "int", min: 1, max: UINT, default: D.limits.maxLinksPerSession },
  maxLinksPerConnection: { kind: "int", min: 1, default: D.limits.maxLinksPerConnection },
  maxMessageSize: { kind: "int", min: 1, default: D.limits.maxMessageSize },
  maxQueueDepth: { kind: "int", min: 1, default: D.limits.maxQueueDepth },
  maxQueueBytes: { kind: "int", min: 1, default: D.limits.maxQueueBytes },
  maxTotalBytes: { kind: "int", min: 1, default: D.limits.maxTotalBytes },
  maxQueues: { kind: "int", min: 1, default: D.limits.maxQueues },
  producerCredit: { kind: "int", min: 1, max: UINT, default: D.limits.producerCredit },
  // 512 is the smallest max-frame-size a peer may announce (AMQP 1.0 section 2.7.1).
  maxFrameSize: { kind: "int", min: 512, max: UINT, default: D.limits.maxFrameSize },
  idleTimeoutMs: { kind: "int", min: 0, max: UINT, default: D.limits.idleTimeoutMs },
  handshakeTimeoutMs: { kind: "int", min: 1, default: D.limits.handshakeTimeoutMs },
  // 32767 s is the largest keep-alive idle time Linux accepts (TCP_KEEPIDLE).
  keepAliveInitialDelayMs: {
    kind: "int",
    min: 0,
    max: 32_767_000,
    default: D.limits.keepAliveInitialDelayMs,
  },
  maxConnectionsPerSource: { kind: "int", min: 1, default: D.limits.maxConnectionsPerSource },
  attachTimeoutMs: { kind: "int", min: 0, default: D.limits.attachTimeoutMs },
} as const satisfies Fields<BrokerLimits>;

const QUEUE_FIELDS = {
  autoCreate: { kind: "boolean", default: D.queues.autoCreate },
  names: { kind: "strings", union: true },
  maxDeliveryCount: { kind: "int", min: 1, default: D.queues.maxDeliveryCount },
  deadLetterOnExpiry: { kind: "boolean", default: D.queues.deadLetterOnExpiry },
  lockDuration: { kind: "int", min: 0, default: D.queues.lockDuration },
  splitBatches: { kind: "boolean", default: D.queues.splitBatches },
  maxLockedPerConsumer: { kind: "int", min: 1, default: D.queues.maxLockedPerConsumer },
  resolve: { kind: "program" },
} as const satisfies Fields<BrokerQueueOptions>;

const CBS_FIELDS = {
  keys: { kind: "secrets" },
  guardedAddresses: { kind: "strings", union: true },
  validateJwt: { kind: "program" },
} as const satisfies Fields<BrokerCbsOptions>;

const AUTHORIZATION_FIELDS = {
  rules: { kind: "list" },
} as const satisfies Fields<BrokerAuthorizationOptions>;

const BROKER_FIELDS = {
  host: { kind: "string", default: D.host },
  port: { kind: "int", ...PORT, default: 5672, orNull: true },
  containerId: { kind: "string", default: D.containerId },
  tls: { kind: "section", fields: TLS_FIELDS },
  webSocket: { kind: "section", fields: WEBSOCKET_FIELDS },
  sasl: { kind: "section", fields: SASL_FIELDS, orFalse: true },
  limits: { kind: "section", fields: LIMIT_FIELDS },
  queues: { kind: "section", fields: QUEUE_FIELDS },
  cbs: { kind: "section", fields: CBS_FIELDS },
  authorization: { kind: "section", fields: AUTHORIZATION_FIELDS },
  // Checked by Broker.start, which names the offending setting in its BrokerError.
  serviceBus: { kind: "object" },
  eventHubs: { kind: "object" },
  hooks: { kind: "program" },
} as const satisfies Fields<BrokerOptions>;

const ROOT: Field = { kind: "section", fields: BROKER_FIELDS };

/**
 * The configuration as JSON holds it, after validation: `Broker.start`'s options with the TLS
 * material as absolute file paths (`tls.ca` always a list), and without the options that take
 * functions.
 */
export interface BrokerConfig {
  readonly host?: string;
  /** `null`: no plain listener (`--no-plain`). */
  readonly port?: number | null;
  readonly containerId?: string;
  readonly tls?: {
    readonly cert?: string;
    readonly key?: string;
    readonly ca?: readonly string[];
    readonly passphrase?: string;
    readonly port?: number;
    readonly requestCert?: boolean;
    readonly rejectUnauthorized?: boolean;
    readonly tlsOptions?: TlsOptions;
  };
  readonly webSocket?: NonNullable<BrokerOptions["webSocket"]>;
  readonly sasl?: BrokerSaslOptions | false;
  readonly limits?: BrokerLimits;
  readonly queues?: Omit<BrokerQueueOptions, "resolve">;
  readonly cbs?: { readonly keys?: Readonly<Record<string, string>>; readonly guardedAddresses?: string[] };
  readonly authorization?: BrokerAuthorizationOptions;
  readonly serviceBus?: BrokerOptions["serviceBus"];
  readonly eventHubs?: BrokerOptions["eventHubs"];
}

/** The defaults the command applies, by dotted key (e.g. `limits.maxConnections`), for tests and docs. */
export function configDefault(key: string): number | boolean | string | undefined {
  const f = fieldAt(key);
  return "default" in f ? f.default : undefined;
}

/** Every dotted key of the configuration file (sections included). */
export function configKeys(): string[] {
  const keys: string[] = [];
  const walk = (fields: Readonly<Record<string, Field>>, prefix: string): void => {
    for (const [k, f] of Object.entries(fields)) {
      keys.push(prefix + k);
      if (f.kind === "section") walk(f.fields, `${prefix}${k}.`);
    }
  };
  walk(BROKER_FIELDS, "");
  return keys;
}

function fieldAt(key: string): Field {
  let field = ROOT;
  for (const part of key.split(".")) {
    if (field.kind !== "section" || !Object.hasOwn(field.fields, part)) throw new Error(`no key ${key}`);
    field = field.fields[part]!;
  }
  return field;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---- the configuration file ----------------------------------------------------------------------

/**
 * Reads and validates `--config FILE`.
 * @throws {UsageError} (no usage text) the file cannot be read or is not JSON; an unknown key
 *   (naming the nearest known one); a value of the wrong type or out of range; an option that takes
 *   functions.
 */
export function readConfigFile(path: string): BrokerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read --config ${path}: ${(e as Error).message}`, { showUsage: false });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`, { showUsage: false });
  }
  const checked = checkValue(ROOT, json, [], { source: path, baseDir: dirname(resolve(path)) });
  // The shape was checked key by key against the fields above, which mirror BrokerConfig.
  return checked as BrokerConfig;
}

interface CheckContext {
  /** Named in every error: the file. */
  readonly source: string;
  /** Relative file paths are resolved against it. */
  readonly baseDir: string;
}

function checkValue(field: Field, v: unknown, path: readonly string[], ctx: CheckContext): unknown {
  const key = path.length === 0 ? "the top level" : path.join(".");
  const fail = (what: string): never => {
    throw new UsageError(`${ctx.source}: ${key} must be ${what} (got ${JSON.stringify(v)})`, {
      showUsage: false,
    });
  };
  switch (field.kind) {
    case "int":
      if (v === null && field.orNull === true) return null;
      if (typeof v !== "number") return fail(field.orNull === true ? "an integer or null" : "an integer");
      return integerValue(v, `${ctx.source}: ${key}`, field, false);
    case "boolean":
      return typeof v === "boolean" ? v : fail("true or false");
    case "string":
      return typeof v === "string" ? v : fail("a string");
    case "strings":
      if (field.nonEmpty === true && Array.isArray(v) && v.length === 0) return fail("a non-empty list");
      return Array.isArray(v) && v.every((s) => typeof s === "string") ? [...v] : fail("a list of strings");
    case "secrets":
      return isRecord(v) && Object.values(v).every((s) => typeof s === "string")
        ? { ...v }
        : fail('an object of names to strings, e.g. {"alice": "secret"}');
    case "file":
      return typeof v === "string" ? resolve(ctx.baseDir, v) : fail("a file path");
    case "files":
      if (typeof v === "string") return [resolve(ctx.baseDir, v)];
      return Array.isArray(v) && v.every((s) => typeof s === "string")
        ? v.map((s: string) => resolve(ctx.baseDir, s))
        : fail("a file path or a list of them");
    case "object":
      return isRecord(v) ? v : fail("an object");
    case "list":
      return Array.isArray(v) ? [...(v as unknown[])] : fail("a list");
    case "program":
      throw new UsageError(
        `${ctx.source}: ${key} takes functions: a program sets it (Broker.start), a config file cannot`,
        { showUsage: false },
      );
    case "section": {
      if (field.orFalse === true && v === false) return false;
      if (!isRecord(v)) return fail(field.orFalse === true ? "an object or false" : "an object");
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (!Object.hasOwn(field.fields, k)) {
          const near = nearest(k, Object.keys(field.fields));
          const where = path.length === 0 ? "" : `${key}.`;
          throw new UsageError(
            `${ctx.source}: unknown key '${where}${k}'${near !== undefined ? ` (did you mean '${where}${near}'?)` : ""}`,
            { showUsage: false },
          );
        }
        out[k] = checkValue(field.fields[k]!, x, [...path, k], ctx);
      }
      return out;
    }
  }
}

// ---- the flags -----------------------------------------------------------------------------------

/** A flag of `uamqp broker`: the configuration key it sets. */
interface BrokerFlag extends FlagSpec {
  /** Dotted key, e.g. `limits.maxConnections`. */
  readonly key: string;
  /** What a switch sets the key to. */
  readonly set?: boolean | null;
  /** Reads one value of a flag whose key is a list (`--grant`); `label` names the flag in errors. */
  readonly parse?: (text: string, label: string) => unknown;
}

const LISTENERS = "listeners";
const TLS = "TLS (amqps)";
const WS = "WebSocket (ws, wss)";
const AUTH = "authentication";
const LIMITS = "limits";
const QUEUES = "queues";
const CBS = "claims-based security ($cbs)";
const AUTHZ = "authorization";

/** Every flag that sets a configuration key, in the order of the help. */
const FLAGS: readonly BrokerFlag[] = [
  {
    group: LISTENERS,
    name: "host",
    key: "host",
    type: "string",
    value: "HOST",
    help: "interface the listeners bind to; 0.0.0.0 or :: for every interface",
  },
  {
    group: LISTENERS,
    name: "port",
    key: "port",
    type: "string",
    value: "PORT",
    help: "AMQP (TCP) port; 0 picks a free port",
  },
  {
    group: LISTENERS,
    name: "no-plain",
    key: "port",
    type: "boolean",
    set: null,
    help: "open no plain AMQP listener: clients connect over amqps or WebSocket only",
  },
  {
    group: LISTENERS,
    name: "container-id",
    key: "containerId",
    type: "string",
    value: "ID",
    help: "container id the broker sends in OPEN",
  },
  {
    group: TLS,
    name: "tls-cert",
    key: "tls.cert",
    type: "string",
    value: "FILE",
    help: "server certificate chain (PEM); with --tls-key the broker also listens for amqps",
  },
  {
    group: TLS,
    name: "tls-key",
    key: "tls.key",
    type: "string",
    value: "FILE",
    help: "private key of --tls-cert (PEM)",
  },
  {
    group: TLS,
    name: "tls-port",
    key: "tls.port",
    type: "string",
    value: "PORT",
    help: "AMQPS (TLS) port; 0 picks a free port",
  },
  {
    group: TLS,
    name: "tls-passphrase",
    key: "tls.passphrase",
    type: "string",
    value: "TEXT",
    help: "passphrase of --tls-key (a --config file keeps it off the process list)",
  },
  {
    group: TLS,
    name: "tls-ca",
    key: "tls.ca",
    type: "string",
    value: "FILE",
    multiple: true,
    help: "CA certificate (PEM) trusted for client certificates",
  },
  {
    group: TLS,
    name: "tls-request-cert",
    key: "tls.requestCert",
    type: "boolean",
    set: true,
    help: "ask TLS clients for a certificate signed by --tls-ca (mutual TLS); SASL EXTERNAL logs them in by it",
  },
  {
    group: TLS,
    name: "tls-cert-optional",
    key: "tls.rejectUnauthorized",
    type: "boolean",
    set: false,
    help: "with --tls-request-cert: let clients without a valid certificate connect too (they log in with PLAIN)",
  },
  {
    group: WS,
    name: "ws-port",
    key: "webSocket.port",
    type: "string",
    value: "PORT",
    help: "also listen for AMQP over WebSocket on this port; 0 picks a free port (so does --ws-path or --wss without it)",
  },
  {
    group: WS,
    name: "ws-path",
    key: "webSocket.path",
    type: "string",
    value: "PATH",
    help: "only upgrade WebSocket requests for this path (default: any path)",
  },
  {
    group: WS,
    name: "wss",
    key: "webSocket.tls",
    type: "boolean",
    set: true,
    help: "serve the WebSocket listener over TLS (wss) with the --tls-cert certificate",
  },
  {
    group: AUTH,
    name: "user",
    key: "sasl.users",
    type: "string",
    value: "NAME:PASSWORD",
    multiple: true,
    help: "a SASL PLAIN user; once users are given only they get in (the password is never printed)",
  },
  {
    group: AUTH,
    name: "allow-anonymous",
    key: "sasl.allowAnonymous",
    type: "boolean",
    set: true,
    help: "let clients without credentials in next to the users (default: yes without --user, no with it)",
  },
  {
    group: AUTH,
    name: "allow-no-sasl",
    key: "sasl.allowNoSasl",
    type: "boolean",
    set: true,
    help: "accept clients that skip SASL (default: as --allow-anonymous)",
  },
  {
    group: AUTH,
    name: "mechanisms",
    key: "sasl.mechanisms",
    type: "string",
    value: "LIST",
    help: "SASL mechanisms offered, comma-separated, preferred first (default: EXTERNAL with --tls-request-cert, PLAIN, ANONYMOUS while allowed)",
  },
  {
    group: AUTH,
    name: "failed-login-delay",
    key: "sasl.failedLoginDelayMs",
    type: "string",
    value: "MS",
    help: "ceiling of the delay before a failed login is answered (50 ms, doubling per failure from one address); 0 answers at once",
  },
  {
    group: AUTH,
    name: "no-sasl",
    key: "sasl",
    type: "boolean",
    set: false,
    help: "no SASL layer at all: every client gets in without logging in",
  },
  {
    group: LIMITS,
    name: "max-connections",
    key: "limits.maxConnections",
    type: "string",
    value: "N",
    help: "connections open at once; more are closed with amqp:resource-limit-exceeded",
  },
  {
    group: LIMITS,
    name: "max-sessions-per-connection",
    key: "limits.maxSessionsPerConnection",
    type: "string",
    value: "N",
    help: "sessions per connection (announced as channel-max + 1)",
  },
  {
    group: LIMITS,
    name: "max-links-per-session",
    key: "limits.maxLinksPerSession",
    type: "string",
    value: "N",
    help: "links attached per session; more are refused with amqp:resource-limit-exceeded",
  },
  {
    group: LIMITS,
    name: "max-links-per-connection",
    key: "limits.maxLinksPerConnection",
    type: "string",
    value: "N",
    help: "links attached per connection (all sessions); more are refused with amqp:resource-limit-exceeded",
  },
  {
    group: LIMITS,
    name: "max-message-size",
    key: "limits.maxMessageSize",
    type: "string",
    value: "BYTES",
    help: "largest message accepted; a larger one detaches its link (amqp:link:message-size-exceeded)",
  },
  {
    group: LIMITS,
    name: "max-queue-depth",
    key: "limits.maxQueueDepth",
    type: "string",
    value: "N",
    help: "messages per queue (ready + locked); producers get no credit beyond it",
  },
  {
    group: LIMITS,
    name: "max-queue-bytes",
    key: "limits.maxQueueBytes",
    type: "string",
    value: "BYTES",
    help: "bytes of messages per queue; once reached its producers get no credit until it drained to 3/4",
  },
  {
    group: LIMITS,
    name: "max-total-bytes",
    key: "limits.maxTotalBytes",
    type: "string",
    value: "BYTES",
    help: "bytes of messages in the whole broker (queues and event hubs); once reached no producer gets credit until 3/4",
  },
  {
    group: LIMITS,
    name: "max-queues",
    key: "limits.maxQueues",
    type: "string",
    value: "N",
    help: "queues clients may create (attach, relay, $management, dynamic); more are refused with amqp:resource-limit-exceeded",
  },
  {
    group: LIMITS,
    name: "producer-credit",
    key: "limits.producerCredit",
    type: "string",
    value: "N",
    help: "credit granted to a producer at a time",
  },
  {
    group: LIMITS,
    name: "max-frame-size",
    key: "limits.maxFrameSize",
    type: "string",
    value: "BYTES",
    help: "largest frame accepted (512 or more)",
  },
  {
    group: LIMITS,
    name: "idle-timeout",
    key: "limits.idleTimeoutMs",
    type: "string",
    value: "MS",
    help: "idle time-out announced to clients: a connection silent for longer is closed and its locks return; 0 = none",
  },
  {
    group: LIMITS,
    name: "handshake-timeout",
    key: "limits.handshakeTimeoutMs",
    type: "string",
    value: "MS",
    help: "a client that has not opened its connection within this time is disconnected",
  },
  {
    group: LIMITS,
    name: "tcp-keep-alive",
    key: "limits.keepAliveInitialDelayMs",
    type: "string",
    value: "MS",
    help: "TCP keep-alive on accepted sockets: probe a connection silent this long, drop it when its host is gone; 0 = off",
  },
  {
    group: LIMITS,
    name: "max-connections-per-source",
    key: "limits.maxConnectionsPerSource",
    type: "string",
    value: "N",
    help: "connections open at once from one client address (loopback included); more are dropped on arrival",
  },
  {
    group: LIMITS,
    name: "attach-timeout",
    key: "limits.attachTimeoutMs",
    type: "string",
    value: "MS",
    help: "a connection without a link for this long is closed (amqp:resource-limit-exceeded); 0 = never",
  },
  {
    group: QUEUES,
    name: "queue",
    key: "queues.names",
    type: "string",
    value: "NAME",
    multiple: true,
    help: "a queue that exists from the start",
  },
  {
    group: QUEUES,
    name: "no-auto-create",
    key: "queues.autoCreate",
    type: "boolean",
    set: false,
    help: "do not create queues on first use: links to other addresses are refused (amqp:not-found)",
  },
  {
    group: QUEUES,
    name: "max-delivery-count",
    key: "queues.maxDeliveryCount",
    type: "string",
    value: "N",
    help: "deliveries of a message before it is dead-lettered",
  },
  {
    group: QUEUES,
    name: "lock-duration",
    key: "queues.lockDuration",
    type: "string",
    value: "MS",
    help: "PeekLock lock duration: a message not settled within it is delivered again; 0 = until settled or detached",
  },
  {
    group: QUEUES,
    name: "max-locked-per-consumer",
    key: "queues.maxLockedPerConsumer",
    type: "string",
    value: "N",
    help: "messages one consumer holds unsettled at a time, whatever credit it grants",
  },
  {
    group: QUEUES,
    name: "drop-expired",
    key: "queues.deadLetterOnExpiry",
    type: "boolean",
    set: false,
    help: "drop expired messages instead of moving them to the dead-letter queue",
  },
  {
    group: QUEUES,
    name: "no-split-batches",
    key: "queues.splitBatches",
    type: "boolean",
    set: false,
    help: "store batched messages (format 0x80013700) whole instead of splitting them",
  },
  {
    group: CBS,
    name: "cbs-key",
    key: "cbs.keys",
    type: "string",
    value: "NAME:KEY",
    multiple: true,
    help: "a SAS key for $cbs put-token, by key name (skn); without keys every token is accepted",
  },
  {
    group: CBS,
    name: "cbs-guard",
    key: "cbs.guardedAddresses",
    type: "string",
    value: "ADDRESS",
    multiple: true,
    help: "an address whose links need a $cbs token put on the connection first",
  },
  {
    group: AUTHZ,
    name: "grant",
    key: "authorization.rules",
    type: "string",
    value: "WHO:RIGHTS:ADDRESSES",
    multiple: true,
    parse: parseGrant,
    help: "a rule: WHO (a user name, user=NAME, keyName=NAME of a --cbs-key, or anonymous) may RIGHTS (send,listen,manage) on ADDRESSES (comma-separated; a trailing * makes a prefix, * alone is every address); once rules are given, what none grants is denied",
  },
];

const split = (list: string): string[] =>
  list
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");

/**
 * One `--grant WHO:RIGHTS:ADDRESSES` as an authorization rule, e.g. `alice:send,listen:orders,billing/*`
 * (WHO has no colon; ADDRESSES is the rest). `Broker.start` checks the rule further.
 * @throws {UsageError} a part is missing, or a right is not send, listen or manage.
 */
export function parseGrant(text: string, label: string): BrokerAuthorizationRule {
  const first = text.indexOf(":");
  const second = first < 0 ? -1 : text.indexOf(":", first + 1);
  const who = text.slice(0, Math.max(0, first));
  const rightsText = second < 0 ? "" : text.slice(first + 1, second);
  const addresses = second < 0 ? [] : split(text.slice(second + 1));
  if (who === "" || addresses.length === 0 || split(rightsText).length === 0) {
    throw new UsageError(
      `${label} expects who:rights:addresses, e.g. alice:send,listen:orders,billing/* (got ${JSON.stringify(text)})`,
    );
  }
  let rights: BrokerAuthorizationRule["rights"];
  try {
    rights = parseRights(split(rightsText), `${label} ${JSON.stringify(text)}`);
  } catch (e) {
    if (e instanceof BrokerError) throw new UsageError(e.message);
    throw e;
  }
  const named = (prefix: string): string | undefined =>
    who.startsWith(prefix) ? who.slice(prefix.length) : undefined;
  const keyName = named("keyName=");
  const user = named("user=") ?? (who === "anonymous" || keyName !== undefined ? undefined : who);
  const rule =
    keyName !== undefined ? { keyName } : user !== undefined ? { user } : { anonymous: true as const };
  return { ...rule, rights, addresses };
}

/** Every flag that sets a configuration key, in the order of the help, with the command's defaults. */
export const BROKER_FLAGS: readonly BrokerFlag[] = FLAGS.map((f) => {
  const field = fieldAt(f.key);
  const dflt = "default" in field && f.type === "string" ? field.default : undefined;
  return dflt === undefined ? f : { ...f, help: `${f.help} (default ${dflt})` };
});

/** The flag naming a configuration key, for error messages (`--tls-cert (tls.cert)`). */
function flagFor(key: string): string {
  const f = BROKER_FLAGS.find((x) => x.key === key);
  return f === undefined ? key : `--${f.name} (${key})`;
}

/** The configuration the flags describe (file paths resolved against the working directory). */
export function configFromFlags(parsed: ParsedCommand): BrokerConfig {
  const tree: Record<string, unknown> = {};
  if (parsed.values["no-sasl"] !== undefined) {
    const other = BROKER_FLAGS.find((f) => f.key.startsWith("sasl.") && parsed.values[f.name] !== undefined);
    if (other !== undefined) throw new UsageError(`--no-sasl and --${other.name} contradict each other`);
  }
  if (parsed.values["no-plain"] !== undefined && parsed.values["port"] !== undefined) {
    throw new UsageError("--no-plain and --port contradict each other");
  }
  for (const flag of BROKER_FLAGS) {
    if (parsed.values[flag.name] === undefined) continue;
    const field = fieldAt(flag.key);
    const label = `--${flag.name}`;
    let value: unknown;
    if (flag.set !== undefined) value = flag.set;
    else {
      const one = stringFlag(parsed, flag.name)!;
      const all = listFlag(parsed, flag.name);
      switch (field.kind) {
        case "int":
          value = integerValue(one, label, field);
          break;
        case "file":
          value = resolve(one);
          break;
        case "files":
          value = all.map((p) => resolve(p));
          break;
        case "strings":
          value =
            flag.multiple === true
              ? [...all]
              : one
                  .split(",")
                  .map((s) => s.trim())
                  .filter((s) => s !== "");
          if (field.nonEmpty === true && (value as string[]).length === 0) {
            throw new UsageError(`${label} needs at least one name`);
          }
          break;
        case "list":
          value = all.map((v) => (flag.parse === undefined ? v : flag.parse(v, label)));
          break;
        case "secrets":
          value = Object.fromEntries(
            all.map((pair) => {
              const i = pair.indexOf(":");
              if (i <= 0) throw new UsageError(`${label} expects ${flag.value!.toLowerCase()}`);
              return [pair.slice(0, i), pair.slice(i + 1)];
            }),
          );
          break;
        default:
          value = one;
      }
    }
    setKey(tree, flag.key, value);
  }
  // Built key by key from the flags above, each converted to its field's type.
  return tree;
}

function setKey(tree: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (isRecord(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts.at(-1)!] = value;
}

/**
 * `flags` over `file`: a flag replaces the file's value, except that users, SAS keys, queue names
 * and guarded addresses given by flags are added to the file's; `--no-sasl` replaces the `sasl`
 * section and SASL flags replace a `"sasl": false`.
 */
export function mergeConfig(file: BrokerConfig, flags: BrokerConfig): BrokerConfig {
  return mergeSection(BROKER_FIELDS, file as Record<string, unknown>, flags as Record<string, unknown>);
}

function mergeSection(
  fields: Readonly<Record<string, Field>>,
  a: Readonly<Record<string, unknown>>,
  b: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const field = fields[k]!;
    const prev = out[k];
    if (field.kind === "section" && isRecord(prev) && isRecord(v))
      out[k] = mergeSection(field.fields, prev, v);
    else if (field.kind === "secrets" && isRecord(prev) && isRecord(v)) out[k] = { ...prev, ...v };
    else if (field.kind === "list" && Array.isArray(prev) && Array.isArray(v)) {
      out[k] = [...(prev as unknown[]), ...(v as unknown[])];
    } else if (field.kind === "strings" && field.union === true && Array.isArray(prev) && Array.isArray(v)) {
      out[k] = [...new Set([...(prev as unknown[]), ...(v as unknown[])])];
    } else out[k] = v;
  }
  return out;
}

// ---- to Broker.start's options -------------------------------------------------------------------

function readPem(path: string, key: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${flagFor(key)}: ${(e as Error).message}`, { showUsage: false });
  }
}

/**
 * `Broker.start`'s options: the command's defaults applied (port 5672, TLS port 5671) and the TLS
 * files read.
 * @throws {UsageError} (no usage text) options that only make sense together are incomplete; a TLS
 *   file cannot be read.
 */
export function brokerOptions(config: BrokerConfig): BrokerOptions {
  const { tls, webSocket } = config;
  if (tls !== undefined && (tls.cert === undefined || tls.key === undefined)) {
    const given = Object.keys(tls).map((k) => flagFor(`tls.${k}`));
    throw new UsageError(
      `TLS needs both ${flagFor("tls.cert")} and ${flagFor("tls.key")}; given: ${given.join(", ")}`,
      { showUsage: false },
    );
  }
  if (webSocket?.tls === true && tls === undefined) {
    throw new UsageError(
      `${flagFor("webSocket.tls")} needs ${flagFor("tls.cert")} and ${flagFor("tls.key")}`,
      {
        showUsage: false,
      },
    );
  }
  if (config.port === null && tls === undefined && webSocket === undefined) {
    throw new UsageError(
      `--no-plain ("port": null) needs TLS (${flagFor("tls.cert")} and ${flagFor("tls.key")}) or a WebSocket listener`,
      { showUsage: false },
    );
  }
  const { cbs, queues } = config;
  return {
    host: config.host ?? DEFAULT_HOST,
    port: config.port === null ? null : (config.port ?? DEFAULT_PORT),
    ...(config.containerId !== undefined ? { containerId: config.containerId } : {}),
    ...(tls !== undefined
      ? {
          tls: {
            cert: readPem(tls.cert!, "tls.cert"),
            key: readPem(tls.key!, "tls.key"),
            port: tls.port ?? DEFAULT_TLS_PORT,
            ...(tls.ca !== undefined ? { ca: tls.ca.map((p) => readPem(p, "tls.ca")) } : {}),
            ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
            ...(tls.requestCert !== undefined ? { requestCert: tls.requestCert } : {}),
            ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
            ...(tls.tlsOptions !== undefined ? { tlsOptions: tls.tlsOptions } : {}),
          },
        }
      : {}),
    ...(webSocket !== undefined ? { webSocket } : {}),
    ...(config.sasl !== undefined ? { sasl: config.sasl } : {}),
    ...(config.limits !== undefined ? { limits: config.limits } : {}),
    ...(queues !== undefined ? { queues } : {}),
    ...(cbs !== undefined ? { cbs } : {}),
    ...(config.authorization !== undefined ? { authorization: config.authorization } : {}),
    ...(config.serviceBus !== undefined ? { serviceBus: config.serviceBus } : {}),
    ...(config.eventHubs !== undefined ? { eventHubs: config.eventHubs } : {}),
  };
}

const DEFAULT_HOST = BROKER_FIELDS.host.default;
const DEFAULT_PORT = BROKER_FIELDS.port.default;
const DEFAULT_TLS_PORT = TLS_FIELDS.port.default;

// ---- the summary printed at start ----------------------------------------------------------------

function list(names: readonly string[], none: string): string {
  return names.length === 0 ? none : names.join(", ");
}

function settings<T extends Record<string, Field>>(fields: T, values: object | undefined): string {
  const given = (values ?? {}) as Record<string, unknown>;
  return Object.entries(fields)
    .filter(([, f]) => f.kind === "int" || f.kind === "boolean")
    .map(([k, f]) => {
      const v = given[k] ?? ("default" in f ? f.default : undefined);
      return `${k}=${typeof v === "number" || typeof v === "boolean" ? v : "?"}`;
    })
    .join(" ");
}

/**
 * The effective configuration, one line per area: users by name only (never a password),
 * whether anonymous clients get in, SASL, TLS, limits, queues, the authorization rules and `$cbs`
 * (key names only).
 * What the broker does when an option is not given is described in docs/broker.md
 * ("Authentication", "Limits"); these lines state it for this configuration.
 */
export function configSummary(config: BrokerConfig): string[] {
  const lines: string[] = [];
  const { sasl, tls } = config;
  if (sasl === false) {
    lines.push("authentication: off (no SASL layer: every client gets in)");
  } else {
    const users = sasl?.users;
    const anonymous = sasl?.allowAnonymous ?? users === undefined;
    const noSasl = sasl?.allowNoSasl ?? anonymous;
    const mechanisms = sasl?.mechanisms ?? [
      ...(tls?.requestCert === true ? ["EXTERNAL (TLS)"] : []),
      "PLAIN",
      ...(anonymous ? ["ANONYMOUS"] : []),
    ];
    lines.push(
      `users: ${users === undefined ? "any name and password is accepted (no users configured)" : list(Object.keys(users), "none (no PLAIN login can succeed)")}`,
      `anonymous clients: ${anonymous ? "allowed" : "refused"}; clients without SASL: ${noSasl ? "allowed" : "refused"}`,
      `sasl: mechanisms ${list(mechanisms, "none")}; failed logins answered after up to ${sasl?.failedLoginDelayMs ?? SASL_FIELDS.failedLoginDelayMs.default} ms`,
    );
  }
  if (tls === undefined) lines.push("tls: off (no --tls-cert and --tls-key)");
  else {
    const clients =
      tls.requestCert !== true
        ? "client certificates not requested"
        : tls.rejectUnauthorized === false
          ? "client certificates requested, optional"
          : "client certificates required";
    const ca = tls.ca === undefined ? "" : `; client CAs ${tls.ca.join(", ")}`;
    lines.push(`tls: certificate ${tls.cert ?? ""}; ${clients}${ca}`);
  }
  lines.push(`limits: ${settings(LIMIT_FIELDS, config.limits)}`);
  const queues = config.queues;
  lines.push(
    `queues: ${settings(QUEUE_FIELDS, queues)}; created at start: ${list(queues?.names ?? [], "none")}`,
  );
  const rules = config.authorization?.rules;
  lines.push(
    rules === undefined
      ? "authorization: off (no rules: whoever gets in may send, listen and manage everywhere)"
      : `authorization: what no rule grants is denied; ${rules.length === 0 ? "no rules" : rules.map(ruleText).join("; ")}`,
  );
  const cbs = config.cbs;
  lines.push(
    `cbs: ${cbs?.keys === undefined ? "every token accepted (no keys)" : `keys ${list(Object.keys(cbs.keys), "none")}`}; guarded addresses: ${list(cbs?.guardedAddresses ?? [], "none")}`,
  );
  return lines;
}

/** A rule as the banner shows it: `user alice: send, listen on orders, billing/*`. */
function ruleText(r: BrokerAuthorizationRule): string {
  const who =
    r.user !== undefined ? `user ${r.user}` : r.keyName !== undefined ? `keyName ${r.keyName}` : "anonymous";
  return `${who}: ${r.rights.map((x) => x.toLowerCase()).join(", ")} on ${r.addresses.join(", ")}`;
}
