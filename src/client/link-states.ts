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
 * uamqp's receive settle modes: how a receiver wants its messages, not the ATTACH field
 * `rcv-settle-mode` (the engine's `RcvSettleMode`, `First`/`Second`). ReceiveAndDelete: the broker sends
 * pre-settled messages (at most once). PeekLock: messages stay locked until the receiver settles
 * them (at least once). On the wire PeekLock uses unsettled transfers with receiver-settle-mode
 * `first` (the mode every broker supports; uamqp asked for `second`; `settleMode: "confirm"` asks
 * for `second`), ReceiveAndDelete asks the sender to pre-settle.
 */
export const ReceiverSettleMode = { ReceiveAndDelete: 0, PeekLock: 1 } as const;
/** One of the {@link ReceiverSettleMode} values. */
export type ReceiverSettleMode = (typeof ReceiverSettleMode)[keyof typeof ReceiverSettleMode];
