export { Connection, type ConnectionOptions, type ConnectionState } from "./connection.js";
export { Session, type SessionOptions, type AttachInfo, type CreateLinkOptions } from "./session.js";
export { MessageSender, type MessageSenderOptions, type SendOutcome } from "./message-sender.js";
export { MessageReceiver, type MessageReceiverOptions } from "./message-receiver.js";
export { SettleMode, MessageSettleFailed } from "./settle-confirm.js";
export {
  MessageSenderState,
  MessageReceiverState,
  SenderSettleMode,
  ReceiverSettleMode,
} from "./link-states.js";
export type { SourceLike, TargetLike } from "./termini.js";
export { AMQPClient, type ClientState, type OpenOptions } from "./amqp-client.js";
export { SendClient, type SendCallOptions } from "./send-client.js";
export {
  ReceiveClient,
  type ReceiveBatchOptions,
  type ReceiveStreamOptions,
  type MessageHandler,
} from "./receive-client.js";
export {
  sendMessage,
  receiveMessage,
  receiveMessages,
  type SendMessageOptions,
  type ReceiveMessageOptions,
  type ReceiveMessagesOptions,
} from "./helpers.js";
export {
  DEFAULT_RECONNECT,
  type AMQPClientOptions,
  type SendClientOptions,
  type ReceiveClientOptions,
  type ReconnectOptions,
  type OnAttach,
} from "./client-options.js";
export type { ClientStatus } from "./client-status.js";
