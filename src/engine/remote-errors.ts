/**
 * The errors the engine raises, by scope: what the peer sent (the `error` of a CLOSE, END or
 * DETACH) as typed errors, a lost transport, a protocol violation by the peer, local closes, and
 * the CLOSE reason for bytes that cannot be read. The `error` composite itself is the one type of
 * `src/errors` (`ErrorCompositeFields`, exported here as `ErrorFields`).
 *
 * The engine speaks only of connections, sessions and links, on both sides: what an application
 * calls a shutdown or a timeout is for the layer above to say (the client says it of the local
 * closes it asked for, {@link isLocalClose}; the broker never sees such words).
 */
import type { AMQPValue } from "../codec/values.js";
import { AMQPError } from "../errors/amqp-error.js";
import { DecodeError } from "../errors/decode-error.js";
import type { ErrorCompositeFields } from "../errors/error-fields.js";
import { AMQPConnectionError, LinkDetach, SessionEnd } from "../errors/exceptions.js";
import { connectionErrorFromClose, linkErrorFromDetach, sessionErrorFromEnd } from "../errors/mapping.js";
import { FramingError } from "../frames/framing-error.js";

/** The `error` composite of a CLOSE, END or DETACH (condition, description, info). */
export type ErrorFields = ErrorCompositeFields;

/** The peer's CLOSE: a connection-scope error (`ConnectionClose` and its subclasses). */
export function remoteCloseError(e: ErrorFields | undefined): AMQPError {
  return connectionErrorFromClose(e);
}

/**
 * The peer's END: a session-scope error (`SessionEnd`); without an error the session still ended
 * under its links, so they fail with `amqp:unknown-error`.
 */
export function remoteEndError(e: ErrorFields | undefined): AMQPError {
  return sessionErrorFromEnd(e);
}

/** The peer's DETACH: a link-scope error (`LinkDetach` and its subclasses). */
export function remoteDetachError(e: ErrorFields | undefined, closed: boolean): AMQPError {
  return linkErrorFromDetach(
    e ?? {
      condition: "amqp:unknown-error",
      description: closed ? "link closed by the peer" : "link detached by the peer",
    },
  );
}

/** The transport went away without a CLOSE. */
export function connectionLostError(cause: unknown): AMQPError {
  const reason = cause instanceof Error ? `: ${cause.message}` : "";
  return new AMQPConnectionError(`connection lost${reason}`, {
    condition: "amqp:connection:forced",
    description: `connection lost${reason}`,
    retryable: true,
    cause,
  });
}

/** The errors of {@link localCloseError}: what the engine failed because we closed it. */
const localCloses = new WeakSet<AMQPError>();

/**
 * We closed the connection, ended the session or detached the link while operations were
 * pending under it: the error of that scope (`AMQPConnectionError`, `SessionEnd`, `LinkDetach`),
 * without a condition (nothing went wrong on the wire) and not retryable.
 */
export function localCloseError(scope: "connection" | "session" | "link", name?: string): AMQPError {
  const options = { retryable: false };
  const error =
    scope === "connection"
      ? new AMQPConnectionError("the connection was closed", options)
      : scope === "session"
        ? new SessionEnd("the session was ended", options)
        : new LinkDetach(`link ${name ?? ""} was detached`, options);
  localCloses.add(error);
  return error;
}

/**
 * Whether `error` is one the engine raised because we closed the connection, ended the session or
 * detached the link (see {@link localCloseError}), rather than anything the peer or the transport did.
 */
export function isLocalClose(error: unknown): boolean {
  return error instanceof AMQPError && localCloses.has(error);
}

/** A protocol violation by the peer (or a limit reached): a connection-scope error with `condition`. */
export function protocolError(condition: string, description: string, cause?: unknown): AMQPError {
  return new AMQPConnectionError(description, { condition, description, cause, retryable: false });
}

/**
 * The `error` composite to write in a CLOSE, END or DETACH: the three fields only (an `AMQPError`
 * passed as `ErrorFields` carries more), with `info` taken as AMQP values.
 */
export function errorComposite(e: ErrorFields): ErrorCompositeFields<AMQPValue> {
  const out: { condition: string; description?: string; info?: Record<string, AMQPValue> } = {
    condition: e.condition,
  };
  if (e.description !== undefined) out.description = e.description;
  if (e.info !== undefined) out.info = e.info as Record<string, AMQPValue>;
  return out;
}

/**
 * The CLOSE reason for an exception thrown while reading the peer's bytes: framing errors close
 * with `amqp:connection:framing-error`, decode errors with `amqp:decode-error`, an `AMQPError` with
 * a condition with that condition, anything else with `amqp:internal-error`.
 *
 * @example
 * ```ts
 * inputErrorReason(new DecodeError("bad list", 12)); // { condition: "amqp:decode-error", description: ... }
 * ```
 */
export function inputErrorReason(e: unknown): { condition: string; description: string } {
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
