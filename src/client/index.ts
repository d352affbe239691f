export { Connection, type ConnectionState } from "./connection.js";
export { Session } from "./session.js";
export { MessageSender, type SendOutcome } from "./message-sender.js";
export { MessageReceiver } from "./message-receiver.js";
export { SettleMode } from "./settle-confirm.js";
export {
  MessageSenderState,
  MessageReceiverState,
  SenderSettleMode,
  ReceiverSettleMode,
} from "./link-states.js";
export { AMQPClient, type OpenOptions } from "./amqp-client.js";
export { SendClient } from "./send-client.js";
export { ReceiveClient } from "./receive-client.js";
export { sendMessage, receiveMessage, receiveMessages } from "./helpers.js";
export {
  DEFAULTS,
  type AMQPClientOptions,
  type SendClientOptions,
  type ReceiveClientOptions,
  type OnAttach,
  type ConnectionOptions,
  type SessionOptions,
  type AttachInfo,
  type CreateSenderOptions,
  type CreateReceiverOptions,
  type MessageSenderOptions,
  type MessageReceiverOptions,
  type SendOptions,
  type ResetCreditOptions,
  type SendCallOptions,
  type WaitForRoomOptions,
  type ReceiveBatchOptions,
  type ReceiveStreamOptions,
  type MessageHandler,
  type SendMessageOptions,
  type ReceiveMessageOptions,
  type ReceiveMessagesOptions,
  type AMQPClientConnectionStringOptions,
  type SendClientConnectionStringOptions,
  type ReceiveClientConnectionStringOptions,
} from "./client-options.js";
export type { ClientState, ClientStatus } from "./client-status.js";
