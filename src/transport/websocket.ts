/**
 * The connecting side of AMQP over WebSocket (`ws://` / `wss://`, binary messages, subprotocol
 * `AMQPWSB10` by default), optionally tunnelled through an HTTP CONNECT proxy.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { WebSocket } from "ws";
import { formatHostPort, redactUrl, urlHostname } from "./address.js";
import { guardConnect } from "./connect-guard.js";
import { ConnectFailedError, WebSocketError, systemCodeOf, toTransportError } from "./errors.js";
import { startProxyTunnel, type HttpProxyOptions } from "./http-proxy.js";
import { tlsConnectionOptions, type TlsClientOptions } from "./tls.js";
import type { ConnectOptions, Transport } from "./transport.js";
import { WebSocketTransport } from "./websocket-transport.js";

/** The WebSocket subprotocol of the AMQP WebSocket binding as Azure uses it (uamqp's default). */
export const AMQP_WEBSOCKET_PROTOCOL = "AMQPWSB10";

/** Options of {@link connectWebSocket}. TLS options apply to `wss://` URLs. */
export interface WebSocketConnectOptions extends ConnectOptions, TlsClientOptions {
  /**
   * `ws://host:port/path` or `wss://host:port/path`. The path is the caller's choice (Azure:
   * `/$servicebus/websocket/`). Credentials and query never appear in descriptions or errors.
   */
  url: string | URL;
  /**
   * The subprotocol requested; the server must select it.
   * @defaultValue "AMQPWSB10"
   */
  protocol?: string | undefined;
  /** Extra HTTP headers of the upgrade request. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Tunnel through this HTTP CONNECT proxy (uamqp: a proxy forces WebSocket). */
  proxy?: HttpProxyOptions | undefined;
  /**
   * Largest message accepted from the peer, in bytes.
   * @defaultValue 104857600 (ws's default, 100 MiB)
   */
  maxPayload?: number | undefined;
}

/** Statuses after which trying the handshake again later can succeed. */
function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Opens an AMQP-over-WebSocket connection.
 *
 * @throws {WebSocketError} the server answered with a status other than 101 (`statusCode` set) or
 *   did not select the subprotocol
 * @throws {ProxyError} the proxy refused the tunnel or is unreachable
 * @throws {TlsError} untrusted certificate or hostname mismatch (wss)
 * @throws {ConnectFailedError} refused, unreachable, DNS failure (retryable)
 * @throws {ConnectTimeoutError} `timeoutMs` elapsed (covers proxy, TLS and upgrade)
 * @throws {AMQPAbortError} `signal` aborted (from src/errors)
 * @example
 * ```ts
 * const transport = await connectWebSocket({
 *   url: "wss://myns.servicebus.windows.net:443/$servicebus/websocket/",
 *   proxy: { host: "proxy.local", port: 3128, username: "u", password: "p" },
 *   timeoutMs: 10_000,
 * });
 * ```
 */
export function connectWebSocket(options: WebSocketConnectOptions): Promise<Transport> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    return Promise.reject(new TypeError("connectWebSocket: invalid url"));
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    return Promise.reject(new TypeError(`connectWebSocket: unsupported url scheme ${url.protocol}`));
  }
  const secure = url.protocol === "wss:";
  const host = urlHostname(url);
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  const proxy = options.proxy;
  const description =
    `${secure ? "wss" : "ws"} ${redactUrl(url)}` +
    (proxy === undefined ? "" : ` via proxy ${formatHostPort(proxy.host, proxy.port)}`);
  const protocol = options.protocol ?? AMQP_WEBSOCKET_PROTOCOL;

  return guardConnect<Transport>(options, description, (settle) => {
    let ws: WebSocket | undefined;
    let cancelled = false;
    let cancelTunnel: (() => void) | undefined;

    const onError = (error: Error): void => {
      const code = systemCodeOf(error);
      if (code === undefined) {
        // ws's own handshake checks (subprotocol, accept key, extensions) carry no code.
        settle.reject(
          new WebSocketError(`WebSocket handshake with ${description} failed: ${error.message}`, {
            cause: error,
          }),
        );
      } else {
        settle.reject(toTransportError(error, "connect", description));
      }
    };

    const start = (tunnel: Socket | undefined): void => {
      const tls: ConnectionOptions = secure ? tlsConnectionOptions(host, options) : {};
      // ws hands these options to http(s).request and tls.connect.
      const wsOptions: Record<string, unknown> = {
        ...tls,
        perMessageDeflate: false,
        followRedirects: false,
        headers: { ...options.headers },
      };
      if (options.maxPayload !== undefined) wsOptions["maxPayload"] = options.maxPayload;
      if (tunnel !== undefined) {
        // Failures surface through the TLS socket / HTTP client layered on the tunnel; an error
        // emitted by the raw socket itself must not crash the process.
        tunnel.on("error", () => undefined);
        const createConnection = secure
          ? (): Socket => tlsConnect({ ...tls, socket: tunnel })
          : (): Socket => tunnel;
        wsOptions["createConnection"] = createConnection;
      }
      const socket = new WebSocket(url, protocol, wsOptions);
      ws = socket;
      let upgraded: Socket | undefined;
      const onUpgrade = (response: IncomingMessage): void => {
        upgraded = response.socket;
      };
      const onUnexpectedResponse = (_request: unknown, response: IncomingMessage): void => {
        const status = response.statusCode ?? 0;
        const text = `${status} ${response.statusMessage ?? ""}`.trimEnd();
        settle.reject(
          new WebSocketError(`WebSocket handshake with ${description} failed: HTTP ${text}`, {
            statusCode: status,
            retryable: retryableStatus(status),
          }),
        );
        socket.terminate();
      };
      const onClose = (): void => {
        settle.reject(
          new ConnectFailedError(`WebSocket ${description} closed before it was open`, { retryable: true }),
        );
      };
      socket.on("error", onError);
      socket.on("upgrade", onUpgrade);
      socket.on("unexpected-response", onUnexpectedResponse);
      socket.on("close", onClose);
      socket.once("open", () => {
        socket.off("upgrade", onUpgrade);
        socket.off("unexpected-response", onUnexpectedResponse);
        socket.off("close", onClose);
        const transport = new WebSocketTransport(socket, description, upgraded);
        // The transport has its own error listener now.
        socket.off("error", onError);
        if (!settle.resolve(transport)) transport.destroy();
      });
    };

    const startSafely = (tunnel: Socket | undefined): void => {
      try {
        start(tunnel);
      } catch (error) {
        tunnel?.destroy();
        settle.reject(error instanceof Error ? error : new Error(String(error)));
      }
    };

    if (proxy === undefined) {
      start(undefined);
    } else {
      cancelTunnel = startProxyTunnel(proxy, host, port, (error, tunnel) => {
        if (error !== undefined) settle.reject(error);
        else if (cancelled) tunnel!.destroy();
        else startSafely(tunnel);
      });
    }
    return () => {
      cancelled = true;
      cancelTunnel?.();
      ws?.terminate();
    };
  });
}
