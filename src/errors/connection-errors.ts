/**
 * Connection-, session- and link-scope errors of uamqp's hierarchy (docs/errors.md):
 * `AMQPConnectionError` and its subclasses. Build them from a peer's CLOSE, END or DETACH with the
 * functions of `mapping.ts`.
 */
import { AMQPError, withRetryable, type AMQPErrorOptions } from "./amqp-error.js";
import { ErrorCondition } from "./conditions.js";
import { parseRedirectInfo, type RedirectInfo } from "./redirect-info.js";

/**
 * Connection-level failures: the socket, the AMQP open handshake, CBS or management channels
 * (uamqp's `AMQPConnectionError`). Retryable by default when it carries no condition, because
 * most of these failures are transient network problems.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof AMQPConnectionError && e.retryable) await reconnect(); }
 * ```
 */
export class AMQPConnectionError extends AMQPError {
  /** Stable error code of this class: `"AMQP_CONNECTION"`. */
  override readonly code: string = "AMQP_CONNECTION";
  /**
   * `retryable` defaults to the condition's retryability, or true without a condition.
   */
  constructor(message: string, options: AMQPErrorOptions = {}) {
    super(message, withRetryable(options, true));
  }
}

/**
 * The peer closed the connection with a known AMQP condition (uamqp's `ConnectionClose`).
 * `retryable` follows the condition: `amqp:connection:forced` is retryable,
 * `amqp:connection:framing-error` is not.
 */
export class ConnectionClose extends AMQPConnectionError {
  /** Stable error code of this class: `"AMQP_CONNECTION_CLOSED"`. */
  override readonly code: string = "AMQP_CONNECTION_CLOSED";
}

/**
 * The peer closed the connection with a vendor (non-AMQP) condition, e.g. `com.microsoft:…`
 * (uamqp's `VendorConnectionClose`). The condition is kept as sent; retryable by default.
 */
export class VendorConnectionClose extends ConnectionClose {
  /** Stable error code of this class: `"AMQP_CONNECTION_CLOSED_VENDOR"`. */
  override readonly code: string = "AMQP_CONNECTION_CLOSED_VENDOR";
}

/**
 * The peer closed the connection with `amqp:connection:redirect`: the container is available at
 * another host, given by {@link hostname}, {@link networkHost} and {@link port} (read from `info`).
 * Not in uamqp (which raises a plain `ConnectionClose`); it is a `ConnectionClose` subclass, so
 * uamqp-style checks still match. Not retryable against the same host.
 */
export class ConnectionRedirect extends ConnectionClose implements RedirectInfo {
  /** Stable error code of this class: `"AMQP_CONNECTION_REDIRECT"`. */
  override readonly code: string = "AMQP_CONNECTION_REDIRECT";
  /** `hostname` from `info`: the virtual host name to put in the OPEN. */
  declare readonly hostname: string | undefined;
  /** `network-host` from `info`: where to open the TCP connection. */
  declare readonly networkHost: string | undefined;
  /** `port` from `info`. */
  declare readonly port: number | undefined;
  /** `address` from `info` (not defined for connection redirects; kept if the peer sends it). */
  declare readonly address: string | undefined;
  /** `scheme` from `info` (Azure extension). */
  declare readonly scheme: string | undefined;
  /** `path` from `info` (Azure extension). */
  declare readonly path: string | undefined;

  /**
   * The condition defaults to `amqp:connection:redirect`; the redirect fields are read from `options.info`.
   */
  constructor(message: string, options: AMQPErrorOptions = {}) {
    super(message, { ...options, condition: options.condition ?? ErrorCondition.ConnectionRedirect });
    Object.assign(this, parseRedirectInfo(options.info));
  }
}

/**
 * The peer ended a session (an END performative, AMQP 1.0 §2.7.8), e.g. with
 * `amqp:session:window-violation` or `amqp:session:unattached-handle`: the session and its links are
 * gone, the connection stays open. Not in uamqp, which has no session-scope error; it is an
 * `AMQPConnectionError`, like `LinkDetach`, so uamqp-style checks and `ErrorPolicy` treat it as
 * before. `retryable` follows the condition.
 */
export class SessionEnd extends AMQPConnectionError {
  /** Stable error code of this class: `"AMQP_SESSION_ENDED"`. */
  override readonly code: string = "AMQP_SESSION_ENDED";
}

/**
 * The peer detached a link with an error (uamqp's `LinkDetach`), e.g. `amqp:link:detach-forced`
 * after the service's idle timeout (retryable) or `amqp:unauthorized-access` (not retryable).
 */
export class LinkDetach extends AMQPConnectionError {
  /** Stable error code of this class: `"AMQP_LINK_DETACHED"`. */
  override readonly code: string = "AMQP_LINK_DETACHED";
}

/** The peer detached a link with a vendor condition (uamqp's `VendorLinkDetach`); retryable by default. */
export class VendorLinkDetach extends LinkDetach {
  /** Stable error code of this class: `"AMQP_LINK_DETACHED_VENDOR"`. */
  override readonly code: string = "AMQP_LINK_DETACHED_VENDOR";
}

/**
 * The peer detached a link with `amqp:link:redirect` (uamqp's `LinkRedirect`). The new location
 * is read from `info` (keys `hostname`, `network-host`, `port`, `address`, `scheme`, `path`; as
 * strings or symbols, values as strings or numbers). Not retryable on the same link: re-attach
 * at the new address instead.
 *
 * @example
 * ```ts
 * catch (e) {
 *   if (e instanceof LinkRedirect) await client.redirect(e, auth); // e.hostname, e.port, e.address
 * }
 * ```
 */
export class LinkRedirect extends LinkDetach implements RedirectInfo {
  /** Stable error code of this class: `"AMQP_LINK_REDIRECT"`. */
  override readonly code: string = "AMQP_LINK_REDIRECT";
  /** `hostname` from `info`: the virtual host name to put in the OPEN. */
  declare readonly hostname: string | undefined;
  /** `network-host` from `info`: where to open the TCP connection (uamqp's `network_host`). */
  declare readonly networkHost: string | undefined;
  /** `port` from `info`. */
  declare readonly port: number | undefined;
  /** `address` from `info`: the node address to attach to. */
  declare readonly address: string | undefined;
  /** `scheme` from `info` (Azure extension). */
  declare readonly scheme: string | undefined;
  /** `path` from `info` (Azure extension). */
  declare readonly path: string | undefined;

  /**
   * The condition defaults to `amqp:link:redirect`; the redirect fields are read from `options.info`.
   */
  constructor(message: string, options: AMQPErrorOptions = {}) {
    super(message, { ...options, condition: options.condition ?? ErrorCondition.LinkRedirect });
    Object.assign(this, parseRedirectInfo(options.info));
  }
}

/**
 * A sender or receiver link entered its error state (uamqp's `MessageHandlerError`), for example
 * because its session or connection failed; the underlying error is the `cause`. Retryable by
 * default (rebuild the handler).
 */
export class MessageHandlerError extends AMQPConnectionError {
  /** Stable error code of this class: `"AMQP_MESSAGE_HANDLER"`. */
  override readonly code: string = "AMQP_MESSAGE_HANDLER";
}
