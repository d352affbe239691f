/**
 * The message model: `Message`, `BatchMessage`, header, properties, annotations, body kinds, states.
 */
export {
  Message,
  type MessageInit,
  type MessageDecodeOptions,
  type SendCompleteCallback,
} from "./message.js";
export { BatchMessage, type BatchItem, type BatchMessageOptions, type MessageCarrier } from "./batch.js";
export {
  MessageBodyType,
  type MessageBody,
  type DataBody,
  type ValueBody,
  type SequenceBody,
} from "./body.js";
export type { MessageHeader } from "./header.js";
export type { MessageProperties, MessageId } from "./properties.js";
export {
  ULONG_KEY_PREFIX,
  ulongKey,
  type AnnotationsMap,
  type ApplicationProperties,
} from "./annotations.js";
export { MessageState, DONE_STATES, RECEIVE_STATES, PENDING_STATES } from "./message-state.js";
export { MessageSendResult } from "./send-result.js";
export {
  MessageSettleFailed,
  type MessageSettler,
  type SettlementState,
  type RejectOptions,
  type ModifyOptions,
} from "./settlement.js";
export { BATCH_MESSAGE_FORMAT, MAX_FRAME_SIZE_BYTES, MAX_MESSAGE_LENGTH_BYTES } from "./constants.js";
