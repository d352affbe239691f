/**
 * The AMQP `error` composite as plain fields, and the conversion of any error into them
 * (for sending a CLOSE, END, DETACH or `rejected` outcome).
 */
import { AMQPError } from "./amqp-error.js";
import { ErrorCondition } from "./conditions.js";

/**
 * The fields of an AMQP `error` composite (AMQP 1.0 §2.8.14) with the mandatory `condition`: the shape
 * the codec decodes (`ErrorComposite.decodeBody`) and encodes. `info` values are AMQP values;
 * they are typed `unknown` here because this layer does not depend on the codec.
 */
export interface ErrorCompositeFields {
  /** `condition` (symbol): what went wrong, e.g. `amqp:not-found`. */
  readonly condition: string;
  /** `description` (string): human-readable detail. */
  readonly description?: string | undefined;
  /** `info` (fields): supplementary information, symbol keys. */
  readonly info?: Readonly<Record<string, unknown>> | undefined;
}

/** The result of {@link toErrorFields}: absent fields are omitted, not `undefined`. */
export interface ErrorFieldsOut {
  /** The error condition (symbol). */
  readonly condition: string;
  /** Human-readable description; omitted when empty. */
  readonly description?: string;
  /** Supplementary information (symbol keys). */
  readonly info?: Readonly<Record<string, unknown>>;
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
