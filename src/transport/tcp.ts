/**
 * Plain TCP transports (node:net): `connectTcp` and `listenTcp`.
 */
import { connect, createServer, type Socket } from "node:net";
import { formatHostPort } from "./address.js";
import { guardConnect } from "./connect-guard.js";
import { ConnectFailedError, toTransportError } from "./errors.js";
import { ConnectionTracker, listen, transportServer } from "./server.js";
import { SocketReads, SocketTransport } from "./socket-transport.js";
import type { ConnectOptions, OnTransport, Transport, TransportServer } from "./transport.js";

/** Options of {@link connectTcp}. */
export interface TcpConnectOptions extends ConnectOptions {
  /** Host name or IP address. */
  host: string;
  /** TCP port, e.g. 5672. */
  port: number;
  /**
   * Enables TCP keep-alive with this initial delay.
   * @defaultValue keep-alive off
   */
  keepAliveInitialDelayMs?: number | undefined;
}

/** @internal Waits for `readyEvent` on a socket being connected, under the caller's timeout and signal. */
export function connectSocket<S extends Socket>(
  options: ConnectOptions,
  description: string,
  create: () => S,
  readyEvent: "connect" | "secureConnect",
  wrap: (socket: S) => Transport,
): Promise<Transport> {
  return guardConnect<Transport>(options, description, (settle) => {
    const socket = create();
    const onError = (error: Error): void => {
      socket.destroy();
      settle.reject(toTransportError(error, "connect", description));
    };
    const onClose = (): void => {
      settle.reject(
        new ConnectFailedError(`connection to ${description} closed before it was established`, {
          retryable: true,
        }),
      );
    };
    const onReady = (): void => {
      const transport = wrap(socket);
      socket.off("error", onError);
      socket.off("close", onClose);
      if (!settle.resolve(transport)) transport.destroy();
    };
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.once(readyEvent, onReady);
    return () => {
      socket.destroy();
    };
  });
}

/**
 * Opens a TCP connection (no delay, keep-alive off unless asked).
 *
 * @throws {ConnectFailedError} refused, unreachable, DNS failure (retryable)
 * @throws {ConnectTimeoutError} `timeoutMs` elapsed (retryable)
 * @throws {AMQPAbortError} `signal` aborted (from src/errors)
 * @example
 * ```ts
 * const transport = await connectTcp({ host: "localhost", port: 5672, timeoutMs: 10_000 });
 * ```
 */
export function connectTcp(options: TcpConnectOptions): Promise<Transport> {
  const { host, port, keepAliveInitialDelayMs } = options;
  const description = `tcp ${formatHostPort(host, port)}`;
  const reads = new SocketReads();
  return connectSocket(
    options,
    description,
    () =>
      connect({
        host,
        port,
        noDelay: true,
        keepAlive: keepAliveInitialDelayMs !== undefined,
        keepAliveInitialDelay: keepAliveInitialDelayMs ?? 0,
        onread: reads.options,
      }),
    "connect",
    (socket) => new SocketTransport(socket, description, reads),
  );
}

/** Options of {@link listenTcp}. */
export interface TcpListenOptions {
  /** @defaultValue "127.0.0.1" */
  host?: string | undefined;
  /** @defaultValue 0 (any free port; read it from `TransportServer.port`) */
  port?: number | undefined;
  /**
   * TCP keep-alive on accepted sockets: the first probe after this many milliseconds without
   * traffic (0: off).
   * @defaultValue keep-alive off
   */
  keepAliveInitialDelayMs?: number | undefined;
}

/**
 * Accepts TCP connections; each becomes a {@link Transport} handed to `onTransport`.
 * `close()` stops listening and destroys the transports still open.
 *
 * @example
 * ```ts
 * const server = await listenTcp({ port: 0 }, (transport) => transport.setHandler(echo(transport)));
 * // … connectTcp({ host: server.host, port: server.port }) …
 * await server.close();
 * ```
 */
export async function listenTcp(
  options: TcpListenOptions,
  onTransport: OnTransport,
): Promise<TransportServer> {
  const host = options.host ?? "127.0.0.1";
  const tracker = new ConnectionTracker(options.keepAliveInitialDelayMs);
  const server = createServer({ noDelay: true }, (socket) => {
    const description = `tcp from ${formatHostPort(socket.remoteAddress, socket.remotePort)}`;
    tracker.adopt(new SocketTransport(socket, description), onTransport);
  });
  tracker.watch(server);
  const address = await listen(server, host, options.port ?? 0, "tcp");
  return transportServer(server, address, tracker);
}
