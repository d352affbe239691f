/**
 * Turns what the peer sent (CLOSE, END, DETACH errors) and local failures into typed errors.
 */
import type { AMQPValue } from "../codec/values.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { AMQPClientShutdown, AMQPConnectionError } from "../errors/exceptions.js";
import { connectionErrorFromClose, linkErrorFromDetach } from "../errors/mapping.js";

/** The `error` composite as decoded. */
export interface ErrorFields {
  condition: string;
  description?: string | undefined;
  info?: Record<string, unknown> | undefined;
}

export function remoteCloseError(e: ErrorFields | undefined): AMQPError {
  return connectionErrorFromClose(e);
}

export function remoteEndError(e: ErrorFields | undefined): AMQPError {
  return connectionErrorFromClose(
    e ?? { condition: "amqp:unknown-error", description: "session ended by the peer" },
  );
}

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

/** The application closed the connection, session or link while operations were pending. */
export function localCloseError(what: string): AMQPError {
  return new AMQPClientShutdown(`${what} was closed`, { retryable: false });
}

/** A protocol violation by the peer: we close with this condition. */
export function protocolError(condition: string, description: string, cause?: unknown): AMQPError {
  return new AMQPConnectionError(description, { condition, description, cause, retryable: false });
}

/** The `error` composite (condition, description, info) for an outgoing CLOSE, END or DETACH. */
export function errorComposite(e: ErrorFields): {
  condition: string;
  description?: string;
  info?: Record<string, AMQPValue>;
} {
  const out: { condition: string; description?: string; info?: Record<string, AMQPValue> } = {
    condition: e.condition,
  };
  if (e.description !== undefined) out.description = e.description;
  if (e.info !== undefined) out.info = e.info as Record<string, AMQPValue>;
  return out;
}
