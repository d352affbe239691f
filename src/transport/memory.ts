/**
 * Two connected in-process transports, for engine tests and benchmarks: no sockets, deterministic,
 * with optional re-chunking (split reads) and back-pressure.
 */
import { BaseTransport } from "./base-transport.js";
import { TransportError } from "./errors.js";
import type { PeerCertificate, TransportHandler } from "./transport.js";

/** Options of {@link createMemoryTransportPair}. */
export interface MemoryTransportOptions {
  /**
   * Deliver received bytes in pieces of at most this many bytes (1 exercises every split point).
   * @defaultValue everything written since the last delivery, as one chunk
   */
  chunkSize?: number | undefined;
  /**
   * Bytes written but not yet delivered to the peer above which `write()` returns false; `onDrain`
   * follows once the peer has received them.
   * @defaultValue Infinity (no back-pressure)
   */
  highWaterMark?: number | undefined;
}

type State = "open" | "ending" | "closed";

let pairCount = 0;

/**
 * One end of an in-process pair. Writes reach the peer's `onData` asynchronously (one
 * `setImmediate` batch per turn, like a socket read); `end()` delivers what is queued in both
 * directions, then closes both ends with `onClose(undefined)`; `destroy(error)` discards queued
 * bytes and closes both ends: the peer sees `onClose(undefined)` when no error was given, a
 * retryable `TransportError` ("connection reset by peer") otherwise.
 */
export class MemoryTransport extends BaseTransport {
  readonly encrypted = false;
  readonly remoteAddress: string | undefined = undefined;
  readonly remotePort: number | undefined = undefined;
  readonly peerCertificate: PeerCertificate | undefined = undefined;
  readonly description: string;
  #peer: MemoryTransport | undefined;
  readonly #chunkSize: number;
  readonly #highWaterMark: number;
  #state: State = "open";
  #queue: Uint8Array[] = [];
  #queued = 0;
  #scheduled = false;
  #needDrain = false;
  /** `pause()`d: the peer's bytes wait in its queue until `resume()`. */
  #paused = false;

  /** @internal */
  constructor(description: string, options: MemoryTransportOptions) {
    super();
    this.description = description;
    const chunkSize = options.chunkSize ?? Infinity;
    if (!(chunkSize >= 1)) throw new RangeError("chunkSize must be at least 1");
    this.#chunkSize = chunkSize;
    this.#highWaterMark = options.highWaterMark ?? Infinity;
  }

  /** @internal */
  static pair(options: MemoryTransportOptions): [MemoryTransport, MemoryTransport] {
    const id = ++pairCount;
    const a = new MemoryTransport(`memory ${id}a`, options);
    const b = new MemoryTransport(`memory ${id}b`, options);
    a.#peer = b;
    b.#peer = a;
    return [a, b];
  }

  override setHandler(handler: TransportHandler): void {
    super.setHandler(handler);
    // Bytes the peer queued while nobody was listening here can flow now.
    const peer = this.#peer!;
    if (peer.#queued > 0 || peer.#state === "ending") peer.#schedule();
  }

  /** Bytes written and not yet delivered to the peer. */
  get bufferedBytes(): number {
    return this.#queued;
  }

  write(chunk: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    this.#enqueue(chunk);
    return this.#afterWrite();
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    if (this.#state !== "open") return false;
    for (const chunk of chunks) this.#enqueue(chunk);
    return this.#afterWrite();
  }

  end(): void {
    if (this.#state !== "open") return;
    this.#state = "ending";
    this.#schedule();
  }

  destroy(error?: Error): void {
    if (this.#state === "closed") return;
    this.#shutdown(error);
    const peer = this.#peer!;
    if (peer.#state !== "closed") {
      peer.#shutdown(
        error === undefined
          ? undefined
          : new TransportError(`${peer.description}: connection reset by peer`, {
              systemCode: "ECONNRESET",
              retryable: true,
            }),
      );
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const peer = this.#peer!;
    if (peer.#queued > 0 || peer.#state === "ending") peer.#schedule();
  }

  #shutdown(error: Error | undefined): void {
    this.#state = "closed";
    this.#queue = [];
    this.#queued = 0;
    this.#needDrain = false;
    this.markDestroyed();
    setImmediate(() => {
      this.emitClose(error);
    });
  }

  #enqueue(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
    this.#schedule();
  }

  #afterWrite(): boolean {
    if (this.#queued < this.#highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#state === "closed") return;
    const peer = this.#peer!;
    if (this.#queued > 0) {
      if (!peer.hasHandler || peer.#paused) return; // resumed by peer.setHandler or peer.resume
      // One copy per batch: the receiver owns a fresh buffer, as with a socket read.
      const data = Buffer.concat(this.#queue, this.#queued);
      this.#queue = [];
      this.#queued = 0;
      peer.#receive(data);
      // The peer's handler may have destroyed us meanwhile (emitDrain is a no-op then).
      if (this.#needDrain) {
        this.#needDrain = false;
        this.emitDrain();
      }
    }
    if (this.#state === "ending" && this.#queued === 0) {
      // Our side is flushed: the peer sees the end and ends too (no half-open connections).
      if (peer.#state === "open") {
        peer.#state = "ending";
        peer.#schedule();
      } else if (peer.#state === "ending" && peer.#queued === 0) {
        this.#state = "closed";
        peer.#state = "closed";
        peer.emitClose(undefined);
        this.emitClose(undefined);
      }
    }
  }

  #receive(data: Buffer): void {
    const size = this.#chunkSize;
    if (data.length <= size) {
      this.emitData(data);
      return;
    }
    for (let offset = 0; offset < data.length && !this.isDestroyed && !this.closeEmitted; offset += size) {
      this.emitData(data.subarray(offset, offset + size));
    }
  }
}

/**
 * Creates two connected in-process transports: what one writes, the other receives.
 *
 * @example
 * ```ts
 * const [client, server] = createMemoryTransportPair({ chunkSize: 1 });
 * server.setHandler({ onData: (c) => server.write(c), onDrain() {}, onClose() {} }); // echo
 * client.setHandler({ onData: (c) => received.push(c), onDrain() {}, onClose() {} });
 * client.write(Buffer.from("hello"));
 * ```
 */
export function createMemoryTransportPair(
  options: MemoryTransportOptions = {},
): readonly [MemoryTransport, MemoryTransport] {
  return MemoryTransport.pair(options);
}
