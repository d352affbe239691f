/**
 * A {@link Transport} over a `ws` WebSocket (both sides): every binary message received is one
 * `onData` chunk; writes are binary messages.
 */
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { RawData, WebSocket } from "ws";
import { BaseTransport } from "./base-transport.js";
import { TransportError, toTransportError } from "./errors.js";
import { verifiedPeerCertificate } from "./peer-certificate.js";
import { GRACEFUL_CLOSE_TIMEOUT_MS } from "./socket-transport.js";
import type { PeerCertificate } from "./transport.js";

/** Bytes handed to `ws` and not yet written to the socket above which `write()` returns false. */
export const WEBSOCKET_HIGH_WATER_MARK = 16 * 1024;

/** WebSocket close codes that mean a normal close (RFC 6455 §7.4.1: 1000 normal, 1005 no status). */
const CLEAN_CLOSE_CODES = new Set([1000, 1005]);

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * A transport over an open WebSocket. Created by `connectWebSocket` and `listenWebSocket`.
 * A close without a close frame (code 1006) or with a code other than 1000/1005 is reported to
 * `onClose` as a retryable {@link TransportError}.
 */
export class WebSocketTransport extends BaseTransport {
  readonly #ws: WebSocket;
  readonly encrypted: boolean;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly peerCertificate: PeerCertificate | undefined;
  readonly description: string;
  /** Bytes passed to `ws.send` whose write callback has not run yet. */
  #outstanding = 0;
  #needDrain = false;
  #error: Error | undefined;
  #ending = false;
  #endTimer: NodeJS.Timeout | undefined;

  /** @internal `socket` is the connection under the WebSocket (TLS for wss), when known. */
  constructor(ws: WebSocket, description: string, socket: Socket | undefined) {
    super();
    this.#ws = ws;
    this.description = description;
    this.encrypted = socket instanceof TLSSocket;
    this.remoteAddress = socket?.remoteAddress;
    this.remotePort = socket?.remotePort;
    this.peerCertificate = socket instanceof TLSSocket ? verifiedPeerCertificate(socket) : undefined;
    ws.binaryType = "nodebuffer";
    ws.on("message", (data: RawData) => {
      this.emitData(toBuffer(data));
    });
    ws.on("error", (error: Error) => {
      this.#error ??= toTransportError(error, "io", this.description);
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.#closed(code, reason);
    });
  }

  write(chunk: Uint8Array): boolean {
    if (!this.#writable()) return false;
    this.#send(chunk, true);
    return this.#afterWrite();
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    if (!this.#writable()) return false;
    // Several chunks go out as the fragments of one message: no concatenation copy.
    const last = chunks.length - 1;
    for (let i = 0; i <= last; i++) this.#send(chunks[i]!, i === last);
    return this.#afterWrite();
  }

  end(): void {
    if (this.#ending || this.isDestroyed || this.closeEmitted) return;
    this.#ending = true;
    this.#ws.close(1000);
    this.#endTimer = setTimeout(() => {
      this.#ws.terminate();
    }, GRACEFUL_CLOSE_TIMEOUT_MS);
    this.#endTimer.unref();
  }

  destroy(error?: Error): void {
    if (this.isDestroyed || this.closeEmitted) return;
    this.markDestroyed();
    if (error !== undefined) this.#error = error;
    this.#ws.terminate();
  }

  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  #writable(): boolean {
    return !this.#ending && !this.isDestroyed && !this.closeEmitted && this.#ws.readyState === this.#ws.OPEN;
  }

  #send(chunk: Uint8Array, fin: boolean): void {
    const length = chunk.byteLength;
    this.#outstanding += length;
    this.#ws.send(chunk, { binary: true, fin, compress: false }, () => {
      this.#outstanding -= length;
      if (this.#needDrain && this.#outstanding === 0) {
        this.#needDrain = false;
        this.emitDrain();
      }
    });
  }

  #afterWrite(): boolean {
    if (this.#outstanding < WEBSOCKET_HIGH_WATER_MARK) return true;
    this.#needDrain = true;
    return false;
  }

  #closed(code: number, reason: Buffer): void {
    if (this.#endTimer !== undefined) clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
    let error = this.#error;
    if (error === undefined && !this.isDestroyed && !CLEAN_CLOSE_CODES.has(code)) {
      const text = reason.length > 0 ? `: ${reason.toString("utf8").slice(0, 200)}` : "";
      error = new TransportError(`${this.description} closed with WebSocket code ${code}${text}`, {
        retryable: true,
      });
    }
    this.emitClose(error);
  }
}
