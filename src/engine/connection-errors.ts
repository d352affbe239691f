/**
 * Error mapping at the connection boundary: which condition closes the connection when the bytes
 * the peer sent cannot be read.
 */
import { AMQPError } from "../errors/amqp-error.js";
import { DecodeError } from "../errors/decode-error.js";
import { FramingError } from "../frames/framing-error.js";

/** The condition and description of a CLOSE. */
export interface CloseReason {
  readonly condition: string;
  readonly description: string;
}

/**
 * The CLOSE reason for an exception thrown while reading the peer's bytes: framing errors close
 * with `amqp:connection:framing-error`, decode errors with `amqp:decode-error`, anything else
 * with `amqp:internal-error`.
 *
 * @example
 * ```ts
 * inputErrorReason(new DecodeError("bad list", 12)); // { condition: "amqp:decode-error", description: ... }
 * ```
 */
export function inputErrorReason(e: unknown): CloseReason {
  if (e instanceof FramingError) {
    return { condition: "amqp:connection:framing-error", description: e.description ?? e.message };
  } else if (e instanceof DecodeError) {
    return { condition: "amqp:decode-error", description: e.message };
  } else if (e instanceof AMQPError && e.condition !== undefined) {
    return { condition: e.condition, description: e.description ?? e.message };
  } else {
    return { condition: "amqp:internal-error", description: e instanceof Error ? e.message : String(e) };
  }
}
