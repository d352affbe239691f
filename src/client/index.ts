export { Connection, type ConnectionOptions, type ConnectionState } from "./connection.js";
export { Session, type SessionOptions, type AttachInfo } from "./session.js";
export { MessageSender, type MessageSenderOptions, type SendOutcome } from "./message-sender.js";
export { MessageReceiver, type MessageReceiverOptions } from "./message-receiver.js";
export {
  MessageSenderState,
  MessageReceiverState,
  SenderSettleMode,
  ReceiverSettleMode,
} from "./link-states.js";
export type { SourceLike, TargetLike } from "./termini.js";
