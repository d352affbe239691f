export {
  AMQPError,
  formatConditionMessage,
  type AMQPErrorFields,
  type AMQPErrorOptions,
  type ErrorActionLike,
  type RecoveryFailure,
} from "./amqp-error.js";
export {
  ErrorCondition,
  VendorCondition,
  NO_RETRY_CONDITIONS,
  isKnownCondition,
  isRetryableCondition,
} from "./conditions.js";
export { DecodeError, EncodeError } from "./decode-error.js";
export type { ErrorCompositeFields, ErrorFieldsOut } from "./error-fields.js";
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
  ClientTimeout,
  AMQPClientShutdown,
  AMQPAbortError,
  AuthenticationException,
  TokenExpired,
  TokenAuthFailure,
  type TokenAuthFailureOptions,
  MessageResponse,
  MessageException,
  MessageSendFailed,
  ClientMessageError,
  type ClientMessageErrorOptions,
  MessageRejected,
  MessageReleased,
  MessageModified,
  type MessageModifiedOptions,
  MessageAlreadySettled,
  MessageContentTooLarge,
  type MessageContentTooLargeOptions,
} from "./exceptions.js";
export {
  connectionErrorFromClose,
  sessionErrorFromEnd,
  linkErrorFromDetach,
  toErrorFields,
  sendErrorFromOutcome,
  type DeliveryOutcomeLike,
  type MappingOptions,
} from "./mapping.js";
export { parseRedirectInfo, type RedirectInfo } from "./redirect-info.js";
