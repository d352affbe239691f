/**
 * uamqp's one-shot module functions: `sendMessage`, `receiveMessage`, `receiveMessages`. Each opens
 * a client, does its work, and closes the client.
 */
import type { Source, Target } from "../address/index.js";
import { BatchMessage } from "../message/batch.js";
import { Message } from "../message/message.js";
import type { MessageState } from "../message/message-state.js";
import type { AMQPValue } from "../codec/values.js";
import type { ReceiveClientOptions, SendClientOptions } from "./client-options.js";
import { aliased } from "./option-aliases.js";
import { ReceiveClient } from "./receive-client.js";
import { SendClient } from "./send-client.js";

/** Options of {@link sendMessage}: the client's options plus an abort signal. */
export interface SendMessageOptions extends SendClientOptions {
  /** Stops the call: unsent messages are cancelled and the call rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link receiveMessage}. */
export interface ReceiveMessageOptions extends Omit<ReceiveClientOptions, "timeout"> {
  /** Give up after this many ms and resolve `undefined`; 0 = wait for a message. @defaultValue 0 */
  readonly timeout?: number | undefined;
  /** The spec's name of `timeout` (ms). */
  readonly timeoutMs?: number | undefined;
  /** Stops the call: it rejects with an `AMQPAbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link receiveMessages}. */
export interface ReceiveMessagesOptions extends ReceiveMessageOptions {
  /** Most messages returned; also the client's `prefetch`. @defaultValue the `prefetch` option, else 300 */
  readonly maxBatchSize?: number | undefined;
}

/**
 * Sends one message (uamqp's `send_message`): data that is not a `Message`/`BatchMessage` becomes
 * `new Message({ body: data })`. Resolves with the final state of each message sent (a batch may be
 * several envelopes); a failed send does not reject — check for `MessageState.SendFailed`.
 *
 * @throws connection or link errors (the client could not open, or failed for good);
 *   {@link AMQPAbortError} when `signal` aborts; {@link InvalidAddressError} for an unusable URL.
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
  const client = new SendClient(target, options);
  try {
    client.queueMessage(message);
    return await client.sendAllMessages({ closeOnDone: true, signal: options.signal });
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
 *   `RangeError` for invalid options.
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
 *   `RangeError` for invalid options.
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
  const timeout = aliased(options, "timeout", "timeoutMs");
  const { timeout: _t, timeoutMs: _tm, signal, maxBatchSize, ...clientOptions } = options;
  const prefetch = maxBatchSize ?? clientOptions.prefetch ?? 300;
  const client = new ReceiveClient(source, { ...clientOptions, prefetch });
  try {
    return await client.receiveMessageBatch({ maxBatchSize: prefetch, timeout, signal });
  } finally {
    await client.close();
  }
}
