/**
 * A {@link Transport} over a connected `net.Socket` or `tls.TLSSocket` (both sides).
 */
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { BaseTransport } from "./base-transport.js";
import { toTransportError } from "./errors.js";
import { verifiedPeerCertificate } from "./peer-certificate.js";
import type { PeerCertificate } from "./transport.js";

/** @internal How long `end()` waits for the peer to close before destroying the socket. */
export const GRACEFUL_CLOSE_TIMEOUT_MS = 5000;

/**
 * A transport over a connected Node.js socket (TCP or TLS). Created by `connectTcp`, `connectTls`,
 * `listenTcp` and `listenTls`.
 */
export class SocketTransport extends BaseTransport {
  readonly #socket: Socket;
  readonly encrypted: boolean;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly peerCertificate: PeerCertificate | undefined;
  readonly description: string;
  /** The first socket error, reported by `onClose`. */
  #error: Error | undefined;
  #ending = false;
  #endTimer: NodeJS.Timeout | undefined;

  /** @internal */
  constructor(socket: Socket, description: string) {
    super();
    this.#socket = socket;
    this.description = description;
    this.encrypted = socket instanceof TLSSocket;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.peerCertificate = socket instanceof TLSSocket ? verifiedPeerCertificate(socket) : undefined;
    socket.on("data", (chunk: Buffer) => {
      this.emitData(chunk);
    });
    socket.on("drain", () => {
      this.emitDrain();
    });
    socket.on("error", (error: Error) => {
      this.#error ??= toTransportError(error, "io", this.description);
    });
    socket.on("close", () => {
      this.#closed();
    });
    if (socket.destroyed) queueMicrotask(() => this.#closed());
  }

  /** The socket's `writableLength`: what it has not passed to the operating system yet. */
  get heldBytes(): number {
    return this.#socket.writableLength;
  }

  write(chunk: Uint8Array): boolean {
    if (!this.#writable()) return false;
    return this.#socket.write(chunk);
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    if (!this.#writable()) return false;
    const socket = this.#socket;
    if (chunks.length === 1) return socket.write(chunks[0]!);
    let ok = true;
    socket.cork();
    for (const chunk of chunks) ok = socket.write(chunk) && ok;
    socket.uncork();
    return ok;
  }

  end(): void {
    if (this.#ending || this.isDestroyed || this.closeEmitted) return;
    this.#ending = true;
    this.#socket.end();
    this.#endTimer = setTimeout(() => {
      this.#socket.destroy();
    }, GRACEFUL_CLOSE_TIMEOUT_MS);
    this.#endTimer.unref();
  }

  destroy(error?: Error): void {
    if (this.isDestroyed || this.closeEmitted) return;
    this.markDestroyed();
    // A local reason replaces whatever the socket reported.
    if (error !== undefined) this.#error = error;
    this.#socket.destroy();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  #writable(): boolean {
    return !this.#ending && !this.isDestroyed && !this.closeEmitted && !this.#socket.destroyed;
  }

  #closed(): void {
    if (this.#endTimer !== undefined) clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
    this.emitClose(this.#error);
  }
}
