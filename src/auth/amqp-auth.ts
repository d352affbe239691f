/**
 * Authentication and transport settings of a connection (uamqp's `AMQPAuth`, `SASLAnonymous`,
 * `SASLPlain`): which host and port, TLS or plain TCP, WebSocket and HTTP proxy, and the SASL
 * mechanism. Unlike uamqp, an auth object can be used by several connections.
 */
import type { ConnectionOptions } from "node:tls";
import { inspect, type InspectOptionsStylized } from "node:util";
import type { SaslMechanism } from "../sasl/mechanisms.js";
import { SaslAnonymousMechanism, SaslExternalMechanism, SaslPlainMechanism } from "../sasl/mechanisms.js";
import { connectTcp } from "../transport/tcp.js";
import { connectTls, type TlsClientOptions } from "../transport/tls.js";
import type { Transport } from "../transport/transport.js";
import { connectWebSocket } from "../transport/websocket.js";

/** Transport kinds (uamqp `TransportType`). */
export const TransportType = {
  /** AMQP over TCP (TLS unless `tls: false`). */
  Amqp: 1,
  /** AMQP over WebSocket (wss unless `tls: false`). */
  AmqpOverWebsocket: 2,
} as const;
/** One of the {@link TransportType} values. */
export type TransportType = (typeof TransportType)[keyof typeof TransportType];

/** Default port of AMQP over TLS (uamqp constant). */
export const DEFAULT_AMQPS_PORT = 5671;
/** Default port of AMQP over plain TCP (uamqp constant). */
export const DEFAULT_AMQP_PORT = 5672;
/** Default port of AMQP over secure WebSocket (uamqp constant); plain `ws` uses 80. */
export const DEFAULT_AMQP_WSS_PORT = 443;
/** Azure's WebSocket path. */
export const DEFAULT_WEBSOCKET_PATH = "/$servicebus/websocket/";

/** An HTTP CONNECT proxy (uamqp `http_proxy`). A proxy forces the WebSocket transport. */
export interface HttpProxy {
  /** Host name or IP address of the proxy. */
  host: string;
  /** Port of the proxy. */
  port: number;
  /** User name for the proxy's Basic authentication (`Proxy-Authorization`). @defaultValue none */
  username?: string;
  /** Password for the proxy's Basic authentication. @defaultValue none */
  password?: string;
}

/** Where and how to connect. */
export interface TransportOptions extends TlsClientOptions {
  /** TCP/TLS or WebSocket (a `proxy` forces WebSocket). @defaultValue TransportType.Amqp */
  type?: TransportType;
  /** Port to connect to. @defaultValue 5671 with TLS, 5672 without; 443 / 80 for WebSocket */
  port?: number;
  /**
   * Use TLS: a boolean, or `tls.connect` options (`servername`, `minVersion`, `cert`/`key`…), which
   * turn TLS on and are merged over `tlsOptions` (an escape hatch for any TLS setting); the explicit fields
   * (`ca`, `cert`, `servername`…) still win. @defaultValue true (uamqp parity); clients set it from
   * the URL scheme
   */
  tls?: boolean | ConnectionOptions;
  /** WebSocket settings (used with `type: TransportType.AmqpOverWebsocket` or a `proxy`). */
  webSocket?: {
    /** Path of the WebSocket URL. @defaultValue {@link DEFAULT_WEBSOCKET_PATH} (`/$servicebus/websocket/`) */
    path?: string;
    /** WebSocket subprotocol asked for. @defaultValue "AMQPWSB10" */
    protocol?: string;
  };
  /** Connect through this HTTP CONNECT proxy; forces the WebSocket transport. @defaultValue no proxy */
  proxy?: HttpProxy;
  /** Bound on connecting (TCP + TLS + WebSocket handshake), in milliseconds. @defaultValue 30000 */
  connectTimeoutMs?: number;
  /** Connect to this host instead of `hostname` (uamqp `custom_endpoint_hostname`); SNI and SASL keep `hostname`. */
  customEndpointHostname?: string;
}

/** Shown instead of a secret. */
export const REDACTED = "<redacted>";

/**
 * The transport settings without secrets: the proxy password, the TLS private key and passphrase,
 * and free-form `tls.connect` options (which may hold keys) show as `<redacted>`. Only the
 * fields named here are shown, so a field added later cannot leak by default.
 */
function describeTransport(t: Readonly<TransportOptions>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const copy = (name: keyof TransportOptions): void => {
    if (t[name] !== undefined) out[name] = t[name];
  };
  const redact = (name: keyof TransportOptions): void => {
    if (t[name] !== undefined) out[name] = REDACTED;
  };
  copy("type");
  copy("port");
  if (t.tls !== undefined) out["tls"] = typeof t.tls === "boolean" ? t.tls : REDACTED;
  if (t.webSocket !== undefined) {
    out["webSocket"] = { path: t.webSocket.path, protocol: t.webSocket.protocol };
  }
  if (t.proxy !== undefined) {
    out["proxy"] = {
      host: t.proxy.host,
      port: t.proxy.port,
      ...(t.proxy.username !== undefined ? { username: t.proxy.username } : {}),
      ...(t.proxy.password !== undefined ? { password: REDACTED } : {}),
    };
  }
  copy("connectTimeoutMs");
  copy("customEndpointHostname");
  copy("servername");
  copy("rejectUnauthorized");
  if (t.ca !== undefined) out["ca"] = "<set>";
  if (t.cert !== undefined) out["cert"] = "<set>";
  redact("key");
  redact("passphrase");
  redact("tlsOptions");
  return out;
}

/**
 * Base of the auth classes: the host, the transport settings and (in each subclass) the SASL
 * mechanism. Pass an instance as the `auth` option of a client, or to a {@link Connection}.
 *
 * @example
 * ```ts
 * const auth: AMQPAuth = new SASLPlain("broker.example", "user", "secret", { connectTimeoutMs: 10_000 });
 * auth.port; // 5671 (TLS by default)
 * const client = new SendClient("amqps://broker.example/orders", { auth });
 * ```
 */
export abstract class AMQPAuth {
  /** The host name: SNI, SASL hostname and OPEN hostname. */
  readonly hostname: string;
  /** The transport settings given to the constructor. */
  readonly transport: Readonly<TransportOptions>;

  /**
   * @param hostname - the host to connect to (also SNI, SASL and OPEN hostname)
   * @param transport - port, TLS, WebSocket, proxy and connect timeout
   */
  constructor(hostname: string, transport: TransportOptions = {}) {
    this.hostname = hostname;
    this.transport = transport;
  }

  /** The SASL mechanism (undefined = no SASL layer). */
  abstract mechanism(): SaslMechanism | undefined;

  /** The same credentials for another host (redirects). */
  abstract withHost(hostname: string, transport?: TransportOptions): AMQPAuth;

  /**
   * What `util.inspect`, `JSON.stringify` and `toString()` show: never a password, key or token.
   * Subclasses add their own non-secret fields.
   */
  protected inspectFields(): Record<string, unknown> {
    return {
      hostname: this.hostname,
      port: this.port,
      tls: this.tls,
      webSocket: this.webSocket,
      transport: describeTransport(this.transport),
    };
  }

  /** The non-secret settings, for logs (`JSON.stringify(auth)`). */
  toJSON(): Record<string, unknown> {
    return { type: this.constructor.name, ...this.inspectFields() };
  }

  /** `ClassName(host:port)`; no secrets. */
  toString(): string {
    const host = this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname;
    return `${this.constructor.name}(${host}:${this.port})`;
  }

  /** `util.inspect` shows the non-secret settings only. */
  [inspect.custom](_depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    return `${this.constructor.name} ${show(this.inspectFields(), options)}`;
  }

  /** True if the connection uses TLS. */
  get tls(): boolean {
    return this.transport.tls !== false;
  }

  /** True if the connection uses WebSocket (also forced by a proxy, as in uamqp). */
  get webSocket(): boolean {
    return this.transport.type === TransportType.AmqpOverWebsocket || this.transport.proxy !== undefined;
  }

  /** The port connected to. */
  get port(): number {
    if (this.transport.port !== undefined) return this.transport.port;
    if (this.webSocket) return this.tls ? DEFAULT_AMQP_WSS_PORT : 80;
    return this.tls ? DEFAULT_AMQPS_PORT : DEFAULT_AMQP_PORT;
  }

  /**
   * Opens the byte transport (TCP, TLS or WebSocket, through the proxy if any). Used by
   * {@link Connection.open}; rarely called directly.
   *
   * @throws `ConnectFailedError` (`AMQP_CONNECT_FAILED`), `ConnectTimeoutError` (`AMQP_CONNECT_TIMEOUT`,
   *   after `connectTimeoutMs`), `TlsError` (`AMQP_TLS`), `ProxyError` (`AMQP_PROXY`), `WebSocketError`
   *   (`AMQP_WEBSOCKET`), all `AMQPError`s to match by `code`; {@link AMQPAbortError} when `signal` aborts.
   */
  connect(signal?: AbortSignal): Promise<Transport> {
    const t = this.transport;
    const host = t.customEndpointHostname ?? this.hostname;
    const common = {
      ...(signal ? { signal } : {}),
      timeoutMs: t.connectTimeoutMs ?? 30_000,
    };
    const tlsObject = typeof t.tls === "object" ? t.tls : undefined;
    const tlsOptions: TlsClientOptions = {
      servername: t.servername ?? tlsObject?.servername ?? this.hostname,
      ca: t.ca,
      cert: t.cert,
      key: t.key,
      passphrase: t.passphrase,
      rejectUnauthorized: t.rejectUnauthorized,
      tlsOptions: tlsObject ? { ...t.tlsOptions, ...tlsObject } : t.tlsOptions,
    };
    if (this.webSocket) {
      const scheme = this.tls ? "wss" : "ws";
      const path = t.webSocket?.path ?? DEFAULT_WEBSOCKET_PATH;
      const url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${this.port}${path.startsWith("/") ? path : `/${path}`}`;
      return connectWebSocket({
        url,
        ...common,
        ...(this.tls ? tlsOptions : {}),
        ...(t.webSocket?.protocol !== undefined ? { protocol: t.webSocket.protocol } : {}),
        ...(t.proxy ? { proxy: t.proxy } : {}),
      });
    }
    if (this.tls) return connectTls({ host, port: this.port, ...common, ...tlsOptions });
    return connectTcp({ host, port: this.port, ...common });
  }
}

/**
 * SASL ANONYMOUS.
 * @example
 * ```ts
 * const auth = new SASLAnonymous("localhost", { tls: false, port: 5672 });
 * ```
 */
export class SASLAnonymous extends AMQPAuth {
  /** A SASL ANONYMOUS mechanism. */
  mechanism(): SaslMechanism {
    return new SaslAnonymousMechanism();
  }
  /** An anonymous auth for `hostname` (redirects); keeps this transport unless one is given. */
  withHost(hostname: string, transport: TransportOptions = this.transport): SASLAnonymous {
    return new SASLAnonymous(hostname, transport);
  }
}

/**
 * SASL PLAIN (user name and password). The password is never logged or shown.
 * @example
 * ```ts
 * const auth = new SASLPlain("broker.example", "user", "secret");
 * ```
 */
export class SASLPlain extends AMQPAuth {
  /** The SASL PLAIN user name (authcid). */
  readonly username: string;
  readonly #password: string;
  /**
   * @param hostname - the host to connect to
   * @param username - the SASL PLAIN user name
   * @param password - the password (kept private, never logged)
   * @param transport - port, TLS, WebSocket, proxy and connect timeout
   */
  constructor(hostname: string, username: string, password: string, transport: TransportOptions = {}) {
    super(hostname, transport);
    this.username = username;
    this.#password = password;
  }
  /** Adds the user name (never the password). */
  protected override inspectFields(): Record<string, unknown> {
    return { ...super.inspectFields(), username: this.username };
  }
  /** A SASL PLAIN mechanism with these credentials. */
  mechanism(): SaslMechanism {
    return new SaslPlainMechanism(this.username, this.#password);
  }
  /** The same credentials for `hostname` (redirects); keeps this transport unless one is given. */
  withHost(hostname: string, transport: TransportOptions = this.transport): SASLPlain {
    return new SASLPlain(hostname, this.username, this.#password, transport);
  }
}

/**
 * SASL EXTERNAL: the identity of the TLS client certificate (`transport.cert`/`key`).
 * @example
 * ```ts
 * const auth = new SASLExternal("broker.example", {
 *   cert: readFileSync("client.pem"),
 *   key: readFileSync("client.key"),
 * });
 * ```
 */
export class SASLExternal extends AMQPAuth {
  /** A SASL EXTERNAL mechanism (empty authorization identity). */
  mechanism(): SaslMechanism {
    return new SaslExternalMechanism();
  }
  /** An EXTERNAL auth for `hostname` (redirects); keeps this transport unless one is given. */
  withHost(hostname: string, transport: TransportOptions = this.transport): SASLExternal {
    return new SASLExternal(hostname, transport);
  }
}

/**
 * No SASL layer at all (the AMQP header is sent directly).
 * @example
 * ```ts
 * const conn = new Connection("localhost", new NoSASL("localhost", { tls: false, port: 5672 }));
 * ```
 */
export class NoSASL extends AMQPAuth {
  /** Always `undefined`: no SASL exchange. */
  mechanism(): undefined {
    return undefined;
  }
  /** A no-SASL auth for `hostname` (redirects); keeps this transport unless one is given. */
  withHost(hostname: string, transport: TransportOptions = this.transport): NoSASL {
    return new NoSASL(hostname, transport);
  }
}
