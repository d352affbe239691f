/** Condition lists shared by the error and policy tests, as uamqp's `ErrorPolicy` has them. */

/** uamqp's `ErrorPolicy.no_retry`. */
export const UAMQP_NO_RETRY = [
  "amqp:decode-error",
  "amqp:link:message-size-exceeded",
  "amqp:not-found",
  "amqp:not-implemented",
  "amqp:link:redirect",
  "amqp:not-allowed",
  "amqp:unauthorized-access",
  "amqp:link:stolen",
  "amqp:resource-limit-exceeded",
  "amqp:connection:redirect",
  "amqp:precondition-failed",
  "amqp:invalid-field",
  "amqp:resource-deleted",
  "amqp:illegal-state",
  "amqp:frame-size-too-small",
  "amqp:connection:framing-error",
  "amqp:session:unattached-handle",
  "amqp:session:handle-in-use",
  "amqp:session:errant-link",
  "amqp:session:window-violation",
];

/** The conditions uamqp's `ErrorPolicy` retries, plus the transaction conditions uamqp did not know. */
export const RETRYABLE = [
  "amqp:internal-error",
  "amqp:resource-locked",
  "amqp:connection:forced",
  "amqp:link:detach-forced",
  "amqp:link:transfer-limit-exceeded",
  "amqp:client-error",
  "amqp:unknown-error",
  "amqp:vendor-error",
  "amqp:transaction:unknown-id",
  "amqp:transaction:rollback",
  "amqp:transaction:timeout",
];
