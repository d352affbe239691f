/**
 * The accepting side of AMQP over WebSocket: an HTTP(S) server that upgrades requests on a path
 * when the client offers one of the accepted subprotocols.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { formatHostPort } from "./address.js";
import { ConnectionTracker, listen, transportServer } from "./server.js";
import { tlsServerOptions, type TlsServerOptions } from "./tls.js";
import type { OnTransport, TransportServer } from "./transport.js";
import { WebSocketTransport } from "./websocket-transport.js";

/** Options of {@link listenWebSocket}. */
export interface WebSocketListenOptions {
  /** @defaultValue "127.0.0.1" */
  host?: string | undefined;
  /** @defaultValue 0 (any free port) */
  port?: number | undefined;
  /**
   * Only upgrade requests for this path (a trailing slash is ignored); others get 404.
   * @defaultValue any path
   */
  path?: string | undefined;
  /**
   * Accepted subprotocols, in order of preference; a client offering none of them gets 400.
   * @defaultValue ["AMQPWSB10", "amqp"]
   */
  protocols?: readonly string[] | undefined;
  /** Serve `wss://` with these TLS settings. */
  tls?: TlsServerOptions | undefined;
  /**
   * Largest message accepted from a client, in bytes.
   * @defaultValue 104857600 (ws's default, 100 MiB)
   */
  maxPayload?: number | undefined;
  /**
   * TCP keep-alive on accepted sockets: the first probe after this many milliseconds without
   * traffic (0: off).
   * @defaultValue keep-alive off
   */
  keepAliveInitialDelayMs?: number | undefined;
}

function normalizePath(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers["sec-websocket-protocol"];
  if (header === undefined) return [];
  return header
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, "latin1");
  socket.on("error", () => undefined);
  setImmediate(() => socket.destroy()).unref();
}

/**
 * Accepts AMQP-over-WebSocket connections; each becomes a {@link Transport} handed to `onTransport`.
 * `close()` stops listening and destroys the transports still open.
 *
 * @example
 * ```ts
 * const server = await listenWebSocket({ path: "/$servicebus/websocket/" }, onTransport);
 * const url = `ws://${server.host}:${server.port}/$servicebus/websocket/`;
 * ```
 */
export async function listenWebSocket(
  options: WebSocketListenOptions,
  onTransport: OnTransport,
): Promise<TransportServer> {
  const host = options.host ?? "127.0.0.1";
  const protocols = options.protocols ?? ["AMQPWSB10", "amqp"];
  const path = options.path === undefined ? undefined : normalizePath(options.path);
  const secure = options.tls !== undefined;
  const tracker = new ConnectionTracker(options.keepAliveInitialDelayMs);
  const onRequest = (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(426, { Connection: "close", Upgrade: "websocket", "Content-Length": "0" });
    response.end();
  };
  const server: Server =
    options.tls === undefined
      ? createHttpServer(onRequest)
      : createHttpsServer(tlsServerOptions(options.tls), onRequest);
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
    handleProtocols: (offered: Set<string>) => protocols.find((p) => offered.has(p)) ?? false,
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== undefined && normalizePath(pathname) !== path) {
      refuse(socket, 404, "Not Found");
      return;
    }
    const offered = offeredProtocols(request);
    if (!protocols.some((p) => offered.includes(p))) {
      refuse(socket, 400, "Bad Request");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const raw = request.socket;
      const description = `${secure ? "wss" : "ws"} from ${formatHostPort(raw.remoteAddress, raw.remotePort)}`;
      tracker.adopt(new WebSocketTransport(ws, description, raw), onTransport);
    });
  });
  tracker.watch(server);
  const address = await listen(server, host, options.port ?? 0, secure ? "wss" : "ws");
  return transportServer(server, address, tracker, () => {
    wss.close();
    server.closeAllConnections();
  });
}
