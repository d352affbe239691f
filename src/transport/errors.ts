/**
 * Errors of the transport layer (TCP, TLS, WebSocket, HTTP CONNECT proxy).
 *
 * Messages name the endpoint (`host:port` or a URL without credentials and query) and never contain
 * a password, a proxy credential or a token.
 */
import { AMQPError, type AMQPErrorOptions } from "../errors/index.js";

/** Options of {@link TransportError} and its subclasses. */
export interface TransportErrorOptions extends AMQPErrorOptions {
  /** The Node.js system error code that caused this error, e.g. `ECONNREFUSED`. */
  readonly systemCode?: string | undefined;
  /** The HTTP status received (proxy or WebSocket handshake), when one caused this error. */
  readonly statusCode?: number | undefined;
}

/**
 * A failure of the byte transport: a socket error, a reset, a listen failure.
 * Subclasses narrow the cause; match on {@link AMQPError.code}.
 *
 * @example
 * ```ts
 * transport.setHandler({ onData() {}, onDrain() {}, onClose(e) {
 *   if (e instanceof TransportError && e.retryable) scheduleReconnect();
 * } });
 * ```
 */
export class TransportError extends AMQPError {
  override readonly code: string = "AMQP_TRANSPORT";
  /** The Node.js system error code that caused this error (`ECONNRESET`, `ECONNREFUSED`…), if any. */
  readonly systemCode: string | undefined;
  /** The HTTP status received from a proxy or a WebSocket server, if any. */
  readonly statusCode: number | undefined;

  constructor(message: string, options: TransportErrorOptions = {}) {
    super(message, options);
    this.systemCode = options.systemCode;
    this.statusCode = options.statusCode;
  }
}

/** The connection could not be established (refused, unreachable, DNS failure, reset while connecting). */
export class ConnectFailedError extends TransportError {
  override readonly code: string = "AMQP_CONNECT_FAILED";
}

/** The connection was not established within `timeoutMs` (TCP connect, proxy, TLS or WebSocket handshake). */
export class ConnectTimeoutError extends TransportError {
  override readonly code: string = "AMQP_CONNECT_TIMEOUT";
}

/**
 * The TLS handshake failed: untrusted or expired certificate, hostname mismatch, protocol error.
 * Not retryable: the same configuration fails the same way.
 */
export class TlsError extends TransportError {
  override readonly code: string = "AMQP_TLS";
}

/** The HTTP CONNECT proxy refused the tunnel (non-2xx status) or could not be reached or understood. */
export class ProxyError extends TransportError {
  override readonly code: string = "AMQP_PROXY";
}

/** The WebSocket opening handshake failed (HTTP status other than 101, subprotocol mismatch…). */
export class WebSocketError extends TransportError {
  override readonly code: string = "AMQP_WEBSOCKET";
}

/** OpenSSL / Node.js certificate verification error codes. */
const TLS_VERIFY_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
]);

/** TLS error codes that are transient rather than a configuration or trust problem. */
const TLS_RETRYABLE_CODES = new Set(["ERR_TLS_HANDSHAKE_TIMEOUT"]);

/** @internal The `code` property of a Node.js error, if it is a string. */
export function systemCodeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = error.code;
  return typeof code === "string" ? code : undefined;
}

/** @internal Whether a Node.js error code denotes a TLS verification or handshake failure. */
export function isTlsFailureCode(code: string | undefined): boolean {
  if (code === undefined || TLS_RETRYABLE_CODES.has(code)) return false;
  return TLS_VERIFY_CODES.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * @internal Maps a Node.js socket/TLS error to a {@link TransportError}. `phase` tells whether the
 * connection was being established (`connect`) or already carried data (`io`). AMQP errors pass
 * through unchanged.
 */
export function toTransportError(error: unknown, phase: "connect" | "io", where: string): AMQPError {
  if (error instanceof AMQPError) return error;
  const systemCode = systemCodeOf(error);
  const reason = messageOf(error);
  if (isTlsFailureCode(systemCode)) {
    return new TlsError(`TLS failure with ${where}: ${reason}`, {
      cause: error,
      systemCode,
      retryable: false,
    });
  }
  if (phase === "connect") {
    return new ConnectFailedError(`cannot connect to ${where}: ${reason}`, {
      cause: error,
      systemCode,
      retryable: true,
    });
  }
  return new TransportError(`${where}: ${reason}`, { cause: error, systemCode, retryable: true });
}
