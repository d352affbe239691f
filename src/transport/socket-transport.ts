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

/** The most a read takes at a time (as Node's own reads). */
const READ_BYTES = 64 * 1024;
/** A read of at most this many bytes is copied out, and its memory read into again. */
const COPY_BYTES = 16 * 1024;

/**
 * @internal The memory a connecting TCP socket reads into (`net.connect`'s `onread`). Node's own
 * reads take fresh memory for every read; here, the handler's memory when it offers some (the rest
 * of a large frame: read in place, no copy), else a 64 KiB buffer that goes with the bytes when a
 * read fills more than a quarter of it, and otherwise serves again while the few bytes are copied
 * out (a request and its answer: no fresh 64 KiB per read).
 */
export class SocketReads {
  /** What `net.connect` takes as `onread`. */
  readonly options = {
    buffer: (): Buffer => this.#next(),
    callback: (n: number, buf: Buffer): boolean => {
      this.#read(n, buf);
      // (false would pause the socket; the transport pauses it itself when asked.)
      return true;
    },
  };
  #deliver: ((chunk: Buffer) => void) | undefined;
  #target: (() => Buffer | undefined) | undefined;
  /** Bytes read before `bind` (none in practice: reading starts once connected). */
  #early: Buffer[] = [];
  #scratch: Buffer | undefined;

  /** Sends the reads to `deliver` from now on; `target` tells where to read next, if anywhere. */
  bind(deliver: (chunk: Buffer) => void, target: () => Buffer | undefined): void {
    this.#deliver = deliver;
    this.#target = target;
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) deliver(chunk);
  }

  #next(): Buffer {
    return this.#target?.() ?? (this.#scratch ??= Buffer.allocUnsafeSlow(READ_BYTES));
  }

  #read(n: number, buf: Buffer): void {
    let chunk: Buffer;
    if (buf !== this.#scratch) {
      chunk = buf.subarray(0, n);
    } else if (n <= COPY_BYTES) {
      chunk = Buffer.allocUnsafe(n);
      buf.copy(chunk, 0, 0, n);
    } else {
      chunk = buf.subarray(0, n);
      this.#scratch = undefined;
    }
    if (this.#deliver) this.#deliver(chunk);
    else this.#early.push(chunk);
  }
}

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

  /**
   * @internal `reads`: the socket reads through them (`onread`), not through `data` events.
   */
  constructor(socket: Socket, description: string, reads?: SocketReads) {
    super();
    this.#socket = socket;
    this.description = description;
    this.encrypted = socket instanceof TLSSocket;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.peerCertificate = socket instanceof TLSSocket ? verifiedPeerCertificate(socket) : undefined;
    if (reads)
      reads.bind(
        (chunk) => {
          this.emitData(chunk);
        },
        () => this.readInto(),
      );
    else
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
