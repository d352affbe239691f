/**
 * The life cycle of a message, numerically identical to uamqp's `MessageState`.
 *
 * @example
 * ```ts
 * if (DONE_STATES.has(message.state)) console.log("no longer pending");
 * ```
 */
export const MessageState = {
  /** Queued, not transferred yet (also: waiting for a retry). */
  WaitingToBeSent: 0,
  /** Transferred, waiting for the peer's outcome. */
  WaitingForSendAck: 1,
  /** The peer accepted the message (or it was sent pre-settled). */
  SendComplete: 2,
  /** The send failed for good (rejected, timed out, retries exhausted). */
  SendFailed: 3,
  /** Received and not settled yet: `accept()`, `reject()`, `release()` or `modify()` it. */
  ReceivedUnsettled: 4,
  /** Received and settled (or decoded from bytes, which has no delivery to settle). */
  ReceivedSettled: 5,
} as const;
/** One of the {@link MessageState} values. */
export type MessageState = (typeof MessageState)[keyof typeof MessageState];

/** States in which a sent message is finished: `SendComplete`, `SendFailed`. */
export const DONE_STATES: ReadonlySet<MessageState> = new Set<MessageState>([
  MessageState.SendComplete,
  MessageState.SendFailed,
]);

/** States of received messages: `ReceivedSettled`, `ReceivedUnsettled`. */
export const RECEIVE_STATES: ReadonlySet<MessageState> = new Set<MessageState>([
  MessageState.ReceivedSettled,
  MessageState.ReceivedUnsettled,
]);

/** States of messages still being sent: `WaitingForSendAck`, `WaitingToBeSent`. */
export const PENDING_STATES: ReadonlySet<MessageState> = new Set<MessageState>([
  MessageState.WaitingForSendAck,
  MessageState.WaitingToBeSent,
]);
