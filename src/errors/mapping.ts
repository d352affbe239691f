/**
 * uamqp's AMQP condition → exception mapping (docs/errors.md, "From the wire to an error"), as pure
 * functions: the engine calls them with the `error` field of a CLOSE, END or DETACH, the client with
 * a delivery's outcome. `toErrorFields` goes the other way, from any error to the `error` composite.
 */
import { AMQPError, formatConditionMessage, type AMQPErrorOptions } from "./amqp-error.js";
import { ErrorCondition, isKnownCondition } from "./conditions.js";
import {
  ConnectionClose,
  ConnectionRedirect,
  LinkDetach,
  LinkRedirect,
  SessionEnd,
  VendorConnectionClose,
  VendorLinkDetach,
} from "./connection-errors.js";
import type { ErrorCompositeFields, ErrorFieldsOut } from "./error-fields.js";
import {
  MessageException,
  MessageModified,
  MessageReleased,
  MessageSendFailed,
  type MessageResponse,
} from "./message-errors.js";

/** Extra options of the mapping functions. */
export interface MappingOptions {
  /** The error that led to this one (set as `cause`). */
  readonly cause?: unknown;
}

/**
 * A delivery state as the codec decodes it (`DeliveryState` / `Outcome` of the messaging
 * definitions, tagged by `type`), declared structurally because this layer does not import the codec.
 */
export interface DeliveryOutcomeLike {
  /** `accepted`, `rejected`, `released`, `modified`, `declared`, `received`, `transactional-state`, … */
  readonly type: string;
  /** `rejected.error`. */
  readonly error?: ErrorCompositeFields | undefined;
  /** `modified.delivery-failed`. */
  readonly deliveryFailed?: boolean | undefined;
  /** `modified.undeliverable-here`. */
  readonly undeliverableHere?: boolean | undefined;
  /** `modified.message-annotations`. */
  readonly messageAnnotations?: Readonly<Record<string, unknown>> | undefined;
  /** `transactional-state.outcome`. */
  readonly outcome?: DeliveryOutcomeLike | undefined;
}

function optionsOf(
  condition: string,
  fields: ErrorCompositeFields | undefined,
  description: string | undefined,
  extra: MappingOptions,
): AMQPErrorOptions {
  return { condition, description, info: fields?.info, cause: extra.cause };
}

/**
 * The error for a connection CLOSE received from the peer (uamqp's `_process_connection_error`):
 * `amqp:connection:redirect` → {@link ConnectionRedirect}; another known condition →
 * {@link ConnectionClose}; a vendor condition → {@link VendorConnectionClose}; no error →
 * `ConnectionClose` with `amqp:unknown-error`.
 *
 * @example
 * ```ts
 * const err = connectionErrorFromClose(close.error); // close: the decoded CLOSE performative
 * err.retryable; // true for amqp:connection:forced
 * ```
 */
export function connectionErrorFromClose(
  fields: ErrorCompositeFields | undefined,
  options: MappingOptions = {},
): ConnectionClose {
  if (fields === undefined) {
    const condition = ErrorCondition.UnknownError;
    const description = "The peer closed the connection without error information.";
    return new ConnectionClose(
      formatConditionMessage(condition, description),
      optionsOf(condition, undefined, description, options),
    );
  }
  const { condition, description } = fields;
  const message = formatConditionMessage(condition, description);
  const init = optionsOf(condition, fields, description, options);
  if (condition === ErrorCondition.ConnectionRedirect) return new ConnectionRedirect(message, init);
  if (isKnownCondition(condition)) return new ConnectionClose(message, init);
  return new VendorConnectionClose(message, init);
}

/**
 * The error for a session END received from the peer: a session-scope {@link SessionEnd} with the
 * peer's condition (known or vendor); no error → `SessionEnd` with `amqp:unknown-error`. uamqp has
 * no session-scope error; before this mapping the engine reported an END as a `ConnectionClose`,
 * although the connection stays open.
 *
 * @example
 * ```ts
 * const err = sessionErrorFromEnd({ condition: "amqp:session:window-violation" });
 * err.code; // "AMQP_SESSION_ENDED"
 * ```
 */
export function sessionErrorFromEnd(
  fields: ErrorCompositeFields | undefined,
  options: MappingOptions = {},
): SessionEnd {
  if (fields === undefined) {
    const condition = ErrorCondition.UnknownError;
    const description = "The peer ended the session without error information.";
    return new SessionEnd(
      formatConditionMessage(condition, description),
      optionsOf(condition, undefined, description, options),
    );
  }
  const { condition, description } = fields;
  return new SessionEnd(
    formatConditionMessage(condition, description),
    optionsOf(condition, fields, description, options),
  );
}

/**
 * The error for a link DETACH (with `closed` or not) received from the peer (uamqp's
 * `_process_link_error`): `amqp:link:redirect` → {@link LinkRedirect}; another known condition →
 * {@link LinkDetach}; a vendor condition → {@link VendorLinkDetach}; no error → `LinkDetach` with
 * `amqp:unknown-error`.
 *
 * @example
 * ```ts
 * const err = linkErrorFromDetach({ condition: "amqp:link:detach-forced", description: "idle" });
 * err.message; // "amqp:link:detach-forced: idle"
 * ```
 */
export function linkErrorFromDetach(
  fields: ErrorCompositeFields | undefined,
  options: MappingOptions = {},
): LinkDetach {
  if (fields === undefined) {
    const condition = ErrorCondition.UnknownError;
    const description = "The peer detached the link without error information.";
    return new LinkDetach(
      formatConditionMessage(condition, description),
      optionsOf(condition, undefined, description, options),
    );
  }
  const { condition, description } = fields;
  const message = formatConditionMessage(condition, description);
  const init = optionsOf(condition, fields, description, options);
  if (condition === ErrorCondition.LinkRedirect) return new LinkRedirect(message, init);
  if (isKnownCondition(condition)) return new LinkDetach(message, init);
  return new VendorLinkDetach(message, init);
}

function unexpected(type: string, options: MappingOptions): MessageSendFailed {
  const condition = ErrorCondition.UnknownError;
  const description = `Unexpected delivery outcome "${type}".`;
  return new MessageSendFailed(
    formatConditionMessage(condition, description),
    optionsOf(condition, undefined, description, options),
  );
}

/**
 * The error for the outcome of a sent message (uamqp's `_process_send_error`, except that
 * `released` and `modified` keep their outcome instead of becoming an unknown error), or
 * `undefined` when the outcome is a success (`accepted`, `declared`):
 * - `rejected` with a known condition → {@link MessageSendFailed} (retryable unless the condition
 *   is in the no-retry set); with a vendor condition → {@link MessageException}; without an error →
 *   `MessageSendFailed` with `amqp:unknown-error` (retryable);
 * - `released` → {@link MessageReleased} (retryable);
 * - `modified` → {@link MessageModified}: not retryable with `undeliverableHere`, retryable otherwise;
 * - `transactional-state` → the mapping of its inner outcome;
 * - anything else (`received`, an unknown descriptor, a transactional state without outcome) →
 *   `MessageSendFailed` with `amqp:unknown-error`.
 *
 * @example
 * ```ts
 * sendErrorFromOutcome({ type: "rejected", error: { condition: "amqp:not-found" } }); // MessageSendFailed
 * sendErrorFromOutcome({ type: "accepted" }); // undefined
 * ```
 */
export function sendErrorFromOutcome(
  outcome: DeliveryOutcomeLike,
  options: MappingOptions = {},
): MessageResponse | undefined {
  switch (outcome.type) {
    case "accepted":
    case "declared":
      return undefined;
    case "rejected": {
      const error = outcome.error;
      if (error === undefined) {
        const condition = ErrorCondition.UnknownError;
        const description = "The peer rejected the message without error information.";
        return new MessageSendFailed(
          formatConditionMessage(condition, description),
          optionsOf(condition, undefined, description, options),
        );
      }
      const message = formatConditionMessage(error.condition, error.description);
      const init = optionsOf(error.condition, error, error.description, options);
      return isKnownCondition(error.condition)
        ? new MessageSendFailed(message, init)
        : new MessageException(message, init);
    }
    case "released":
      return new MessageReleased("The peer released the message.", { cause: options.cause });
    case "modified": {
      const deliveryFailed = outcome.deliveryFailed ?? false;
      const undeliverableHere = outcome.undeliverableHere ?? false;
      const flags = `deliveryFailed=${deliveryFailed}, undeliverableHere=${undeliverableHere}`;
      return new MessageModified(`The peer modified the message (${flags}).`, {
        cause: options.cause,
        deliveryFailed,
        undeliverableHere,
        messageAnnotations: outcome.messageAnnotations,
      });
    }
    case "transactional-state":
      return outcome.outcome === undefined
        ? unexpected(outcome.type, options)
        : sendErrorFromOutcome(outcome.outcome, options);
    default:
      return unexpected(outcome.type, options);
  }
}

function build(
  condition: string,
  description: string | undefined,
  info: Readonly<Record<string, unknown>> | undefined,
): ErrorFieldsOut {
  return {
    condition,
    ...(description !== undefined && description !== "" ? { description } : {}),
    ...(info !== undefined ? { info } : {}),
  };
}

/** The part of a message after `"<condition>: "`, or the whole message; none if it is the condition. */
function messageDetail(message: string, condition: string): string | undefined {
  if (message === condition) return undefined;
  const prefix = `${condition}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

function isFieldsLike(value: unknown): value is ErrorCompositeFields {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { condition?: unknown }).condition === "string"
  );
}

function plainRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === "object" && value !== null && !(value instanceof Map)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * The `{ condition, description, info }` to send for an error:
 * - an `AMQPError` with a condition keeps its condition, info and description (or its message);
 * - any other `Error` (or an `AMQPError` without a condition) gets `defaultCondition` and its
 *   message as description;
 * - a plain object with a string `condition` (e.g. a user's `reject({ condition, description })`)
 *   is passed through;
 * - anything else gets `defaultCondition` alone.
 *
 * @param defaultCondition - condition for errors that have none. @defaultValue `amqp:internal-error`
 *
 * @example
 * ```ts
 * toErrorFields(new LinkDetach("amqp:link:stolen", { condition: "amqp:link:stolen" }));
 * // { condition: "amqp:link:stolen" }
 * toErrorFields(new TypeError("bad handler")); // { condition: "amqp:internal-error", description: "bad handler" }
 * ```
 */
export function toErrorFields(
  error: unknown,
  defaultCondition: string = ErrorCondition.InternalServerError,
): ErrorFieldsOut {
  if (error instanceof AMQPError) {
    const condition = error.condition ?? defaultCondition;
    return build(condition, error.description ?? messageDetail(error.message, condition), error.info);
  }
  if (error instanceof Error) return build(defaultCondition, error.message, undefined);
  if (isFieldsLike(error)) {
    const description = typeof error.description === "string" ? error.description : undefined;
    return build(error.condition, description, plainRecord(error.info));
  }
  return build(defaultCondition, undefined, undefined);
}
