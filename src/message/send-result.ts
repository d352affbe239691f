/**
 * The result passed to `Message.onSendComplete`, numerically identical to uamqp's `MessageSendResult`.
 * Unlike uamqp, `Cancelled` counts as a failure (the message ends in `SendFailed`).
 */
export const MessageSendResult = {
  Ok: 1,
  Error: 2,
  Timeout: 3,
  Cancelled: 4,
} as const;
/** One of the {@link MessageSendResult} values. */
export type MessageSendResult = (typeof MessageSendResult)[keyof typeof MessageSendResult];
