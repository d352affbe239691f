/** States of uamqp's `MessageSender` and `MessageReceiver` (numerically identical to uamqp). */
export const MessageSenderState = {
  Idle: 1,
  Opening: 2,
  Open: 3,
  Closing: 4,
  Error: 5,
} as const;
/** One of the {@link MessageSenderState} values. */
export type MessageSenderState = (typeof MessageSenderState)[keyof typeof MessageSenderState];

/** States of uamqp's `MessageReceiver`: the same values as {@link MessageSenderState}. */
export const MessageReceiverState = MessageSenderState;
/** One of the {@link MessageReceiverState} values. */
export type MessageReceiverState = MessageSenderState;

/** uamqp's sender settle modes are the ATTACH's `snd-settle-mode` (Unsettled, Settled, Mixed). */
export { SenderSettleMode } from "../engine/link.js";

/**
 * uamqp's receive settle modes, not the ATTACH's `rcv-settle-mode`: ReceiveAndDelete asks for
 * pre-settled messages (at most once); PeekLock settles each (at least once) with `rcv-settle-mode`
 * `first`, the mode every broker supports (uamqp asked for `second`, as `settleMode: "confirm"` does).
 */
export const ReceiverSettleMode = { ReceiveAndDelete: 0, PeekLock: 1 } as const;
/** One of the {@link ReceiverSettleMode} values. */
export type ReceiverSettleMode = (typeof ReceiverSettleMode)[keyof typeof ReceiverSettleMode];
