/** uamqp's one-shot functions: each opens a client, does its work, and closes the client. */
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

/**
 * Sends one message (uamqp's `send_message`; other data becomes `new Message({ body: data })`) and
 * resolves with the final state of each message sent: a failed send does not reject. Examples in
 * docs/clients.md.
 *
 * @throws the client's open or failure errors; {@link AMQPAbortError}; {@link InvalidAddressError};
 *   `TypeError` for an unknown option.
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
 * `undefined` when none arrived within `timeout` ms. @throws as {@link receiveMessages}.
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
 * Receives a batch (uamqp's `receive_messages`): resolves once at least one message arrived (up to
 * `maxBatchSize`), or `[]` after `timeout` ms. Messages are accepted unless `autoComplete: false`
 * (the client is closed on return: the broker then releases unsettled messages).
 *
 * @throws the client's open or failure errors; {@link AMQPAbortError}; {@link InvalidAddressError};
 *   `RangeError` for invalid options; `TypeError` for an unknown option.
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
