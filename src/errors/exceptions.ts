/**
 * uamqp's exception hierarchy (docs/errors.md), under uamqp's names.
 *
 * ```
 * AMQPError
 * ├─ AMQPConnectionError ─┬─ ConnectionClose ─┬─ VendorConnectionClose
 * │                       │                   └─ ConnectionRedirect
 * │                       ├─ SessionEnd
 * │                       ├─ LinkDetach ──────┬─ VendorLinkDetach
 * │                       │                   └─ LinkRedirect
 * │                       └─ MessageHandlerError
 * ├─ ClientTimeout
 * ├─ AMQPClientShutdown
 * ├─ AMQPAbortError
 * ├─ AuthenticationException ─┬─ TokenExpired
 * │                           └─ TokenAuthFailure
 * ├─ MessageResponse ─┬─ MessageException ─┬─ MessageSendFailed
 * │                   │                    └─ ClientMessageError
 * │                   ├─ MessageAlreadySettled
 * │                   ├─ MessageRejected
 * │                   ├─ MessageReleased
 * │                   └─ MessageModified
 * ├─ MessageContentTooLarge
 * └─ DecodeError, EncodeError (decode-error.ts)
 * ```
 *
 * The connection/session/link classes live in `connection-errors.ts`, the message classes in
 * `message-errors.ts`; this module re-exports them.
 */
import { AMQPError, withRetryable, type AMQPErrorOptions } from "./amqp-error.js";

export {
  AMQPConnectionError,
  ConnectionClose,
  VendorConnectionClose,
  ConnectionRedirect,
  SessionEnd,
  LinkDetach,
  VendorLinkDetach,
  LinkRedirect,
  MessageHandlerError,
} from "./connection-errors.js";
export {
  MessageResponse,
  MessageException,
  MessageSendFailed,
  ClientMessageError,
  type ClientMessageErrorOptions,
  MessageAlreadySettled,
  MessageRejected,
  MessageReleased,
  MessageModified,
  type MessageModifiedOptions,
  MessageContentTooLarge,
  type MessageContentTooLargeOptions,
  PendingLimitExceeded,
  type PendingLimit,
  type PendingLimitExceededOptions,
} from "./message-errors.js";

/**
 * An operation did not complete within its timeout (uamqp's `ClientTimeout`; uamqp raised the
 * builtin `TimeoutError` on Python 3): authorization, management request, message send.
 * Retryable by default (the operation may succeed on another attempt).
 *
 * @example
 * ```ts
 * throw new ClientTimeout("Failed to receive mgmt response in 100 ms");
 * ```
 */
export class ClientTimeout extends AMQPError {
  /** Stable error code of this class: `"AMQP_TIMEOUT"`. */
  override readonly code: string = "AMQP_TIMEOUT";
  /**
   * `retryable` defaults to the condition's retryability, or true without a condition.
   */
  constructor(message: string, options: AMQPErrorOptions = {}) {
    super(message, withRetryable(options, true));
  }
}

/**
 * The client was closed while an operation was pending (uamqp's `AMQPClientShutdown`, which was
 * raised on Ctrl-C). Not retryable.
 */
export class AMQPClientShutdown extends AMQPError {
  /** Stable error code of this class: `"AMQP_CLIENT_SHUTDOWN"`. */
  override readonly code: string = "AMQP_CLIENT_SHUTDOWN";
  /**
   * `retryable` defaults to the condition's retryability, or false without a condition.
   */
  constructor(message = "Client shutdown.", options: AMQPErrorOptions = {}) {
    super(message, options);
  }
}

/**
 * An operation was cancelled through its `AbortSignal`. Its `name` is `"AbortError"`, like the
 * errors of Node's own abortable APIs, and its `cause` is the signal's `reason`. Not retryable.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof AMQPAbortError) return; }
 * ```
 */
export class AMQPAbortError extends AMQPError {
  /** Stable error code of this class: `"AMQP_ABORTED"`. */
  override readonly code: string = "AMQP_ABORTED";
  /**
   * Sets `name` to `"AbortError"`. `retryable` defaults to the condition's retryability, or false without a condition.
   */
  constructor(message = "The operation was aborted.", options: AMQPErrorOptions = {}) {
    super(message, options);
    this.name = "AbortError";
  }
}

/**
 * Authentication failed: SASL outcome other than `ok`, or a CBS failure
 * (uamqp's `AuthenticationException`). Not retryable by default.
 */
export class AuthenticationException extends AMQPError {
  /** Stable error code of this class: `"AMQP_AUTHENTICATION"`. */
  override readonly code: string = "AMQP_AUTHENTICATION";
}

/** A CBS token expired, or was already expired when supplied (uamqp's `TokenExpired`). Not retryable. */
export class TokenExpired extends AuthenticationException {
  /** Stable error code of this class: `"AMQP_TOKEN_EXPIRED"`. */
  override readonly code: string = "AMQP_TOKEN_EXPIRED";
}

/** Options of {@link TokenAuthFailure}. */
export interface TokenAuthFailureOptions extends AMQPErrorOptions {
  /** The status code of the CBS put-token response (`status-code`). */
  readonly statusCode?: number | undefined;
}

/** Status codes on which a put-token may succeed later: timeouts, throttling, server errors. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * A CBS put-token was refused (uamqp's `TokenAuthFailure(status_code, description)`).
 * Retryable when the status is 408, 429 or 5xx.
 *
 * @example
 * ```ts
 * const e = new TokenAuthFailure(401, "InvalidSignature");
 * e.statusCode; // 401
 * e.message; // "CBS token authentication failed: status 401: InvalidSignature"
 * ```
 */
export class TokenAuthFailure extends AuthenticationException {
  /** Stable error code of this class: `"AMQP_TOKEN_AUTH_FAILURE"`. */
  override readonly code: string = "AMQP_TOKEN_AUTH_FAILURE";
  /** The status code of the put-token response, when known. */
  readonly statusCode: number | undefined;

  /** uamqp's form: the response status and its description. */
  constructor(statusCode: number, description?: string, options?: AMQPErrorOptions);
  /** The form shared by every error class of this package. */
  constructor(message: string, options?: TokenAuthFailureOptions);
  constructor(
    first: number | string,
    second?: string | TokenAuthFailureOptions,
    third: AMQPErrorOptions = {},
  ) {
    let message: string;
    let options: TokenAuthFailureOptions;
    if (typeof first === "number") {
      const description = typeof second === "string" ? second : undefined;
      message = `CBS token authentication failed: status ${first}`;
      if (description !== undefined && description !== "") message += `: ${description}`;
      options = { ...third, statusCode: first, description: third.description ?? description };
    } else {
      message = first;
      options = typeof second === "object" ? second : {};
    }
    const status = options.statusCode;
    super(
      message,
      status === undefined
        ? options
        : { ...options, retryable: options.retryable ?? retryableStatus(status) },
    );
    this.statusCode = options.statusCode;
  }
}
