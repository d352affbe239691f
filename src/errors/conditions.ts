/**
 * AMQP 1.0 error conditions (AMQP 1.0 §2.8.15 – §2.8.18 and §4.5.8), under the names of
 * uamqp's `ErrorCodes`, plus the vendor conditions Azure services send.
 */

/**
 * Every error condition of AMQP 1.0, named as uamqp's `ErrorCodes`.
 *
 * `ClientError`, `UnknownError` and `VendorError` are not in the AMQP specification; uamqp (and this
 * library) use them for local failures, for a close/detach without error information, and for a
 * vendor condition that carries no more detail. The three transaction conditions are not in uamqp's
 * `ErrorCodes`; they are here because they are part of AMQP 1.0.
 *
 * @example
 * ```ts
 * if (err.condition === ErrorCondition.LinkDetachForced) reattach();
 * ```
 */
export const ErrorCondition = {
  // amqp-error (§2.8.15)
  /** An internal error occurred; the operator may need to intervene. */
  InternalServerError: "amqp:internal-error",
  /** A peer attempted to work with a remote entity that does not exist. */
  NotFound: "amqp:not-found",
  /** A peer attempted to work with a remote entity to which it has no access. */
  UnauthorizedAccess: "amqp:unauthorized-access",
  /** Data could not be decoded. */
  DecodeError: "amqp:decode-error",
  /** A peer exceeded its resource allocation. */
  ResourceLimitExceeded: "amqp:resource-limit-exceeded",
  /** The peer used a frame in a manner inconsistent with the specification. */
  NotAllowed: "amqp:not-allowed",
  /** An invalid field was passed in a frame body. */
  InvalidField: "amqp:invalid-field",
  /** The peer tried to use functionality its partner does not implement. */
  NotImplemented: "amqp:not-implemented",
  /** Another client is working with the entity (for example it holds an exclusive lock). */
  ResourceLocked: "amqp:resource-locked",
  /** A request was refused because some precondition failed. */
  PreconditionFailed: "amqp:precondition-failed",
  /** A server entity the client is working with has been deleted. */
  ResourceDeleted: "amqp:resource-deleted",
  /** The peer sent a frame that is not permitted in the current state. */
  IllegalState: "amqp:illegal-state",
  /** A performative cannot fit within the agreed maximum frame size. */
  FrameSizeTooSmall: "amqp:frame-size-too-small",
  // connection-error (§2.8.16)
  /** An operator intervened to close the connection. */
  ConnectionCloseForced: "amqp:connection:forced",
  /** A valid frame header cannot be formed from the incoming byte stream. */
  ConnectionFramingError: "amqp:connection:framing-error",
  /** The container is no longer available on this connection (see `info` for where to go). */
  ConnectionRedirect: "amqp:connection:redirect",
  // session-error (§2.8.17)
  /** The peer violated the incoming window of the session. */
  SessionWindowViolation: "amqp:session:window-violation",
  /** Input was received for a link that was detached with an error. */
  SessionErrantLink: "amqp:session:errant-link",
  /** An attach was received using a handle that is already in use. */
  SessionHandleInUse: "amqp:session:handle-in-use",
  /** A frame referenced a handle that is not attached. */
  SessionUnattachedHandle: "amqp:session:unattached-handle",
  // link-error (§2.8.18)
  /** An operator intervened to detach the link. */
  LinkDetachForced: "amqp:link:detach-forced",
  /** The peer sent more transfers than the link credit allowed. */
  LinkTransferLimitExceeded: "amqp:link:transfer-limit-exceeded",
  /** The peer sent a larger message than the link supports. */
  LinkMessageSizeExceeded: "amqp:link:message-size-exceeded",
  /** The address cannot be resolved here (see `info` for where to go). */
  LinkRedirect: "amqp:link:redirect",
  /** The link was attached elsewhere, so this attachment was closed. */
  LinkStolen: "amqp:link:stolen",
  // transaction-error (§4.5.8)
  /** The transaction id does not exist. */
  TransactionUnknownId: "amqp:transaction:unknown-id",
  /** The transaction was rolled back. */
  TransactionRollback: "amqp:transaction:rollback",
  /** The transaction took too long. */
  TransactionTimeout: "amqp:transaction:timeout",
  // uamqp (azure-uamqp-c) additions
  /** A local failure in this client (uamqp `ErrorCodes.ClientError`). */
  ClientError: "amqp:client-error",
  /** No error information was available (uamqp `ErrorCodes.UnknownError`). */
  UnknownError: "amqp:unknown-error",
  /** A vendor-specific error without more detail (uamqp `ErrorCodes.VendorError`). */
  VendorError: "amqp:vendor-error",
} as const;

/** One of the {@link ErrorCondition} values. */
export type ErrorCondition = (typeof ErrorCondition)[keyof typeof ErrorCondition];

/**
 * Common vendor (non-AMQP) conditions sent by Azure Service Bus and Event Hubs. They are *not*
 * known conditions: errors carrying them map to the `Vendor*` classes, and the default
 * {@link ErrorPolicy} hands them to its `onError` callback.
 *
 * @example
 * ```ts
 * const policy = new ErrorPolicy({
 *   onError: (e) => e.condition === VendorCondition.ServerBusy
 *     ? new ErrorAction({ retry: true, backoffMs: 4000 })
 *     : new ErrorAction({ retry: false }),
 * });
 * ```
 */
export const VendorCondition = {
  /** The service is throttling requests; retry after a delay. */
  ServerBusy: "com.microsoft:server-busy",
  /** The service did not answer in time; the operation may have completed. */
  Timeout: "com.microsoft:timeout",
  /** An argument of the request is invalid. */
  ArgumentError: "com.microsoft:argument-error",
  /** An argument of the request is out of range. */
  ArgumentOutOfRange: "com.microsoft:argument-out-of-range",
  /** The entity is disabled. */
  EntityDisabled: "com.microsoft:entity-disabled",
  /** The entity already exists. */
  EntityAlreadyExists: "com.microsoft:entity-already-exists",
  /** The partition is owned by another receiver (a higher epoch took it over). */
  PartitionNotOwned: "com.microsoft:partition-not-owned",
  /** The store lock was lost. */
  StoreLockLost: "com.microsoft:store-lock-lost",
  /** The publisher was revoked. */
  PublisherRevoked: "com.microsoft:publisher-revoked",
  /** The operation was cancelled by the service. */
  OperationCancelled: "com.microsoft:operation-cancelled",
  /** The lock on a message was lost (expired or already released). */
  MessageLockLost: "com.microsoft:message-lock-lost",
  /** The lock on a session was lost. */
  SessionLockLost: "com.microsoft:session-lock-lost",
  /** The session cannot be locked (another receiver holds it). */
  SessionCannotBeLocked: "com.microsoft:session-cannot-be-locked",
  /** The message was not found (for example a deferred message). */
  MessageNotFound: "com.microsoft:message-not-found",
  /** The session was not found. */
  SessionNotFound: "com.microsoft:session-not-found",
  /** No subscription matched the message. */
  NoMatchingSubscription: "com.microsoft:no-matching-subscription",
  /** The address is already in use. */
  AddressAlreadyInUse: "com.microsoft:address-already-in-use",
  /** Authorization failed. */
  AuthorizationFailed: "com.microsoft:auth-failed",
  /** The relay was not found. */
  RelayNotFound: "com.microsoft:relay-not-found",
} as const;

/** One of the {@link VendorCondition} values. */
export type VendorCondition = (typeof VendorCondition)[keyof typeof VendorCondition];

const KNOWN: ReadonlySet<string> = new Set<string>(Object.values(ErrorCondition));

/**
 * uamqp's `ErrorPolicy.no_retry`: the 20 conditions on which retrying cannot help.
 * Every other condition (known or vendor) is retryable by default.
 */
export const NO_RETRY_CONDITIONS: ReadonlySet<ErrorCondition> = new Set<ErrorCondition>([
  ErrorCondition.DecodeError,
  ErrorCondition.LinkMessageSizeExceeded,
  ErrorCondition.NotFound,
  ErrorCondition.NotImplemented,
  ErrorCondition.LinkRedirect,
  ErrorCondition.NotAllowed,
  ErrorCondition.UnauthorizedAccess,
  ErrorCondition.LinkStolen,
  ErrorCondition.ResourceLimitExceeded,
  ErrorCondition.ConnectionRedirect,
  ErrorCondition.PreconditionFailed,
  ErrorCondition.InvalidField,
  ErrorCondition.ResourceDeleted,
  ErrorCondition.IllegalState,
  ErrorCondition.FrameSizeTooSmall,
  ErrorCondition.ConnectionFramingError,
  ErrorCondition.SessionUnattachedHandle,
  ErrorCondition.SessionHandleInUse,
  ErrorCondition.SessionErrantLink,
  ErrorCondition.SessionWindowViolation,
]);

/**
 * Whether `condition` is one of the {@link ErrorCondition} values (uamqp: "in `ErrorCodes`").
 * Vendor conditions such as `com.microsoft:server-busy` are not known.
 *
 * @example
 * ```ts
 * isKnownCondition("amqp:not-found"); // true
 * isKnownCondition("com.microsoft:server-busy"); // false
 * ```
 */
export function isKnownCondition(condition: unknown): condition is ErrorCondition {
  return typeof condition === "string" && KNOWN.has(condition);
}

/**
 * The default retryability of a condition: `false` for the {@link NO_RETRY_CONDITIONS},
 * `true` for every other known condition and for vendor conditions.
 *
 * @example
 * ```ts
 * isRetryableCondition("amqp:link:detach-forced"); // true
 * isRetryableCondition("amqp:unauthorized-access"); // false
 * ```
 */
export function isRetryableCondition(condition: string): boolean {
  return !(NO_RETRY_CONDITIONS as ReadonlySet<string>).has(condition);
}
