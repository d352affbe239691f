/**
 * Message-level errors and disposition responses of uamqp's hierarchy (docs/errors.md):
 * `MessageResponse` and its subclasses. Build send failures from a delivery outcome with
 * `sendErrorFromOutcome` (`mapping.ts`).
 */
import { AMQPError, formatConditionMessage, withRetryable, type AMQPErrorOptions } from "./amqp-error.js";
import { ErrorCondition, isRetryableCondition } from "./conditions.js";

/**
 * Base of message dispositions and message errors (uamqp's `MessageResponse`).
 * Not retryable by default when it carries no condition.
 */
export class MessageResponse extends AMQPError {
  /** Stable error code of this class: `"AMQP_MESSAGE_RESPONSE"`. */
  override readonly code: string = "AMQP_MESSAGE_RESPONSE";
}

/**
 * A message-level error carrying an AMQP condition (uamqp's `MessageException`). Raised as-is for a
 * `rejected` outcome with a vendor condition. Retryable unless its condition is in the no-retry set;
 * retryable when it has no condition (uamqp: `MessageSendFailed(UnknownError)` is retried).
 */
export class MessageException extends MessageResponse {
  /** Stable error code of this class: `"AMQP_MESSAGE"`. */
  override readonly code: string = "AMQP_MESSAGE";
  /**
   * `retryable` defaults to the condition's retryability, or true without a condition.
   */
  constructor(message: string, options: AMQPErrorOptions = {}) {
    super(message, withRetryable(options, true));
  }
}

/**
 * A message could not be sent (uamqp's `MessageSendFailed`): the peer rejected it with a known
 * condition, or gave no usable outcome.
 *
 * @example
 * ```ts
 * if (err instanceof MessageSendFailed && err.condition === ErrorCondition.NotFound) { ... }
 * ```
 */
export class MessageSendFailed extends MessageException {
  /** Stable error code of this class: `"AMQP_MESSAGE_SEND_FAILED"`. */
  override readonly code: string = "AMQP_MESSAGE_SEND_FAILED";
}

/** Options of {@link ClientMessageError}. */
export interface ClientMessageErrorOptions<M = unknown> extends AMQPErrorOptions {
  /** The messages that failed, each with its error. */
  readonly failedMessages?: ReadonlyMap<M, AMQPError> | undefined;
  /** How many messages the failed call tried to send. */
  readonly totalMessages?: number | undefined;
  /** How many of them failed; defaults to `failedMessages.size`. */
  readonly numberFailed?: number | undefined;
}

/**
 * Wraps the failure of a send call (uamqp's `ClientMessageError`): a local exception during a
 * transfer, a timeout, or the final result of sending several messages. The condition, description,
 * info and retryability come from the wrapped `cause` when it is an `AMQPError`, otherwise the
 * condition is `amqp:client-error` (retryable).
 *
 * @example
 * ```ts
 * catch (e) {
 *   if (e instanceof ClientMessageError) console.log(`${e.numberFailed} of ${e.totalMessages} failed`);
 * }
 * ```
 */
export class ClientMessageError<M = unknown> extends MessageException {
  /** Stable error code of this class: `"AMQP_CLIENT_MESSAGE"`. */
  override readonly code: string = "AMQP_CLIENT_MESSAGE";
  /** The messages that failed, each with its error (uamqp: `info["failed_messages"]`). */
  readonly failedMessages: ReadonlyMap<M, AMQPError> | undefined;
  /** How many messages the call tried to send (uamqp: `info["total_messages"]`). */
  readonly totalMessages: number | undefined;
  /** How many messages failed (uamqp: `info["number_failed"]`). */
  readonly numberFailed: number | undefined;

  /**
   * Condition, description, info and `retryable` default to those of `options.cause` when it is an
   * `AMQPError`, else to `amqp:client-error` (retryable).
   */
  constructor(message: string, options: ClientMessageErrorOptions<M> = {}) {
    const inner = options.cause instanceof AMQPError ? options.cause : undefined;
    const condition = options.condition ?? inner?.condition ?? ErrorCondition.ClientError;
    super(message, {
      cause: options.cause,
      condition,
      description: options.description ?? inner?.description,
      info: options.info ?? inner?.info,
      retryable: options.retryable ?? inner?.retryable ?? isRetryableCondition(condition),
    });
    this.failedMessages = options.failedMessages;
    this.totalMessages = options.totalMessages;
    this.numberFailed = options.numberFailed ?? options.failedMessages?.size;
  }

  /**
   * Wraps any thrown value (uamqp's `ClientMessageError(exception)`); the message is
   * `"<condition>: <wrapped message>"`.
   *
   * @example
   * ```ts
   * throw ClientMessageError.wrap(timeoutError, { totalMessages: 1, numberFailed: 1 });
   * ```
   */
  static wrap<M = unknown>(
    error: unknown,
    options: Omit<ClientMessageErrorOptions<M>, "cause"> = {},
  ): ClientMessageError<M> {
    const inner = error instanceof AMQPError ? error : undefined;
    const condition = options.condition ?? inner?.condition ?? ErrorCondition.ClientError;
    const text = error instanceof Error ? error.message : typeof error === "string" ? error : undefined;
    const detail = inner?.description ?? text;
    const message = detail === condition ? condition : formatConditionMessage(condition, detail);
    return new ClientMessageError<M>(message, { ...options, cause: error });
  }
}

/**
 * The message was already settled (or already sent) and cannot be settled or re-queued again
 * (uamqp's `MessageAlreadySettled`). Not retryable.
 */
export class MessageAlreadySettled extends MessageResponse {
  /** Stable error code of this class: `"AMQP_MESSAGE_ALREADY_SETTLED"`. */
  override readonly code: string = "AMQP_MESSAGE_ALREADY_SETTLED";
  /**
   * `retryable` defaults to the condition's retryability, or false without a condition.
   */
  constructor(
    message = "Invalid operation: this message is already settled.",
    options: AMQPErrorOptions = {},
  ) {
    super(message, options);
  }
}

/**
 * The message was rejected (uamqp's `MessageRejected`): `condition`, `description` and `info` are
 * those of the `rejected` outcome's error (uamqp's `error_condition`, `error_description`,
 * `error_info`); the condition defaults to `amqp:internal-error`, as uamqp's `reject()` does.
 */
export class MessageRejected extends MessageResponse {
  /** Stable error code of this class: `"AMQP_MESSAGE_REJECTED"`. */
  override readonly code: string = "AMQP_MESSAGE_REJECTED";
  /**
   * The condition defaults to `amqp:internal-error`; `retryable` defaults to the condition's retryability, or true without a condition.
   */
  constructor(message = "The message was rejected.", options: AMQPErrorOptions = {}) {
    super(
      message,
      withRetryable({ ...options, condition: options.condition ?? ErrorCondition.InternalServerError }, true),
    );
  }
}

/**
 * The peer released the message (`released` outcome: not processed, may be redelivered or resent;
 * uamqp's `MessageReleased`). Always retryable unless stated: uamqp turned it into an unknown error;
 * this library keeps the outcome (docs/errors.md).
 */
export class MessageReleased extends MessageResponse {
  /** Stable error code of this class: `"AMQP_MESSAGE_RELEASED"`. */
  override readonly code: string = "AMQP_MESSAGE_RELEASED";
  /**
   * `retryable` defaults to the condition's retryability, or true without a condition.
   */
  constructor(message = "The message was released by the peer.", options: AMQPErrorOptions = {}) {
    super(message, withRetryable(options, true));
  }
}

/** Options of {@link MessageModified}: the fields of the `modified` outcome (AMQP 1.0 §3.4.5). */
export interface MessageModifiedOptions extends AMQPErrorOptions {
  /** `delivery-failed`: count the transfer as an unsuccessful delivery attempt. @defaultValue false */
  readonly deliveryFailed?: boolean | undefined;
  /** `undeliverable-here`: do not redeliver the message to this link. @defaultValue false */
  readonly undeliverableHere?: boolean | undefined;
  /** `message-annotations` to merge into the message's annotations. */
  readonly messageAnnotations?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The peer settled the message with the `modified` outcome (uamqp's `MessageModified`, whose
 * `failed`/`undeliverable` became {@link deliveryFailed}/{@link undeliverableHere}). Retryable
 * unless `undeliverableHere` is set (uamqp reported it as an unknown error).
 */
export class MessageModified extends MessageResponse {
  /** Stable error code of this class: `"AMQP_MESSAGE_MODIFIED"`. */
  override readonly code: string = "AMQP_MESSAGE_MODIFIED";
  /** `delivery-failed` of the outcome. */
  readonly deliveryFailed: boolean;
  /** `undeliverable-here` of the outcome. */
  readonly undeliverableHere: boolean;
  /** `message-annotations` of the outcome. */
  readonly messageAnnotations: Readonly<Record<string, unknown>> | undefined;

  /**
   * `retryable` defaults to the condition's retryability, or else to `!undeliverableHere`.
   */
  constructor(message = "The message was modified by the peer.", options: MessageModifiedOptions = {}) {
    const undeliverableHere = options.undeliverableHere ?? false;
    super(message, withRetryable(options, !undeliverableHere));
    this.deliveryFailed = options.deliveryFailed ?? false;
    this.undeliverableHere = undeliverableHere;
    this.messageAnnotations = options.messageAnnotations;
  }
}

/** Options of {@link MessageContentTooLarge}. */
export interface MessageContentTooLargeOptions extends AMQPErrorOptions {
  /** The encoded size, in bytes. */
  readonly size?: number | undefined;
  /** The limit that was exceeded, in bytes. */
  readonly maxSize?: number | undefined;
}

/**
 * The encoded message (or batch) is larger than allowed (uamqp's `MessageContentTooLarge`, which was
 * a `ValueError`; here an `AMQPError`). Not retryable.
 */
export class MessageContentTooLarge extends AMQPError {
  /** Stable error code of this class: `"AMQP_MESSAGE_TOO_LARGE"`. */
  override readonly code: string = "AMQP_MESSAGE_TOO_LARGE";
  /** The encoded size, in bytes, when known. */
  readonly size: number | undefined;
  /** The limit that was exceeded, in bytes, when known. */
  readonly maxSize: number | undefined;

  /**
   * `retryable` defaults to the condition's retryability, or false without a condition.
   */
  constructor(
    message = "Data set too large for a single message.",
    options: MessageContentTooLargeOptions = {},
  ) {
    super(message, options);
    this.size = options.size;
    this.maxSize = options.maxSize;
  }
}

/** Which bound of a `SendClient`'s pending messages a call would have gone beyond. */
export type PendingLimit = "maxPendingMessages" | "maxPendingBytes";

/** Options of {@link PendingLimitExceeded}. */
export interface PendingLimitExceededOptions extends AMQPErrorOptions {
  /** The bound the call would have gone beyond. */
  readonly limit?: PendingLimit | undefined;
  /** Messages of the refused call. */
  readonly messages?: number | undefined;
  /** Encoded bytes of the refused call. */
  readonly bytes?: number | undefined;
}

/**
 * A `SendClient` refused to queue messages because they would take its pending messages beyond
 * `maxPendingMessages` or `maxPendingBytes` (beyond uamqp, whose queue had no bound). Nothing of the
 * refused call was queued: the caller still holds every message of it, and every message queued
 * before is untouched. Retryable: wait with `SendClient.waitForRoom({ messages, bytes })` (the
 * error's own `messages` and `bytes`) and queue again.
 *
 * @example
 * ```ts
 * try {
 *   sender.queueMessage(message);
 * } catch (e) {
 *   if (!(e instanceof PendingLimitExceeded)) throw e;
 *   await sender.waitForRoom({ messages: e.messages, bytes: e.bytes });
 *   sender.queueMessage(message);
 * }
 * ```
 */
export class PendingLimitExceeded extends AMQPError {
  /** Always `"AMQP_PENDING_LIMIT_EXCEEDED"`. */
  override readonly code: string = "AMQP_PENDING_LIMIT_EXCEEDED";
  /** The bound the call would have gone beyond. */
  readonly limit: PendingLimit | undefined;
  /** Messages of the refused call. */
  readonly messages: number | undefined;
  /** Encoded bytes of the refused call. */
  readonly bytes: number | undefined;

  /** `retryable` defaults to the condition's retryability, or true without a condition. */
  constructor(
    message = "Too many messages pending to queue more.",
    options: PendingLimitExceededOptions = {},
  ) {
    const { limit, messages, bytes, ...rest } = options;
    super(message, withRetryable(rest, true));
    this.limit = limit;
    this.messages = messages;
    this.bytes = bytes;
  }
}
