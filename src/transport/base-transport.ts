/**
 * The handler bookkeeping every transport shares: events that happen before `setHandler` are
 * queued and replayed in order, handler exceptions destroy the transport, and `onClose` is
 * delivered exactly once, after which the handler is released.
 */
import type { PeerCertificate, Transport, TransportHandler } from "./transport.js";

type QueuedEvent =
  | { readonly kind: "data"; readonly chunk: Buffer }
  | { readonly kind: "drain" }
  | { readonly kind: "close"; readonly error: Error | undefined };

/** @internal Base class of the transports of this folder. */
export abstract class BaseTransport implements Transport {
  #handler: TransportHandler | undefined;
  #queue: QueuedEvent[] = [];
  #delivering = false;
  /** `onClose` was delivered or queued. */
  #closeEmitted = false;
  /** `destroy()` was called: no more data is delivered. */
  #destroyed = false;
  #closeListeners: (() => void)[] = [];

  abstract readonly encrypted: boolean;
  abstract readonly remoteAddress: string | undefined;
  abstract readonly remotePort: number | undefined;
  abstract readonly peerCertificate: PeerCertificate | undefined;
  abstract readonly description: string;

  abstract write(chunk: Uint8Array): boolean;
  abstract writev(chunks: readonly Uint8Array[]): boolean;
  abstract end(): void;
  abstract destroy(error?: Error): void;
  abstract pause(): void;
  abstract resume(): void;

  setHandler(handler: TransportHandler): void {
    if (this.#closeEmitted && this.#queue.length === 0) return;
    this.#handler = handler;
    this.#flush();
  }

  /** @internal Runs `listener` once when the transport closes (used by servers to track transports). */
  addCloseListener(listener: () => void): void {
    if (this.#closeEmitted) listener();
    else this.#closeListeners.push(listener);
  }

  /** Whether a handler is installed (and the close not yet delivered). */
  protected get hasHandler(): boolean {
    return this.#handler !== undefined;
  }

  /** Whether `onClose` was delivered or is queued. */
  protected get closeEmitted(): boolean {
    return this.#closeEmitted;
  }

  /** Stops data delivery (called by `destroy()`). */
  protected markDestroyed(): void {
    this.#destroyed = true;
  }

  protected get isDestroyed(): boolean {
    return this.#destroyed;
  }

  protected emitData(chunk: Buffer): void {
    if (this.#destroyed || this.#closeEmitted) return;
    const handler = this.#handler;
    if (handler === undefined || this.#delivering || this.#queue.length > 0) {
      this.#emit({ kind: "data", chunk });
      return;
    }
    // Fast path (the common case): no allocation per chunk.
    this.#delivering = true;
    try {
      handler.onData(chunk);
    } catch (error) {
      this.#handlerFailed(error);
    } finally {
      this.#delivering = false;
    }
    if (this.#queue.length > 0) this.#flush();
  }

  /**
   * The handler's memory for the next read (`TransportHandler.readInto`), asked only when the next
   * chunk would reach it at once (nothing queued, nothing being delivered).
   */
  protected readInto(): Buffer | undefined {
    if (this.#delivering || this.#queue.length > 0 || this.#destroyed || this.#closeEmitted) return undefined;
    return this.#handler?.readInto?.();
  }

  protected emitDrain(): void {
    if (this.#destroyed || this.#closeEmitted) return;
    this.#emit({ kind: "drain" });
  }

  protected emitClose(error: Error | undefined): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    const listeners = this.#closeListeners;
    this.#closeListeners = [];
    for (const listener of listeners) listener();
    this.#emit({ kind: "close", error });
  }

  #emit(event: QueuedEvent): void {
    this.#queue.push(event);
    this.#flush();
  }

  #flush(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      let handler = this.#handler;
      while (handler !== undefined && this.#queue.length > 0) {
        const event = this.#queue.shift()!;
        this.#deliver(handler, event);
        handler = this.#handler;
      }
    } finally {
      this.#delivering = false;
    }
  }

  #deliver(handler: TransportHandler, event: QueuedEvent): void {
    switch (event.kind) {
      case "close":
        this.#handler = undefined;
        this.#queue = [];
        handler.onClose(event.error);
        return;
      case "data":
        if (this.#destroyed) return;
        try {
          handler.onData(event.chunk);
        } catch (error) {
          this.#handlerFailed(error);
        }
        return;
      case "drain":
        if (this.#destroyed) return;
        try {
          handler.onDrain();
        } catch (error) {
          this.#handlerFailed(error);
        }
        return;
    }
  }

  #handlerFailed(error: unknown): void {
    this.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}
