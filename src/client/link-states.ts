/** States of uamqp's `MessageSender` and `MessageReceiver` (numerically identical to uamqp). */
export const MessageSenderState = {
  Idle: 1,
  Opening: 2,
  Open: 3,
  Closing: 4,
  Error: 5,
} as const;
export type MessageSenderState = (typeof MessageSenderState)[keyof typeof MessageSenderState];

export const MessageReceiverState = MessageSenderState;
export type MessageReceiverState = MessageSenderState;

/** uamqp's sender settle modes (attach `snd-settle-mode`). */
export const SenderSettleMode = { Unsettled: 0, Settled: 1, Mixed: 2 } as const;
export type SenderSettleMode = (typeof SenderSettleMode)[keyof typeof SenderSettleMode];

/**
 * uamqp's receive settle modes. ReceiveAndDelete: the broker sends pre-settled messages (at most
 * once). PeekLock: messages stay locked until the receiver settles them (at least once).
 * On the wire PeekLock uses unsettled transfers with receiver-settle-mode `first` (the mode every
 * broker supports; uamqp asked for `second`), ReceiveAndDelete asks the sender to pre-settle.
 */
export const ReceiverSettleMode = { ReceiveAndDelete: 0, PeekLock: 1 } as const;
export type ReceiverSettleMode = (typeof ReceiverSettleMode)[keyof typeof ReceiverSettleMode];
