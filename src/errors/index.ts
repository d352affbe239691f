export { AMQPError, type AMQPErrorFields, type AMQPErrorOptions } from "./amqp-error.js";
export { DecodeError, EncodeError } from "./decode-error.js";
export {
  AMQPConnectionError,
  ConnectionClose,
  VendorConnectionClose,
  LinkDetach,
  VendorLinkDetach,
  LinkRedirect,
  MessageHandlerError,
  ClientTimeout,
  AMQPClientShutdown,
  AuthenticationException,
  TokenExpired,
  TokenAuthFailure,
  MessageException,
  MessageSendFailed,
  ClientMessageError,
  MessageRejected,
  MessageReleased,
  MessageModified,
  MessageAlreadySettled,
  MessageContentTooLarge,
} from "./exceptions.js";
