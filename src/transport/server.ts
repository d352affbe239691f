/**
 * Shared plumbing of the accepting side: listening, tracking open sockets and transports, and a
 * `close()` that leaves nothing open.
 */
import type { AddressInfo, Server, Socket } from "node:net";
import { formatHostPort } from "./address.js";
import type { BaseTransport } from "./base-transport.js";
import { TransportError, systemCodeOf } from "./errors.js";
import type { OnTransport, TransportServer } from "./transport.js";

/** @internal Tracks the raw sockets and the transports of a server. */
export class ConnectionTracker {
  readonly #sockets = new Set<Socket>();
  readonly #transports = new Set<BaseTransport>();
  readonly #keepAliveInitialDelayMs: number | undefined;
  #closing = false;

  /** `keepAliveInitialDelayMs`: TCP keep-alive on every accepted socket (undefined or 0: off). */
  constructor(keepAliveInitialDelayMs?: number) {
    this.#keepAliveInitialDelayMs = keepAliveInitialDelayMs;
  }

  /**
   * Tracks every raw connection of `server` (including those still in a TLS/HTTP handshake), with
   * TCP keep-alive when asked.
   */
  watch(server: Server): void {
    server.on("connection", (socket: Socket) => {
      if (this.#closing) {
        socket.destroy();
        return;
      }
      const keepAlive = this.#keepAliveInitialDelayMs;
      if (keepAlive !== undefined && keepAlive > 0) socket.setKeepAlive(true, keepAlive);
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  /** Hands a new transport to the user; an exception from `onTransport` destroys it. */
  adopt(transport: BaseTransport, onTransport: OnTransport): void {
    if (this.#closing) {
      transport.destroy();
      return;
    }
    this.#transports.add(transport);
    transport.addCloseListener(() => this.#transports.delete(transport));
    try {
      onTransport(transport);
    } catch (error) {
      transport.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Destroys every transport, then every raw socket still open. */
  destroyAll(): void {
    this.#closing = true;
    for (const transport of [...this.#transports]) transport.destroy();
    for (const socket of [...this.#sockets]) socket.destroy();
  }
}

/** @internal Starts listening; rejects with a `TransportError` (e.g. `EADDRINUSE`). */
export function listen(server: Server, host: string, port: number, kind: string): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    const onError = (error: Error): void => {
      const systemCode = systemCodeOf(error);
      reject(
        new TransportError(`cannot listen (${kind}) on ${formatHostPort(host, port)}: ${error.message}`, {
          cause: error,
          systemCode,
          retryable: false,
        }),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      // Errors after listening (e.g. EMFILE on accept) are transient; without a listener they would
      // crash the process.
      server.on("error", () => undefined);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** @internal Builds the {@link TransportServer} handle of a listening server. */
export function transportServer(
  server: Server,
  address: AddressInfo,
  tracker: ConnectionTracker,
  beforeClose?: () => void,
): TransportServer {
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    host: address.address,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        beforeClose?.();
        server.close(() => {
          resolve();
        });
        tracker.destroyAll();
      });
      return closing;
    },
  };
}
