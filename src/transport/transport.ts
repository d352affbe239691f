/**
 * The byte transport contract between the protocol engine and the network.
 *
 * A transport moves bytes and knows nothing of AMQP frames. Implementations: TCP and TLS
 * (`tcp.ts`, `tls.ts`), WebSocket (`websocket.ts`, optionally through an HTTP CONNECT proxy) and an
 * in-process pair for tests and benchmarks (`memory.ts`).
 */

/**
 * Receives what a transport produces. Called synchronously from socket events.
 * A handler must not throw: an exception thrown by `onData` or `onDrain` destroys the transport
 * with that exception as the `onClose` error.
 */
export interface TransportHandler {
  /**
   * Bytes received. Each chunk is a fresh Buffer that nobody else writes to (or a view of the memory
   * `readInto` gave): the receiver may keep views (`subarray`) into it.
   */
  onData(chunk: Buffer): void;
  /**
   * Optional: memory to read the next bytes into, asked right after `onData` returned by a transport
   * that reads into memory it chooses (plain TCP on the connecting side). The next `onData` then
   * receives a view of it, from its start, which may be shorter. Undefined: a fresh chunk. The
   * memory must stay the handler's own until that `onData`.
   */
  readInto?(): Buffer | undefined;
  /** The transport can accept writes again after `write()`/`writev()` returned false. */
  onDrain(): void;
  /**
   * The transport is closed: `undefined` after a graceful close (either side), the error otherwise.
   * Called exactly once, after which no method of the handler is called again.
   */
  onClose(error: Error | undefined): void;
}

/** Subject and fingerprint of a verified TLS peer certificate. */
export interface PeerCertificate {
  /** Subject fields, e.g. `{ CN: "client", O: "Contoso" }` (multi-valued fields joined with ", "). */
  readonly subject?: Record<string, string>;
  /** SHA-256 fingerprint, colon-separated upper-case hex as Node.js reports it. */
  readonly fingerprint256?: string;
}

/**
 * A connected, bidirectional byte stream.
 *
 * Ownership of written chunks passes to the transport: do not modify a chunk after handing it to
 * `write()`/`writev()` (a socket may still be sending it).
 *
 * @example
 * ```ts
 * const transport = await connectTcp({ host: "127.0.0.1", port: 5672, timeoutMs: 5000 });
 * transport.setHandler({
 *   onData: (chunk) => reader.push(chunk),
 *   onDrain: () => flushMore(),
 *   onClose: (error) => finish(error),
 * });
 * if (!transport.write(Buffer.from("AMQP\x00\x01\x00\x00", "latin1"))) await drained;
 * ```
 */
export interface Transport {
  /**
   * Installs (or replaces) the handler. Data, drain and close events that happened before are
   * delivered right away (synchronously, in order) to the new handler.
   */
  setHandler(handler: TransportHandler): void;
  /**
   * Queues bytes; returns false when the caller should wait for `onDrain` (the bytes are still
   * queued). After `end()`/`destroy()` or once closed, the bytes are dropped and false is returned.
   */
  write(chunk: Uint8Array): boolean;
  /** Queues several chunks as one write (cork/uncork or one WebSocket message); same contract as `write`. */
  writev(chunks: readonly Uint8Array[]): boolean;
  /** Flushes queued bytes then closes gracefully; `onClose` follows. Idempotent. */
  end(): void;
  /** Closes at once, discarding queued bytes; `onClose(error)` follows. Idempotent. */
  destroy(error?: Error): void;
  /**
   * Stops reading from the peer until `resume()` (back-pressure on a peer that sends faster than
   * its bytes are handled). Bytes already read may still arrive. Idempotent.
   */
  pause(): void;
  /** Reads from the peer again after `pause()`. Idempotent. */
  resume(): void;
  /** Whether the bytes travel encrypted (TLS, wss). */
  readonly encrypted: boolean;
  /** The peer's IP address, when known. */
  readonly remoteAddress: string | undefined;
  /** The peer's port, when known. */
  readonly remotePort: number | undefined;
  /**
   * The TLS peer certificate when the peer presented one and it was verified (used by SASL
   * EXTERNAL on the accepting side); `undefined` otherwise.
   */
  readonly peerCertificate: PeerCertificate | undefined;
  /** A short description for logs, e.g. `"tcp 127.0.0.1:5672"`. Never contains credentials. */
  readonly description: string;
  /**
   * Bytes given to `write()`/`writev()` that the transport still holds (not yet handed to the
   * operating system), when it can tell. At 0 it holds no chunk any more: their memory is the
   * writer's again. Undefined: it cannot tell (a chunk may be kept as long as the transport likes).
   */
  readonly heldBytes?: number | undefined;
}

/** Options every connecting function accepts. */
export interface ConnectOptions {
  /**
   * Cancels the attempt: the promise rejects with `AMQPAbortError` (code `AMQP_ABORTED`, `cause` the
   * signal's reason).
   */
  signal?: AbortSignal | undefined;
  /**
   * Upper bound for the whole attempt (DNS, TCP, proxy, TLS and WebSocket handshakes); the promise
   * rejects with `ConnectTimeoutError` (code `AMQP_CONNECT_TIMEOUT`).
   * @defaultValue no limit (the operating system's TCP timeout applies)
   */
  timeoutMs?: number | undefined;
}

/** Opens a transport; what the engine calls to (re)connect. */
export type TransportFactory = (options: ConnectOptions) => Promise<Transport>;

/** A listening socket that produces a {@link Transport} per accepted connection. */
export interface TransportServer {
  /** The bound port (the actual one when 0 was requested). */
  readonly port: number;
  /** The bound address. */
  readonly host: string;
  /** Stops listening and destroys every transport still open; resolves when all is closed. */
  close(): Promise<void>;
}

/** Called for each accepted connection; call `setHandler` on the transport to receive its bytes. */
export type OnTransport = (transport: Transport) => void;

export {
  TransportError,
  ConnectFailedError,
  ConnectTimeoutError,
  TlsError,
  ProxyError,
  WebSocketError,
  type TransportErrorOptions,
} from "./errors.js";
