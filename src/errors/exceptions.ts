/**
 * uamqp's exception hierarchy (spec §10.1), under uamqp's names.
 * SKELETON: the errors module owner completes codes, retryable rules, docs and mapping.
 */
import { AMQPError } from "./amqp-error.js";

/** Connection-level failures (open, CBS, management channels). */
export class AMQPConnectionError extends AMQPError {
  override readonly code: string = "AMQP_CONNECTION";
}
/** The peer closed the connection with a known AMQP condition. */
export class ConnectionClose extends AMQPConnectionError {
  override readonly code: string = "AMQP_CONNECTION_CLOSED";
}
/** The peer closed the connection with a vendor (non-AMQP) condition. */
export class VendorConnectionClose extends ConnectionClose {
  override readonly code: string = "AMQP_CONNECTION_CLOSED_VENDOR";
}
/** The peer detached a link with an error. */
export class LinkDetach extends AMQPConnectionError {
  override readonly code: string = "AMQP_LINK_DETACHED";
}
/** The peer detached a link with a vendor condition. */
export class VendorLinkDetach extends LinkDetach {
  override readonly code: string = "AMQP_LINK_DETACHED_VENDOR";
}
/** The peer detached a link with `amqp:link:redirect`. */
export class LinkRedirect extends LinkDetach {
  override readonly code: string = "AMQP_LINK_REDIRECT";
}
/** A sender or receiver link entered its error state. */
export class MessageHandlerError extends AMQPConnectionError {
  override readonly code: string = "AMQP_MESSAGE_HANDLER";
}
/** An operation did not complete within its timeout. */
export class ClientTimeout extends AMQPError {
  override readonly code: string = "AMQP_TIMEOUT";
}
/** The client was closed (or aborted) while an operation was pending. */
export class AMQPClientShutdown extends AMQPError {
  override readonly code: string = "AMQP_CLIENT_SHUTDOWN";
}
/** Authentication failed (SASL outcome other than ok, CBS failure). */
export class AuthenticationException extends AMQPError {
  override readonly code: string = "AMQP_AUTHENTICATION";
}
/** A CBS token expired. */
export class TokenExpired extends AuthenticationException {
  override readonly code: string = "AMQP_TOKEN_EXPIRED";
}
/** A CBS put-token was refused. */
export class TokenAuthFailure extends AuthenticationException {
  override readonly code: string = "AMQP_TOKEN_AUTH_FAILURE";
}
/** Base of message-level errors carrying an AMQP condition. */
export class MessageException extends AMQPError {
  override readonly code: string = "AMQP_MESSAGE";
}
/** A message could not be sent (rejected, timed out, link failed). */
export class MessageSendFailed extends MessageException {
  override readonly code: string = "AMQP_MESSAGE_SEND_FAILED";
}
/** Wraps the failure(s) of a send call. */
export class ClientMessageError extends MessageException {
  override readonly code: string = "AMQP_CLIENT_MESSAGE";
}
/** The peer rejected the message. */
export class MessageRejected extends MessageException {
  override readonly code: string = "AMQP_MESSAGE_REJECTED";
}
/** The peer released the message. */
export class MessageReleased extends MessageException {
  override readonly code: string = "AMQP_MESSAGE_RELEASED";
}
/** The peer modified the message. */
export class MessageModified extends MessageException {
  override readonly code: string = "AMQP_MESSAGE_MODIFIED";
}
/** The message was already settled (or already sent) and cannot be settled or re-queued. */
export class MessageAlreadySettled extends AMQPError {
  override readonly code: string = "AMQP_MESSAGE_ALREADY_SETTLED";
}
/** The encoded message (or batch) is larger than allowed. */
export class MessageContentTooLarge extends AMQPError {
  override readonly code: string = "AMQP_MESSAGE_TOO_LARGE";
}
