/**
 * The AMQP condition → exception mapping of uamqp (docs/errors.md), as pure functions: the engine
 * calls them with the `error` field of a CLOSE or DETACH, or with a delivery's outcome.
 */
import { formatConditionMessage, type AMQPErrorOptions } from "./amqp-error.js";
import { ErrorCondition, isKnownCondition } from "./conditions.js";
import {
  ConnectionClose,
  ConnectionRedirect,
  LinkDetach,
  LinkRedirect,
  VendorConnectionClose,
  VendorLinkDetach,
} from "./connection-errors.js";
import type { ErrorCompositeFields } from "./error-fields.js";
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
 * The error for the outcome of a sent message (uamqp's `_process_send_error`, without its
 * turning `released` and `modified` into unknown errors), or `undefined` when the outcome is a success (`accepted`, `declared`):
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
