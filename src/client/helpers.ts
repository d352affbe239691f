/**
 * uamqp's one-shot module functions: `sendMessage`, `receiveMessage`, `receiveMessages`. Each opens
 * a client, does its work, and closes the client.
 */
import type { Source, Target } from "../address/index.js";
import { BatchMessage } from "../message/batch.js";
import { Message } from "../message/message.js";
import type { MessageState } from "../message/message-state.js";
import type { AMQPValue } from "../codec/values.js";
import {
  RECEIVE_MESSAGE_OPTIONS,
  RECEIVE_MESSAGES_OPTIONS,
  SEND_MESSAGE_OPTIONS,
  DEFAULTS,
  checkOptions,
  type ReceiveMessageOptions,
  type ReceiveMessagesOptions,
  type SendMessageOptions,
} from "./client-options.js";
import { ReceiveClient } from "./receive-client.js";
import { SendClient } from "./send-client.js";

export type { ReceiveMessageOptions, ReceiveMessagesOptions, SendMessageOptions } from "./client-options.js";

/**
 * Sends one message (uamqp's `send_message`): data that is not a `Message`/`BatchMessage` becomes
 * `new Message({ body: data })`. Resolves with the final state of each message sent (a batch may be
 * several envelopes); a failed send does not reject — check for `MessageState.SendFailed`.
 *
 * @throws connection or link errors (the client could not open, or failed for good);
 *   {@link AMQPAbortError} when `signal` aborts; {@link InvalidAddressError} for an unusable URL;
 *   `TypeError` for an unknown option.
 *
 * @example
 * ```ts
 * const states = await sendMessage("amqp://localhost:5672/orders", "Hello world");
 * // [MessageState.SendComplete]
 * ```
 */
export async function sendMessage(
  target: string | Target,
  data: Message | BatchMessage | AMQPValue,
  options: SendMessageOptions = {},
): Promise<MessageState[]> {
  const message =
    data instanceof Message || data instanceof BatchMessage ? data : new Message({ body: data });
  checkOptions(options, SEND_MESSAGE_OPTIONS, "sendMessage()");
  const { signal, ...clientOptions } = options;
  const client = new SendClient(target, clientOptions);
  try {
    client.queueMessage(message);
    return await client.sendAllMessages({ closeOnDone: true, signal });
  } finally {
    await client.close();
  }
}

/**
 * Receives one message (uamqp's `receive_message`), accepted unless `autoComplete: false`;
 * `undefined` when none arrived within `timeout` ms.
 *
 * @throws connection or link errors (the client could not open, or failed for good);
 *   {@link AMQPAbortError} when `signal` aborts; {@link InvalidAddressError} for an unusable URL;
 *   `RangeError` for invalid options; `TypeError` for an unknown option.
 *
 * @example
 * ```ts
 * const m = await receiveMessage("amqp://localhost:5672/orders", { timeout: 10_000 });
 * ```
 */
export async function receiveMessage(
  source: string | Source,
  options: ReceiveMessageOptions = {},
): Promise<Message | undefined> {
  checkOptions(options, RECEIVE_MESSAGE_OPTIONS, "receiveMessage()");
  const [first] = await receiveMessages(source, { ...options, maxBatchSize: 1 });
  return first;
}

/**
 * Receives a batch (uamqp's `receive_messages`): resolves as soon as at least one message arrived
 * (up to `maxBatchSize`), or `[]` after `timeout` ms. Messages are accepted unless
 * `autoComplete: false` (then settle them before they expire on the broker: the client is closed
 * when this returns, and unsettled messages are released by the broker).
 *
 * @throws connection or link errors (the client could not open, or failed for good);
 *   {@link AMQPAbortError} when `signal` aborts; {@link InvalidAddressError} for an unusable URL;
 *   `RangeError` for invalid options; `TypeError` for an unknown option.
 *
 * @example
 * ```ts
 * const batch = await receiveMessages("amqp://localhost:5672/orders", { maxBatchSize: 10, timeout: 1000 });
 * ```
 */
export async function receiveMessages(
  source: string | Source,
  options: ReceiveMessagesOptions = {},
): Promise<Message[]> {
  checkOptions(options, RECEIVE_MESSAGES_OPTIONS, "receiveMessages()");
  const { timeout, signal, maxBatchSize, ...clientOptions } = options;
  const prefetch = maxBatchSize ?? clientOptions.prefetch ?? DEFAULTS.prefetch;
  const client = new ReceiveClient(source, { ...clientOptions, prefetch });
  try {
    return await client.receiveMessageBatch({ maxBatchSize: prefetch, timeout, signal });
  } finally {
    await client.close();
  }
}
